// xsd:dateTime helpers for CWMP (no Foundation): the special values and UTC formatting/parsing.

public enum CWMPDateTime {
    /// "Unknown Time" (TR-106).
    public static let unknown = "0001-01-01T00:00:00Z"
    /// "Infinite Time" (TR-106).
    public static let infinite = "9999-12-31T23:59:59Z"

    /// `YYYY-MM-DDThh:mm:ssZ` for seconds since 1970-01-01T00:00:00Z.
    public static func format(unixSeconds: Int64) -> String {
        var days = unixSeconds / 86_400
        var secs = unixSeconds % 86_400
        if secs < 0 { secs += 86_400; days -= 1 }
        let (y, m, d) = civil(fromDays: days)
        var out = [UInt8]()
        out.reserveCapacity(20)
        func pad(_ v: Int64, _ width: Int) {
            var digits = [UInt8](repeating: 0x30, count: width)
            var x = v
            var i = width - 1
            while i >= 0 { digits[i] = UInt8(0x30 + x % 10); x /= 10; i -= 1 }
            out += digits
        }
        pad(y, 4); out.append(0x2D); pad(m, 2); out.append(0x2D); pad(d, 2); out.append(0x54)
        pad(secs / 3600, 2); out.append(0x3A); pad(secs / 60 % 60, 2); out.append(0x3A); pad(secs % 60, 2); out.append(0x5A)
        return String(decoding: out, as: UTF8.self)
    }

    /// Seconds since the Unix epoch for an xsd:dateTime. Fractional seconds are dropped; a missing zone is
    /// taken as UTC (CPEs often omit it); `+hh:mm`/`-hh:mm` offsets are applied. nil when unparsable.
    public static func parse(_ s: String) -> Int64? {
        let b = Array(s.utf8)
        func num(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= b.count else { return nil }
            var v: Int64 = 0
            for i in from..<(from + count) {
                let c = b[i]
                guard c >= 0x30 && c <= 0x39 else { return nil }
                v = v * 10 + Int64(c - 0x30)
            }
            return v
        }
        guard b.count >= 19, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x20, b[13] == 0x3A, b[16] == 0x3A,
              let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2), let mi = num(14, 2),
              let sec = num(17, 2), (1...12).contains(mo), (1...31).contains(d), h <= 24, mi <= 59, sec <= 60
        else { return nil }
        var i = 19
        if i < b.count, b[i] == 0x2E {  // fraction
            i += 1
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
        }
        var offset: Int64 = 0
        if i < b.count {
            if b[i] == 0x5A && i == b.count - 1 {
                offset = 0
            } else if (b[i] == 0x2B || b[i] == 0x2D), i + 6 == b.count, b[i + 3] == 0x3A,
                      let oh = num(i + 1, 2), let om = num(i + 4, 2) {
                offset = (oh * 3600 + om * 60) * (b[i] == 0x2D ? -1 : 1)
            } else {
                return nil
            }
        }
        return days(fromCivil: y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset
    }

    // Howard Hinnant's days-from-civil algorithms (proleptic Gregorian calendar).
    static func days(fromCivil y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
