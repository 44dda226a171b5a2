/// A parsed `application/x-www-form-urlencoded` query: repeated keys keep every value, in order.
struct QueryString: Sendable {
    private(set) var pairs: [(String, String)] = []

    init(_ raw: String?) {
        guard let raw, !raw.isEmpty else { return }
        for part in raw.split(separator: "&", omittingEmptySubsequences: true).prefix(200) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            pairs.append((Self.decode(kv[0]), kv.count > 1 ? Self.decode(kv[1]) : ""))
        }
    }

    subscript(_ key: String) -> String? { pairs.first { $0.0 == key }?.1 }
    func all(_ key: String) -> [String] { pairs.filter { $0.0 == key }.map(\.1) }

    /// Percent-decoding with '+' as space; invalid escapes are kept literally.
    static func decode(_ s: Substring) -> String {
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "+") { bytes.append(0x20); continue }
            if b == UInt8(ascii: "%"), it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                it = it.dropFirst(2)
                continue
            }
            bytes.append(b)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func int(_ key: String, default d: Int, range: ClosedRange<Int>) throws -> Int {
        guard let s = self[key] else { return d }
        guard let v = Int(s), range.contains(v) else {
            throw APIError.badRequest("\(key) must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }

    func id(_ key: String) throws -> Int64? {
        guard let s = self[key] else { return nil }
        guard let v = Int64(s), v > 0 else { throw APIError.badRequest("\(key) must be a positive integer") }
        return v
    }
}
