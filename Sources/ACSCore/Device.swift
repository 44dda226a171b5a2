import CWMP
import DataModel

/// A managed CPE as the ACS knows it.
public struct Device: Sendable, Equatable, Codable {
    /// Longest DeviceId Manufacturer/ProductClass accepted (TR-069 says 64; some CPEs send more).
    public static let maxIdentityBytes = 256
    /// Identity shown in lists and grouped by on the dashboard (software version, model…): a device cannot make
    /// every page heavy by reporting a huge value; the full value stays in its parameters.
    public static func displayField(_ value: String) -> String {
        value.utf8.count <= maxIdentityBytes ? value : String(value.prefix(maxIdentityBytes / 4))
    }

    public var id: Int64
    /// OUI-SerialNumber: the operator-facing name.
    public var name: String
    public var oui: String
    public var productClass: String
    public var serialNumber: String
    public var manufacturer: String
    public var modelName: String
    public var softwareVersion: String
    public var hardwareVersion: String
    public var profile: String
    public var dataModel: DataModelKind?
    public var groups: [String]
    public var location: String
    public var description: String
    public var connectionRequestURL: String
    public var connectionRequestUsername: String
    public var connectionRequestPassword: String
    /// Username the device authenticates with once onboarded; empty before.
    public var username: String
    /// MD5(username:realm:password): enough to verify Digest and Basic without keeping the password.
    public var passwordHA1: String
    /// True once the CPE confirmed (SetParameterValues succeeded) that it uses its own credentials.
    public var credentialsConfirmed: Bool
    /// The last confirmed HA1 while new credentials are not confirmed yet: a re-onboarding cut short must not
    /// lock the device out.
    public var previousPasswordHA1: String = ""
    public var ipAddress: String
    public var informInterval: Int
    /// Unix seconds; 0 = never.
    public var createdAt: Int64
    public var onboardedAt: Int64
    public var lastInform: Int64
    public var lastBoot: Int64
    /// Owning organisation (the root until an operator or a pre-provisioning row says otherwise).
    public var organisationID: Int64 = Organisation.rootID
    /// Free labels, distinct from groups (groups are for targeting, tags for people).
    public var tags: [String] = []
    /// The credentials the device had confirmed before its last re-bootstrap. Whoever uses them afterwards is a second
    /// party claiming the device (the real one, if the re-bootstrap was an impostor's): a credential conflict.
    public var supersededPasswordHA1: String = ""
    /// Two parties claim this device (see supersededPasswordHA1); secrets are withheld until an operator resolves it.
    public var credentialConflict = false
    /// Quarantine of re-bootstraps (profile `rebootstrap = "quarantine"`).
    public var rebootstrapHold: RebootstrapHold = .none
    /// The UTC offset of the device's clock, minutes, from the last Inform's CurrentTime ("…+01:00"); nil = never
    /// said. Device-local rollout windows use it.
    public var utcOffsetMinutes: Int?

    public init(id: Int64 = 0, name: String, oui: String, productClass: String, serialNumber: String, manufacturer: String = "",
                modelName: String = "", softwareVersion: String = "", hardwareVersion: String = "", profile: String = "",
                dataModel: DataModelKind? = nil, groups: [String] = [], location: String = "", description: String = "",
                connectionRequestURL: String = "", connectionRequestUsername: String = "", connectionRequestPassword: String = "",
                username: String = "", passwordHA1: String = "", credentialsConfirmed: Bool = false, ipAddress: String = "",
                informInterval: Int = 300, createdAt: Int64 = 0, onboardedAt: Int64 = 0, lastInform: Int64 = 0, lastBoot: Int64 = 0) {
        self.id = id; self.name = name; self.oui = oui; self.productClass = productClass; self.serialNumber = serialNumber
        self.manufacturer = manufacturer; self.modelName = modelName; self.softwareVersion = softwareVersion
        self.hardwareVersion = hardwareVersion; self.profile = profile; self.dataModel = dataModel; self.groups = groups
        self.location = location; self.description = description; self.connectionRequestURL = connectionRequestURL
        self.connectionRequestUsername = connectionRequestUsername; self.connectionRequestPassword = connectionRequestPassword
        self.username = username; self.passwordHA1 = passwordHA1; self.credentialsConfirmed = credentialsConfirmed
        self.ipAddress = ipAddress; self.informInterval = informInterval; self.createdAt = createdAt
        self.onboardedAt = onboardedAt; self.lastInform = lastInform; self.lastBoot = lastBoot
    }

    /// The operator-facing name of a CPE: OUI-SerialNumber.
    public static func name(oui: String, serial: String) -> String { "\(oui)-\(serial)" }

    public func status(now: Int64) -> DeviceStatus { DeviceStatus.of(lastInform: lastInform, informInterval: informInterval, now: now) }
}

public enum DeviceStatus: String, Sendable, Codable {
    case online, offline, never

    /// Online while the last Inform is younger than 1.5 periodic intervals plus 60 s of slack (a CPE retries and
    /// jitters; one missed Inform alone should not flip it). Limit chosen here, not from the spec.
    public static func of(lastInform: Int64, informInterval: Int, now: Int64) -> DeviceStatus {
        guard lastInform > 0 else { return .never }
        let grace = Int64(Double(max(informInterval, 1)) * 1.5) + 60
        return now - lastInform <= grace ? .online : .offline
    }
}

/// Where a device stands with re-bootstrap quarantine.
public enum RebootstrapHold: Int, Sendable, Codable {
    case none = 0
    /// A BOOTSTRAP with the onboarding credentials arrived; nothing is sent until an operator approves.
    case awaitingApproval = 1
    /// Approved: the next BOOTSTRAP re-onboards (once).
    case approved = 2
}

/// What a profile does when a known device comes back with `0 BOOTSTRAP` and the onboarding credentials (a factory
/// reset — or someone who knows the model's onboarding secret and the device's serial).
public enum RebootstrapPolicy: String, Sendable, Codable, CaseIterable {
    /// Re-onboard at once (secrets are still withheld for that first session, and the old credentials are watched).
    case allow
    /// Hold until an operator approves the re-bootstrap.
    case quarantine
    /// Only with a client certificate naming the device (mutual TLS).
    case certificate
}
