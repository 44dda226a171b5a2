import Testing
@testable import STUN

@Suite struct STUNCodecTests {
    static let tid12: [UInt8] = [0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae]

    /// A classic (RFC 3489) TR-111 binding request, as a CPE sends it: 16-byte transaction ID, no cookie.
    static func classicRequest(bindingChange: Bool = false, username: String? = nil) -> [UInt8] {
        var attrs = [STUNMessage.Attribute(type: 0xC001, value: Array(STUNMessage.tr111Binding.utf8))]
        if bindingChange { attrs.append(.init(type: 0xC002, value: [])) }
        if let username { attrs.append(.init(type: 0x0006, value: Array(username.utf8))) }
        return STUNMessage(type: 1, rfc5389: false, transactionID: Array(1...16), attributes: attrs).encode()
    }

    @Test func xorMappedAddressMatchesRFC5769() {
        // RFC 5769 2.2: 192.0.2.1 port 32853 encodes as port 0xa147, address 0xe112a643.
        let e = Endpoint(ip: [192, 0, 2, 1], port: 32853)
        #expect(e.xorMappedAddressValue(transactionID: Self.tid12) == [0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43])
        #expect(Endpoint.fromXorMappedAddress([0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43], transactionID: Self.tid12) == e)
    }

    @Test func classicRequestRoundTripsWithTR111Attributes() throws {
        let bytes = Self.classicRequest(bindingChange: true, username: "stun-user")
        let m = try STUNMessage.decode(bytes)
        #expect(!m.rfc5389)
        #expect(m.transactionID == Array(1...16))
        #expect(m.isConnectionRequestBinding)
        #expect(m.hasBindingChange)
        #expect(m.username == "stun-user")
        #expect(m.encode() == bytes)
    }

    @Test func connectionRequestBindingIsComparedAfterTrimming() throws {
        let m = STUNMessage(type: 1, rfc5389: false, transactionID: Array(1...16),
                            attributes: [.init(type: 0xC001, value: Array("dslforum.org/TR-111".utf8))])
        #expect(try STUNMessage.decode(m.encode()).isConnectionRequestBinding)
    }

    @Test func classicResponseCarriesOnlyMappedAddress() throws {
        let source = Endpoint(ip: [198, 51, 100, 7], port: 40001)
        guard case .reply(let out, let obs?) = STUNResponder.respond(to: Self.classicRequest(), from: source) else {
            Issue.record("no reply"); return
        }
        let r = try STUNMessage.decode(out)
        #expect(r.type == 0x0101)
        #expect(r.transactionID == Array(1...16))
        #expect(r.attributes.map(\.type) == [0x0001])
        #expect(Endpoint.fromMappedAddress(r.attributes[0].value) == source)
        #expect(out.count == 32)
        #expect(obs.connectionRequestBinding && !obs.bindingChange && obs.source == source)
    }

    @Test func rfc5389ResponseAddsXorMappedAddress() throws {
        let req = STUNMessage(type: 1, rfc5389: true, transactionID: Self.tid12,
                              attributes: [.init(type: 0x8028, value: [1, 2, 3, 4])]).encode()
        let source = Endpoint(ip: [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1], port: 3479)
        guard case .reply(let out, _) = STUNResponder.respond(to: req, from: source) else { Issue.record("no reply"); return }
        let r = try STUNMessage.decode(out)
        #expect(r.rfc5389)
        #expect(Endpoint.fromMappedAddress(try #require(r.attribute(0x0001)).value) == source)
        #expect(Endpoint.fromXorMappedAddress(try #require(r.attribute(0x0020)).value, transactionID: Self.tid12) == source)
    }

    @Test func unknownComprehensionRequiredIs420InRFC5389Only() throws {
        let attrs = [STUNMessage.Attribute(type: 0x0031, value: [0, 0, 0, 0])]
        let modern = STUNMessage(type: 1, rfc5389: true, transactionID: Self.tid12, attributes: attrs).encode()
        guard case .reply(let out, nil) = STUNResponder.respond(to: modern, from: Endpoint(ip: [127, 0, 0, 1], port: 1)) else {
            Issue.record("expected an error reply"); return
        }
        let r = try STUNMessage.decode(out)
        #expect(r.type == 0x0111)
        #expect(try #require(r.attribute(0x0009)).value.prefix(4) == [0, 0, 4, 20])
        #expect(try #require(r.attribute(0x000A)).value == [0x00, 0x31])
        let classic = STUNMessage(type: 1, rfc5389: false, transactionID: Array(1...16), attributes: attrs).encode()
        guard case .reply(let ok, _) = STUNResponder.respond(to: classic, from: Endpoint(ip: [127, 0, 0, 1], port: 1)) else {
            Issue.record("classic request refused"); return
        }
        #expect(try STUNMessage.decode(ok).type == 0x0101)
    }

    @Test func integrityChallengeAndCheck() throws {
        let key = Array("stun-secret".utf8)
        let lookup: STUNResponder.IntegrityKey = { $0 == "cpe-1" ? key : nil }
        let src = Endpoint(ip: [127, 0, 0, 1], port: 9)
        // No username: 401.
        guard case .reply(let challenge, nil) = STUNResponder.respond(to: Self.classicRequest(), from: src, requireIntegrity: true, key: lookup) else {
            Issue.record("expected 401"); return
        }
        #expect(try #require(try STUNMessage.decode(challenge).attribute(0x0009)).value.prefix(4) == [0, 0, 4, 1])
        // Signed correctly (RFC 5389 form): accepted and marked authenticated.
        let m = STUNMessage(type: 1, rfc5389: true, transactionID: Self.tid12, attributes: [.init(type: 0x0006, value: Array("cpe-1".utf8))])
        guard case .reply(_, let obs?) = STUNResponder.respond(to: m.encode(integrityKey: key), from: src, requireIntegrity: true, key: lookup) else {
            Issue.record("signed request refused"); return
        }
        #expect(obs.authenticated)
        // Wrong key: 431.
        guard case .reply(let bad, nil) = STUNResponder.respond(to: m.encode(integrityKey: Array("other".utf8)), from: src,
                                                               requireIntegrity: true, key: lookup) else {
            Issue.record("expected 431"); return
        }
        #expect(try #require(try STUNMessage.decode(bad).attribute(0x0009)).value.prefix(4) == [0, 0, 4, 31])
    }

    @Test func malformedInputIsDroppedNeverAnswered() {
        let src = Endpoint(ip: [127, 0, 0, 1], port: 9)
        var good = Self.classicRequest()
        let cases: [[UInt8]] = [
            [], [0, 1, 0], Array(good.prefix(19)),
            [0xFF] + good.dropFirst(),                                   // first bits set
            { var b = good; b[3] = 200; return b }(),                    // length past the end
            { var b = good; b[22] = 0x40; return b }(),                  // attribute length past the end
            STUNMessage(type: 0x0101, rfc5389: false, transactionID: Array(1...16)).encode(), // a response
            STUNMessage(type: 0x0001, rfc5389: true, transactionID: Self.tid12,
                        attributes: (0..<40).map { _ in .init(type: 0x8022, value: []) }).encode(),
        ]
        for c in cases {
            if case .reply = STUNResponder.respond(to: c, from: src) { Issue.record("answered \(c.prefix(8))") }
        }
        good[0] = 0
        if case .drop = STUNResponder.respond(to: good, from: src) { Issue.record("valid request dropped") }
    }

    @Test func randomBytesNeverCrashTheDecoder() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            var b = (0..<Int.random(in: 0...96, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if b.count >= 4, Bool.random(using: &rng) { b[0] = 0; b[2] = UInt8((b.count - 20) >> 8 & 0xFF); b[3] = UInt8(max(0, b.count - 20) & 0xFF) }
            _ = STUNResponder.respond(to: b, from: Endpoint(ip: [127, 0, 0, 1], port: 1))
        }
    }

    @Test func rateLimiterBoundsEachSource() {
        var limiter = SourceRateLimiter(perSecond: 10, burst: 20, maxSources: 100)
        let a: [UInt8] = [10, 0, 0, 1], b: [UInt8] = [10, 0, 0, 2]
        let allowedA = (0..<100).filter { _ in limiter.allow(a, now: 1000) }.count
        #expect(allowedA == 20)
        let other = limiter.allow(b, now: 1000)
        #expect(other)
        let refilled = (0..<10).filter { _ in limiter.allow(a, now: 1000.5) }.count
        #expect(refilled == 5)  // 5 tokens back after half a second
        for i in 0..<300 { _ = limiter.allow([1, 2, UInt8(i / 256), UInt8(i % 256)], now: 2000 + Double(i)) }
        #expect(limiter.trackedSources <= 100)
    }

    @Test func endpointsParseTheFormsCPEsReport() {
        #expect(Endpoint("198.51.100.9:7547")?.description == "198.51.100.9:7547")
        #expect(Endpoint("198.51.100.9")?.port == 80)
        #expect(Endpoint("[2001:db8::1]:5000")?.description == "[2001:db8:0:0:0:0:0:1]:5000")
        #expect(Endpoint("host.example:80") == nil)
        #expect(Endpoint("1.2.3:4") == nil)
        #expect(Endpoint("1.2.3.4:99999") == nil)
    }
}

@Suite struct UDPConnectionRequestTests {
    @Test func messageHasAnnexGFormAndSignature() throws {
        let r = UDPConnectionRequest(host: "198.51.100.9", port: 7547, timestamp: 1_700_000_000, messageID: 42,
                                     username: "cr user", cnonce: "abc", password: "pw")
        let text = String(decoding: r.encode(), as: UTF8.self)
        #expect(text.hasPrefix("GET http://198.51.100.9:7547?ts=1700000000&id=42&un=cr%20user&cn=abc&sig="))
        #expect(text.hasSuffix(" HTTP/1.1\r\nHost: 198.51.100.9:7547\r\n\r\n"))
        // The signature is HMAC-SHA1 over ts‖id‖un‖cn, hex in lower case (40 digits).
        #expect(r.signature.count == 40 && r.signature == r.signature.lowercased())
        let parsed = try UDPConnectionRequest.parse(r.encode())
        #expect(parsed.username == "cr user" && parsed.messageID == 42 && parsed.timestamp == 1_700_000_000)
        #expect(parsed.verify(password: "pw"))
        #expect(!parsed.verify(password: "px"))
    }

    @Test func signatureMatchesAnIndependentHMAC() {
        // Computed with Python's hmac module: HMAC-SHA1(key "pw", "1700000000" + "42" + "cr user" + "abc").
        #expect(UDPConnectionRequest.sign(timestamp: 1_700_000_000, messageID: 42, username: "cr user", cnonce: "abc", password: "pw")
                == "bd3f43c1d4d1e043eea7d7f84997bbefe93e4861")
    }

    @Test func guardRefusesReplaysWrongUsersAndBadSignatures() {
        var g = UDPConnectionRequestGuard()
        let r1 = UDPConnectionRequest(host: "h", port: 1, timestamp: 100, messageID: 1, username: "u", cnonce: "c", password: "p")
        #expect(g.check(r1, username: "u", password: "p") == .accept)
        #expect(g.check(r1, username: "u", password: "p") == .duplicate)
        let older = UDPConnectionRequest(host: "h", port: 1, timestamp: 100, messageID: 2, username: "u", cnonce: "c", password: "p")
        #expect(g.check(older, username: "u", password: "p") == .stale)
        let forged = UDPConnectionRequest(host: "h", port: 1, timestamp: 200, messageID: 3, username: "u", cnonce: "c", password: "x")
        #expect(g.check(forged, username: "u", password: "p") == .badSignature)
        let other = UDPConnectionRequest(host: "h", port: 1, timestamp: 200, messageID: 4, username: "v", cnonce: "c", password: "p")
        #expect(g.check(other, username: "u", password: "p") == .wrongUser)
        let newer = UDPConnectionRequest(host: "h", port: 1, timestamp: 101, messageID: 5, username: "u", cnonce: "c", password: "p")
        #expect(g.check(newer, username: "u", password: "p") == .accept)
    }

    @Test func garbageIsNotARequest() {
        for g in ["", "POST / HTTP/1.1\r\n\r\n", "GET http://h:1 HTTP/1.1\r\n\r\n", "GET http://h:1?ts=x&id=1&un=u&cn=c&sig=s HTTP/1.1\r\n\r\n"] {
            #expect(throws: UDPConnectionRequest.ParseError.self) { try UDPConnectionRequest.parse(Array(g.utf8)) }
        }
    }
}

