import ACSCore
import Foundation
import Storage

/// What an automation handler may do besides device tasks: labels, alerts, events and campaigns. Collected during
/// the run and written with its run record (so once per event); a campaign starts after that record is stored.
public final class AutomationActions {
    /// The device objects of the run (handles come from it).
    let access: StoreScriptAccess
    /// The handler running ("file#n"): the source of the alerts it raises.
    var source = ""
    var now: Int64 = 0
    /// How many custom events led to the event being handled (0 for the engine's own events).
    var depth = 0
    /// Names that belong to `alert{}` rules: only the rule raises and clears them.
    var ruleNames: Set<String> = []
    public private(set) var effects: [AutomationEffect] = []
    public private(set) var campaigns: [CampaignStart] = []
    private var emitted = 0

    public struct CampaignStart: Sendable, Equatable {
        public var file: String
        public var name: String
    }

    /// Limits of one handler run.
    static let maxEffects = 1000
    static let maxEvents = 10
    /// Custom events may trigger handlers that emit custom events, this many levels deep: a loop stops there.
    public static let maxDepth = 3

    init(access: StoreScriptAccess) { self.access = access }

    func reset(source: String, now: Int64, depth: Int) {
        self.source = source; self.now = now; self.depth = depth
        effects = []; campaigns = []; emitted = 0
    }

    private func add(_ e: AutomationEffect) -> String? {
        guard effects.count < Self.maxEffects else { return "more than \(Self.maxEffects) changes in one handler run" }
        effects.append(e)
        return nil
    }

    private func device(_ handle: Int) -> Device? { access.device(handle) }

    /// Tags and groups: short labels without commas (they are stored comma-joined).
    static func validLabel(_ s: String) -> Bool { !s.isEmpty && s.utf8.count <= 64 && !s.contains(",") && !s.contains("\n") }

    func label(handle: Int, _ kind: String, _ value: String, add: Bool) -> String? {
        guard let d = device(handle) else { return "device object expired" }
        switch kind {
        case "tag", "group":
            guard Self.validLabel(value) else { return "dev:\(add ? "" : "un")\(kind): 1 to 64 bytes without commas" }
            return self.add(kind == "tag" ? .tag(deviceID: d.id, value, add: add) : .group(deviceID: d.id, value, add: add))
        default:
            guard value.utf8.count <= 256 else { return "dev:set_location: at most 256 bytes" }
            return self.add(.location(deviceID: d.id, value))
        }
    }

    func alert(handle: Int, name: String, severity: String?, message: String?) -> String? {
        guard let d = device(handle) else { return "device object expired" }
        guard AlertRecord.validName(name) else { return "dev:alert: the name is 1 to 64 letters, digits, '.', '-' or '_'" }
        guard !ruleNames.contains(name) else { return "dev:alert: '\(name)' belongs to an alert{} rule, which raises and clears it" }
        guard let s = AlertSeverity(rawValue: severity ?? "major") else {
            return "dev:alert: severity is \(AlertSeverity.allCases.map(\.rawValue).joined(separator: ", "))"
        }
        return add(.raiseAlert(AlertRecord(name: name, deviceID: d.id, severity: s, state: .active, since: now, raisedAt: now,
                                           message: String((message ?? "").prefix(500)), source: source)))
    }

    func clearAlert(handle: Int, name: String) -> String? {
        guard let d = device(handle) else { return "device object expired" }
        guard AlertRecord.validName(name), !ruleNames.contains(name) else { return "dev:clear_alert: '\(name.prefix(64))' is not an alert a handler raises" }
        return add(.clearAlert(name: name, deviceID: d.id, at: now))
    }

    func emit(kind: String, handle: Int?, data: LuaTable?) -> String? {
        guard AutomationEvent.isCustom(kind) else { return "emit_event: custom events are named custom.<name> (letters, digits, '.', '-', '_'; at most 64)" }
        guard emitted < Self.maxEvents else { return "emit_event: more than \(Self.maxEvents) events in one handler run" }
        guard depth < Self.maxDepth else { return "emit_event: events emitted by handlers of emitted events, \(Self.maxDepth) levels deep: stopped (a loop?)" }
        var deviceID: Int64?
        if let handle {
            guard let d = device(handle) else { return "device object expired" }
            deviceID = d.id
        }
        var object: [String: Any] = ["_depth": depth + 1]
        for (k, v) in data?.fields ?? [:] {
            guard k.utf8.count <= 64, k != "_depth" else { return "emit_event: data keys are at most 64 bytes (and not _depth)" }
            switch v {
            case .string(let s): object[k] = String(s.prefix(1000))
            case .int(let i): object[k] = i
            case .number(let n) where n.isFinite: object[k] = n
            case .bool(let b): object[k] = b
            default: return "emit_event: data values are strings, finite numbers or booleans ('\(k)' is not)"
            }
        }
        guard object.count <= 33 else { return "emit_event: at most 32 data fields" }
        emitted += 1
        return add(.event(EventRecord(at: now, kind: kind, deviceID: deviceID, data: EventRecord.data(object))))
    }

    func startCampaign(file: String, name: String?) -> String? {
        guard campaigns.isEmpty else { return "start_campaign: one campaign per handler run" }
        guard file.hasSuffix(".lua"), !file.contains("/"), !file.hasPrefix("."), file.utf8.count <= 128 else {
            return "start_campaign: a file name of the campaigns directory (\"firmware-2.1.lua\")"
        }
        campaigns.append(CampaignStart(file: file, name: String((name ?? "").prefix(128))))
        return nil
    }
}
