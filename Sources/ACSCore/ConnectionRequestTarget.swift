import Foundation

/// Where an HTTP connection request may go. A CPE reports its ConnectionRequestURL itself, so without a rule anyone
/// with onboarding credentials could make Corral send GETs to any host and port it can reach (SSRF). Allowed: the
/// address the device's sessions come from, and networks its profile lists (`connection_request_networks`, CIDRs,
/// or "any"). Pure.
public enum ConnectionRequestTarget {
    public static func problem(url: String, sessionAddress: String, allowed: [String]) -> String? {
        guard let host = host(of: url) else { return "ConnectionRequestURL \(url.prefix(100)) has no host" }
        if allowed.contains("any") { return nil }
        if !sessionAddress.isEmpty, normalized(host) == normalized(sessionAddress) { return nil }
        if let ip = IPAddress(host), allowed.compactMap(CIDR.init).contains(where: { $0.contains(ip) }) { return nil }
        return "its ConnectionRequestURL host \(host.prefix(100)) is not the address its sessions come from (\(sessionAddress)); "
            + "list its network in the profile's connection_request_networks to allow it"
    }

    /// The host of an http(s) URL, without brackets for IPv6.
    static func host(of url: String) -> String? {
        guard let sep = url.range(of: "://") else { return nil }
        var rest = url[sep.upperBound...]
        if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        if rest.first == "[" {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            return String(rest[rest.index(after: rest.startIndex)..<close])
        }
        let host = rest.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        return host.isEmpty ? nil : host
    }

    static func normalized(_ s: String) -> String { IPAddress(s).map { $0.bytes.map(String.init).joined(separator: ".") } ?? s.lowercased() }
}

/// An IPv4 or IPv6 address as bytes (IPv4-mapped IPv6 addresses count as IPv4).
public struct IPAddress: Equatable, Sendable {
    public let bytes: [UInt8]
    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let b = withUnsafeBytes(of: &v6) { Array($0) }
        bytes = b[0..<10].allSatisfy { $0 == 0 } && b[10] == 0xff && b[11] == 0xff ? Array(b[12...]) : b
    }
}

/// "10.0.0.0/8", "2001:db8::/32" or a single address.
public struct CIDR: Sendable {
    let network: IPAddress
    let bits: Int
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let net = IPAddress(String(parts[0])) else { return nil }
        let max = net.bytes.count * 8
        let bits = parts.count == 2 ? Int(parts[1]) ?? -1 : max
        guard (0...max).contains(bits) else { return nil }
        network = net
        self.bits = bits
    }

    public func contains(_ ip: IPAddress) -> Bool {
        guard ip.bytes.count == network.bytes.count else { return false }
        var left = bits
        for i in 0..<ip.bytes.count where left > 0 {
            let take = min(8, left)
            let mask = UInt8(truncatingIfNeeded: 0xff << (8 - take))
            if ip.bytes[i] & mask != network.bytes[i] & mask { return false }
            left -= take
        }
        return true
    }
}
