/// TR-069 Annex K: the ACS's connection request over XMPP and what the CPE's answer means.
public enum ConnectionRequestIQ {
    /// The request the ACS sends from its own JID to the CPE's `ConnReqJabberID`.
    public static func request(id: String, to jid: String, username: String, password: String) -> String {
        "<iq type='get' id='\(xmlEscape(id))' to='\(xmlEscape(jid))'><connectionRequest xmlns='\(XMPPNS.connectionRequest)'>"
            + "<username>\(xmlEscape(username))</username><password>\(xmlEscape(password))</password></connectionRequest></iq>"
    }

    /// What became of a connection request.
    public enum Outcome: Sendable, Equatable, CustomStringConvertible {
        /// `result`: the CPE accepted and opens a session.
        case accepted
        /// `not-authorized`: the CPE refused the credentials.
        case notAuthorized
        /// `service-unavailable` (the CPE or its JID is offline, or it cannot serve now) or another error condition.
        case refused(String)
        /// No answer, or no XMPP session of Corral's own.
        case failed(String)

        public var description: String {
            switch self {
            case .accepted: return "accepted"
            case .notAuthorized: return "not-authorized (the device refused its connection-request credentials)"
            case .refused(let c): return c == "service-unavailable" ? "service-unavailable (the device's XMPP client is offline or busy)" : c
            case .failed(let s): return s
            }
        }
    }

    public static func outcome(of reply: XMLElement) -> Outcome {
        switch reply["type"] {
        case "result": return .accepted
        case "error":
            let c = errorCondition(reply) ?? "undefined-condition"
            return c == "not-authorized" ? .notAuthorized : .refused(c)
        default: return .failed("unexpected reply type \(reply["type"] ?? "none")")
        }
    }

    /// The CPE's side: a connection request addressed to it, with the credentials it carries.
    public struct Incoming: Sendable, Equatable {
        public var id: String
        public var from: String
        public var username: String
        public var password: String
    }

    public static func parse(_ iq: XMLElement) -> Incoming? {
        guard iq.localName == "iq", iq["type"] == "get", let cr = iq.child("connectionRequest", namespace: XMPPNS.connectionRequest) else { return nil }
        return Incoming(id: iq["id"] ?? "", from: iq["from"] ?? "", username: cr.child("username")?.text ?? "", password: cr.child("password")?.text ?? "")
    }

    /// The CPE's answer: an empty result, or an error with the condition (`not-authorized`, `service-unavailable`).
    public static func reply(to incoming: Incoming, error condition: String? = nil) -> String {
        let head = "<iq id='\(xmlEscape(incoming.id))' to='\(xmlEscape(incoming.from))'"
        guard let condition else { return head + " type='result'/>" }
        let type = condition == "not-authorized" ? "auth" : "cancel"
        return head + " type='error'><error type='\(type)'><\(condition) xmlns='\(XMPPNS.stanzas)'/></error></iq>"
    }
}
