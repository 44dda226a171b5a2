/// An IP address and UDP port, as STUN's address attributes carry them.
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 (IPv6).
    public var ip: [UInt8]
    public var port: UInt16

    public init(ip: [UInt8], port: UInt16) { self.ip = ip; self.port = port }

    /// "a.b.c.d:port", "[v6]:port", "a.b.c.d" (port 80, TR-069 Annex G's form), or "host:port" with a numeric host.
    public init?(_ text: String) {
        var host = Substring(text), port: UInt16 = 80
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let p = UInt16(rest.dropFirst()) else { return nil }
                port = p
            }
            guard let v6 = Self.parseIPv6(host) else { return nil }
            self.init(ip: v6, port: port)
            return
        }
        if let colon = host.lastIndex(of: ":") {
            guard let p = UInt16(host[host.index(after: colon)...]) else { return nil }
            port = p
            host = host[..<colon]
        }
        guard let v4 = Self.parseIPv4(host) else { return nil }
        self.init(ip: v4, port: port)
    }

    public var host: String {
        if ip.count == 4 { return ip.map(String.init).joined(separator: ".") }
        var groups: [String] = []
        for i in stride(from: 0, to: ip.count, by: 2) { groups.append(String(UInt16(ip[i]) << 8 | UInt16(ip[i + 1]), radix: 16)) }
        return groups.joined(separator: ":")
    }

    public var description: String { ip.count == 4 ? "\(host):\(port)" : "[\(host)]:\(port)" }

    static func parseIPv4<S: StringProtocol>(_ s: S) -> [UInt8]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, let v = UInt8(p) else { return nil }
            out.append(v)
        }
        return out
    }

    static func parseIPv6<S: StringProtocol>(_ s: S) -> [UInt8]? {
        let halves = s.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ t: String) -> [UInt16]? {
            if t.isEmpty { return [] }
            var out: [UInt16] = []
            for g in t.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(g.count), let v = UInt16(g, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
            all += [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    // MARK: STUN address attributes

    /// MAPPED-ADDRESS value (RFC 3489 11.2.1).
    public var mappedAddressValue: [UInt8] {
        [0, ip.count == 4 ? 1 : 2, UInt8(port >> 8), UInt8(port & 0xFF)] + ip
    }

    /// XOR-MAPPED-ADDRESS value (RFC 5389 15.2): port XOR the cookie's high half, address XOR cookie (+ transaction ID).
    public func xorMappedAddressValue(transactionID: [UInt8]) -> [UInt8] {
        let cookie: [UInt8] = [0x21, 0x12, 0xA4, 0x42]
        let mask = cookie + transactionID
        let xport = port ^ 0x2112
        return [0, ip.count == 4 ? 1 : 2, UInt8(xport >> 8), UInt8(xport & 0xFF)] + ip.enumerated().map { $0.element ^ mask[$0.offset] }
    }

    public static func fromMappedAddress(_ v: [UInt8]) -> Endpoint? {
        guard v.count >= 8 else { return nil }
        let family = v[1], port = UInt16(v[2]) << 8 | UInt16(v[3])
        if family == 1, v.count == 8 { return Endpoint(ip: Array(v[4..<8]), port: port) }
        if family == 2, v.count == 20 { return Endpoint(ip: Array(v[4..<20]), port: port) }
        return nil
    }

    public static func fromXorMappedAddress(_ v: [UInt8], transactionID: [UInt8]) -> Endpoint? {
        guard var e = fromMappedAddress(v) else { return nil }
        let mask: [UInt8] = [0x21, 0x12, 0xA4, 0x42] + transactionID
        e.port ^= 0x2112
        e.ip = e.ip.enumerated().map { $0.element ^ mask[$0.offset] }
        return e
    }
}
