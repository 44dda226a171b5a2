import CWMP
import DataModel

/// Which devices a profile is for. Every field set must match; a list matches if any element does; `*` is a wildcard.
public struct ProfileMatch: Sendable, Equatable {
    public var manufacturer: [String] = []
    public var oui: [String] = []
    public var productClass: [String] = []
    public var model: [String] = []
    public var dataModel: DataModelKind?

    public init(manufacturer: [String] = [], oui: [String] = [], productClass: [String] = [], model: [String] = [], dataModel: DataModelKind? = nil) {
        self.manufacturer = manufacturer; self.oui = oui; self.productClass = productClass; self.model = model; self.dataModel = dataModel
    }

    /// `model` is nil when not known yet (ModelName is not an Inform parameter on every CPE): a model rule then fails.
    public func matches(_ id: DeviceID, model: String?, kind: DataModelKind?) -> Bool {
        if let dataModel, dataModel != kind { return false }
        func any(_ patterns: [String], _ value: String?) -> Bool {
            patterns.isEmpty || (value.map { v in patterns.contains { Glob.matches($0, v) } } ?? false)
        }
        return any(manufacturer, id.manufacturer) && any(oui, id.oui) && any(productClass, id.productClass) && any(self.model, model)
    }

    /// More rules = more specific; the most specific matching profile wins.
    public var specificity: Int {
        [manufacturer, oui, productClass, model].filter { !$0.isEmpty }.count * 2 + (dataModel == nil ? 0 : 1)
    }
}

/// A value the profile keeps on every device, checked each session.
public struct DesiredValue: Sendable, Equatable {
    /// Alias, absolute path, or path relative to the data-model root ("ManagementServer.STUNEnable").
    public var name: String
    public var value: String
    /// nil: the stored type, else string.
    public var type: XSDType?
    public init(name: String, value: String, type: XSDType?) { self.name = name; self.value = value; self.type = type }
}

/// A device profile (from profiles/*.lua): match rules, onboarding credentials, aliases, desired values, KPIs, hooks.
public struct DeviceProfile: Sendable, Equatable {
    public var name: String
    public var description = ""
    /// File it came from ("builtin:generic-tr181.lua" for the built-ins).
    public var source = ""
    public var priority = 0
    public var match = ProfileMatch()
    public var onboardingUsername = ""
    public var onboardingPassword = ""
    public var informInterval = 300
    /// Friendly name -> path (absolute, or relative to the data-model root).
    public var aliases: [String: String] = [:]
    public var desired: [DesiredValue] = []
    /// Aliases (or paths) sampled on each Inform.
    public var kpis: [String] = []
    /// Desired values stored longer ago than this are read again before being trusted.
    public var verifyAfter = 86_400
    /// Events with a Lua hook ("inform", "boot", ...).
    public var hooks: [String] = []
    /// Virtual parameters (`virtual = { name = function(dev) ... end }`): computed by a script each session and
    /// stored as `VirtualParameters.<name>`, which the alias of the same name points to.
    public var virtuals: [String] = []
    /// Connection-request methods in the order tried (`wake = { "udp", "http" }`); nil = WakeMethod.defaultOrder.
    public var wakeOrder: [WakeMethod]?
    /// STUN is switched on by the profile (`stun = { enable = true }`): Corral asks for active notification on
    /// UDPConnectionRequestAddress at onboarding.
    public var stunEnabled = false
    /// Where this profile's devices reach Corral's TR-143 HTTP test server (`speedtest_base_url`); nil = the
    /// server's setting. The echo host is taken from it too.
    public var speedtestBaseURL: String?
    /// XMPP is switched on by the profile (`xmpp = { enable = true }`): Corral reads ConnReqJabberID at onboarding
    /// (it is active-notification by default, so later changes arrive as 4 VALUE CHANGE).
    public var xmppEnabled = false
    /// `auth = { basic_over_http = true }`: devices that can do nothing but Basic may use it over plain HTTP
    /// (otherwise Basic is accepted over TLS only). Warned about at start and on the profile page.
    public var basicOverHTTP = false
    /// `auth = { client_certificate = "required" }`: every session must come over TLS with a client certificate that
    /// chains to `client_ca` and names this device (its serial or OUI-serial, as subject CN or DNS SAN).
    public var requireClientCertificate = false
    /// Networks (CIDRs, or "any") HTTP connection requests may go to besides the address the device's sessions come
    /// from (`connection_request_networks = { "10.0.0.0/8" }`: a management network the ACS reaches directly).
    public var connectionRequestNetworks: [String] = []
    /// `rebootstrap = "allow" | "quarantine" | "certificate"`.
    public var rebootstrap: RebootstrapPolicy = .allow
    /// `quirks = { no_cookies = true, ... }`: CPE behaviours Corral cannot detect by itself.
    public var quirks = ProfileQuirks()
    /// How a CPE's RequestDownload is answered: recorded only (default), or `"latest_firmware"`: a Download of the
    /// newest stored image that fits the device, when it runs another version.
    public var requestDownload: RequestDownloadPolicy = .record
    /// `schedule_download = true`: the CPEs implement ScheduleDownload; rollouts with a window send one (the
    /// window's remaining time as its TimeWindow) so the CPE downloads when it suits it inside the window.
    public var scheduleDownload = false

    public init(name: String) { self.name = name }

    /// Where virtual parameters are stored (beside the data model's own root).
    public static let virtualRoot = "VirtualParameters."

    public var dataModel: DataModelKind? { match.dataModel }

    /// The parameter path of an alias or path for a device of `kind`; nil if it cannot be resolved.
    public func path(for name: String, kind: DataModelKind?) -> String? {
        let target = aliases[name] ?? name
        if target.hasPrefix("Device.") || target.hasPrefix("InternetGatewayDevice.") || target.hasPrefix(Self.virtualRoot) { return target }
        guard aliases[name] != nil || target.first?.isUppercase == true else { return nil }
        guard let kind = kind ?? dataModel else { return nil }
        return kind.root + target
    }
}

public enum RequestDownloadPolicy: String, Sendable, Equatable {
    case record
    case latestFirmware = "latest_firmware"
}

/// Behaviours of a model's CPEs that Corral cannot detect from what they send, declared by its profile
/// (`quirks = { no_cookies = true }`). Everything it can detect it handles without a switch (docs/profiles.md).
public struct ProfileQuirks: Sendable, Equatable {
    /// The CPE ignores the session cookie and may open a new TCP connection in the middle of a session: an
    /// authenticated message that is not an Inform continues the live session of the device it authenticated as
    /// (or, on onboarding credentials, the one live session of this profile from the same address).
    public var noCookies = false
    /// After a Reboot the CPE informs with neither `M Reboot` nor `1 BOOT`: a waiting reboot is confirmed by the
    /// first Inform of a later session, whatever its events.
    public var rebootWithoutCommandKey = false
    /// The CPE refuses typed values (9006 on anything but xsd:string): every SetParameterValues value is sent as
    /// xsd:string.
    public var stringValues = false

    public init(noCookies: Bool = false, rebootWithoutCommandKey: Bool = false, stringValues: Bool = false) {
        self.noCookies = noCookies; self.rebootWithoutCommandKey = rebootWithoutCommandKey; self.stringValues = stringValues
    }

    /// The names used in profile files, in documentation order.
    public static let names = ["no_cookies", "reboot_without_commandkey", "string_values"]

    public subscript(name name: String) -> Bool {
        get {
            switch name {
            case "no_cookies": noCookies
            case "reboot_without_commandkey": rebootWithoutCommandKey
            case "string_values": stringValues
            default: false
            }
        }
        set {
            switch name {
            case "no_cookies": noCookies = newValue
            case "reboot_without_commandkey": rebootWithoutCommandKey = newValue
            case "string_values": stringValues = newValue
            default: break
            }
        }
    }

    /// A request as this CPE must receive it.
    public func outgoing(_ request: ACSRequest) -> ACSRequest {
        guard stringValues, case .setParameterValues(let values, let key) = request, values.contains(where: { $0.type != .string }) else { return request }
        return .setParameterValues(parameters: values.map { ParameterValue(name: $0.name, value: $0.value, type: .string) }, parameterKey: key)
    }

    /// The switches that are on, by name.
    public var enabled: [String] { Self.names.filter { self[name: $0] } }
}

public struct ProfileRegistry: Sendable {
    public private(set) var profiles: [DeviceProfile] { didSet { flags() } }
    /// True when some profile lets its devices use Basic over plain HTTP (then plain-HTTP challenges offer Basic too).
    /// Kept with the list: every challenge and session start asks.
    public private(set) var anyBasicOverHTTP = false
    /// True when some profile requires mutual TLS.
    public private(set) var anyRequiresClientCertificate = false
    /// True when some profile declares `no_cookies` (only then does a cookie-less message look for a session).
    public private(set) var anyNoCookies = false

    public init(_ profiles: [DeviceProfile] = []) {
        self.profiles = profiles
        flags()
    }

    private mutating func flags() {
        anyBasicOverHTTP = profiles.contains { $0.basicOverHTTP }
        anyRequiresClientCertificate = profiles.contains { $0.requireClientCertificate }
        anyNoCookies = profiles.contains { $0.quirks.noCookies }
    }

    public func profile(named name: String) -> DeviceProfile? { profiles.first { $0.name == name } }

    public func profile(onboardingUsername user: String) -> DeviceProfile? {
        profiles.first { !$0.onboardingUsername.isEmpty && !$0.onboardingPassword.isEmpty && $0.onboardingUsername == user }
    }

    /// The most specific matching profile (then the highest priority). `sameCredentialsAs` restricts the choice
    /// to profiles sharing that profile's onboarding username: a device is bound to a profile whose credentials
    /// it knows.
    public func bestMatch(_ id: DeviceID, model: String?, kind: DataModelKind?, sameCredentialsAs: DeviceProfile? = nil) -> DeviceProfile? {
        profiles.filter { p in
            p.match.matches(id, model: model, kind: kind)
                && (sameCredentialsAs.map { $0.onboardingUsername == p.onboardingUsername } ?? true)
        }.max { a, b in
            (a.match.specificity, a.priority) < (b.match.specificity, b.priority)
        }
    }

    /// Profile for a device seen for the first time without onboarding credentials in play (e.g. pre-provisioned).
    public func profile(for kind: DataModelKind?) -> DeviceProfile? {
        profiles.filter { $0.match.dataModel == kind || $0.match.dataModel == nil }.min { $0.match.specificity < $1.match.specificity }
    }

    /// Every path an alias stands for across profiles, for queries over the whole population ("lte.rssi < -100").
    public func paths(forAlias name: String) -> [String] {
        var out: [String] = []
        for p in profiles {
            for kind in p.dataModel.map({ [$0] }) ?? [.tr181, .tr098] {
                if let path = p.path(for: name, kind: kind), !out.contains(path) { out.append(path) }
            }
        }
        return out
    }

    /// Replaces one profile (same name) or adds it.
    public mutating func upsert(_ p: DeviceProfile) {
        if let i = profiles.firstIndex(where: { $0.name == p.name }) { profiles[i] = p } else { profiles.append(p) }
    }
}

/// `*` matches any run of characters; everything else literally, case-insensitively.
public enum Glob {
    public static func matches(_ pattern: String, _ value: String) -> Bool {
        let p = Array(pattern.lowercased()), v = Array(value.lowercased())
        var pi = 0, vi = 0, star = -1, mark = 0
        while vi < v.count {
            if pi < p.count && p[pi] != "*" && p[pi] == v[vi] { pi += 1; vi += 1 }
            else if pi < p.count && p[pi] == "*" { star = pi; mark = vi; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; vi = mark }
            else { return false }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
