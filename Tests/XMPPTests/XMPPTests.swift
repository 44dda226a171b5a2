import Foundation
import Testing
@testable import XMPP

@Suite struct XMLStreamParserTests {
    static let header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='corral.test' version='1.0'>"

    @Test func splitsStanzasFedOneByteAtATime() throws {
        let text = Self.header + "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features> \n"
            + "<iq type=\"get\" id='a&amp;b' from='x@y/z'><connectionRequest xmlns='urn:broadband-forum-org:cwmp:xmppConnReq-1-0'><username>u&lt;1</username><password>p&#x41;&#66;</password></connectionRequest></iq>"
            + "</stream:stream>"
        var p = XMLStreamParser()
        var events: [XMLStreamEvent] = []
        for b in Array(text.utf8) { events += try p.feed([b]) }
        #expect(events.count == 4)
        guard case .streamOpened(let h) = events[0], case .stanza(let features) = events[1], case .stanza(let iq) = events[2] else {
            Issue.record("unexpected events \(events)"); return
        }
        #expect(h.namespace == XMPPNS.stream && h["id"] == "s1")
        #expect(features.is("features", XMPPNS.stream))
        #expect(features.child("starttls", namespace: XMPPNS.tls)?.child("required") != nil)
        #expect(iq.namespace == XMPPNS.client && iq["id"] == "a&b")
        let cr = try #require(ConnectionRequestIQ.parse(iq))
        #expect(cr == .init(id: "a&b", from: "x@y/z", username: "u<1", password: "pAB"))
        #expect(events[3] == .streamClosed)
    }

    @Test func refusesWhatXMPPForbidsAndBoundsSizes() throws {
        for bad in ["<!-- c --><stream:stream>", "<iq/>", Self.header + "text<iq/>", Self.header + "<iq>&bogus;</iq>",
                    Self.header + "<a><b></a>", Self.header + "<iq id=x/>"] {
            var p = XMLStreamParser()
            #expect(throws: XMLStreamError.self, "\(bad)") { _ = try p.feed(Array(bad.utf8)) }
        }
        var p = XMLStreamParser()
        p.maxStanzaBytes = 1000
        _ = try p.feed(Array(Self.header.utf8))
        #expect(throws: XMLStreamError.self) { _ = try p.feed(Array(("<message><body>" + String(repeating: "x", count: 2000)).utf8)) }
        var deep = XMLStreamParser()
        _ = try deep.feed(Array(Self.header.utf8))
        #expect(throws: XMLStreamError.self) { _ = try deep.feed(Array(String(repeating: "<a>", count: 100).utf8)) }
        // A flood of attributes is refused, and parsing stays linear: 200 KB of one attribute value is one pass.
        var wide = XMLStreamParser()
        _ = try wide.feed(Array(Self.header.utf8))
        let attrs = (0..<100).map { "a\($0)='1'" }.joined(separator: " ")
        #expect(throws: XMLStreamError.self) { _ = try wide.feed(Array("<iq \(attrs)/>".utf8)) }
        var big = XMLStreamParser()
        _ = try big.feed(Array(Self.header.utf8))
        let events = try big.feed(Array("<iq v='\(String(repeating: "y", count: 200_000))'/>".utf8))
        #expect(events.count == 1)
    }
}

@Suite struct SCRAMTests {
    /// RFC 5802 §5: user "user", password "pencil".
    @Test func matchesRFC5802Example() throws {
        var c = SCRAMSHA1Client(username: "user", password: "pencil", clientNonce: "fyko+d2lbbFgONRv9qkxdawL")
        #expect(c.clientFirst == "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL")
        let final = try c.respond(to: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")
        #expect(final == "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=")
        try c.verify(serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")
        #expect(throws: XMPPError.self) { try c.verify(serverFinal: "v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=") }
    }

    @Test func refusesHostileServerFirstMessages() {
        for bad in ["r=other,s=QSXCR+Q6sek8bf92,i=4096", "r=abcX,s=QSXCR+Q6sek8bf92,i=999999999", "r=abcX,s=%%%,i=4096", "garbage"] {
            var c = SCRAMSHA1Client(username: "u", password: "p", clientNonce: "abc")
            #expect(throws: XMPPError.self, "\(bad)") { _ = try c.respond(to: bad) }
        }
    }
}

@Suite struct XMPPClientMachineTests {
    static let account = XMPPAccount(localpart: "acs", domain: "corral.test", password: "pencil", resource: "corral")
    static let header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x' from='corral.test' version='1.0'>"

    static func sent(_ actions: [XMPPClientMachine.Action]) -> [String] {
        actions.compactMap { if case .send(let s) = $0 { return s } else { return nil } }
    }

    @Test func negotiatesTLSThenPlainThenBindsAndDeliversStanzas() throws {
        var m = XMPPClientMachine(account: Self.account)
        #expect(Self.sent(m.start()).first?.contains("to='corral.test'") == true)
        var a = m.received(Array((Self.header + "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>").utf8))
        #expect(Self.sent(a) == ["<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"])
        a = m.received(Array("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>".utf8))
        #expect(a == [.startTLS])
        #expect(Self.sent(m.tlsEstablished()).count == 1)
        a = m.received(Array((Self.header + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>").utf8))
        #expect(Self.sent(a) == ["<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>\(saslPlain(username: "acs", password: "pencil"))</auth>"])
        a = m.received(Array("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>".utf8))
        #expect(Self.sent(a).first?.hasPrefix("<?xml") == true)
        a = m.received(Array((Self.header + "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session></stream:features>").utf8))
        #expect(Self.sent(a).first?.contains("<resource>corral</resource>") == true)
        a = m.received(Array("<iq type='result' id='bind_1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>acs@corral.test/corral</jid></bind></iq>".utf8))
        #expect(a.contains(.ready(jid: "acs@corral.test/corral")))
        a = m.received(Array("<iq type='result' id='corral-1' from='cpe@corral.test/cwmp'/>".utf8))
        guard case .stanza(let el) = a.first else { Issue.record("no stanza: \(a)"); return }
        #expect(ConnectionRequestIQ.outcome(of: el) == .accepted)
    }

    @Test func neverSendsPlainWithoutTLSAndReportsRefusals() {
        var m = XMPPClientMachine(account: Self.account, options: .init(tlsAvailable: false, requireTLS: false))
        _ = m.start()
        let a = m.received(Array((Self.header + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>").utf8))
        guard case .fail(.authentication(let why)) = a.last else { Issue.record("expected a refusal: \(a)"); return }
        #expect(why.contains("PLAIN only over TLS"))

        var strict = XMPPClientMachine(account: Self.account)
        _ = strict.start()
        let b = strict.received(Array((Self.header + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>").utf8))
        #expect(b == [.fail(.tls("the server offers no STARTTLS and TLS is required"))])

        var refused = XMPPClientMachine(account: Self.account, options: .init(tlsAvailable: false, requireTLS: false))
        _ = refused.start()
        let c = refused.received(Array((Self.header + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>").utf8))
        #expect(Self.sent(c).first?.contains("mechanism='SCRAM-SHA-1'") == true)
        let d = refused.received(Array("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/><text>Unable to authorize you with the authentication credentials you've sent.</text></failure>".utf8))
        guard case .fail(.authentication(let reason)) = d.last else { Issue.record("expected a refusal: \(d)"); return }
        #expect(reason.hasPrefix("not-authorized"))
    }

    @Test func connectionRequestRepliesMapToOutcomes() throws {
        func outcome(_ xml: String) throws -> ConnectionRequestIQ.Outcome {
            var p = XMLStreamParser()
            let events = try p.feed(Array((Self.header + xml).utf8))
            guard case .stanza(let el) = events.last else { throw XMLStreamError("no stanza") }
            return ConnectionRequestIQ.outcome(of: el)
        }
        let incoming = ConnectionRequestIQ.Incoming(id: "c1", from: "acs@corral.test/corral", username: "u", password: "p")
        #expect(try outcome(ConnectionRequestIQ.reply(to: incoming)) == .accepted)
        #expect(try outcome(ConnectionRequestIQ.reply(to: incoming, error: "not-authorized")) == .notAuthorized)
        #expect(try outcome(ConnectionRequestIQ.reply(to: incoming, error: "service-unavailable")) == .refused("service-unavailable"))
        let request = ConnectionRequestIQ.request(id: "c2", to: "cpe'1@corral.test/cwmp", username: "a<b", password: "p&q")
        var p = XMLStreamParser()
        let events = try p.feed(Array((Self.header + request).utf8))
        guard case .stanza(let el) = events.last else { Issue.record("no stanza"); return }
        #expect(el["to"] == "cpe'1@corral.test/cwmp")
        #expect(ConnectionRequestIQ.parse(el)?.username == "a<b")
        #expect(ConnectionRequestIQ.parse(el)?.password == "p&q")
    }
}
