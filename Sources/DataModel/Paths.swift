// Path helpers for CWMP parameter names.
//
// Conventions: an object path ends with "." ("Device.WiFi.SSID.1."), a parameter path does not
// ("Device.WiFi.SSID.1.SSID"). Instance numbers are all-digit segments; a pattern replaces them with "{i}"
// ("Device.WiFi.SSID.{i}.SSID"), as in the Broadband Forum data-model files.

public enum DataModelPath {
    /// The placeholder used for instance numbers in patterns.
    public static let instancePlaceholder = "{i}"

    /// Whether the path names an object (ends with ".").
    @inlinable
    public static func isObjectPath(_ path: String) -> Bool { path.utf8.last == UInt8(ascii: ".") }

    /// The containing object: "Device.WiFi.SSID.1.SSID" → "Device.WiFi.SSID.1.", "Device.WiFi.SSID.1." → "Device.WiFi.SSID.",
    /// "Device." → nil.
    public static func parent(_ path: String) -> String? {
        var utf8 = Substring(path).utf8
        if utf8.last == UInt8(ascii: ".") { utf8 = utf8.dropLast() }
        guard let dot = utf8.lastIndex(of: UInt8(ascii: ".")) else { return nil }
        return String(Substring(utf8[..<utf8.index(after: dot)]))
    }

    /// The last segment without the trailing dot: "Device.WiFi.SSID.1." → "1", "Device.DeviceInfo.UpTime" → "UpTime".
    public static func lastSegment(_ path: String) -> Substring {
        var s = Substring(path)
        if s.utf8.last == UInt8(ascii: ".") { s = s.dropLast() }
        if let dot = s.utf8.lastIndex(of: UInt8(ascii: ".")) { return s[s.utf8.index(after: dot)...] }
        return s
    }

    /// Segments without the empty tail of an object path: "Device.WiFi." → ["Device", "WiFi"].
    public static func segments(_ path: String) -> [Substring] {
        path.split(separator: ".", omittingEmptySubsequences: true)
    }

    /// Whether a segment is an instance number (all digits, non-empty).
    public static func isInstanceSegment<S: StringProtocol>(_ segment: S) -> Bool {
        !segment.isEmpty && segment.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    }

    /// Replaces every instance number by "{i}": "Device.WiFi.SSID.3.SSID" → "Device.WiFi.SSID.{i}.SSID".
    public static func pattern(_ path: String) -> String {
        // Fast path: no segment starts with a digit.
        var hasDigitSegment = false
        var atStart = true
        for b in path.utf8 {
            if atStart && b >= 48 && b <= 57 { hasDigitSegment = true; break }
            atStart = b == UInt8(ascii: ".")
        }
        if !hasDigitSegment { return path }
        var out = [UInt8]()
        out.reserveCapacity(path.utf8.count + 8)
        var segment = [UInt8]()
        func flush() {
            if !segment.isEmpty && segment.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
                out.append(contentsOf: Array("{i}".utf8))
            } else {
                out.append(contentsOf: segment)
            }
            segment.removeAll(keepingCapacity: true)
        }
        for b in path.utf8 {
            if b == UInt8(ascii: ".") { flush(); out.append(b) } else { segment.append(b) }
        }
        flush()
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether a concrete path matches a pattern segment by segment ("{i}" matches any instance number).
    /// "Device.WiFi.SSID.{i}." matches "Device.WiFi.SSID.3." but not "Device.WiFi.SSID." or "Device.WiFi.SSID.3.SSID".
    public static func matches(pattern: String, path: String) -> Bool {
        if isObjectPath(pattern) != isObjectPath(path) { return false }
        let p = segments(pattern), c = segments(path)
        guard p.count == c.count else { return false }
        for (a, b) in zip(p, c) {
            if a == "{i}" { if !isInstanceSegment(b) { return false } } else if a != b { return false }
        }
        return true
    }

    /// The instance numbers in a path, outermost first: "Device.IP.Interface.2.IPv4Address.1.IPAddress" → [2, 1].
    public static func instanceNumbers(_ path: String) -> [UInt32] {
        segments(path).compactMap { isInstanceSegment($0) ? UInt32($0) : nil }
    }

    /// Substitutes instance numbers into a pattern, outermost first: ("Device.IP.Interface.{i}.IPv4Address.{i}.", [2, 1])
    /// → "Device.IP.Interface.2.IPv4Address.1.". Returns nil if the counts differ.
    public static func instantiate(pattern: String, with numbers: [UInt32]) -> String? {
        var parts = pattern.components(separatedBy: ".")
        var k = 0
        for i in parts.indices where parts[i] == "{i}" {
            guard k < numbers.count else { return nil }
            parts[i] = String(numbers[k]); k += 1
        }
        return k == numbers.count ? parts.joined(separator: ".") : nil
    }

    /// Object paths of every instance along a path, outermost first:
    /// "Device.IP.Interface.2.IPv4Address.1.IPAddress" → ["Device.IP.Interface.2.", "Device.IP.Interface.2.IPv4Address.1."].
    public static func instancePrefixes(_ path: String) -> [String] {
        var result: [String] = []
        let utf8 = path.utf8
        var segStart = utf8.startIndex
        var allDigits = true
        var i = utf8.startIndex
        while i != utf8.endIndex {
            let b = utf8[i]
            if b == UInt8(ascii: ".") {
                if allDigits && segStart != i {
                    result.append(String(Substring(utf8[..<utf8.index(after: i)])))
                }
                segStart = utf8.index(after: i)
                allDigits = true
            } else if b < 48 || b > 57 {
                allDigits = false
            }
            i = utf8.index(after: i)
        }
        return result
    }
}
