/// A refused or failed first contact (issue 16): what a NOC engineer needs to see why a device does not onboard.
/// Repeats of the same (reason, OUI, serial, address, username) are one row with a count.
public struct OnboardingAttempt: Sendable, Equatable {
    public enum Reason: String, Sendable, CaseIterable {
        case unknownUsername = "unknown_username"
        case wrongPassword = "wrong_password"
        case basicRefused = "basic_refused"
        case otherDevice = "credentials_of_another_device"
        case ownCredentialsRequired = "own_credentials_required"
        case badOUI = "bad_oui"
        case malformedInform = "malformed_inform"
        case clientCertificate = "client_certificate"
        case quarantined = "rebootstrap_quarantined"
        case credentialConflict = "credential_conflict"
        case tlsFailure = "tls_failure"

        /// What usually causes it and what to do, in the words of the first questions a NOC asks (URL, credentials,
        /// connectivity).
        public var hint: String {
            switch self {
            case .unknownUsername:
                return "The username is neither a device's nor a profile's onboarding username: check the ACS username and password on the CPE (firmware defaults, DHCP or TR-069 settings) against the profile's onboarding credentials."
            case .wrongPassword:
                return "The username is known but the password does not match: the CPE carries other onboarding credentials than the profile (was the profile's secret changed?), or a device's own password was lost."
            case .basicRefused:
                return "The CPE sends Basic authentication over plain HTTP: serve HTTPS (tls_cert) or allow it for its profile (auth.basic_over_http)."
            case .otherDevice:
                return "The credentials belong to another device: a configuration copied from one CPE to another, or a replaced board with the old one's settings."
            case .ownCredentialsRequired:
                return "The device is onboarded but came back with the onboarding credentials and no BOOTSTRAP: it lost its own credentials without a factory reset. Reset its credentials (corral devices reset-credentials, or the device page) to let it onboard once more."
            case .badOUI:
                return "The DeviceId OUI is not 6 hexadecimal digits: a firmware bug or a misconfigured CPE; it cannot be named OUI-Serial."
            case .malformedInform:
                return "The first message was not a readable Inform: check the ACS URL path (/cwmp) and any proxy between the CPE and Corral, then the CPE firmware."
            case .clientCertificate:
                return "The profile requires a client certificate naming the device and the CPE presented none or another: check its certificate and the CA Corral trusts (client_ca)."
            case .quarantined:
                return "The device re-bootstrapped and its profile holds re-bootstraps for approval: approve it on the device page if the reset was expected."
            case .credentialConflict:
                return "Two parties use this device's credentials (the old ones after a re-bootstrap): a clone or a stolen configuration. Resolve the conflict on the device page."
            case .tlsFailure:
                return "The TLS handshake failed: check that the CPE trusts Corral's certificate (its CA), that its clock is right, and that it speaks TLS to the HTTPS port."
            }
        }
    }

    public var id: Int64 = 0
    public var firstAt: Int64
    public var lastAt: Int64
    public var count: Int
    public var address: String
    public var oui: String
    public var serial: String
    public var productClass: String
    public var username: String
    public var reason: Reason
    /// The server's own words (the refusal it logged).
    public var detail: String
    /// The device the attempt names, when Corral knows it.
    public var deviceID: Int64?

    public init(at: Int64, address: String, oui: String = "", serial: String = "", productClass: String = "", username: String = "",
                reason: Reason, detail: String = "", deviceID: Int64? = nil, count: Int = 1) {
        firstAt = at; lastAt = at; self.count = count; self.address = address; self.oui = oui; self.serial = serial
        self.productClass = productClass; self.username = username; self.reason = reason; self.detail = detail; self.deviceID = deviceID
    }

    /// Repeats of one attempt collapse into one row.
    public var key: String { "\(reason.rawValue)|\(oui)|\(serial)|\(address)|\(username)" }

    /// When nothing is listed for a device, it never reached Corral.
    public static let noAttemptHint = "A device that is not listed here never reached Corral with credentials: check the ACS URL on the CPE (host, port, https or http, path /cwmp), DNS, routing and firewalls, and for ONTs the WAN VLAN."

    /// Stored rows are kept at most this many (the oldest go first) and this long.
    public static let maxRows = 10_000
    public static let keepSeconds: Int64 = 14 * 86400
}

/// Collects attempts between flushes: repeats merge into one entry with a count, at most `capacity` distinct entries
/// wait at once and at most `detailsPerSecond` Informs are read for their DeviceId (the rest are counted as
/// `dropped`), so a flood from unknown devices costs bounded CPU, memory and rows. Pure: the caller gives the time.
public struct OnboardingAttemptBuffer: Sendable {
    public let capacity: Int
    public let detailsPerSecond: Int
    private var entries: [String: OnboardingAttempt] = [:]
    private var order: [String] = []
    private var second: Int64 = 0
    private var details = 0
    public private(set) var dropped = 0

    public init(capacity: Int = 500, detailsPerSecond: Int = 50) {
        self.capacity = capacity; self.detailsPerSecond = detailsPerSecond
    }

    /// Whether an Inform may be parsed now for the details of a failed attempt.
    public mutating func mayRead(now: Int64) -> Bool {
        if now != second { second = now; details = 0 }
        guard details < detailsPerSecond else { return false }
        details += 1
        return true
    }

    /// Adds one attempt; false when it was dropped (the buffer is full of other attempts).
    @discardableResult
    public mutating func add(_ a: OnboardingAttempt) -> Bool {
        let k = a.key
        if var e = entries[k] {
            e.count += a.count; e.lastAt = max(e.lastAt, a.lastAt); e.detail = a.detail
            if e.deviceID == nil { e.deviceID = a.deviceID }
            entries[k] = e
            return true
        }
        guard entries.count < capacity else { dropped += a.count; return false }
        entries[k] = a
        order.append(k)
        return true
    }

    public mutating func noteDropped(_ n: Int = 1) { dropped += n }

    /// The entries in arrival order and the dropped count; empties the buffer.
    public mutating func drain() -> (attempts: [OnboardingAttempt], dropped: Int) {
        let out = order.compactMap { entries[$0] }
        let d = dropped
        entries = [:]; order = []; dropped = 0
        return (out, d)
    }
}
