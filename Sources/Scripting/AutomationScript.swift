import ACSCore
import Foundation
import Storage

/// Events automations can react to (persisted by the engine before any handler runs).
public enum AutomationEvent {
    public static let kinds: Set<String> = ["device.onboarded", "device.bootstrap", "device.boot", "task.done", "task.fault"]
}

/// One `on(...)` or `every(...)` of an automation file.
public struct AutomationHandler: Sendable, Equatable {
    public enum Trigger: Sendable, Equatable {
        case event(String, filter: [String: String])
        case every(seconds: Int64)
    }
    public let trigger: Trigger
    /// "<file>#<n>": stable across restarts as long as the file's declarations keep their order; the key of the
    /// per-event idempotency record.
    public let key: String
    let ref: Int32

    public var label: String {
        switch trigger {
        case .event(let kind, let filter): filter.isEmpty ? "on \(kind)" : "on \(kind) \(filter.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))"
        case .every(let s): "every \(s) s"
        }
    }

    /// True when the device matches the handler's filter (fields compared as text).
    public func matches(_ d: Device) -> Bool {
        guard case .event(_, let filter) = trigger else { return false }
        for (k, v) in filter {
            let actual: String
            switch k {
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

/// A loaded automation file: its handlers in a Lua state of its own, run one at a time by the AutomationRunner.
public final class AutomationScript: @unchecked Sendable {
    public let name: String
    public let handlers: [AutomationHandler]
    let vm: LuaVM
    let access: StoreScriptAccess
    let run: ScriptRun
    /// Serialises the runs of this file (its Lua state is not thread-safe).
    let lock = NSLock()

    public init(source: String, name: String, store: AutomationStore, registry: ProfileRegistry, now: Int64) throws {
        self.name = name
        vm = LuaVM()
        access = StoreScriptAccess(store: store, registry: registry, now: now)
        let sink = AutomationSink(file: name)
        run = ScriptRun(context: .automation, name: name, now: now, seed: 0)
        run.sink = sink
        run.population = access
        run.devices = access
        let ref = try vm.load(source, name: name)
        try vm.call(ref, run: run, limits: .profileLoad, results: 0)
        vm.release(ref)
        run.sink = nil
        if let e = sink.error { throw ScriptError(.invalid, "\(name): \(e)") }
        guard !sink.handlers.isEmpty else { throw ScriptError(.invalid, "\(name): the file declares no on(...) or every(...)") }
        handlers = sink.handlers
    }

    /// Runs one handler for an event on `device` (nil for device-less events and schedules); returns the tasks its
    /// device actions ask for. Nothing is written here.
    public func run(_ handler: AutomationHandler, device: Device?, event: LuaTable?, now: Int64) throws -> [(Int64, [TaskKind])] {
        lock.lock()
        defer { lock.unlock() }
        access.clearActions()
        run.now = now
        if let device {
            let h = access.handle(for: device)
            try vm.callWithDevice(handler.ref, device: DeviceFields(device: device, now: now), handle: h,
                                  extra: event.map { [.table($0)] } ?? [], run: run, limits: .automation)
        } else {
            _ = try vm.call(handler.ref, args: event.map { [.table($0)] } ?? [], run: run, limits: .automation, results: 0)
        }
        return access.actions.sorted { $0.key < $1.key }.map { ($0.key, CampaignScript.tasks(for: $0.value)) }
    }

    /// "30s", "15m", "6h", "1d" → seconds; nil when malformed.
    static func seconds(_ text: String) -> Int64? {
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
    var handlers: [AutomationHandler] = []
    var error: String?
    init(file: String) { self.file = file }

    func on(_ kind: String, filter: LuaTable?, handler: Int32) -> String? {
        guard AutomationEvent.kinds.contains(kind) else {
            return "on(\"\(kind.prefix(60))\"): unknown event (known: \(AutomationEvent.kinds.sorted().joined(separator: ", ")))"
        }
        var f: [String: String] = [:]
        for (k, v) in filter?.fields ?? [:] {
            guard ["profile", "product_class", "manufacturer", "model", "software_version", "oui"].contains(k), let s = v.string else {
                return "on(\"\(kind)\"): filter field '\(k.prefix(40))' (known: profile, product_class, manufacturer, model, software_version, oui; text values)"
            }
            f[k] = s
        }
        return add(.event(kind, filter: f), handler)
    }

    func every(_ interval: String, handler: Int32) -> String? {
        guard let s = AutomationScript.seconds(interval), s >= 10 else {
            return "every(\"\(interval.prefix(20))\"): use a number and s, m, h or d, at least 10 s, at most a year"
        }
        return add(.every(seconds: s), handler)
    }

    private func add(_ t: AutomationHandler.Trigger, _ ref: Int32) -> String? {
        guard handlers.count < 100 else { return "more than 100 handlers in one file" }
        handlers.append(AutomationHandler(trigger: t, key: "\(file)#\(handlers.count + 1)", ref: ref))
        return nil
    }
}
