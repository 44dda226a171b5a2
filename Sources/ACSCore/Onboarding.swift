import CWMP
import DataModel

/// Who a CPE authenticated as.
public enum Principal: Sendable, Equatable {
    /// The device's own credentials.
    case device(Int64)
    /// The device's previous credentials: new ones were generated but the CPE never took them.
    case devicePreviousCredentials(Int64)
    /// A profile's shared onboarding credentials.
    case onboarding(profile: String)
    /// The credentials the device had before its last re-bootstrap: a second party claims it.
    case supersededCredentials(Int64)
}

public enum Admission: Sendable, Equatable {
    /// Known device, its own credentials: a normal session.
    case known(Device)
    /// First contact, an unfinished onboarding or a BOOTSTRAP: (re-)onboard; `existing` keeps ID, groups, location.
    case onboard(existing: Device?)
    /// Refused, with why and the kind of refusal the Onboarding page shows.
    case refuse(String, OnboardingAttempt.Reason)
    /// Someone used the device's pre-re-bootstrap credentials: flag the conflict and refuse.
    case conflict(Device)
    /// A re-bootstrap waits for an operator's approval (quarantine): mark it and refuse for now.
    case hold(Device, String)
}

public struct GeneratedCredentials: Sendable, Equatable {
    public var username: String
    public var password: String
    public var connectionRequestUsername: String
    public var connectionRequestPassword: String
}

public enum Onboarding {
    public static let realm = "Corral"

    /// Decides whether an authenticated Inform is let in, and whether it (re-)onboards.
    /// `policy` and `certificateNames` decide a re-bootstrap: a known, confirmed device coming back with `0 BOOTSTRAP`
    /// and the profile's onboarding credentials.
    public static func admit(_ principal: Principal, inform: Inform, existing: Device?, policy: RebootstrapPolicy = .allow,
                             certificateNames: [String]? = nil, awaitingReset: Bool = false) -> Admission {
        let bootstrap = inform.hasEvent(EventCode.bootstrap)
        func sameDevice(_ id: Int64) -> Device? {
            guard let existing, existing.id == id, existing.oui == inform.deviceId.oui,
                  existing.serialNumber == inform.deviceId.serialNumber else { return nil }
            return existing
        }
        switch principal {
        case .device(let id):
            guard let existing = sameDevice(id) else { return .refuse("credentials belong to another device", .otherDevice) }
            // Its own unique credentials prove it is the device: a BOOTSTRAP then needs no policy.
            return bootstrap ? .onboard(existing: existing) : .known(existing)
        case .devicePreviousCredentials(let id):
            guard let existing = sameDevice(id) else { return .refuse("credentials belong to another device", .otherDevice) }
            // The credential swap did not reach the CPE: run it again.
            return .onboard(existing: existing)
        case .supersededCredentials(let id):
            guard let existing = sameDevice(id) else { return .refuse("credentials belong to another device", .otherDevice) }
            return .conflict(existing)
        case .onboarding:
            guard let existing else { return .onboard(existing: nil) }
            if !existing.credentialsConfirmed { return .onboard(existing: existing) }
            // Some CPEs answer a factory reset with "1 BOOT" on their onboarding credentials instead of "0 BOOTSTRAP":
            // when Corral is waiting for that reset, it is the reset.
            guard bootstrap || (awaitingReset && inform.hasEvent(EventCode.boot)) else {
                return .refuse("device \(existing.name) is onboarded and must use its own credentials", .ownCredentialsRequired)
            }
            return rebootstrap(existing, policy: policy, deviceId: inform.deviceId, certificateNames: certificateNames)
        }
    }

    static func rebootstrap(_ existing: Device, policy: RebootstrapPolicy, deviceId: DeviceID, certificateNames: [String]?) -> Admission {
        switch policy {
        case .allow:
            return .onboard(existing: existing)
        case .quarantine:
            if existing.rebootstrapHold == .approved { return .onboard(existing: existing) }
            return .hold(existing, "re-bootstrap of \(existing.name) awaits an operator's approval (profile rebootstrap = \"quarantine\")")
        case .certificate:
            var required = DeviceProfile(name: "rebootstrap")
            required.requireClientCertificate = true
            if let why = certificateProblem(profile: required, deviceId: deviceId, certificateNames: certificateNames) {
                return .refuse("re-bootstrap of \(existing.name) needs a client certificate naming it: \(why)", .clientCertificate)
            }
            return .onboard(existing: existing)
        }
    }

    /// A task whose request carries a secret (a WiFi passphrase, a password): never sent in the first session after a
    /// re-bootstrap, nor to a device under a credential conflict.
    public static func carriesSecret(_ kind: TaskKind) -> Bool {
        if case .setParameterValues(let values) = kind { return values.contains { ManagementPaths.isSecret($0.name) } }
        return false
    }

    /// Mutual TLS: why a session must be refused, or nil. With `requireClientCertificate` the CPE must have presented a
    /// verified client certificate naming it: its serial or OUI-serial (case-insensitive), as CN or DNS SAN.
    public static func certificateProblem(profile: DeviceProfile, deviceId: DeviceID, certificateNames: [String]?) -> String? {
        guard profile.requireClientCertificate else { return nil }
        guard let names = certificateNames else { return "profile \(profile.name) requires a client certificate" }
        let wanted = [deviceId.serialNumber, Device.name(oui: deviceId.oui, serial: deviceId.serialNumber)].map { $0.lowercased() }
        guard names.contains(where: { wanted.contains($0.lowercased()) }) else {
            return "the client certificate names \(names.joined(separator: ", ")), not \(Device.name(oui: deviceId.oui, serial: deviceId.serialNumber))"
        }
        return nil
    }

    /// Fresh unique credentials. The username is the device name; passwords are 24 random characters.
    public static func generateCredentials(deviceName: String) -> GeneratedCredentials {
        GeneratedCredentials(username: deviceName, password: randomSecret(24),
                             connectionRequestUsername: "cr-" + randomSecret(10), connectionRequestPassword: randomSecret(24))
    }

    static func randomSecret(_ length: Int) -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var rng = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int(rng.next(upperBound: UInt32(alphabet.count)))] })
    }

    /// The RPCs of an onboarding: credentials and periodic interval in one atomic SPV, then identity.
    /// With `stun` (the profile switches STUN on), active notification on UDPConnectionRequestAddress, so the CPE
    /// reports every new NAT mapping at once (4 VALUE CHANGE), and a read of its current value.
    /// With `xmpp` (the profile or Corral's configuration uses XMPP), a read of ConnReqJabberID (TR-181 only), in a
    /// request of its own so that a CPE without it faults that read alone.
    public static func workItems(kind: DataModelKind, credentials c: GeneratedCredentials, informInterval: Int, stun: Bool = false,
                                 xmpp: Bool = false) -> [WorkItem] {
        let p = ManagementPaths(kind)
        let spv: [ParameterValue] = [
            ParameterValue(name: p.username, value: c.username),
            ParameterValue(name: p.password, value: c.password),
            ParameterValue(name: p.connectionRequestUsername, value: c.connectionRequestUsername),
            ParameterValue(name: p.connectionRequestPassword, value: c.connectionRequestPassword),
            ParameterValue(name: p.periodicInformEnable, value: "1", type: .boolean),
            ParameterValue(name: p.periodicInformInterval, value: String(informInterval), type: .unsignedInt),
        ]
        var items = [
            WorkItem(origin: .onboardingCredentials, request: .setParameterValues(parameters: spv, parameterKey: "corral-onboard")),
            WorkItem(origin: .deviceInfo, request: .getParameterValues(names: p.deviceInfo)),
        ]
        if stun {
            items.append(WorkItem(origin: .deviceInfo, request: .setParameterAttributes(parameters: [
                SetParameterAttribute(name: p.udpConnectionRequestAddress, notificationChange: true, notification: 2)])))
            items.append(WorkItem(origin: .deviceInfo, request: .getParameterValues(names: [p.udpConnectionRequestAddress])))
        }
        if xmpp, kind == .tr181 {
            items.append(WorkItem(origin: .deviceInfo, request: .getParameterValues(names: [p.connReqJabberID])))
        }
        return items
    }
}
