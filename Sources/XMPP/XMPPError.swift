/// Why an XMPP session could not be opened or a request failed, worded for an operator's log and a task's outcome.
public enum XMPPError: Error, Sendable, Equatable, CustomStringConvertible {
    case connect(String)
    case tls(String)
    case authentication(String)
    case registration(String)
    case stream(String)
    case protocolViolation(String)
    case timeout(String)
    case closed

    public var description: String {
        switch self {
        case .connect(let s): return "cannot connect to the XMPP server: \(s)"
        case .tls(let s): return "XMPP TLS: \(s)"
        case .authentication(let s): return "XMPP login refused: \(s)"
        case .registration(let s): return "XMPP in-band registration failed: \(s)"
        case .stream(let s): return "XMPP stream error: \(s)"
        case .protocolViolation(let s): return "XMPP protocol: \(s)"
        case .timeout(let s): return "XMPP: no answer \(s)"
        case .closed: return "XMPP connection closed"
        }
    }
}

/// XML namespaces of the negotiation (RFC 6120), registration (XEP-0077) and Annex K.
public enum XMPPNS {
    public static let client = "jabber:client"
    public static let stream = "http://etherx.jabber.org/streams"
    public static let tls = "urn:ietf:params:xml:ns:xmpp-tls"
    public static let sasl = "urn:ietf:params:xml:ns:xmpp-sasl"
    public static let bind = "urn:ietf:params:xml:ns:xmpp-bind"
    public static let session = "urn:ietf:params:xml:ns:xmpp-session"
    public static let stanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"
    public static let register = "jabber:iq:register"
    public static let ping = "urn:xmpp:ping"
    public static let connectionRequest = "urn:broadband-forum-org:cwmp:xmppConnReq-1-0"
}
