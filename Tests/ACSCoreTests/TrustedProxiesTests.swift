import Testing
@testable import ACSCore

@Suite struct TrustedProxiesTests {
    @Test func onlyTrustedPeersMayNameTheClient() throws {
        let p = try TrustedProxies(["10.0.0.0/8", "2001:db8::1"])
        // Not a proxy: its headers are the client's own claims.
        #expect(p.client(peer: "192.0.2.9", forwardedFor: ["203.0.113.1"], forwardedProto: "https") == ("192.0.2.9", nil))
        // One proxy: the right-most entry is what it saw.
        #expect(p.client(peer: "10.1.1.1", forwardedFor: ["198.51.100.3, 203.0.113.1"], forwardedProto: "https") == ("203.0.113.1", true))
        // Two proxies in a row, headers split over two lines: skip the trusted hop.
        #expect(p.client(peer: "10.1.1.1", forwardedFor: ["203.0.113.1", "10.2.2.2"], forwardedProto: "http").address == "203.0.113.1")
        #expect(p.client(peer: "2001:db8::1", forwardedFor: ["2001:db8:5::7"], forwardedProto: nil) == ("2001:db8:5::7", nil))
        // Garbage stops the walk at the last believable hop.
        #expect(p.client(peer: "10.1.1.1", forwardedFor: ["203.0.113.1, not-an-ip"], forwardedProto: nil).address == "10.1.1.1")
        #expect(try TrustedProxies([]).isEmpty)
        #expect(throws: ConfigurationProblem.self) { try TrustedProxies(["10.0.0.0/40"]) }
        #expect(throws: ConfigurationProblem.self) { try TrustedProxies(["proxy.example"]) }
    }
}
