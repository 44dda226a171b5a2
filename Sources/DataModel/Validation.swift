import CWMP

/// Value checks for SetParameterValues.
public enum ValueValidator {
    /// The CWMP fault code for setting `value` (sent with xsi:type `claimed`) on a parameter defined by `def`,
    /// or nil if acceptable: 9006 when the sent type clearly mismatches, 9007 when the value is invalid for the type
    /// or its facets (ranges, string length, enumeration).
    public static func check(_ value: String, claimed: XSDType, for def: ParameterDefinition) -> Int? {
        if !compatible(claimed, def.type) { return 9006 }
        guard isValid(value, as: def.type) else { return 9007 }
        switch def.type {
        case .int, .unsignedInt, .long, .unsignedLong:
            if !def.ranges.isEmpty, let v = Double(value), !def.ranges.contains(where: { $0.contains(v) }) { return 9007 }
        case .string:
            if let m = def.maxLength, value.count > m { return 9007 }
            if !def.isList, !def.enumerations.isEmpty, !def.enumerations.contains(value) { return 9007 }
        default:
            break
        }
        return nil
    }

    /// Whether an xsi:type sent by the ACS is acceptable for a parameter of type `actual`. Untyped values arrive as
    /// string and are always accepted; the four integer types are interchangeable (the value is range-checked).
    public static func compatible(_ claimed: XSDType, _ actual: XSDType) -> Bool {
        if claimed == actual || claimed == .string { return true }
        let integers: Set<XSDType> = [.int, .unsignedInt, .long, .unsignedLong]
        return integers.contains(claimed) && integers.contains(actual)
    }

    /// Lexical validity of a value for an xsd type.
    public static func isValid(_ value: String, as type: XSDType) -> Bool {
        switch type {
        case .string: return true
        case .int: return Int32(value) != nil
        case .unsignedInt: return UInt32(value) != nil
        case .long: return Int64(value) != nil
        case .unsignedLong: return UInt64(value) != nil
        case .boolean: return ["0", "1", "true", "false"].contains(value.lowercased())
        case .dateTime: return isDateTime(value)
        case .base64: return isBase64(value)
        case .hexBinary: return value.utf8.count % 2 == 0 && value.utf8.allSatisfy(isHex)
        }
    }

    private static func isHex(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b >= 65 && b <= 70) || (b >= 97 && b <= 102)
    }

    private static func isBase64(_ s: String) -> Bool {
        var count = 0, padding = 0
        for b in s.utf8 {
            switch b {
            case 65...90, 97...122, 48...57, UInt8(ascii: "+"), UInt8(ascii: "/"):
                if padding > 0 { return false }
                count += 1
            case UInt8(ascii: "="): padding += 1; count += 1
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): continue
            default: return false
            }
        }
        return count % 4 == 0 && padding <= 2
    }

    /// xsd:dateTime: YYYY-MM-DDThh:mm:ss[.fff][Z|(+|-)hh:mm].
    public static func isDateTime(_ s: String) -> Bool {
        let b = Array(s.utf8)
        func digits(_ from: Int, _ n: Int) -> Int? {
            guard from + n <= b.count else { return nil }
            var v = 0
            for i in from..<(from + n) {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        var i = 0
        if b.first == UInt8(ascii: "-") { i = 1 }
        guard let _ = digits(i, 4), b.count >= i + 19,
              b[i + 4] == UInt8(ascii: "-"), let mo = digits(i + 5, 2), b[i + 7] == UInt8(ascii: "-"), let d = digits(i + 8, 2),
              b[i + 10] == UInt8(ascii: "T"), let h = digits(i + 11, 2), b[i + 13] == UInt8(ascii: ":"),
              let mi = digits(i + 14, 2), b[i + 16] == UInt8(ascii: ":"), let sec = digits(i + 17, 2),
              (1...12).contains(mo), (1...31).contains(d), h <= 24, mi <= 59, sec <= 60 else { return false }
        i += 19
        if i < b.count && b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < b.count && b[i] >= 48 && b[i] <= 57 { i += 1 }
            if i == start { return false }
        }
        if i == b.count { return true }
        if b[i] == UInt8(ascii: "Z") { return i + 1 == b.count }
        guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), let th = digits(i + 1, 2), i + 3 < b.count,
              b[i + 3] == UInt8(ascii: ":"), let tm = digits(i + 4, 2), i + 6 == b.count else { return false }
        return th <= 14 && tm <= 59
    }
}
