import CWMP
import DataModel
import Foundation

/// One check of the launch checklist (issue 16): what was checked, whether it passed, and what showed it.
public struct LaunchCheck: Sendable, Equatable, Codable {
    public var name: String
    public var passed: Bool
    /// What Corral saw: values, latencies, faults; or why the check could not run.
    public var evidence: String
    public var durationMs: Int

    public init(name: String, passed: Bool, evidence: String, durationMs: Int = 0) {
        self.name = name; self.passed = passed; self.evidence = evidence; self.durationMs = durationMs
    }

    public static func pass(_ name: String, _ evidence: String, ms: Int = 0) -> LaunchCheck {
        LaunchCheck(name: name, passed: true, evidence: evidence, durationMs: ms)
    }

    public static func fail(_ name: String, _ evidence: String, ms: Int = 0) -> LaunchCheck {
        LaunchCheck(name: name, passed: false, evidence: evidence, durationMs: ms)
    }

    enum CodingKeys: String, CodingKey { case name, passed, evidence, durationMs = "duration_ms" }
}

/// One run of the launch checklist against a device: the launch sign-off record.
public struct LaunchValidation: Sendable, Equatable {
    public var id: Int64 = 0
    public var deviceID: Int64
    public var organisationID: Int64
    /// Unix seconds.
    public var startedAt: Int64
    public var finishedAt: Int64
    public var checks: [LaunchCheck]
    /// Who ran it ("alice", "alice (token ci)", "cli (bob)").
    public var createdBy: String

    public init(id: Int64 = 0, deviceID: Int64, organisationID: Int64, startedAt: Int64, finishedAt: Int64, checks: [LaunchCheck], createdBy: String) {
        self.id = id; self.deviceID = deviceID; self.organisationID = organisationID; self.startedAt = startedAt
        self.finishedAt = finishedAt; self.checks = checks; self.createdBy = createdBy
    }

    /// Signed off: every check ran and passed.
    public var passed: Bool { !checks.isEmpty && checks.allSatisfy(\.passed) }
    public var passedCount: Int { checks.filter(\.passed).count }
    public var failedCount: Int { checks.count - passedCount }
    public var includesFactoryReset: Bool { checks.contains { $0.name == LaunchChecklist.factoryReset } }

    /// One line per check, for a terminal or a report.
    public var lines: [String] { checks.map(LaunchChecklist.line) }

    /// "PASS: all 6 checks passed" / "FAIL: 2 of 7 checks failed (reachable, reads)".
    public var summary: String {
        if passed { return "PASS: all \(checks.count) checks passed" }
        let failed = checks.filter { !$0.passed }.map(\.name)
        return "FAIL: \(failed.count) of \(checks.count) checks failed (\(failed.joined(separator: ", ")))"
    }

    /// The checks as stored (a JSON array).
    public static func encode(_ checks: [LaunchCheck]) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? e.encode(checks)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    public static func decode(_ text: String) -> [LaunchCheck] {
        (try? JSONDecoder().decode([LaunchCheck].self, from: Data(text.utf8))) ?? []
    }
}

/// The configuration change of the checklist when the operator picks one (`--set path=value`); `type` nil: the
/// type the CPE reports for the parameter.
public struct LaunchSetting: Sendable, Equatable {
    public var path: String
    public var value: String
    public var type: XSDType?
    public init(path: String, value: String, type: XSDType? = nil) { self.path = path; self.value = value; self.type = type }
}

/// How one connection-request method did in the reachability check.
public struct WakeProbe: Sendable, Equatable {
    public var method: WakeMethod
    /// "woke", or why not.
    public var outcome: String
    /// How long the method took (HTTP: the request's answer; UDP and XMPP: until the session opened).
    public var millis: Int
    /// From the request to the session's Inform (6 CONNECTION REQUEST) stored; nil: no session.
    public var sessionMillis: Int?
    public init(method: WakeMethod, outcome: String, millis: Int, sessionMillis: Int? = nil) {
        self.method = method; self.outcome = outcome; self.millis = millis; self.sessionMillis = sessionMillis
    }
    public var reached: Bool { outcome == "woke" && sessionMillis != nil }
}

/// The launch checklist: its checks, the pure pass/fail rules, and how a report reads. The driver that talks to the
/// device is `ValidationRunner` (Engine).
public enum LaunchChecklist {
    public static let onboarded = "onboarded"
    public static let inventory = "inventory"
    public static let reachable = "reachable"
    public static let reads = "reads"
    public static let change = "change"
    public static let reboot = "reboot"
    public static let factoryReset = "factory-reset"

    /// The checks in the order they run.
    public static func names(includeFactoryReset: Bool) -> [String] {
        [onboarded, inventory, reachable, reads, change, reboot] + (includeFactoryReset ? [factoryReset] : [])
    }

    /// The checks that need the device (reported as failed at once when it cannot be woken).
    public static func deviceChecks(includeFactoryReset: Bool) -> [String] {
        [reads, change, reboot] + (includeFactoryReset ? [factoryReset] : [])
    }

    public static let notReachable = "skipped: device not reachable"

    static let nameWidth = factoryReset.count

    /// "PASS  onboarded      unique credentials confirmed (username …)".
    public static func line(_ c: LaunchCheck) -> String {
        let name = c.name.count >= nameWidth ? c.name : c.name + String(repeating: " ", count: nameWidth - c.name.count)
        return "\(c.passed ? "PASS" : "FAIL")  \(name)  \(c.evidence)"
    }

    // MARK: rules

    /// Onboarded with credentials of its own, confirmed by the CPE. `owner`: the device the store finds by this
    /// device's username (another one means the username is not unique).
    public static func onboarded(_ d: Device, owner: Device?, onboardingUsername: String?) -> LaunchCheck {
        if d.username.isEmpty || d.passwordHA1.isEmpty {
            return .fail(onboarded, "no credentials of its own: the device has not been onboarded")
        }
        if !d.credentialsConfirmed {
            return .fail(onboarded, "credentials generated (username \(d.username)) but not confirmed: the CPE has not taken them yet")
        }
        if let u = onboardingUsername, !u.isEmpty, u == d.username {
            return .fail(onboarded, "username \(d.username) is the profile's shared onboarding username, not a unique one")
        }
        if let o = owner, o.id != d.id {
            return .fail(onboarded, "username \(d.username) also belongs to \(o.name) (ID \(o.id))")
        }
        if d.credentialConflict {
            return .fail(onboarded, "credential conflict: someone used the credentials it had before its last re-bootstrap")
        }
        if d.connectionRequestUsername.isEmpty || d.connectionRequestPassword.isEmpty {
            return .fail(onboarded, "no connection-request credentials of its own")
        }
        let at = d.onboardedAt > 0 ? ", onboarded \(CWMPDateTime.format(unixSeconds: d.onboardedAt))" : ""
        return .pass(onboarded, "unique credentials confirmed (username \(d.username)\(at))")
    }

    /// The inventory fields an operator finds the device by: Name = OUI-Serial, ID, Status, Profile, Serial,
    /// Description "Onboarded …".
    public static func inventory(_ d: Device, profileKnown: Bool, now: Int64) -> LaunchCheck {
        var problems: [String] = []
        let expected = Device.name(oui: d.oui, serial: d.serialNumber)
        if d.oui.isEmpty || d.serialNumber.isEmpty { problems.append("OUI or serial missing (OUI \"\(d.oui)\", serial \"\(d.serialNumber)\")") }
        if d.name != expected { problems.append("name \(d.name) is not OUI-Serial (\(expected))") }
        if d.id <= 0 { problems.append("no ID") }
        let status = d.status(now: now)
        if status == .never { problems.append("status never (no Inform stored)") }
        if d.profile.isEmpty { problems.append("no profile") } else if !profileKnown { problems.append("profile \(d.profile) is not loaded") }
        if !d.description.hasPrefix("Onboarded") { problems.append("description \"\(d.description.prefix(60))\" does not start with \"Onboarded\"") }
        if !problems.isEmpty { return .fail(inventory, problems.joined(separator: "; ")) }
        return .pass(inventory, "name \(d.name), ID \(d.id), status \(status.rawValue), profile \(d.profile), serial \(d.serialNumber), description \"\(d.description.prefix(60))\"")
    }

    /// Every method the device has must bring a session; `noMethod`: why there is none (nothing reported yet).
    public static func reachability(_ probes: [WakeProbe], noMethod: String? = nil) -> LaunchCheck {
        guard !probes.isEmpty else {
            return .fail(reachable, "no connection-request method" + (noMethod.map { ": " + $0 } ?? ""))
        }
        let parts = probes.map { p -> String in
            if p.reached {
                let extra = p.method == .http && p.millis != p.sessionMillis ? " (request answered in \(p.millis) ms)" : ""
                return "\(p.method.rawValue): session after \(p.sessionMillis ?? p.millis) ms\(extra)"
            }
            return "\(p.method.rawValue): \(p.outcome) (\(p.millis) ms)"
        }
        let evidence = parts.joined(separator: "; ")
        return probes.allSatisfy(\.reached) ? .pass(reachable, evidence) : .fail(reachable, evidence)
    }

    /// The identity parameters every read includes (below DeviceInfo.).
    public static let identityFields = ["Manufacturer", "ManufacturerOUI", "ProductClass", "SerialNumber", "HardwareVersion", "SoftwareVersion"]

    public static func identityPaths(root: String) -> [String] { identityFields.map { root + "DeviceInfo." + $0 } }

    /// The aliases a read covers, as (alias, path), sorted by alias; `skipped`: virtual parameters (computed by Corral,
    /// not on the CPE) and paths of another data model.
    public static func aliasPaths(_ profile: DeviceProfile?, kind: DataModelKind?) -> (read: [(alias: String, path: String)], skipped: [String]) {
        guard let profile else { return ([], []) }
        let root = (kind ?? profile.dataModel)?.root
        var read: [(alias: String, path: String)] = []
        var skipped: [String] = []
        for name in profile.aliases.keys.sorted() {
            guard let p = profile.path(for: name, kind: kind) else { skipped.append(name); continue }
            if p.hasPrefix(DeviceProfile.virtualRoot) || (root.map { !p.hasPrefix($0) } ?? false) { skipped.append(name); continue }
            read.append((name, p))
        }
        return (read, skipped)
    }

    /// Why the identity the CPE reports is not the device's, or nil.
    public static func identityProblem(_ values: [String: String], device d: Device, root: String) -> String? {
        var out: [String] = []
        if let serial = values[root + "DeviceInfo.SerialNumber"], serial != d.serialNumber {
            out.append("the CPE reports serial \(serial), Corral has \(d.serialNumber)")
        }
        if let oui = values[root + "DeviceInfo.ManufacturerOUI"], oui.uppercased() != d.oui.uppercased() {
            out.append("the CPE reports OUI \(oui), Corral has \(d.oui)")
        }
        return out.isEmpty ? nil : out.joined(separator: "; ")
    }

    /// "Corral Simulated, OUI 00C0FF, class X, serial S, hardware 1.0, software 1.0.0".
    public static func identityText(_ values: [String: String], root: String) -> String {
        func v(_ f: String) -> String { values[root + "DeviceInfo." + f] ?? "?" }
        return "\(v("Manufacturer")), OUI \(v("ManufacturerOUI")), class \(v("ProductClass")), serial \(v("SerialNumber")), "
            + "hardware \(v("HardwareVersion")), software \(v("SoftwareVersion"))"
    }

    /// The parameter the configuration change uses by default: the profile's `wifi.ssid`, else the first SSID of the
    /// data model.
    public static func defaultChangePath(profile: DeviceProfile?, kind: DataModelKind?) -> String {
        if let p = profile?.path(for: "wifi.ssid", kind: kind), profile?.aliases["wifi.ssid"] != nil, !p.hasPrefix(DeviceProfile.virtualRoot) { return p }
        return (kind ?? .tr181) == .tr098 ? "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID" : "Device.WiFi.SSID.1.SSID"
    }

    /// A value the device surely does not have yet ("corral-validate-k3x9qa": 22 characters, fine for an SSID).
    public static func changeValue() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
        var rng = SystemRandomNumberGenerator()
        return "corral-validate-" + String((0..<6).map { _ in alphabet[Int(rng.next(upperBound: UInt32(alphabet.count)))] })
    }

    /// Whether a value read back is the one set (booleans and numbers compared by meaning: "1" is "true").
    public static func same(_ a: String, _ b: String, type: XSDType) -> Bool {
        if a == b { return true }
        switch type {
        case .boolean:
            func bool(_ s: String) -> Bool? { ["1", "true"].contains(s.lowercased()) ? true : ["0", "false"].contains(s.lowercased()) ? false : nil }
            return bool(a) != nil && bool(a) == bool(b)
        case .int, .unsignedInt, .long, .unsignedLong:
            return Int64(a.trimmingCharacters(in: .whitespaces)).map { $0 == Int64(b.trimmingCharacters(in: .whitespaces)) } ?? false
        default:
            return false
        }
    }

    /// A CWMP fault as evidence: "9003 Invalid arguments (Device.X: 9008 Attempt to set a non-writable parameter)".
    public static func faultText(_ f: CWMPFault) -> String {
        let params = f.setParameterValuesFaults.map { "\($0.parameterName): \($0.code)\($0.string.isEmpty ? "" : " " + $0.string)" }
        return "fault \(f.code)\(f.string.isEmpty ? "" : " " + f.string)" + (params.isEmpty ? "" : " (" + params.joined(separator: "; ") + ")")
    }

    /// "\"abc\"", shortened, secrets masked.
    public static func quoted(_ path: String, _ value: String) -> String {
        let shown = ManagementPaths.shown(path, value)
        return "\"" + (shown.count > 80 ? String(shown.prefix(77)) + "..." : shown) + "\""
    }

    /// "4.2 s" / "850 ms".
    public static func seconds(_ ms: Int) -> String {
        ms < 1000 ? "\(ms) ms" : String(format: "%.1f s", Double(ms) / 1000)
    }
}
