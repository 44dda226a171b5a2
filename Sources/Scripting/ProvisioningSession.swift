import ACSCore
import CWMP
import DataModel
import Storage

/// The provisioning of one CWMP session: the profile's desired values and KPIs plus its Lua hooks running as
/// coroutines. Scripts declare what they need (`dev:get` suspends on a missing or stale value, `dev:set` declares a
/// value); the session batches the reads of all suspended scripts into one GetParameterValues and the writes of
/// all scripts into one SetParameterValues, then resumes the scripts with the answers. No I/O here: the engine
/// sends the requests and feeds the answers back.
public final class ProvisioningSession: DeviceAccess {
    public let device: Device
    public let profile: DeviceProfile
    let kind: DataModelKind
    let events: [String]
    let now: Int64
    /// Stored values written before this instant are re-verified on boot (the CPE may have lost them).
    let verifyCutoff: Int64
    let lookup: (String) -> StoredParameter?
    let kpiLookup: (String, Int64?) -> Double?
    let shard: ScriptShard
    let run: ScriptRun
    static let handle = 1
    static let maxRequests = 24

    struct Known {
        var value: String
        var type: XSDType
    }
    /// Values learned in this session (Inform, answers, our writes): always fresh.
    private var fresh: [String: Known] = [:]
    /// Paths the CPE does not have (a GetParameterValues fault for that path alone).
    private var missing: Set<String> = []

    enum ScriptState: Equatable {
        case runnable(first: Bool)
        case waiting(String)
        case done
        case failed(String)
    }
    struct Script {
        let name: String
        var co: LuaVM.Coroutine
        var state: ScriptState
    }
    private var scripts: [Script] = []

    /// Owners: a script index, or one of these.
    static let desiredOwner = -1, kpiOwner = -2

    private var reads: [String] = []
    private var readOwners: [String: Set<Int>] = [:]
    private var writeOrder: [String] = []
    private var writes: [String: (ParameterValue, Set<Int>)] = [:]
    private var actions: [(DeviceAction, Int)] = []
    private var desiredPending: [(DesiredValue, String)] = []
    private var kpiPending: [(String, String)] = []

    enum Inflight {
        case read([String])
        case write([ParameterValue])
        case action(Int)
    }
    private var inflight: Inflight?
    /// Single-path reads left after a batched read faulted (to tell which paths the CPE lacks).
    private var probing: [String] = []
    private var requests = 0
    private var finished = false
    private var closed = false

    // Results for the engine.
    public private(set) var learned: [ParameterValue] = []
    public private(set) var kpiSamples: [(String, Double)] = []
    /// Script name -> error, for the ones that failed in this session.
    public private(set) var failures: [String: String] = [:]
    /// Scripts that ran to the end.
    public private(set) var succeeded: [String] = []
    /// The desired values were not evaluated this session (the script is in retry backoff).
    private var desiredSkipped = false
    public var logs: [String] = []

    init(device: Device, profile: DeviceProfile, kind: DataModelKind, events: [String], informValues: [ParameterValue], now: Int64,
         skip: Set<String>, shard: ScriptShard, lookup: @escaping (String) -> StoredParameter?,
         kpi: @escaping (String, Int64?) -> Double?) {
        self.device = device; self.profile = profile; self.kind = kind; self.events = events; self.now = now
        self.lookup = lookup; self.kpiLookup = kpi; self.shard = shard
        let boot = events.contains(EventCode.boot) || events.contains(EventCode.bootstrap)
        verifyCutoff = boot ? now : now - Int64(profile.verifyAfter)
        for v in informValues { fresh[v.name] = Known(value: v.value, type: v.type) }
        run = ScriptRun(context: .session, name: profile.name, now: now, seed: UInt64(bitPattern: device.id))
        run.devices = self
        run.log = { [weak self] in self?.logs.append($0) }

        // Built-in: the profile's desired values, with the periodic inform settings every profile keeps.
        var desired = profile.desired
        desired.append(DesiredValue(name: "ManagementServer.PeriodicInformEnable", value: "true", type: .boolean))
        desired.append(DesiredValue(name: "ManagementServer.PeriodicInformInterval", value: String(profile.informInterval), type: .unsignedInt))
        desiredSkipped = skip.contains(desiredScript)
        if !desiredSkipped {
            for d in desired {
                guard let path = profile.path(for: d.name, kind: kind) else {
                    failures[desiredScript] = "desired '\(d.name)': unknown alias"
                    continue
                }
                desiredPending.append((d, path))
            }
        }
        for k in profile.kpis {
            guard let path = profile.path(for: k, kind: kind) else { continue }
            kpiPending.append((k, path))
        }
        // Hooks: "inform" every session, the others on their event.
        let codes: [String: String] = ["bootstrap": EventCode.bootstrap, "boot": EventCode.boot, "periodic": "2 PERIODIC",
                                       "value_change": "4 VALUE CHANGE", "connection_request": "6 CONNECTION REQUEST",
                                       "transfer_complete": EventCode.transferComplete, "diagnostics_complete": EventCode.diagnosticsComplete,
                                       "reboot": EventCode.mReboot, "download": EventCode.mDownload]
        let hooks = shard.hooks[profile.name] ?? [:]
        for event in ProfileParser.hookEvents {
            guard let ref = hooks[event] else { continue }
            guard event == "inform" || events.contains(codes[event] ?? "") else { continue }
            let name = "\(profile.name):\(event)"
            guard !skip.contains(name) else { continue }
            shard.vm.lock.lock()
            let co = shard.vm.makeCoroutine(ref, device: DeviceFields(device: device, now: now), handle: Self.handle, extra: [],
                                            budget: shard.limits.instructions)
            shard.vm.lock.unlock()
            scripts.append(Script(name: name, co: co, state: .runnable(first: true)))
        }
    }

    deinit { close() }

    var desiredScript: String { "\(profile.name):desired" }

    /// Every script this session would run (for retry bookkeeping).
    public var scriptNames: [String] { [desiredScript] + scripts.map(\.name) }

    // MARK: the engine's side

    /// True when the next `nextRequest()` resumes Lua (a hook is runnable); otherwise it only plans reads and writes.
    public var runsScripts: Bool {
        !finished && scripts.contains { if case .runnable = $0.state { true } else { false } }
    }

    /// The next RPC, or nil when provisioning is over for this session.
    public func nextRequest() -> ACSRequest? {
        guard !finished else { return nil }
        if inflight != nil {
            // The CPE moved on without answering the last provisioning request: record it, plan nothing more.
            inflight = nil
            for i in scripts.indices where isActive(scripts[i].state) { fail(i, "the CPE did not answer the provisioning request") }
            return finish()
        }
        if !probing.isEmpty {
            let path = probing.removeFirst()
            return issue(.read([path]), .getParameterValues(names: [path]))
        }
        runScripts()
        evaluateDesired()
        sampleKPIs()
        if requests >= Self.maxRequests {
            for i in scripts.indices where isActive(scripts[i].state) { fail(i, "too many round trips in one session (\(Self.maxRequests))") }
            return finish()
        }
        if !reads.isEmpty {
            let batch = reads
            return issue(.read(batch), .getParameterValues(names: batch))
        }
        if !writeOrder.isEmpty {
            let batch = writeOrder.compactMap { writes[$0]?.0 }
            return issue(.write(batch), .setParameterValues(parameters: batch, parameterKey: "corral-provision"))
        }
        if !actions.isEmpty {
            let (action, owner) = actions.removeFirst()
            let request: ACSRequest
            switch action {
            case .reboot: request = .reboot(commandKey: "corral-provision")
            case .factoryReset: request = .factoryReset
            case .download(let url, let type, let size, let target):
                request = .download(Download(commandKey: "corral-provision", fileType: type, url: url, fileSize: size, targetFileName: target))
            case .refresh(let path): request = .getParameterValues(names: [path])
            }
            return issue(.action(owner), request)
        }
        return finish()
    }

    private func issue(_ i: Inflight, _ r: ACSRequest) -> ACSRequest {
        inflight = i
        requests += 1
        return r
    }

    public func received(_ response: CPEResponse) {
        guard let current = inflight else { return }
        inflight = nil
        switch (current, response) {
        case (.read(let paths), .getParameterValues(let values)):
            for v in values {
                fresh[v.name] = Known(value: v.value, type: v.type)
                learned.append(v)
            }
            for p in paths where fresh[p] == nil { missing.insert(p) }
            for p in paths { completeRead(p) }
        case (.write(let batch), .setParameterValues):
            for v in batch {
                fresh[v.name] = Known(value: v.value, type: v.type)
                learned.append(v)
                writes[v.name] = nil
            }
            writeOrder.removeAll { p in batch.contains { $0.name == p } }
        case (.action, .getParameterValues(let values)):
            for v in values { fresh[v.name] = Known(value: v.value, type: v.type); learned.append(v) }
        default:
            break
        }
    }

    public func faulted(_ fault: CWMPFault) {
        guard let current = inflight else { return }
        inflight = nil
        switch current {
        case .read(let paths):
            if paths.count > 1 {
                // Find the culprit: read each path alone (a CPE faults the whole GPV for one unknown name).
                probing = paths
                for p in paths { reads.removeAll { $0 == p } }
            } else if let p = paths.first {
                missing.insert(p)
                completeRead(p)
            }
        case .write(let batch):
            let perParameter = Dictionary(fault.setParameterValuesFaults.map { ($0.parameterName, "\($0.code) \($0.string)") }, uniquingKeysWith: { a, _ in a })
            let culprits = perParameter.isEmpty ? batch.map(\.name) : Array(perParameter.keys)
            for path in culprits {
                let why = perParameter[path].map { "CPE fault \($0) setting \(path)" } ?? "CPE fault \(fault.code) \(fault.string) setting \(path)"
                for owner in writes[path]?.1 ?? [] { fail(owner, why) }
                writes[path] = nil
                writeOrder.removeAll { $0 == path }
            }
            // The SPV is atomic: the other values were not applied; they go again in the next SPV.
        case .action(let owner):
            fail(owner, "CPE fault \(fault.code) \(fault.string)")
        }
    }

    /// Releases the coroutines (session over or cut). Idempotent.
    public func close() {
        guard !closed else { return }
        closed = true
        shard.vm.lock.lock()
        for s in scripts { shard.vm.releaseCoroutine(s.co) }
        shard.vm.lock.unlock()
    }

    // MARK: scripts

    private func isActive(_ s: ScriptState) -> Bool {
        switch s { case .runnable, .waiting: true; default: false }
    }

    private func runScripts() {
        var progressed = true
        while progressed {
            progressed = false
            for i in scripts.indices {
                guard case .runnable(let first) = scripts[i].state else { continue }
                progressed = true
                let resumeValues: [LuaValue]
                if first { resumeValues = [] } else { resumeValues = [pendingResume[i] ?? .null] }
                pendingResume[i] = nil
                current = i
                run.name = scripts[i].name
                // A local copy: the bridge callbacks update `scripts` while the coroutine runs.
                var co = scripts[i].co
                shard.vm.lock.lock()
                let outcome = shard.vm.resume(&co, values: resumeValues, first: first, run: run, memoryBytes: shard.limits.memoryBytes,
                                               wallMilliseconds: shard.limits.wallMilliseconds)
                shard.vm.lock.unlock()
                scripts[i].co = co
                current = nil
                switch outcome {
                case .finished:
                    scripts[i].state = .done
                case .suspended:
                    if case .runnable = scripts[i].state { scripts[i].state = .done }   // a yield outside dev:get: end it
                case .failed(let e):
                    fail(i, e.message)
                }
            }
        }
    }

    private var pendingResume: [Int: LuaValue] = [:]
    private var current: Int?

    private func fail(_ owner: Int, _ why: String) {
        switch owner {
        case Self.desiredOwner: failures[desiredScript] = why
        case Self.kpiOwner: logs.append("KPI read failed: \(why)")
        default:
            guard scripts.indices.contains(owner) else { return }
            if case .failed = scripts[owner].state { return }
            scripts[owner].state = .failed(why)
            failures[scripts[owner].name] = why
            // Its writes that were not sent yet are dropped with it.
            for p in writeOrder {
                guard var w = writes[p], w.1.contains(owner) else { continue }
                w.1.remove(owner)
                if w.1.isEmpty { writes[p] = nil } else { writes[p] = w }
            }
            writeOrder.removeAll { writes[$0] == nil }
        }
    }

    private func requestRead(_ path: String, owner: Int) {
        if !reads.contains(path) { reads.append(path) }
        readOwners[path, default: []].insert(owner)
    }

    private func completeRead(_ path: String) {
        reads.removeAll { $0 == path }
        readOwners[path] = nil
        for i in scripts.indices where scripts[i].state == .waiting(path) {
            pendingResume[i] = value(of: path)
            scripts[i].state = .runnable(first: false)
        }
    }

    private func value(of path: String) -> LuaValue {
        if let w = writes[path]?.0 { return LuaConvert.value(w.value, w.type) }
        if let k = fresh[path] { return LuaConvert.value(k.value, k.type) }
        if missing.contains(path) { return .null }
        if let s = lookup(path) { return LuaConvert.value(s.value, s.type) }
        return .null
    }

    private func addWrite(_ v: ParameterValue, owner: Int) {
        if writes[v.name] == nil { writeOrder.append(v.name) }
        var owners = writes[v.name]?.1 ?? []
        owners.insert(owner)
        writes[v.name] = (v, owners)
    }

    /// The current value as far as the session knows: fresh, else stored.
    private func knownValue(_ path: String) -> (String, XSDType)? {
        if let k = fresh[path] { return (k.value, k.type) }
        if let s = lookup(path) { return (s.value, s.type) }
        return nil
    }

    // MARK: built-ins

    private func evaluateDesired() {
        desiredPending.removeAll { d, path in
            if missing.contains(path) {
                fail(Self.desiredOwner, "desired '\(d.name)': the device has no \(path)")
                return true
            }
            let current: (String, XSDType)?
            if let k = fresh[path] {
                current = (k.value, k.type)
            } else if let s = lookup(path), s.updatedAt >= verifyCutoff || ManagementPaths.isSecret(path) {
                current = (s.value, s.type)
            } else {
                requestRead(path, owner: Self.desiredOwner)
                return false
            }
            let type = d.type ?? current?.1 ?? .string
            if let (v, _) = current, LuaConvert.same(v, d.value, type) { return true }
            if let w = writes[path], LuaConvert.same(w.0.value, d.value, type) { return true }
            addWrite(ParameterValue(name: path, value: d.value, type: type), owner: Self.desiredOwner)
            return true
        }
    }

    private func sampleKPIs() {
        kpiPending.removeAll { name, path in
            if missing.contains(path) { return true }
            guard let k = fresh[path] else {
                requestRead(path, owner: Self.kpiOwner)
                return false
            }
            if let v = Double(k.value) { kpiSamples.append((name, v)) }
            return true
        }
    }

    private func finish() -> ACSRequest? {
        finished = true
        for s in scripts where s.state == .done { succeeded.append(s.name) }
        // Skipped (in backoff) is not succeeded: clearing its state would end the backoff early.
        if !desiredSkipped && failures[desiredScript] == nil { succeeded.append(desiredScript) }
        close()
        return nil
    }

    // MARK: DeviceAccess (what dev:... does in a session)

    public func get(handle: Int, name: String, maxAge: Int64?) -> GetResult {
        guard let path = profile.path(for: name, kind: kind) else { return .error("unknown alias '\(name)' in profile \(profile.name)") }
        if let w = writes[path]?.0 { return .value(LuaConvert.value(w.value, w.type)) }
        if let k = fresh[path] { return .value(LuaConvert.value(k.value, k.type)) }
        if missing.contains(path) { return .value(.null) }
        if let s = lookup(path), maxAge.map({ now - s.updatedAt <= $0 }) ?? true {
            return .value(LuaConvert.value(s.value, s.type))
        }
        guard let i = current else { return .error("dev:get outside a running script") }
        requestRead(path, owner: i)
        scripts[i].state = .waiting(path)
        return .suspend
    }

    public func set(handle: Int, name: String, value: LuaValue, type: String?) -> String? {
        guard let path = profile.path(for: name, kind: kind) else { return "unknown alias '\(name)' in profile \(profile.name)" }
        let known = knownValue(path)
        switch LuaConvert.parameter(path, value, explicitType: type, storedType: known?.1) {
        case .failure(let e): return e.message
        case .success(let pv):
            // Declarative: nothing to send when the device already has it.
            if let (v, _) = known, LuaConvert.same(v, pv.value, pv.type), writes[path] == nil { return nil }
            addWrite(pv, owner: current ?? Self.desiredOwner)
            return nil
        }
    }

    public func perform(handle: Int, _ action: DeviceAction) -> String? {
        var a = action
        if case .refresh(let name) = action {
            guard let p = profile.path(for: name, kind: kind) ?? (name.hasSuffix(".") ? name : nil) else { return "unknown alias '\(name)'" }
            a = .refresh(p)
        }
        if !actions.contains(where: { $0.0 == a }) { actions.append((a, current ?? Self.desiredOwner)) }
        return nil
    }

    public func hasEvent(handle: Int, _ event: String) -> Bool {
        let names: [String: String] = ["bootstrap": EventCode.bootstrap, "boot": EventCode.boot, "periodic": "2 PERIODIC",
                                       "value_change": "4 VALUE CHANGE", "connection_request": "6 CONNECTION REQUEST",
                                       "transfer_complete": EventCode.transferComplete, "diagnostics_complete": EventCode.diagnosticsComplete,
                                       "reboot": EventCode.mReboot, "download": EventCode.mDownload]
        return events.contains(names[event] ?? event)
    }

    public func kpi(handle: Int, name: String, window: Int64?) -> GetResult {
        .value(kpiLookup(name, window.map { now - $0 }).map { .number($0) } ?? .null)
    }
}

/// One Lua state with every profile loaded, shared by the sessions that hash to it (under its lock).
public final class ScriptShard: @unchecked Sendable {
    let vm: LuaVM
    let hooks: [String: [String: Int32]]
    let limits: ScriptLimits
    init(library: ProfileLibrary, limits: ScriptLimits) {
        vm = LuaVM()
        hooks = library.installHooks(into: vm)
        self.limits = limits
    }
}

/// The provisioning engine: profile states (pooled, reused across sessions) and session factories.
public final class ScriptEngine: @unchecked Sendable {
    public let library: ProfileLibrary
    let shards: [ScriptShard]

    public init(library: ProfileLibrary, shards: Int = 4, limits: ScriptLimits = .session) {
        self.library = library
        self.shards = (0..<max(1, shards)).map { _ in ScriptShard(library: library, limits: limits) }
    }

    public var registry: ProfileRegistry { library.registry }

    /// A provisioning session for one CWMP session. `skip`: scripts in retry backoff.
    public func session(device: Device, profile: DeviceProfile, kind: DataModelKind, events: [String], informValues: [ParameterValue],
                        now: Int64, skip: Set<String>, lookup: @escaping (String) -> StoredParameter?,
                        kpi: @escaping (String, Int64?) -> Double?) -> ProvisioningSession {
        let shard = shards[Int(UInt64(bitPattern: device.id) % UInt64(shards.count))]
        return ProvisioningSession(device: device, profile: profile, kind: kind, events: events, informValues: informValues, now: now,
                                   skip: skip, shard: shard, lookup: lookup, kpi: kpi)
    }
}
