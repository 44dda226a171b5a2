/// Text from the network (serials, Digest usernames, reasons that quote them) made safe for a log line: control
/// characters are written as escapes, so a newline in a serial cannot forge a second line, and length is capped.
public enum LogText {
    public static func safe(_ s: String, limit: Int = 200) -> String {
        var out = ""
        out.reserveCapacity(min(s.utf8.count, limit) + 8)
        var count = 0
        for scalar in s.unicodeScalars {
            if count >= limit { out += "…"; break }
            switch scalar.value {
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0..<0x20, 0x7F, 0x80..<0xA0, 0x2028, 0x2029: out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return out
    }
}
