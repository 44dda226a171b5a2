import ACSCore
import Foundation
import Scripting
import Storage

/// Runs the automation files (`<scripts_dir>/automations/*.lua`): each persisted event goes to the handlers of its
/// kind whose filter the device matches, in event order; `every()` handlers run on their schedule. A handler's
/// device actions become tasks, written with the record of its run in one transaction, so a restart re-runs a
/// handler whose outcome was not stored but never queues its tasks twice. Lua runs on the scripts pool.
public final class AutomationRunner: @unchecked Sendable {
    public struct Status: Sendable {
        public var file: String
        public var handlers: [String]
        /// Why the file or one of its handlers is off; empty while all run.
        public var problems: [String]
    }

    let store: AutomationStore
    let scripts: [AutomationScript]
    let loadProblems: [(String, String)]
    let log: Log
    let tick: Double
    private let lock = NSLock()
    private var failures: [String: Int] = [:]
    private var disabled: [String: String] = [:]
    private var loop: Task<Void, Never>?
    /// Events older than this when the runner starts are skipped, not run: an automation added today does not fire
    /// for the boots of last month that no handler was waiting for (sessions write events whether or not any runs).
    static let maxEventAgeAtStart: Int64 = 3600
    private let startedAt = Int64(Date().timeIntervalSince1970)
    /// A handler that fails this many times in a row is switched off until the next start (its reason is shown).
    static let maxConsecutiveFailures = 5

    public init(directory: String?, store: AutomationStore, registry: ProfileRegistry, log: Log = Log(label: "automation"), tick: Double = 1) {
        self.store = store; self.log = log; self.tick = tick
        var scripts: [AutomationScript] = []
        var problems: [(String, String)] = []
        let files = directory.flatMap { try? FileManager.default.contentsOfDirectory(atPath: $0) }?.filter { $0.hasSuffix(".lua") }.sorted() ?? []
        for f in files.prefix(200) {
            let path = (directory! as NSString).appendingPathComponent(f)
            do {
                let source = try String(contentsOfFile: path, encoding: .utf8)
                guard source.utf8.count <= 256 << 10 else { throw ScriptError(.invalid, "\(f): larger than 256 KiB") }
                scripts.append(try AutomationScript(source: source, name: f, store: store, registry: registry, now: Int64(Date().timeIntervalSince1970)))
            } catch {
                // A broken file is off, with its reason; the others run.
                problems.append((f, "\(error)"))
                log.error("automation \(f) is disabled: \(error)")
            }
        }
        self.scripts = scripts
        loadProblems = problems
    }

    public var statuses: [Status] {
        lock.withLock {
            scripts.map { s in
                Status(file: s.name, handlers: s.handlers.map(\.label), problems: s.handlers.compactMap { h in disabled[h.key].map { "\(h.label): \($0)" } })
            } + loadProblems.map { Status(file: $0.0, handlers: [], problems: [$0.1]) }
        }
    }

    public func start() {
        guard !scripts.isEmpty else { return }
        loop = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                await withTaskExecutorPreference(Executors.scripts) { await self.step(now: Int64(Date().timeIntervalSince1970)) }
                try? await Task.sleep(for: .milliseconds(Int(self.tick * 1000)))
            }
        }
    }

    public func stop() async {
        loop?.cancel()
        _ = await loop?.value
        loop = nil
    }

    /// One pass: due schedules, then up to 200 pending events.
    func step(now: Int64) async {
        do {
            try await runSchedules(now: now)
            try await runEvents(now: now)
        } catch {
            log.error("automations: \(error)")
        }
    }

    private func runSchedules(now: Int64) async throws {
        guard scripts.contains(where: { $0.handlers.contains { if case .every = $0.trigger { true } else { false } } }) else { return }
        let last = try store.scheduleRuns()
        for s in scripts {
            for h in s.handlers {
                guard case .every(let seconds) = h.trigger, !isDisabled(h), now - (last[h.key] ?? 0) >= seconds else { continue }
                let (tasks, error) = outcome(s, h, device: nil, event: nil, now: now)
                try await store.apply([.automation(.scheduleRun(handler: h.key, at: now, tasks: tasks, error: error))])
            }
        }
    }

    private func runEvents(now: Int64) async throws {
        let events = try store.pendingEvents(limit: 200)
        guard !events.isEmpty else { return }
        let kinds = Set(scripts.flatMap { $0.handlers.compactMap { h -> String? in if case .event(let k, _) = h.trigger { k } else { nil } } })
        // Events no handler waits for, and stale ones, are marked in one write.
        let (skip, run) = events.reduce(into: ([EventRecord](), [EventRecord]())) { acc, e in
            if kinds.contains(e.kind) && e.at >= startedAt - Self.maxEventAgeAtStart { acc.1.append(e) } else { acc.0.append(e) }
        }
        if !skip.isEmpty { try await store.apply(skip.map { .automation(.eventHandled(id: $0.id, at: now)) }) }
        let recorded = try store.automationRuns(eventIDs: run.map(\.id))
        for e in run {
            let device = try e.deviceID.flatMap { try store.device(id: $0) }
            var writes: [StoreWrite] = []
            for s in scripts {
                for h in s.handlers {
                    guard case .event(let kind, _) = h.trigger, kind == e.kind, !isDisabled(h),
                          recorded[e.id]?.contains(h.key) != true else { continue }
                    // Every event kind concerns a device; one deleted meanwhile has nobody to act on.
                    guard let device, h.matches(device) else { continue }
                    let (tasks, error) = outcome(s, h, device: device, event: Self.table(e), now: now)
                    writes.append(.automation(.automationRun(eventID: e.id, handler: h.key, at: now, tasks: tasks, error: error)))
                }
            }
            writes.append(.automation(.eventHandled(id: e.id, at: now)))
            try await store.apply(writes)
        }
    }

    /// Runs one handler: the tasks it queues, or the error (logged, counted; five in a row switch it off).
    private func outcome(_ s: AutomationScript, _ h: AutomationHandler, device: Device?, event: LuaTable?, now: Int64) -> ([DeviceTask], String) {
        do {
            let tasks = try s.run(h, device: device, event: event, now: now).flatMap { id, kinds in
                kinds.map { DeviceTask(deviceID: id, kind: $0, createdAt: now, updatedAt: now) }
            }
            lock.withLock { failures[h.key] = 0 }
            return (tasks, "")
        } catch {
            let message = "\(error)"
            let off = lock.withLock { () -> Bool in
                failures[h.key, default: 0] += 1
                guard failures[h.key]! >= Self.maxConsecutiveFailures else { return false }
                disabled[h.key] = "switched off after \(Self.maxConsecutiveFailures) failures in a row; last: \(message)"
                return true
            }
            log.error("automation \(h.key) (\(h.label)) failed\(off ? " and is switched off" : ""): \(message)")
            return ([], message)
        }
    }

    private func isDisabled(_ h: AutomationHandler) -> Bool { lock.withLock { disabled[h.key] != nil } }

    /// The event as the handler's second argument: {id, kind, at, data = {...}}.
    static func table(_ e: EventRecord) -> LuaTable {
        var t = LuaTable()
        t.fields = ["id": .int(e.id), "kind": .string(e.kind), "at": .int(e.at)]
        var data = LuaTable()
        if let object = (try? JSONSerialization.jsonObject(with: Data(e.data.utf8))) as? [String: Any] {
            for (k, v) in object.sorted(by: { $0.key < $1.key }) {
                switch v {
                case let n as NSNumber: data.fields[k] = n.doubleValue == n.doubleValue.rounded() ? .int(n.int64Value) : .number(n.doubleValue)
                case let s as String: data.fields[k] = .string(s)
                default: continue
                }
                data.keys.append(k)
            }
        }
        t.fields["data"] = .table(data)
        t.keys = ["id", "kind", "at", "data"]
        return t
    }
}
