import ACSCore
import Foundation
import Storage

/// Events automations can react to (persisted by the engine before any handler runs).
public enum AutomationEvent {
    public static let kinds: Set<String> = ["device.onboarded", "device.bootstrap", "device.boot", "device.offline", "device.online",
                                            "task.done", "task.fault", "firmware.done", "firmware.fault", "alert.raised", "alert.cleared", "kpi"]

    /// `custom.<name>`: events handlers emit for other handlers (and, later, webhooks).
    public static func isCustom(_ kind: String) -> Bool {
        kind.hasPrefix("custom.") && kind.utf8.count > 7 && AlertRecord.validName(kind)
    }

    static func known(_ kind: String) -> Bool { kinds.contains(kind) || isCustom(kind) }

    /// Filter fields compared with the event's data rather than the device.
    static let dataFilterFields: Set<String> = ["alert", "severity", "action", "name"]
    static let deviceFilterFields: Set<String> = ["profile", "product_class", "manufacturer", "model", "software_version", "oui"]
}

/// An `alert{}` rule: devices where `when` holds (or that have been silent for `offline`) for `for` get an alert,
/// cleared when it stops holding. Evaluated in SQL over the whole population every pass.
public struct AlertRule: Sendable, Equatable {
    public let name: String
    public let severity: AlertSeverity
    /// Seconds the condition must hold before the alert is raised (`for`).
    public let hold: Int64
    /// The devices concerned (`filter`) and the condition (`when`) as one query.
    public let query: DeviceQuery
    /// `offline = "2h"`: no Inform for this long.
    public let offline: Int64?
    /// The rule as written, for lists: "lte.rssi < -105" or "offline 2h".
    public let condition: String
    public let message: String
    public let file: String
    /// Paths of the first condition: their value is kept with the alert.
    public let valuePaths: [String]

    /// The query at a moment (an offline rule's cut-off moves with time).
    public func query(now: Int64) -> DeviceQuery {
        var q = query
        if let offline { q.informedBefore = now - offline }
        return q
    }
}

/// One `on(...)` or `every(...)` of an automation file.
public struct AutomationHandler: Sendable, Equatable {
    public enum Trigger: Sendable, Equatable {
        case event(String, filter: [String: String])
        case every(seconds: Int64)
        case cron(CronSchedule)
    }
    public let trigger: Trigger
    /// "<file>#<n>": stable across restarts as long as the file's declarations keep their order; the key of the
    /// per-event idempotency record.
    public let key: String
    let ref: Int32

    /// An `on()` without a filter: the one kind of handler that sees events concerning no device.
    public var isUnfiltered: Bool {
        if case .event(_, let f) = trigger { return f.isEmpty }
        return false
    }

    public var label: String {
        switch trigger {
        case .event(let kind, let filter): filter.isEmpty ? "on \(kind)" : "on \(kind) \(filter.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))"
        case .every(let s): "every \(s) s"
        case .cron(let c): "cron \(c.text)"
        }
    }

    /// True when the device and the event's data match the handler's filter (fields compared as text).
    public func matches(_ d: Device, data: [String: String] = [:]) -> Bool {
        guard case .event(_, let filter) = trigger else { return false }
        for (k, v) in filter {
            let actual: String
            switch k {
            case _ where AutomationEvent.dataFilterFields.contains(k): actual = data[k] ?? ""
            case "profile": actual = d.profile
            case "product_class": actual = d.productClass
            case "manufacturer": actual = d.manufacturer
            case "model": actual = d.modelName
            case "software_version": actual = d.softwareVersion
            case "oui": actual = d.oui
            default: return false
            }
            if actual != v { return false }
        }
        return true
    }
}

/// A loaded automation file: its handlers and alert rules, in a Lua state of its own, run one at a time by the
/// AutomationRunner.
public final class AutomationScript: @unchecked Sendable {
    public let name: String
    public let handlers: [AutomationHandler]
    public let alerts: [AlertRule]
    /// When this version was loaded: a cron schedule that never ran counts from here.
    public let loadedAt: Int64
    let vm: LuaVM
    let access: StoreScriptAccess
    let actions: AutomationActions
    let run: ScriptRun
    /// Serialises the runs of this file (its Lua state is not thread-safe).
    let lock = NSLock()

    /// What one handler run asked for. Nothing of it is written by the script itself.
    public struct Outcome: Sendable {
        public var tasks: [(deviceID: Int64, kinds: [TaskKind])] = []
        public var effects: [AutomationEffect] = []
        public var campaigns: [AutomationActions.CampaignStart] = []
        public init() {}
    }

    /// `ruleNames`: alert names declared by `alert{}` in any automation file (handlers may not raise those).
    public init(source: String, name: String, store: AutomationStore, registry: ProfileRegistry, now: Int64) throws {
        self.name = name
        loadedAt = now
        vm = LuaVM()
        access = StoreScriptAccess(store: store, registry: registry, now: now)
        actions = AutomationActions(access: access)
        let sink = AutomationSink(file: name, registry: registry)
        run = ScriptRun(context: .automation, name: name, now: now, seed: 0)
        run.sink = sink
        run.population = access
        run.devices = access
        run.automation = actions
        let ref = try vm.load(source, name: name)
        try vm.call(ref, run: run, limits: .profileLoad, results: 0)
        vm.release(ref)
        run.sink = nil
        if let e = sink.error { throw ScriptError(.invalid, "\(name): \(e)") }
        guard !sink.handlers.isEmpty || !sink.alerts.isEmpty else {
            throw ScriptError(.invalid, "\(name): the file declares no on(...), every(...) or alert{...}")
        }
        handlers = sink.handlers
        alerts = sink.alerts
    }

    /// Alert names owned by rules, shared by every file once all are loaded.
    public func setRuleNames(_ names: Set<String>) {
        lock.withLock { actions.ruleNames = names }
    }

    /// Runs one handler for an event on `device` (nil for device-less events and schedules). `depth`: how many
    /// emitted events led to this one.
    public func run(_ handler: AutomationHandler, device: Device?, event: LuaTable?, depth: Int = 0, now: Int64) throws -> Outcome {
        lock.lock()
        defer { lock.unlock() }
        access.clearActions()
        actions.reset(source: handler.key, now: now, depth: depth)
        run.now = now
        if let device {
            let h = access.handle(for: device)
            try vm.callWithDevice(handler.ref, device: DeviceFields(device: device, now: now), handle: h,
                                  extra: event.map { [.table($0)] } ?? [], run: run, limits: .automation)
        } else {
            _ = try vm.call(handler.ref, args: event.map { [.table($0)] } ?? [], run: run, limits: .automation, results: 0)
        }
        var out = Outcome()
        out.tasks = access.actions.sorted { $0.key < $1.key }.map { ($0.key, CampaignScript.tasks(for: $0.value)) }
        out.effects = actions.effects
        out.campaigns = actions.campaigns
        return out
    }

    /// "30s", "15m", "6h", "1d" → seconds; nil when malformed.
    public static func seconds(_ text: String) -> Int64? {
        guard let unit = text.last, let n = Int64(text.dropLast()), n > 0 else { return nil }
        let factor: Int64? = switch unit {
        case "s": 1
        case "m": 60
        case "h": 3600
        case "d": 86_400
        default: nil
        }
        guard let factor, n <= 365 * 86_400 / factor else { return nil }
        return n * factor
    }
}

/// Collects an automation file's declarations.
final class AutomationSink: DeclarationSink {
    let file: String
    let registry: ProfileRegistry
    var handlers: [AutomationHandler] = []
    var alerts: [AlertRule] = []
    var error: String?
    init(file: String, registry: ProfileRegistry) { self.file = file; self.registry = registry }

    func on(_ kind: String, filter: LuaTable?, handler: Int32) -> String? {
        guard AutomationEvent.known(kind) else {
            return "on(\"\(kind.prefix(60))\"): unknown event (known: \(AutomationEvent.kinds.sorted().joined(separator: ", ")), custom.<name>)"
        }
        var f: [String: String] = [:]
        let fields = AutomationEvent.deviceFilterFields.union(AutomationEvent.dataFilterFields)
        for (k, v) in filter?.fields ?? [:] {
            guard fields.contains(k), let s = v.string else {
                return "on(\"\(kind)\"): filter field '\(k.prefix(40))' (known: \(fields.sorted().joined(separator: ", ")); text values)"
            }
            f[k] = s
        }
        return add(.event(kind, filter: f), handler)
    }

    func every(_ interval: String, handler: Int32) -> String? {
        if CronSchedule.looksLikeCron(interval) {
            do { return add(.cron(try CronSchedule(interval)), handler) } catch { return "every(\"\(interval.prefix(60))\"): \(error)" }
        }
        guard let s = AutomationScript.seconds(interval), s >= 10 else {
            return "every(\"\(interval.prefix(20))\"): use a number and s, m, h or d (at least 10 s, at most a year), or a cron expression (\"0 3 * * *\")"
        }
        return add(.every(seconds: s), handler)
    }

    func alert(_ def: LuaTable) -> String? {
        guard alerts.count < 100 else { return "more than 100 alert rules in one file" }
        let known: Set<String> = ["name", "when", "offline", "for", "severity", "message", "filter"]
        if let k = def.fields.keys.sorted().first(where: { !known.contains($0) }) {
            return "alert{}: unknown field '\(k.prefix(40))' (known: \(known.sorted().joined(separator: ", ")); write [\"for\"] = \"30m\", for is a Lua keyword)"
        }
        guard let name = def["name"].string, AlertRecord.validName(name) else { return "alert{}: name is 1 to 64 letters, digits, '.', '-' or '_'" }
        guard !alerts.contains(where: { $0.name == name }) else { return "alert{}: '\(name)' is declared twice" }
        guard let severity = AlertSeverity(rawValue: def["severity"].string ?? "major") else {
            return "alert{\(name)}: severity is \(AlertSeverity.allCases.map(\.rawValue).joined(separator: ", "))"
        }
        var hold: Int64 = 0
        if !def["for"].isNil {
            guard let t = def["for"].string, let s = AutomationScript.seconds(t) else { return "alert{\(name)}: for is a duration (\"30m\")" }
            hold = s
        }
        var query: DeviceQuery
        do {
            query = try DeviceFilter.query(def["filter"].table ?? LuaTable(), registry: registry).0
        } catch { return "alert{\(name)}: filter: \(error)" }
        let when = def["when"].string
        let offline = def["offline"].string
        var condition = ""
        var offlineSeconds: Int64?
        var valuePaths: [String] = []
        switch (when, offline) {
        case (let w?, nil):
            do {
                let conditions = try DeviceFilter.parse(w).map { try DeviceFilter.condition($0.0, $0.1, $0.2, registry) }
                guard !conditions.isEmpty else { return "alert{\(name)}: when is empty" }
                query.parameters += conditions
                valuePaths = conditions[0].paths
            } catch { return "alert{\(name)}: when: \(error)" }
            condition = w
        case (nil, let o?):
            guard let s = AutomationScript.seconds(o), s >= 60 else { return "alert{\(name)}: offline is a duration of at least a minute (\"2h\")" }
            offlineSeconds = s
            condition = "offline \(o)"
        default:
            return "alert{\(name)}: give when = \"<alias or path> <op> <value>\" or offline = \"<duration>\" (one of them)"
        }
        let message = String((def["message"].string ?? "").prefix(500))
        alerts.append(AlertRule(name: name, severity: severity, hold: hold, query: query, offline: offlineSeconds, condition: condition,
                                message: message, file: file, valuePaths: valuePaths))
        return nil
    }

    private func add(_ t: AutomationHandler.Trigger, _ ref: Int32) -> String? {
        guard handlers.count < 100 else { return "more than 100 handlers in one file" }
        handlers.append(AutomationHandler(trigger: t, key: "\(file)#\(handlers.count + 1)", ref: ref))
        return nil
    }
}
