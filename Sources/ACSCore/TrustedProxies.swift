import Foundation

/// Reverse proxies (HAProxy, nginx, a load balancer) whose `X-Forwarded-For` and `X-Forwarded-Proto` Corral believes
/// (`trusted_proxies`, CIDRs). From anyone else those headers are ignored: a client could otherwise pick the address
/// that login throttling, the audit log and the connection-request check see. Pure.
public struct TrustedProxies: Sendable {
    public let networks: [CIDR]

    /// Fails naming the first entry that is not an address or CIDR.
    public init(_ entries: [String]) throws(ConfigurationProblem) {
        var n: [CIDR] = []
        for e in entries {
            let t = e.trimmingCharacters(in: .whitespaces)
            guard let c = CIDR(t) else { throw ConfigurationProblem("trusted_proxies: \"\(e)\" is not an IP address or CIDR") }
            n.append(c)
        }
        networks = n
    }

    public var isEmpty: Bool { networks.isEmpty }

    public func trusts(_ address: String) -> Bool {
        guard let ip = IPAddress(address) else { return false }
        return networks.contains { $0.contains(ip) }
    }

    /// The client a request really comes from: the peer itself unless it is a trusted proxy; then the right-most
    /// `X-Forwarded-For` entry that is not a trusted proxy (entries further left are the client's own claims).
    /// `forwardedTLS` is the proxy's `X-Forwarded-Proto: https` (nil when the peer is not trusted or said nothing).
    public func client(peer: String, forwardedFor: [String], forwardedProto: String?) -> (address: String, forwardedTLS: Bool?) {
        guard trusts(peer) else { return (peer, nil) }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        var address = peer
        for hop in hops.reversed() {
            guard IPAddress(hop) != nil else { break }   // garbage ends the chain we can believe
            address = hop
            if !trusts(hop) { break }
        }
        let proto = forwardedProto?.split(separator: ",").first?.trimmingCharacters(in: .whitespaces).lowercased()
        return (address, proto.map { $0 == "https" })
    }
}

public struct ConfigurationProblem: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}
