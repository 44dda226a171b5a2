import CWMP
import DataModel

/// Minimal device profile: which devices, onboarding credentials, desired periodic interval.
/// (Lua profiles in profiles/*.lua will replace this registry.)
public struct DeviceProfile: Sendable, Equatable {
    public var name: String
    /// Devices whose Inform uses this data model; nil = any.
    public var dataModel: DataModelKind?
    public var onboardingUsername: String
    public var onboardingPassword: String
    public var informInterval: Int

    public init(name: String, dataModel: DataModelKind?, onboardingUsername: String, onboardingPassword: String, informInterval: Int) {
        self.name = name; self.dataModel = dataModel; self.onboardingUsername = onboardingUsername
        self.onboardingPassword = onboardingPassword; self.informInterval = informInterval
    }

    public func matches(_ kind: DataModelKind?) -> Bool { dataModel == nil || dataModel == kind }

    /// Built-in generic profiles. Their default onboarding credentials are public (documented in the README); an
    /// operator overrides them in corral.json or the environment.
    public static let genericTR181 = DeviceProfile(name: "generic-tr181", dataModel: .tr181,
        onboardingUsername: "corral-tr181", onboardingPassword: "onboard-tr181", informInterval: 300)
    public static let genericTR098 = DeviceProfile(name: "generic-tr098", dataModel: .tr098,
        onboardingUsername: "corral-tr098", onboardingPassword: "onboard-tr098", informInterval: 300)
}

public struct ProfileRegistry: Sendable {
    public private(set) var profiles: [DeviceProfile]
    public init(_ profiles: [DeviceProfile] = [.genericTR181, .genericTR098]) { self.profiles = profiles }

    public func profile(named name: String) -> DeviceProfile? { profiles.first { $0.name == name } }
    public func profile(onboardingUsername user: String) -> DeviceProfile? { profiles.first { $0.onboardingUsername == user } }
    /// Profile for a device seen for the first time without onboarding credentials in play (e.g. pre-provisioned).
    public func profile(for kind: DataModelKind?) -> DeviceProfile? { profiles.first { $0.matches(kind) } }
}
