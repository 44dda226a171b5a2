import ACSCore
import CWMP
import Storage

/// What a campaign file declares with `campaign{}`.
public struct CampaignDefinition: Sendable, Equatable {
    public var name: String
    public var target: LuaTable
    public var perMinute: Int
    public var concurrent: Int
    /// Sizes of the first waves (canaries); the rest of the target is the last wave.
    public var waves: [Int]
    public var failureRate: Double
    public var minDevices: Int
    public var connectionRequest: Bool
    /// A device whose tasks are not finished after this long counts as failed.
    public var deviceTimeout: Int
}

/// A loaded campaign file: its definition and its `apply(dev)` in a Lua state of its own.
public final class CampaignScript {
    public let definition: CampaignDefinition
    let vm: LuaVM
    let apply: Int32
    let access: StoreScriptAccess
    let run: ScriptRun

    /// `scope`: the organisation subtree (path) the campaign may target; every query of the script stays inside it.
    public init(source: String, name: String, store: AutomationStore, registry: ProfileRegistry, now: Int64, scope: String? = nil) throws {
        vm = LuaVM()
        access = StoreScriptAccess(store: store, registry: registry, now: now, scope: scope)
        let sink = CampaignSink()
        run = ScriptRun(context: .campaign, name: name, now: now, seed: 0)
        run.sink = sink
        run.population = access
        run.devices = access
        let ref = try vm.load(source, name: name)
        try vm.call(ref, run: run, limits: .campaign, results: 0)
        vm.release(ref)
        guard let def = sink.definition else { throw ScriptError(.invalid, "\(name): the file never calls campaign{}") }
        switch Self.parse(def, file: name) {
        case .success(let (d, apply)):
            definition = d
            self.apply = apply
        case .failure(let e): throw e
        }
    }

    /// Every target device, in order (streamed from the store; used to start the campaign and for dry runs).
    public func targets(_ body: (Device) throws -> Void) throws {
        try targets(max: .max, body)
    }

    /// The first `max` target devices, in order.
    public func targets(max: Int, _ body: (Device) throws -> Void) throws {
        let cursor = try access.open(definition.target)
        var n = 0
        while n < max, let (d, _) = try access.next(cursor: cursor) {
            n += 1
            try body(d)
        }
    }

    /// How many devices the target matches (one SQL count, honouring the target's `limit`).
    public func targetCount() throws -> Int {
        let (q, limit) = try access.query(definition.target)
        let n = try access.store.countDevices(q, now: access.now)
        return limit.map { Swift.min($0, n) } ?? n
    }

    /// Runs apply(dev) for one device and returns what it asked for (nothing is sent here).
    public func actions(for device: Device, now: Int64) throws -> [CampaignAction] {
        access.clearActions()
        run.now = now
        let h = access.handle(for: device)
        try vm.callWithDevice(apply, device: DeviceFields(device: device, now: now), handle: h, extra: [], run: run, limits: .campaign)
        return access.actions[device.id] ?? []
    }

    /// Actions as tasks: the values set are merged into one SetParameterValues (atomic on the CPE).
    public static func tasks(for actions: [CampaignAction]) -> [TaskKind] {
        var out: [TaskKind] = []
        var values: [ParameterValue] = []
        for a in actions {
            switch a {
            case .set(let v):
                values.removeAll { $0.name == v.name }
                values.append(v)
            case .perform(let action):
                if !values.isEmpty { out.append(.setParameterValues(values)); values = [] }
                switch action {
                case .reboot: out.append(.reboot)
                case .factoryReset: out.append(.factoryReset)
                case .refresh(let p): out.append(.refresh(p))
                case .addObject(let p): out.append(.addObject(p))
                case .deleteObject(let p): out.append(.deleteObject(p))
                case .download(let url, let type, let size, let target):
                    out.append(.download(url: url, fileType: type, fileSize: size, targetFileName: target))
                case .diagnose(let test, let options):
                    out.append(.diagnostics(.unplanned(test, options)))
                case .backup(let type):
                    out.append(.upload(fileType: type))
                }
            }
        }
        if !values.isEmpty { out.append(.setParameterValues(values)) }
        return out
    }

    static func parse(_ t: LuaTable, file: String) -> Result<(CampaignDefinition, Int32), ScriptError> {
        func fail(_ m: String) -> Result<(CampaignDefinition, Int32), ScriptError> { .failure(ScriptError(.invalid, "\(file): \(m)")) }
        let known: Set<String> = ["name", "target", "apply", "rate", "waves", "stop_if", "connection_request", "device_timeout"]
        for k in t.keys where !known.contains(k) { return fail("unknown campaign field '\(k)' (known: \(known.sorted().joined(separator: ", ")))") }
        guard let name = t["name"].string, !name.isEmpty else { return fail("campaign needs a name") }
        guard case .function(let apply) = t["apply"] else { return fail("campaign needs apply = function(dev) ... end") }
        let rate = t["rate"].table ?? LuaTable()
        let perMinute = Int(rate["per_minute"].int ?? 60)
        let concurrent = Int(rate["concurrent"].int ?? 10)
        guard perMinute > 0, concurrent > 0 else { return fail("rate.per_minute and rate.concurrent must be positive") }
        let waves = (t["waves"].table?.array ?? []).compactMap { $0.int.map { Int($0) } }
        guard waves.allSatisfy({ $0 > 0 }) else { return fail("waves are positive device counts, e.g. {10, 100}") }
        let stop = t["stop_if"].table ?? LuaTable()
        let rateLimit = stop["failure_rate"].number ?? 1.0
        guard (0...1).contains(rateLimit) else { return fail("stop_if.failure_rate is a fraction between 0 and 1") }
        var cr = false
        if case .bool(let b) = t["connection_request"] { cr = b }
        let def = CampaignDefinition(name: name, target: t["target"].table ?? LuaTable(), perMinute: perMinute, concurrent: concurrent,
                                     waves: waves, failureRate: rateLimit, minDevices: Int(stop["min_devices"].int ?? 10),
                                     connectionRequest: cr, deviceTimeout: Int(t["device_timeout"].int ?? 86_400))
        return .success((def, apply))
    }

    /// The wave of the i-th target device (0-based).
    public static func wave(of index: Int, waves: [Int]) -> Int {
        var end = 0
        for (w, size) in waves.enumerated() {
            end += size
            if index < end { return w }
        }
        return waves.count
    }
}

final class CampaignSink: DeclarationSink {
    var definition: LuaTable?
    func campaign(_ def: LuaTable) -> String? {
        guard definition == nil else { return "one campaign{} per file" }
        definition = def
        return nil
    }
}

extension CampaignAction: CustomStringConvertible {
    public var description: String {
        switch self {
        case .set(let v): return "set \(v.name)=\(v.value)"
        case .perform(.reboot): return "reboot"
        case .perform(.factoryReset): return "factory-reset"
        case .perform(.refresh(let p)): return "refresh \(p)"
        case .perform(.addObject(let p)): return "add \(p)"
        case .perform(.deleteObject(let p)): return "delete \(p)"
        case .perform(.download(let url, let type, _, _)): return "download \(url) (\(type))"
        case .perform(.diagnose(let test, _)): return "diagnose \(test.rawValue)"
        case .perform(.backup(let type)): return "backup (\(type))"
        }
    }
}
