import DataModel

/// How the ACS can wake a device (TR-069 3.2.2, Annex G, Annex K).
public enum WakeMethod: String, Sendable, Codable, CaseIterable {
    case xmpp, udp, http
    /// Without a profile's order: XMPP (works through any NAT), then UDP via STUN, then HTTP.
    public static let defaultOrder: [WakeMethod] = [.xmpp, .udp, .http]
}

/// One method tried in a wake-up.
public struct WakeTry: Sendable, Codable, Equatable {
    public var method: WakeMethod
    /// "woke", or why it did not ("no session within 3 s", "unreachable: …").
    public var outcome: String
    public var millis: Int
    public init(method: WakeMethod, outcome: String, millis: Int) { self.method = method; self.outcome = outcome; self.millis = millis }
}

/// A recorded wake-up: what was tried, what woke the device, and how long it took from the first attempt.
public struct WakeAttempt: Sendable, Codable, Equatable {
    public var deviceID: Int64
    public var at: Int64
    public var tried: [WakeTry]
    public var woke: WakeMethod?
    public var millis: Int
    public init(deviceID: Int64, at: Int64, tried: [WakeTry], woke: WakeMethod?, millis: Int) {
        self.deviceID = deviceID; self.at = at; self.tried = tried; self.woke = woke; self.millis = millis
    }
    public var summary: String {
        let steps = tried.map { "\($0.method.rawValue): \($0.outcome) (\($0.millis) ms)" }.joined(separator: "; ")
        return (woke.map { "woken by \($0.rawValue) in \(millis) ms" } ?? "not woken") + (steps.isEmpty ? "" : " — " + steps)
    }
}

/// What Corral's STUN server saw of one NAT mapping (keyed by the mapped address, which is what the CPE reports as
/// UDPConnectionRequestAddress).
public struct STUNBindingRecord: Sendable, Codable, Equatable {
    public var address: String
    public var username: String
    public var firstSeen: Int64
    public var lastRequest: Int64
    public var requests: Int64
    /// Requests carrying BINDING-CHANGE.
    public var changes: Int64
    public var rfc5389: Bool
    public init(address: String, username: String = "", firstSeen: Int64, lastRequest: Int64, requests: Int64 = 1,
                changes: Int64 = 0, rfc5389: Bool = false) {
        self.address = address; self.username = username; self.firstSeen = firstSeen; self.lastRequest = lastRequest
        self.requests = requests; self.changes = changes; self.rfc5389 = rfc5389
    }
}

/// What a device reported about its reachability, read from its stored ManagementServer parameters.
public struct ReachabilityFacts: Sendable, Equatable {
    public var connectionRequestURL: String
    public var udpAddress: String
    public var stunEnabled: Bool
    public var jabberID: String
    /// `SupportedConnReqMethods` as reported (TR-181 2.7+), empty when the device does not have it.
    public var reportedMethods: [String]
    /// The device's `NATDetected`, when reported.
    public var natDetected: Bool?

    public init(connectionRequestURL: String = "", udpAddress: String = "", stunEnabled: Bool = false, jabberID: String = "",
                reportedMethods: [String] = [], natDetected: Bool? = nil) {
        self.connectionRequestURL = connectionRequestURL; self.udpAddress = udpAddress; self.stunEnabled = stunEnabled
        self.jabberID = jabberID; self.reportedMethods = reportedMethods; self.natDetected = natDetected
    }

    /// From stored values keyed by full path.
    public static func from(values: [String: String], root: String, connectionRequestURL: String) -> ReachabilityFacts {
        func v(_ n: String) -> String { values[root + "ManagementServer." + n] ?? "" }
        let truthy = { (s: String) in s == "1" || s.lowercased() == "true" }
        return ReachabilityFacts(connectionRequestURL: connectionRequestURL, udpAddress: v("UDPConnectionRequestAddress"),
                                 stunEnabled: truthy(v("STUNEnable")), jabberID: v("ConnReqJabberID"),
                                 reportedMethods: v("SupportedConnReqMethods").split(separator: ",").map { $0.trimmed },
                                 natDetected: v("NATDetected").isEmpty ? nil : truthy(v("NATDetected")))
    }

    /// Methods the device can be woken by now, in `order`: XMPP needs a JID (and an XMPP client in Corral), UDP a
    /// reported UDP address (and Corral's STUN socket), HTTP a ConnectionRequestURL.
    public func methods(order: [WakeMethod], available: Set<WakeMethod>) -> [WakeMethod] {
        order.filter { m in
            guard available.contains(m) else { return false }
            switch m {
            case .xmpp: return !jabberID.isEmpty
            case .udp: return !udpAddress.isEmpty
            case .http: return !connectionRequestURL.isEmpty
            }
        }
    }

    /// Methods the device supports, as reported, else as its parameters show.
    public var supportedMethods: [String] {
        if !reportedMethods.isEmpty { return reportedMethods }
        var out: [String] = []
        if !connectionRequestURL.isEmpty { out.append("HTTP") }
        if !udpAddress.isEmpty || stunEnabled { out.append("STUN") }
        if !jabberID.isEmpty { out.append("XMPP") }
        return out
    }

    /// NAT between the device and Corral: as the device reports it, else when the host of its connection-request URL
    /// is not the address its sessions come from.
    public func natDetected(sessionAddress: String) -> Bool {
        if let natDetected { return natDetected }
        guard !sessionAddress.isEmpty, let host = Self.host(of: connectionRequestURL) else { return false }
        return host != sessionAddress
    }

    static func host(of url: String) -> String? {
        guard let r = url.range(of: "://") else { return nil }
        var rest = url[r.upperBound...]
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") { return String(rest[rest.index(after: rest.startIndex)..<close]) }
        if let colon = rest.lastIndex(of: ":") { rest = rest[..<colon] }
        return rest.isEmpty ? nil : String(rest)
    }
}

extension Substring {
    var trimmed: String { String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
}
