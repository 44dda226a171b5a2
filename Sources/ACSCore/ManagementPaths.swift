import DataModel

/// Parameter paths the ACS itself writes or reads, per data model.
public struct ManagementPaths: Sendable {
    public let root: String
    public init(_ kind: DataModelKind) { root = kind.root }

    public var username: String { root + "ManagementServer.Username" }
    public var password: String { root + "ManagementServer.Password" }
    public var connectionRequestUsername: String { root + "ManagementServer.ConnectionRequestUsername" }
    public var connectionRequestPassword: String { root + "ManagementServer.ConnectionRequestPassword" }
    public var connectionRequestURL: String { root + "ManagementServer.ConnectionRequestURL" }
    public var periodicInformEnable: String { root + "ManagementServer.PeriodicInformEnable" }
    public var periodicInformInterval: String { root + "ManagementServer.PeriodicInformInterval" }
    public var softwareVersion: String { root + "DeviceInfo.SoftwareVersion" }
    public var hardwareVersion: String { root + "DeviceInfo.HardwareVersion" }
    public var modelName: String { root + "DeviceInfo.ModelName" }
    public var udpConnectionRequestAddress: String { root + "ManagementServer.UDPConnectionRequestAddress" }
    public var connReqJabberID: String { root + "ManagementServer.ConnReqJabberID" }
    public var manufacturer: String { root + "DeviceInfo.Manufacturer" }
    public var upTime: String { root + "DeviceInfo.UpTime" }

    /// Identity read once at onboarding (not all of these are forced-inform parameters).
    public var deviceInfo: [String] { [manufacturer, modelName, softwareVersion, hardwareVersion, upTime] }

    /// Parameter names whose values never read back (hidden/secured); the ACS copy stays the truth.
    public static func isSecret(_ path: String) -> Bool {
        path.hasSuffix("Password") || path.hasSuffix("Passphrase") || path.hasSuffix("PreSharedKey")
            || path.hasSuffix("WEPKey") || path.hasSuffix("Secret")
    }

    /// A stored value's time is 0 after a factory reset until the CPE is read again.
    public static let staleNote = "stale: not read since the factory reset"

    /// The one masking rule for what people see (CLI, GUI, API): a secret's value, even one a CPE echoes back in a
    /// GetParameterValues, shows as asterisks; an empty one stays empty (nothing to hide, and "not set" is useful).
    public static func shown(_ path: String, _ value: String) -> String {
        isSecret(path) && !value.isEmpty ? "********" : value
    }
}
