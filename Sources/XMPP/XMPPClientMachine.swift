/// Who logs in, and how.
public struct XMPPAccount: Sendable, Equatable {
    public var localpart: String
    public var domain: String
    public var password: String
    public var resource: String

    public init(localpart: String, domain: String, password: String, resource: String) {
        self.localpart = localpart; self.domain = domain; self.password = password; self.resource = resource
    }

    /// From `user@domain` or `user@domain/resource`.
    public init?(jid: String, password: String, defaultResource: String) {
        guard let at = jid.firstIndex(of: "@") else { return nil }
        let local = String(jid[..<at])
        var rest = jid[jid.index(after: at)...]
        var resource = defaultResource
        if let slash = rest.firstIndex(of: "/") {
            resource = String(rest[rest.index(after: slash)...])
            rest = rest[..<slash]
        }
        guard !local.isEmpty, !rest.isEmpty, !resource.isEmpty else { return nil }
        self.init(localpart: local, domain: String(rest), password: password, resource: resource)
    }

    public var bareJID: String { "\(localpart)@\(domain)" }
}

/// The client's half of opening an XMPP session (RFC 6120: STARTTLS, SASL, resource binding; XEP-0077 in-band
/// registration on request), as a pure state machine: bytes in, actions out. The driver does the I/O and TLS.
public struct XMPPClientMachine: Sendable {
    public enum Action: Sendable, Equatable {
        case send(String)
        /// Put TLS under the connection now, then call `tlsEstablished()`.
        case startTLS
        /// Logged in and bound: stanzas may be exchanged.
        case ready(jid: String)
        /// A stanza that arrived after `ready`.
        case stanza(XMLElement)
        case fail(XMPPError)
    }

    public struct Options: Sendable {
        /// The driver can put TLS under the stream.
        public var tlsAvailable = true
        /// Refuse to log in without TLS (default): PLAIN is never sent in clear either way.
        public var requireTLS = true
        /// Create the account by in-band registration (XEP-0077) before logging in; an existing account is fine.
        public var register = false
        public init(tlsAvailable: Bool = true, requireTLS: Bool = true, register: Bool = false) {
            self.tlsAvailable = tlsAvailable; self.requireTLS = requireTLS; self.register = register
        }
    }

    enum State: Sendable {
        case idle, awaitingHeader, awaitingFeatures, startingTLS, registering(XMLElement), scram(SCRAMSHA1Client), plain
        case binding, session, ready, failed
    }

    public let account: XMPPAccount
    public let options: Options
    private var state: State = .idle
    private var parser = XMLStreamParser()
    public private(set) var tls = false
    public private(set) var authenticated = false
    private var registered = false
    private var sessionNeeded = false
    public private(set) var boundJID = ""

    public init(account: XMPPAccount, options: Options = Options()) {
        self.account = account; self.options = options
    }

    public var isReady: Bool { if case .ready = state { return true } else { return false } }

    /// Opens the first stream.
    public mutating func start() -> [Action] { openStream() }

    /// TLS is up under the connection: the stream starts over (RFC 6120 §5.4.3.3).
    public mutating func tlsEstablished() -> [Action] {
        tls = true
        return openStream()
    }

    private mutating func openStream() -> [Action] {
        parser = XMLStreamParser()
        state = .awaitingHeader
        return [.send("<?xml version='1.0'?><stream:stream to='\(xmlEscape(account.domain))' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")]
    }

    public mutating func received<S: Sequence>(_ bytes: S) -> [Action] where S.Element == UInt8 {
        if case .failed = state { return [] }
        let events: [XMLStreamEvent]
        do { events = try parser.feed(bytes) } catch {
            return fail(.protocolViolation("\(error)"))
        }
        var actions: [Action] = []
        for e in events {
            actions += handle(e)
            if case .failed = state { break }
            // After a stream restart, what follows belongs to the new stream (the server sends nothing before
            // our new header, so nothing is lost here).
            if case .awaitingHeader = state, !actions.isEmpty { break }
        }
        return actions
    }

    private mutating func fail(_ e: XMPPError) -> [Action] {
        state = .failed
        return [.fail(e)]
    }

    private mutating func handle(_ event: XMLStreamEvent) -> [Action] {
        switch event {
        case .streamClosed:
            return fail(.closed)
        case .streamOpened(let header):
            guard case .awaitingHeader = state else { return fail(.protocolViolation("unexpected stream header")) }
            guard header.namespace == XMPPNS.stream else { return fail(.protocolViolation("not an XMPP stream (namespace \(header.namespace))")) }
            state = .awaitingFeatures
            return []
        case .stanza(let el):
            if el.is("error", XMPPNS.stream) {
                let condition = el.children.first { $0.namespace == "urn:ietf:params:xml:ns:xmpp-streams" && $0.localName != "text" }
                let text = el.children.first { $0.localName == "text" }?.text
                return fail(.stream([condition.map { String($0.localName) }, text].compactMap { $0 }.joined(separator: ": ")))
            }
            return stanza(el)
        }
    }

    private mutating func stanza(_ el: XMLElement) -> [Action] {
        switch state {
        case .idle, .awaitingHeader, .failed:
            return fail(.protocolViolation("unexpected <\(el.name)> before the stream header"))
        case .awaitingFeatures:
            guard el.is("features", XMPPNS.stream) else { return fail(.protocolViolation("expected stream features, got <\(el.name)>")) }
            return authenticated ? bind(el) : negotiate(el)
        case .startingTLS:
            if el.is("proceed", XMPPNS.tls) { return [.startTLS] }
            return fail(.tls("the server refused STARTTLS"))
        case .registering(let features):
            guard el.localName == "iq", el["id"] == "reg_1" else { return [] }
            if el["type"] == "result" || errorCondition(el) == "conflict" {
                registered = true
                return authenticate(features)
            }
            return fail(.registration(errorCondition(el) ?? "refused"))
        case .scram(var client):
            if el.is("challenge", XMPPNS.sasl) {
                do {
                    let response = try client.respond(to: Self.base64Text(el))
                    state = .scram(client)
                    return [.send("<response xmlns='\(XMPPNS.sasl)'>\(Self.base64(response))</response>")]
                } catch let e as XMPPError { return fail(e) } catch { return fail(.authentication("\(error)")) }
            }
            if el.is("success", XMPPNS.sasl) {
                do { try client.verify(serverFinal: Self.base64Text(el)) } catch let e as XMPPError { return fail(e) } catch { return fail(.authentication("\(error)")) }
                authenticated = true
                return openStream()
            }
            return fail(.authentication(saslFailure(el)))
        case .plain:
            if el.is("success", XMPPNS.sasl) {
                authenticated = true
                return openStream()
            }
            return fail(.authentication(saslFailure(el)))
        case .binding:
            guard el.localName == "iq", el["id"] == "bind_1" else { return [] }
            guard el["type"] == "result", let jid = el.child("bind", namespace: XMPPNS.bind)?.child("jid")?.text, !jid.isEmpty else {
                return fail(.protocolViolation("resource binding refused: \(errorCondition(el) ?? "no JID")"))
            }
            boundJID = jid
            if sessionNeeded {
                state = .session
                return [.send("<iq type='set' id='sess_1'><session xmlns='\(XMPPNS.session)'/></iq>")]
            }
            return becomeReady()
        case .session:
            guard el.localName == "iq", el["id"] == "sess_1" else { return [] }
            guard el["type"] == "result" else { return fail(.protocolViolation("session establishment refused: \(errorCondition(el) ?? "?")")) }
            return becomeReady()
        case .ready:
            return [.stanza(el)]
        }
    }

    private mutating func becomeReady() -> [Action] {
        state = .ready
        return [.send("<presence/>"), .ready(jid: boundJID)]
    }

    private mutating func negotiate(_ features: XMLElement) -> [Action] {
        if !tls, features.child("starttls", namespace: XMPPNS.tls) != nil, options.tlsAvailable {
            state = .startingTLS
            return [.send("<starttls xmlns='\(XMPPNS.tls)'/>")]
        }
        if !tls, options.requireTLS {
            return fail(.tls(options.tlsAvailable ? "the server offers no STARTTLS and TLS is required" : "TLS is required but not configured"))
        }
        if options.register, !registered {
            state = .registering(features)
            let q = "<query xmlns='\(XMPPNS.register)'><username>\(xmlEscape(account.localpart))</username><password>\(xmlEscape(account.password))</password></query>"
            return [.send("<iq type='set' id='reg_1'>\(q)</iq>")]
        }
        return authenticate(features)
    }

    private mutating func authenticate(_ features: XMLElement) -> [Action] {
        let offered = features.child("mechanisms", namespace: XMPPNS.sasl)?.children.map { $0.text.trimmingSpaces } ?? []
        if offered.contains("SCRAM-SHA-1") {
            let client = SCRAMSHA1Client(username: account.localpart, password: account.password)
            state = .scram(client)
            return [.send("<auth xmlns='\(XMPPNS.sasl)' mechanism='SCRAM-SHA-1'>\(Self.base64(client.clientFirst))</auth>")]
        }
        if offered.contains("PLAIN"), tls {
            state = .plain
            return [.send("<auth xmlns='\(XMPPNS.sasl)' mechanism='PLAIN'>\(saslPlain(username: account.localpart, password: account.password))</auth>")]
        }
        return fail(.authentication("no usable SASL mechanism (offered: \(offered.joined(separator: ", ")); PLAIN only over TLS)"))
    }

    private mutating func bind(_ features: XMLElement) -> [Action] {
        guard features.child("bind", namespace: XMPPNS.bind) != nil else { return fail(.protocolViolation("the server offers no resource binding")) }
        if let s = features.child("session", namespace: XMPPNS.session) { sessionNeeded = s.child("optional") == nil }
        state = .binding
        return [.send("<iq type='set' id='bind_1'><bind xmlns='\(XMPPNS.bind)'><resource>\(xmlEscape(account.resource))</resource></bind></iq>")]
    }

    private func saslFailure(_ el: XMLElement) -> String {
        guard el.is("failure", XMPPNS.sasl) else { return "unexpected <\(el.name)> during SASL" }
        let condition = el.children.first { $0.localName != "text" }.map { String($0.localName) } ?? "failure"
        let text = el.child("text")?.text
        return [condition, text].compactMap { $0 }.joined(separator: ": ")
    }

    static func base64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }

    static func base64Text(_ el: XMLElement) throws -> String {
        let t = el.text.trimmingSpaces
        if t.isEmpty || t == "=" { return "" }
        guard let d = Data(base64Encoded: t) else { throw XMPPError.authentication("SASL data is not base64") }
        return String(decoding: d, as: UTF8.self)
    }
}

/// The condition of an `<iq type='error'>` (`service-unavailable`, `not-authorized`, …), nil for other stanzas.
public func errorCondition(_ el: XMLElement) -> String? {
    guard el["type"] == "error", let e = el.child("error") else { return nil }
    return e.children.first { $0.namespace == XMPPNS.stanzas && $0.localName != "text" }.map { String($0.localName) } ?? "undefined-condition"
}

import Foundation
