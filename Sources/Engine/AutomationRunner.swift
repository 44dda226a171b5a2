import ACSCore
import Foundation
import Scripting
import Storage

/// Runs the automation files (`<scripts_dir>/automations/*.lua`): each persisted event goes to the handlers of its
/// kind whose filter matches, in event order; `every()` handlers run on their schedule; `alert{}` rules are evaluated
/// every `alertInterval` (AlertEvaluator), with the sweep that records `device.offline`. A handler's tasks and
/// effects are written with the record of its run in one transaction, so a restart re-runs a handler whose outcome
/// was not stored but never applies it twice. Lua runs on the scripts pool.
public final class AutomationRunner: @unchecked Sendable {
    public struct Status: Sendable {
        public var file: String
        public var handlers: [String]
        /// The file's alert rules: "name: condition for 30m (major)".
        public var alerts: [String]
        /// Why the file or one of its handlers is off; empty while all run.
        public var problems: [String]
    }

    let store: AutomationStore
    /// The files as loaded now (replaced by `reload`), with the text each was loaded from.
    private var scripts: [AutomationScript]
    private var texts: [String: String]
    private var loadProblems: [(String, String)]
    let log: Log
    let tick: Double
    let alertsEvaluator: AlertEvaluator
    /// Where the files are (`automations_dir`), and where `start_campaign(file)` finds its files.
    public let directory: String?
    let campaignsDirectory: String?
    private var registry: ProfileRegistry
    private let lock = NSLock()
    private var failures: [String: Int] = [:]
    private var runsOK = 0
    private var runsFailed = 0
    private var lastFailure: String?
    private var disabled: [String: String] = [:]
    private var loop: Task<Void, Never>?
    /// Events older than this when the runner starts are skipped, not run: an automation added today does not fire
    /// for the boots of last month that no handler was waiting for (sessions write events whether or not any runs).
    static let maxEventAgeAtStart: Int64 = 3600
    private let startedAt = Int64(Date().timeIntervalSince1970)
    /// A handler that fails this many times in a row is switched off until the next start (its reason is shown).
    static let maxConsecutiveFailures = 5

    /// Told which event kinds handlers listen to (sessions write `kpi` events only then).
    let interest: EventInterest

    public init(directory: String?, store: AutomationStore, registry: ProfileRegistry, campaignsDirectory: String? = nil,
                interest: EventInterest = EventInterest(), log: Log = Log(label: "automation"), tick: Double = 1, alertInterval: Int64 = 30) {
        self.store = store; self.log = log; self.tick = tick; self.registry = registry; self.campaignsDirectory = campaignsDirectory
        self.interest = interest
        self.directory = directory
        let loaded = Self.load(directory: directory, store: store, registry: registry, running: [:], log: log)
        scripts = loaded.scripts
        texts = loaded.texts
        loadProblems = loaded.problems
        alertsEvaluator = AlertEvaluator(store: store, rules: loaded.rules, interval: alertInterval, log: log)
        interest.set(Self.kinds(loaded.scripts))
    }

    static func kinds(_ scripts: [AutomationScript]) -> Set<String> {
        Set(scripts.flatMap { $0.handlers.compactMap { h -> String? in if case .event(let k, _) = h.trigger { k } else { nil } } })
    }

    struct Loaded {
        var scripts: [AutomationScript] = []
        var texts: [String: String] = [:]
        var problems: [(String, String)] = []
        var rules: [AlertRule] = []
        /// Files whose new text was refused (the version in `running` stays).
        var refused: [String] = []
    }

    /// The `.lua` files of a directory (at most 200, each at most 256 KiB), by name.
    static func files(_ directory: String?) -> [(String, Result<String, ScriptError>)] {
        let names = directory.flatMap { try? FileManager.default.contentsOfDirectory(atPath: $0) }?.filter { $0.hasSuffix(".lua") }.sorted() ?? []
        return names.prefix(200).map { f in
            let path = (directory! as NSString).appendingPathComponent(f)
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return (f, .failure(ScriptError(.invalid, "\(f): not readable as UTF-8 text"))) }
            guard text.utf8.count <= 256 << 10 else { return (f, .failure(ScriptError(.invalid, "\(f): larger than 256 KiB"))) }
            return (f, .success(text))
        }
    }

    /// Loads every file. `running`: what runs now (file -> text, script); a file whose new text does not load keeps
    /// its running version, and one whose text did not change is kept as it is (its Lua state and handler state).
    /// `force`: load unchanged files again too (the profiles changed: aliases resolve at load).
    static func load(directory: String?, store: AutomationStore, registry: ProfileRegistry, running: [String: (String, AutomationScript)],
                     force: Bool = false, log: Log) -> Loaded {
        var out = Loaded()
        for (f, read) in files(directory) {
            do {
                let text = try read.get()
                if let (old, script) = running[f], old == text, !force {
                    out.scripts.append(script)
                } else {
                    out.scripts.append(try AutomationScript(source: text, name: f, store: store, registry: registry, now: Int64(Date().timeIntervalSince1970)))
                }
                out.texts[f] = text
            } catch {
                if let (old, script) = running[f] {
                    out.scripts.append(script)
                    out.texts[f] = old
                    out.refused.append(f)
                    out.problems.append((f, "the new version was refused, the previous one keeps running: \(error)"))
                    log.error("automation \(f): new version refused, the previous one keeps running: \(error)")
                } else {
                    // A broken file is off, with its reason; the others run.
                    out.problems.append((f, "\(error)"))
                    log.error("automation \(f) is disabled: \(error)")
                }
            }
        }
        // An alert name belongs to one rule: a second declaration elsewhere is refused (its file keeps its other parts).
        var owners: [String: String] = [:]
        for s in out.scripts {
            for r in s.alerts {
                if let first = owners[r.name] {
                    out.problems.append((s.name, "alert '\(r.name)' is already declared in \(first): this one is ignored"))
                    continue
                }
                owners[r.name] = s.name
                out.rules.append(r)
            }
        }
        for s in out.scripts { s.setRuleNames(Set(owners.keys)) }
        return out
    }

    /// The files' texts as loaded now (versions are recorded from them).
    public var loadedTexts: [String: String] { lock.withLock { texts } }

    /// Loads the directory again with `registry` (profiles may have changed too) and installs what loads: changed
    /// files start afresh (their failure counts too), unchanged ones keep running as they are, a file whose new text
    /// fails keeps its previous version. Returns the files that changed and the problems.
    public func reload(registry: ProfileRegistry) -> (changed: [String], problems: [String]) {
        let (running, profilesChanged) = lock.withLock { () -> ([String: (String, AutomationScript)], Bool) in
            let r = Dictionary(scripts.map { ($0.name, (texts[$0.name] ?? "", $0)) }, uniquingKeysWith: { a, _ in a })
            return (r, registry.profiles != self.registry.profiles)
        }
        // Aliases resolve at load: with other profiles, every file loads again (and keeps running as it was if it fails).
        let loaded = Self.load(directory: directory, store: store, registry: registry, running: running, force: profilesChanged, log: log)
        let before = lock.withLock { texts }
        let changed = Set(before.keys).union(loaded.texts.keys).filter { before[$0] != loaded.texts[$0] && !loaded.refused.contains($0) }.sorted()
        lock.withLock {
            scripts = loaded.scripts
            texts = loaded.texts
            loadProblems = loaded.problems
            self.registry = registry
            for f in changed {
                failures = failures.filter { !$0.key.hasPrefix(f + "#") }
                disabled = disabled.filter { !$0.key.hasPrefix(f + "#") }
            }
        }
        alertsEvaluator.setRules(loaded.rules)
        interest.set(Self.kinds(loaded.scripts))
        return (changed, loaded.problems.map { "\($0.0): \($0.1)" })
    }

    public var statuses: [Status] {
        let evaluatorProblems = alertsEvaluator.problems
        return lock.withLock {
            scripts.map { s in
                Status(file: s.name, handlers: s.handlers.map(\.label),
                       alerts: s.alerts.map { "\($0.name): \($0.condition)\($0.hold > 0 ? " for \($0.hold) s" : "") (\($0.severity.rawValue))" },
                       problems: s.handlers.compactMap { h in disabled[h.key].map { "\(h.label): \($0)" } }
                           + loadProblems.filter { $0.0 == s.name }.map(\.1)
                           + evaluatorProblems.filter { p in s.alerts.contains { $0.name == p.0 } }.map(\.1))
            } + loadProblems.filter { p in !scripts.contains { $0.name == p.0 } }.map { Status(file: $0.0, handlers: [], alerts: [], problems: [$0.1]) }
        }
    }

    /// The last handler failure ("file#n (on kind): message"), nil when none failed.
    public var lastError: String? { lock.withLock { lastFailure } }

    /// Handler runs since start, and the alert rules' transitions (for /metrics).
    public var runCounts: (ok: Int, failed: Int, alertsRaised: Int, alertsCleared: Int) {
        let (raised, cleared) = alertsEvaluator.transitions
        return lock.withLock { (runsOK, runsFailed, raised, cleared) }
    }

    /// The loop always runs: it also records `device.offline` events, which the device pages show.
    /// Steps only while `leader` says this node leads (one node of a cluster handles the events).
    public func start(leader: Leadership = .always) {
        loop = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                if leader.isLeader { await withTaskExecutorPreference(Executors.scripts) { await self.step(now: Int64(Date().timeIntervalSince1970)) } }
                try? await Task.sleep(for: .milliseconds(Int(self.tick * 1000)))
            }
        }
    }

    public func stop() async {
        loop?.cancel()
        _ = await loop?.value
        loop = nil
    }

    /// Passes until no event is pending (benchmarks, `corral script test`); returns the passes made.
    @discardableResult
    public func drain(now: Int64, maxPasses: Int = 100_000) async throws -> Int {
        var passes = 0
        while passes < maxPasses, !(try store.pendingEvents(limit: 1).isEmpty) {
            await step(now: now, schedules: false)
            passes += 1
        }
        return passes
    }

    /// One pass: due schedules, the alert rules and offline sweep when due, then up to 200 pending events.
    /// `schedules`: false leaves the `every()` handlers alone (tests of event handlers); true (tests) runs them all now.
    func step(now: Int64, schedules: Bool? = nil) async {
        let scripts = lock.withLock { self.scripts }
        do {
            if schedules != false { try await runSchedules(scripts, now: now, all: schedules == true) }
            try await alertsEvaluator.passIfDue(now: now)
            try await runEvents(scripts, now: now)
        } catch {
            log.error("automations: \(error)")
        }
    }

    private func runSchedules(_ scripts: [AutomationScript], now: Int64, all: Bool = false) async throws {
        guard scripts.contains(where: { $0.handlers.contains { if case .event = $0.trigger { false } else { true } } }) else { return }
        let last = try store.scheduleRuns()
        for s in scripts {
            for h in s.handlers where !isDisabled(h) {
                switch h.trigger {
                case .every(let seconds):
                    guard all || now - (last[h.key] ?? 0) >= seconds else { continue }
                case .cron(let cron):
                    // Never ran: the schedule counts from when its file was loaded (a new "0 3 * * *" waits for 03:00).
                    guard all || (cron.next(after: last[h.key] ?? s.loadedAt - 60).map { $0 <= now } ?? false) else { continue }
                case .event:
                    continue
                }
                let (outcome, error) = outcome(s, h, device: nil, event: nil, depth: 0, now: now)
                try await store.apply([.automation(.scheduleRun(handler: h.key, at: now, tasks: tasks(outcome, now), effects: outcome.effects, error: error))])
                await startCampaigns(outcome, tag: "automation \(h.key) at \(now)", now: now)
            }
        }
    }

    private func runEvents(_ scripts: [AutomationScript], now: Int64) async throws {
        let events = try store.pendingEvents(limit: 200)
        guard !events.isEmpty else { return }
        let kinds = Self.kinds(scripts)
        // Events no handler waits for, and stale ones, are marked in one write.
        let (skip, run) = events.reduce(into: ([EventRecord](), [EventRecord]())) { acc, e in
            if kinds.contains(e.kind) && e.at >= startedAt - Self.maxEventAgeAtStart { acc.1.append(e) } else { acc.0.append(e) }
        }
        if !skip.isEmpty { try await store.apply(skip.map { .automation(.eventHandled(id: $0.id, at: now)) }) }
        let recorded = try store.automationRuns(eventIDs: run.map(\.id))
        for e in run {
            let device = try e.deviceID.flatMap { try store.device(id: $0) }
            let (table, data, depth) = Self.table(e)
            var writes: [StoreWrite] = []
            var started: [(AutomationScript.Outcome, String)] = []
            for s in scripts {
                for h in s.handlers {
                    guard case .event(let kind, _) = h.trigger, kind == e.kind, !isDisabled(h),
                          recorded[e.id]?.contains(h.key) != true else { continue }
                    // Custom events may concern no device; the engine's all do (one deleted meanwhile has nobody to act on).
                    if e.deviceID != nil {
                        guard let device, h.matches(device, data: data) else { continue }
                    } else if !h.isUnfiltered { continue }
                    let (outcome, error) = outcome(s, h, device: device, event: table, depth: depth, now: now)
                    writes.append(.automation(.automationRun(eventID: e.id, handler: h.key, at: now, tasks: tasks(outcome, now),
                                                             effects: outcome.effects, error: error)))
                    started.append((outcome, "automation \(h.key) event \(e.id)"))
                }
            }
            writes.append(.automation(.eventHandled(id: e.id, at: now)))
            try await store.apply(writes)
            for (o, tag) in started { await startCampaigns(o, tag: tag, now: now) }
        }
    }

    private func tasks(_ o: AutomationScript.Outcome, _ now: Int64) -> [DeviceTask] {
        o.tasks.flatMap { id, kinds in kinds.map { DeviceTask(deviceID: id, kind: $0, createdAt: now, updatedAt: now) } }
    }

    /// Starts the campaigns a stored run asked for. `tag` names the run: a campaign already started under it (the run
    /// was re-done after a restart) is not started again.
    private func startCampaigns(_ o: AutomationScript.Outcome, tag: String, now: Int64) async {
        for c in o.campaigns {
            do {
                guard let dir = campaignsDirectory else { throw ScriptError(.invalid, "no campaigns directory") }
                if try store.campaigns(states: CampaignState.allCases).contains(where: { $0.createdBy == tag }) { continue }
                let path = (dir as NSString).appendingPathComponent(c.file)
                guard let source = try? String(contentsOfFile: path, encoding: .utf8) else { throw ScriptError(.invalid, "cannot read \(path)") }
                let p = try CampaignService(store: store, registry: lock.withLock { registry }).prepare(source: source, name: c.file, now: now, createdBy: tag)
                var record = p.record
                if !c.name.isEmpty { record.name = c.name }
                let saved = try await store.createCampaign(record, targets: p.targets)
                try await store.apply([EngineEvents.campaign("started", saved, now: now)])
                log.info("\(tag) started campaign \(saved.id) (\(c.file), \(p.targets.count) devices)")
            } catch {
                log.error("\(tag): start_campaign(\"\(c.file)\") failed: \(error)")
            }
        }
    }

    /// Runs one handler: what it asks for, or the error (logged, counted; five in a row switch it off).
    private func outcome(_ s: AutomationScript, _ h: AutomationHandler, device: Device?, event: LuaTable?, depth: Int,
                         now: Int64) -> (AutomationScript.Outcome, String) {
        do {
            let o = try s.run(h, device: device, event: event, depth: depth, now: now)
            lock.withLock { failures[h.key] = 0; runsOK += 1 }
            return (o, "")
        } catch {
            let message = "\(error)"
            let off = lock.withLock { () -> Bool in
                failures[h.key, default: 0] += 1
                runsFailed += 1
                lastFailure = "\(h.key) (\(h.label)): \(message)"
                guard failures[h.key]! >= Self.maxConsecutiveFailures else { return false }
                disabled[h.key] = "switched off after \(Self.maxConsecutiveFailures) failures in a row; last: \(message)"
                return true
            }
            log.error("automation \(h.key) (\(h.label)) failed\(off ? " and is switched off" : ""): \(message)")
            return (AutomationScript.Outcome(), message)
        }
    }

    private func isDisabled(_ h: AutomationHandler) -> Bool { lock.withLock { disabled[h.key] != nil } }

    /// The event as the handler's second argument ({id, kind, at, data = {...}}), its data as text for filters, and
    /// how many emitted events led to it.
    static func table(_ e: EventRecord) -> (LuaTable, [String: String], Int) {
        var t = LuaTable()
        t.fields = ["id": .int(e.id), "kind": .string(e.kind), "at": .int(e.at)]
        var data = LuaTable()
        var text: [String: String] = [:]
        var depth = 0
        if let object = (try? JSONSerialization.jsonObject(with: Data(e.data.utf8))) as? [String: Any] {
            for (k, v) in object.sorted(by: { $0.key < $1.key }) {
                if k == "_depth" { depth = (v as? NSNumber)?.intValue ?? 0; continue }
                switch v {
                // JSON booleans come back as NSNumbers of type char.
                case let n as NSNumber where n.objCType.pointee == 0x63: data.fields[k] = .bool(n.boolValue)
                case let n as NSNumber: data.fields[k] = n.doubleValue == n.doubleValue.rounded() && abs(n.doubleValue) < 9e15 ? .int(n.int64Value) : .number(n.doubleValue)
                case let s as String: data.fields[k] = .string(s); text[k] = s
                default: continue
                }
                data.keys.append(k)
            }
        }
        t.fields["data"] = .table(data)
        t.keys = ["id", "kind", "at", "data"]
        return (t, text, depth)
    }
}
