import ACSCore
import CWMP
import DataModel
import Foundation
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
    /// Stored values below an object path (subtree reads with max_age).
    let lookupSubtree: (String) -> [StoredParameter]
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
    /// Paths the CPE does not have (a GetParameterValues fault for that path alone), starting with the ones
    /// remembered from earlier sessions of the same firmware (not probed again).
    private var missing: Set<String> = []
    private let remembered: Set<String>
    /// Missing in this session for another reason than "Invalid parameter name" (9005): not remembered.
    private var transient: Set<String> = []
    /// Subtrees read whole in this session ("Device.WiFi.SSID."): every value below them is in `fresh`.
    private var freshSubtrees: Set<String> = []
    /// Instance numbers of multi-instance objects learned in this session (GetParameterNames, adds, deletes).
    private var instanceLists: [String: [Int64]] = [:]

    /// A dev:add or dev:instances call waiting for the CPE.
    struct Job {
        var path: String
        /// nil for dev:add; the wanted count (or nil = just list) for dev:instances.
        var instances: Bool
        var count: Int?
        var pending = 0
    }
    private var jobs: [Int: Job] = [:]
    /// GetParameterNames to send for dev:instances (object path, owner).
    private var nameReads: [(String, Int)] = []
    /// AddObjects queued or in flight per object path: a second dev:instances on the path counts them.
    private var pendingAdds: [String: Int] = [:]

    /// "Device.WiFi.SSID." of "Device.WiFi.SSID.3.".
    static func parent(_ instance: String) -> String {
        let parts = instance.split(separator: ".", omittingEmptySubsequences: false).dropLast(2)
        return parts.joined(separator: ".") + "."
    }

    enum ScriptState: Equatable {
        case runnable(first: Bool)
        case waiting(String)
        /// Waiting for its dev:add or dev:instances job.
        case waitingJob
        case done
        case failed(String)
    }
    struct Script {
        let name: String
        var co: LuaVM.Coroutine
        var state: ScriptState
        /// The virtual parameter this script computes (its return value), if it is one.
        var virtual: String? = nil
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
        case action(Int, DeviceAction)
        case names(String, Int)
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
    /// Paths found missing in this session (to remember), and remembered ones the CPE has after all.
    public var newlyAbsent: [String] { missing.subtracting(remembered).subtracting(transient).sorted() }
    public private(set) var nowPresent: [String] = []
    /// The desired values were not evaluated this session (the script is in retry backoff).
    private var desiredSkipped = false
    public var logs: [String] = []

    init(device: Device, profile: DeviceProfile, kind: DataModelKind, events: [String], informValues: [ParameterValue], now: Int64,
         skip: Set<String>, shard: ScriptShard, absent: Set<String>, lookup: @escaping (String) -> StoredParameter?,
         subtree: @escaping (String) -> [StoredParameter], kpi: @escaping (String, Int64?) -> Double?) {
        self.device = device; self.profile = profile; self.kind = kind; self.events = events; self.now = now
        self.lookup = lookup; self.lookupSubtree = subtree; self.kpiLookup = kpi; self.shard = shard
        let plan = shard.plan(for: profile, kind: kind)
        desiredScript = plan.desiredScript
        remembered = absent
        missing = absent
        let boot = events.contains(EventCode.boot) || events.contains(EventCode.bootstrap)
        verifyCutoff = boot ? now : now - Int64(profile.verifyAfter)
        for v in informValues {
            fresh[v.name] = Known(value: v.value, type: v.type)
            if remembered.contains(v.name) { missing.remove(v.name); nowPresent.append(v.name) }
        }
        run = ScriptRun(context: .session, name: profile.name, now: now, seed: UInt64(bitPattern: device.id))
        run.devices = self
        run.log = { [weak self] in self?.logs.append($0) }

        desiredSkipped = skip.contains(desiredScript)
        if !desiredSkipped {
            for (d, path) in plan.desired {
                guard let path else {
                    failures[desiredScript] = "desired '\(d.name)': unknown alias"
                    continue
                }
                desiredPending.append((d, path))
            }
        }
        kpiPending = plan.kpis
        // Hooks: "inform" every session, the others on their event; then the virtual parameters.
        let due = plan.hooks.filter { h in h.code.map { events.contains($0) } ?? true } + plan.virtuals
        guard due.contains(where: { !skip.contains($0.name) }) else { return }
        let fields = DeviceFields(device: device, now: now)
        shard.vm.lock.lock()
        for h in due where !skip.contains(h.name) {
            let co = shard.vm.makeCoroutine(h.ref, device: fields, handle: Self.handle, extra: [], budget: shard.limits.instructions)
            scripts.append(Script(name: h.name, co: co, state: .runnable(first: true), virtual: h.virtual))
        }
        shard.vm.lock.unlock()
    }

    deinit { close() }

    let desiredScript: String

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
        if !nameReads.isEmpty {
            let (path, owner) = nameReads.removeFirst()
            return issue(.names(path, owner), .getParameterNames(path: path, nextLevel: true))
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
            case .addObject(let path): request = .addObject(objectName: path, parameterKey: "corral-provision")
            case .deleteObject(let path): request = .deleteObject(objectName: path, parameterKey: "corral-provision")
            case .diagnose, .backup:
                // The bridge offers these to campaigns and automations only (queued as tasks).
                return finish()
            }
            return issue(.action(owner, action), request)
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
                if remembered.contains(v.name) { nowPresent.append(v.name) }
            }
            for p in paths {
                // Left out of the answer: missing for this session, not remembered (only a 9005 is proof).
                if p.hasSuffix(".") { freshSubtrees.insert(p) } else if fresh[p] == nil { missing.insert(p); transient.insert(p) }
            }
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
        case (.action(let owner, .addObject(let path)), .addObject(let n, _)):
            pendingAdds[path] = max(0, (pendingAdds[path] ?? 1) - 1)
            // The object's parent subtrees are no longer complete.
            freshSubtrees = freshSubtrees.filter { !path.hasPrefix($0) && !$0.hasPrefix(path) }
            if instanceLists[path] != nil { instanceLists[path] = (instanceLists[path]! + [Int64(n)]).sorted() }
            jobStep(owner, added: Int64(n))
        case (.action(let owner, .deleteObject(let path)), .deleteObject):
            // (Its instance left `instanceLists` when the delete was queued.)
            for k in fresh.keys where k.hasPrefix(path) { fresh[k] = nil }
            freshSubtrees = freshSubtrees.filter { !$0.hasPrefix(path) }
            jobStep(owner, added: nil)
        case (.names(let path, _), .getParameterNames(let infos)):
            instanceLists[path] = LuaConvert.instanceNumbers(path, infos.map(\.name))
            // Every job waiting for this listing plans now (one GetParameterNames per path and session).
            replan(path)
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
                if fault.code != 9005 { transient.insert(p) }
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
        case .action(let owner, let action):
            fail(owner, "CPE fault \(fault.code) \(fault.string)\(Self.describe(action))")
        case .names(let path, let owner):
            fail(owner, "CPE fault \(fault.code) \(fault.string) listing \(path)")
        }
    }

    static func describe(_ a: DeviceAction) -> String {
        switch a {
        case .addObject(let p): " adding an object to \(p)"
        case .deleteObject(let p): " deleting \(p)"
        case .refresh(let p): " reading \(p)"
        default: ""
        }
    }

    // MARK: dev:add and dev:instances

    /// After the instance list of a dev:instances job is known: the adds or deletes it needs, or its answer.
    private func plan(_ owner: Int) {
        guard var job = jobs[owner], let numbers = instanceLists[job.path] else { return }
        let adding = pendingAdds[job.path] ?? 0
        if let count = job.count, count != numbers.count + adding {
            if numbers.count + adding < count {
                for _ in (numbers.count + adding)..<count { actions.append((.addObject(job.path), owner)) }
                job.pending = count - numbers.count - adding
                pendingAdds[job.path, default: 0] += job.pending
            } else if adding > 0 {
                // Another script is adding here: wait for its adds, then plan again.
                job.pending = 0
                jobs[owner] = job
                return
            } else {
                for n in numbers.suffix(numbers.count - count).reversed() { actions.append((.deleteObject("\(job.path)\(n)."), owner)) }
                job.pending = numbers.count - count
                instanceLists[job.path] = Array(numbers.prefix(count))
            }
            jobs[owner] = job
            return
        }
        finishJob(owner, LuaConvert.list(numbers))
    }

    /// Plans the dev:instances jobs on `path` that wait for a listing or for other scripts' adds.
    private func replan(_ path: String, except: Int? = nil) {
        for o in jobs.keys.sorted() where o != except && jobs[o]?.path == path && jobs[o]?.instances == true && jobs[o]?.pending == 0 { plan(o) }
    }

    private func isListing(_ path: String) -> Bool {
        if case .names(let p, _)? = inflight { return p == path }
        return false
    }

    private func jobStep(_ owner: Int, added: Int64?) {
        let path = jobs[owner]?.path
        defer {
            // Jobs that waited for other scripts' adds on the same path plan again once those are done.
            if let path, pendingAdds[path] ?? 0 == 0 { replan(path, except: owner) }
        }
        guard var job = jobs[owner] else { return }
        if !job.instances {
            finishJob(owner, added.map { .int($0) } ?? .null)
            return
        }
        job.pending -= 1
        jobs[owner] = job
        if job.pending <= 0 { finishJob(owner, LuaConvert.list(instanceLists[job.path] ?? [])) }
    }

    private func finishJob(_ owner: Int, _ value: LuaValue) {
        jobs[owner] = nil
        guard scripts.indices.contains(owner), scripts[owner].state == .waitingJob else { return }
        pendingResume[owner] = value
        scripts[owner].state = .runnable(first: false)
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
        switch s { case .runnable, .waiting, .waitingJob: true; default: false }
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
                case .finished(let result):
                    scripts[i].state = .done
                    if let v = scripts[i].virtual { recordVirtual(v, result, owner: i) }
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
            jobs[owner] = nil
            // Its object changes not sent yet go with it (its instance count was not reached anyway).
            actions.removeAll { a in
                guard a.1 == owner else { return false }
                switch a.0 {
                case .addObject(let p):
                    pendingAdds[p] = max(0, (pendingAdds[p] ?? 1) - 1)
                    return true
                case .deleteObject: return true
                default: return false
                }
            }
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

    /// A virtual parameter's value: what its function returned, stored like a parameter read from the CPE.
    private func recordVirtual(_ name: String, _ result: LuaValue, owner: Int) {
        let path = DeviceProfile.virtualRoot + name
        let pv: ParameterValue
        switch result {
        case .null: return
        case .bool(let b): pv = ParameterValue(name: path, value: b ? "true" : "false", type: .boolean)
        case .int(let i): pv = ParameterValue(name: path, value: String(i), type: .int)
        case .number(let d) where d.isFinite: pv = ParameterValue(name: path, value: LuaValue.format(d), type: .string)
        case .string(let t) where t.utf8.count <= 4096: pv = ParameterValue(name: path, value: t, type: .string)
        default:
            fail(owner, "virtual parameter \(name) must return a string (at most 4 KiB), a finite number, a boolean or nil, not \(result.typeName)")
            return
        }
        fresh[path] = Known(value: pv.value, type: pv.type)
        learned.append(pv)
    }

    /// A whole subtree this session read, with the values written since; nil when it was not read whole.
    private func freshSubtree(_ path: String) -> LuaValue? {
        guard freshSubtrees.contains(where: { path.hasPrefix($0) }) else { return nil }
        var values = fresh.filter { $0.key.hasPrefix(path) }.map { ($0.key, $0.value.value, $0.value.type) }
        for (p, w) in writes where p.hasPrefix(path) {
            values.removeAll { $0.0 == p }
            values.append((p, w.0.value, w.0.type))
        }
        return values.isEmpty ? .null : .table(LuaConvert.subtree(path, values))
    }

    private func value(of path: String) -> LuaValue {
        if path.hasSuffix(".") { return missing.contains(path) ? .null : freshSubtree(path) ?? .null }
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
        // Hashing a path is the main cost here: the empty sets and tables of most sessions are not asked.
        desiredPending.removeAll { d, path in
            if path.hasPrefix(DeviceProfile.virtualRoot) {
                fail(Self.desiredOwner, "desired '\(d.name)' is a virtual parameter: its function computes it")
                return true
            }
            if fresh[path] == nil && !missing.isEmpty && missing.contains(path) {
                fail(Self.desiredOwner, "desired '\(d.name)': the device has no \(path)")
                return true
            }
            let current: (String, XSDType)?
            if let k = fresh[path] {
                current = (k.value, k.type)
            } else if let s = lookup(path), s.updatedAt >= verifyCutoff || (ManagementPaths.isSecret(path) && s.updatedAt > 0) {
                current = (s.value, s.type)
            } else {
                requestRead(path, owner: Self.desiredOwner)
                return false
            }
            let type = d.type ?? current?.1 ?? .string
            if let (v, _) = current, LuaConvert.same(v, d.value, type) { return true }
            if !writes.isEmpty, let w = writes[path], LuaConvert.same(w.0.value, d.value, type) { return true }
            addWrite(ParameterValue(name: path, value: d.value, type: type), owner: Self.desiredOwner)
            return true
        }
    }

    private func sampleKPIs() {
        kpiPending.removeAll { name, path in
            guard let k = fresh[path] else {
                if !missing.isEmpty && missing.contains(path) { return true }
                // A virtual parameter is computed by its script in this session, never read from the CPE.
                if path.hasPrefix(DeviceProfile.virtualRoot) { return false }
                requestRead(path, owner: Self.kpiOwner)
                return false
            }
            if let v = Double(k.value), v.isFinite { kpiSamples.append((name, v)) }
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
        if path.hasPrefix(DeviceProfile.virtualRoot) {
            // Computed, never read from the CPE: this session's value if its script ran, else the stored one.
            if let k = fresh[path] { return .value(LuaConvert.value(k.value, k.type)) }
            return .value(lookup(path).map { LuaConvert.value($0.value, $0.type) } ?? .null)
        }
        if path.hasSuffix(".") {
            guard LuaConvert.isObjectPath(path) else { return .error("dev:get: '\(name)' is not an object path") }
            if missing.contains(path) { return .value(.null) }
            if let t = freshSubtree(path) { return .value(t) }
            if let maxAge {
                let stored = lookupSubtree(path)
                if !stored.isEmpty && stored.count <= LuaConvert.maxSubtree && stored.allSatisfy({ now - $0.updatedAt <= maxAge }) {
                    return .value(.table(LuaConvert.subtree(path, stored.map { ($0.path, $0.value, $0.type) })))
                }
            }
            guard let i = current else { return .error("dev:get outside a running script") }
            requestRead(path, owner: i)
            scripts[i].state = .waiting(path)
            return .suspend
        }
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
        guard !path.hasPrefix(DeviceProfile.virtualRoot) else { return "'\(name)' is a virtual parameter: its function computes it" }
        guard !path.hasSuffix(".") else { return "dev:set: '\(name)' is an object path; set its parameters" }
        let known = knownValue(path)
        // The data model is asked only for a parameter never read (the stored type is the CPE's own word).
        switch LuaConvert.parameter(path, value, explicitType: type, storedType: known?.1,
                                    schema: known == nil ? ModelSchemas.shared.definition(kind, path) : nil) {
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
            guard !p.hasPrefix(DeviceProfile.virtualRoot) else { return "'\(name)' is a virtual parameter: its function computes it" }
            a = .refresh(p)
        }
        if case .deleteObject(let name) = action {
            guard let p = profile.path(for: name, kind: kind), LuaConvert.isInstancePath(p) else {
                return "dev:delete: an object instance path (\"Device.WiFi.SSID.3.\")"
            }
            a = .deleteObject(p)
            // Counted as gone at once: a dev:instances later in the session must not see it.
            let parent = Self.parent(p)
            if let n = LuaConvert.instanceNumbers(parent, [p]).first, let list = instanceLists[parent] { instanceLists[parent] = list.filter { $0 != n } }
        }
        if !actions.contains(where: { $0.0 == a }) { actions.append((a, current ?? Self.desiredOwner)) }
        return nil
    }

    public func add(handle: Int, path name: String) -> GetResult {
        guard let path = profile.path(for: name, kind: kind), LuaConvert.isObjectPath(path) else {
            return .error("dev:add: an object path ending in \".\" (\"Device.WiFi.SSID.\")")
        }
        guard let i = current else { return .error("dev:add outside a running script") }
        jobs[i] = Job(path: path, instances: false)
        actions.append((.addObject(path), i))
        pendingAdds[path, default: 0] += 1
        scripts[i].state = .waitingJob
        return .suspend
    }

    public func instances(handle: Int, path name: String, count: Int?) -> GetResult {
        guard let path = profile.path(for: name, kind: kind), LuaConvert.isObjectPath(path) else {
            return .error("dev:instances: an object path ending in \".\" (\"Device.WiFi.SSID.\")")
        }
        if let known = instanceLists[path], pendingAdds[path] ?? 0 == 0, count == nil || count == known.count { return .value(LuaConvert.list(known)) }
        guard let i = current else { return .error("dev:instances outside a running script") }
        jobs[i] = Job(path: path, instances: true, count: count)
        scripts[i].state = .waitingJob
        // Known: plan() queues the adds or deletes; unknown: list the instances first (once per path).
        if instanceLists[path] != nil {
            plan(i)
        } else if !nameReads.contains(where: { $0.0 == path }) && !isListing(path) {
            nameReads.append((path, i))
        }
        return .suspend
    }

    public func hasEvent(handle: Int, _ event: String) -> Bool {
        events.contains(SessionPlan.eventCodes[event] ?? event)
    }

    public func kpi(handle: Int, name: String, window: Int64?) -> GetResult {
        .value(kpiLookup(name, window.map { now - $0 }).map { .number($0) } ?? .null)
    }
}

/// What every session of one profile on one data model starts with, resolved once per shard: the desired values'
/// and KPIs' paths, the hooks' event codes, script names and function references.
final class SessionPlan {
    struct Hook {
        /// The Inform event that runs it; nil: every session ("inform", virtual parameters).
        let code: String?
        let name: String
        let ref: Int32
        let virtual: String?
    }
    let desiredScript: String
    /// Desired values with their paths (nil: an alias the profile does not resolve).
    let desired: [(DesiredValue, String?)]
    let kpis: [(String, String)]
    let hooks: [Hook]
    let virtuals: [Hook]

    static let eventCodes: [String: String] = ["bootstrap": EventCode.bootstrap, "boot": EventCode.boot, "periodic": "2 PERIODIC",
                                               "value_change": "4 VALUE CHANGE", "connection_request": "6 CONNECTION REQUEST",
                                               "transfer_complete": EventCode.transferComplete, "diagnostics_complete": EventCode.diagnosticsComplete,
                                               "reboot": EventCode.mReboot, "download": EventCode.mDownload]

    init(profile: DeviceProfile, kind: DataModelKind, refs: [String: Int32]) {
        desiredScript = "\(profile.name):desired"
        // Built-in: the profile's desired values, with the periodic inform settings every profile keeps.
        var d = profile.desired
        d.append(DesiredValue(name: "ManagementServer.PeriodicInformEnable", value: "true", type: .boolean))
        d.append(DesiredValue(name: "ManagementServer.PeriodicInformInterval", value: String(profile.informInterval), type: .unsignedInt))
        desired = d.map { ($0, profile.path(for: $0.name, kind: kind)) }
        kpis = profile.kpis.compactMap { k in profile.path(for: k, kind: kind).map { (k, $0) } }
        hooks = ProfileParser.hookEvents.compactMap { event in
            refs[event].map { Hook(code: event == "inform" ? nil : (Self.eventCodes[event] ?? ""), name: "\(profile.name):\(event)", ref: $0, virtual: nil) }
        }
        virtuals = profile.virtuals.compactMap { v in
            refs[ProfileParser.virtualHook(v)].map { Hook(code: nil, name: "\(profile.name):virtual:\(v)", ref: $0, virtual: v) }
        }
    }
}

/// One Lua state with every profile loaded, shared by the sessions that hash to it (under its lock).
public final class ScriptShard: @unchecked Sendable {
    let vm: LuaVM
    let hooks: [String: [String: Int32]]
    let limits: ScriptLimits
    private let planLock = NSLock()
    private var plans: [String: SessionPlan] = [:]

    init(library: ProfileLibrary, limits: ScriptLimits) {
        vm = LuaVM()
        hooks = library.installHooks(into: vm)
        self.limits = limits
    }

    /// The plan of a profile's sessions (profiles do not change within an engine: a reload builds a new one).
    func plan(for profile: DeviceProfile, kind: DataModelKind) -> SessionPlan {
        let key = profile.name + "|" + kind.rawValue
        return planLock.withLock {
            if let p = plans[key] { return p }
            let p = SessionPlan(profile: profile, kind: kind, refs: hooks[profile.name] ?? [:])
            plans[key] = p
            return p
        }
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
    /// `absent`: paths the device lacked in earlier sessions of its firmware (not probed again).
    public func session(device: Device, profile: DeviceProfile, kind: DataModelKind, events: [String], informValues: [ParameterValue],
                        now: Int64, skip: Set<String>, absent: Set<String> = [], lookup: @escaping (String) -> StoredParameter?,
                        subtree: @escaping (String) -> [StoredParameter] = { _ in [] },
                        kpi: @escaping (String, Int64?) -> Double?) -> ProvisioningSession {
        let shard = shards[Int(UInt64(bitPattern: device.id) % UInt64(shards.count))]
        return ProvisioningSession(device: device, profile: profile, kind: kind, events: events, informValues: informValues, now: now,
                                   skip: skip, shard: shard, absent: absent, lookup: lookup, subtree: subtree, kpi: kpi)
    }
}
