/// base64url without padding (RFC 4648 §5): tokens, cookies, download keys and query cursors.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func encode(_ data: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((data.count * 4 + 2) / 3)
        var i = 0
        while i < data.count {
            let b0 = data[i], b1 = i + 1 < data.count ? data[i + 1] : 0, b2 = i + 2 < data.count ? data[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 3) << 4 | b1 >> 4)])
            if i + 1 < data.count { out.append(alphabet[Int((b1 & 15) << 2 | b2 >> 6)]) }
            if i + 2 < data.count { out.append(alphabet[Int(b2 & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// nil for characters outside the alphabet or an impossible length.
    public static func decode(_ s: String) -> [UInt8]? {
        var values: [UInt8] = []
        for c in s.utf8 {
            guard let v = alphabet.firstIndex(of: c) else { return nil }
            values.append(UInt8(v))
        }
        var out: [UInt8] = []
        var i = 0
        while i < values.count {
            let n = min(4, values.count - i)
            guard n >= 2 else { return nil }
            let v = Array(values[i..<(i + n)]) + Array(repeating: 0, count: 4 - n)
            out.append(v[0] << 2 | v[1] >> 4)
            if n > 2 { out.append(v[1] << 4 | v[2] >> 2) }
            if n > 3 { out.append(v[2] << 6 | v[3]) }
            i += 4
        }
        return out
    }
}
