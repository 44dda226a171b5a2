import ACSCore
import CWMP

/// How a device can be reached, for the device page, `corral devices show` and the API (snake_case keys).
public struct ReachabilityReport: Encodable, Sendable {
    public struct Binding: Encodable, Sendable {
        var address: String
        var firstSeen: String?
        var lastRequest: String?
        var requests: Int64
        var bindingChanges: Int64
        var rfc5389: Bool
        enum CodingKeys: String, CodingKey {
            case address, firstSeen = "first_seen", lastRequest = "last_request", requests, bindingChanges = "binding_changes", rfc5389
        }
    }
    public struct Wake: Encodable, Sendable {
        public struct Step: Encodable, Sendable { var method: String; var outcome: String; var millis: Int }
        var at: String?
        var wokeBy: String?
        var millis: Int
        var tried: [Step]
        enum CodingKeys: String, CodingKey { case at, wokeBy = "woke_by", millis, tried }
    }
    public var supportedMethods: [String]
    public var wakeOrder: [String]
    public var udpConnectionRequestAddress: String
    public var stunEnabled: Bool
    public var natDetected: Bool
    /// The device's ConnReqJabberID (Annex K), empty when it reported none.
    public var xmppJID: String
    /// What Corral's STUN server saw of the reported mapping (nil: not seen by this process, or STUN off).
    public var stunBinding: Binding?
    public var lastWake: Wake?

    enum CodingKeys: String, CodingKey {
        case supportedMethods = "supported_methods", wakeOrder = "wake_order", udpConnectionRequestAddress = "udp_connection_request_address"
        case stunEnabled = "stun_enabled", natDetected = "nat_detected", stunBinding = "stun_binding", lastWake = "last_wake"
        case xmppJID = "xmpp_jid"
    }

    static func iso(_ t: Int64) -> String? { t > 0 ? CWMPDateTime.format(unixSeconds: t) : nil }

    /// Lines for a terminal.
    public var lines: [String] {
        var out = ["connection requests: \(supportedMethods.isEmpty ? "none reported" : supportedMethods.joined(separator: ", ")) (tried in order: \(wakeOrder.joined(separator: ", ")))",
                   "NAT detected: \(natDetected ? "yes" : "no"), STUN \(stunEnabled ? "on" : "off")"
                   + (udpConnectionRequestAddress.isEmpty ? "" : ", UDP address \(udpConnectionRequestAddress)")
                   + (xmppJID.isEmpty ? "" : ", XMPP JID \(xmppJID)")]
        if let b = stunBinding {
            out.append("STUN binding \(b.address): \(b.requests) requests since \(b.firstSeen ?? "-"), last \(b.lastRequest ?? "-"), \(b.bindingChanges) binding changes")
        }
        if let w = lastWake {
            let steps = w.tried.map { "\($0.method) \($0.outcome) (\($0.millis) ms)" }.joined(separator: "; ")
            out.append("last wake-up \(w.at ?? "-"): " + (w.wokeBy.map { "woken by \($0) in \(w.millis) ms" } ?? "not woken") + " — " + steps)
        }
        return out
    }
}

extension Waker {
    public func report(for device: Device) -> ReachabilityReport {
        let f = facts(for: device)
        let order = profiles.profile(named: device.profile)?.wakeOrder ?? WakeMethod.defaultOrder
        let binding = f.udpAddress.isEmpty ? nil : bindings?.binding(address: f.udpAddress).map {
            ReachabilityReport.Binding(address: $0.address, firstSeen: ReachabilityReport.iso($0.firstSeen),
                                       lastRequest: ReachabilityReport.iso($0.lastRequest), requests: $0.requests,
                                       bindingChanges: $0.changes, rfc5389: $0.rfc5389)
        }
        let wake = log.last(deviceID: device.id).map { a in
            ReachabilityReport.Wake(at: ReachabilityReport.iso(a.at), wokeBy: a.woke?.rawValue, millis: a.millis,
                                    tried: a.tried.map { .init(method: $0.method.rawValue, outcome: $0.outcome, millis: $0.millis) })
        }
        return ReachabilityReport(supportedMethods: f.supportedMethods, wakeOrder: order.map(\.rawValue),
                                  udpConnectionRequestAddress: f.udpAddress, stunEnabled: f.stunEnabled,
                                  natDetected: f.natDetected(sessionAddress: device.ipAddress), xmppJID: f.jabberID,
                                  stunBinding: binding, lastWake: wake)
    }

    var bindings: STUNBindingTable? {
        if case .server(let s)? = udp { return s.bindings }
        return nil
    }
}
