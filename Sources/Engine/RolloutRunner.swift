import ACSCore
import Foundation
import NIOConcurrencyHelpers
import Storage

/// Runs firmware rollouts: every `tick` seconds it resolves the devices whose download is under way, stops a
/// rollout whose failure rate passed its limit, moves to the next wave when the current one succeeded, and queues
/// downloads (up to the concurrency, inside the window) for the devices whose turn it is, waking them. Everything it
/// knows is in the store, so a restart resumes where it was.
public final class RolloutRunner: @unchecked Sendable {
    let store: OperatorStore
    let log: Log
    let tick: Double
    let wake: @Sendable (Device) async -> Void
    /// The loaded profiles (which devices take a ScheduleDownload).
    let profiles: @Sendable () -> ProfileRegistry
    /// The URL a CPE downloads a stored file from (the API knows the operator port's public address).
    public let fileURL = NIOLockedValueBox<(@Sendable (StoredFile) -> String)?>(nil)
    /// Seconds a queued download may wait for its device before the device counts as offline (tests shorten it).
    public var unreachableAfter = RolloutRules.unreachableAfter
    /// First retry delay for offline devices (doubling to 6 h).
    public var retryBase: Int64 = 300
    private var loop: Task<Void, Never>?

    public init(store: OperatorStore, log: Log = Log(label: "rollout"), tick: Double = 5, profiles: @escaping @Sendable () -> ProfileRegistry = { ProfileRegistry() },
                wake: @escaping @Sendable (Device) async -> Void = { try? await ConnectionRequester.send(to: $0) }) {
        self.store = store; self.log = log; self.tick = tick; self.profiles = profiles; self.wake = wake
    }

    /// Steps only while `leader` says this node leads (one node of a cluster runs rollouts).
    public func start(leader: Leadership = .always) {
        loop = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                if leader.isLeader { await self.step(now: Int64(Date().timeIntervalSince1970)) }
                try? await Task.sleep(for: .milliseconds(Int(self.tick * 1000)))
            }
        }
    }

    public func stop() async {
        loop?.cancel()
        _ = await loop?.value
        loop = nil
    }

    /// One pass over the active rollouts. Serial (the loop calls it).
    public func step(now: Int64) async {
        do {
            for r in try store.activeRollouts() {
                do {
                    try await advance(r, now: now)
                } catch {
                    log.error("rollout \(r.id) step failed: \(error)")
                }
            }
        } catch {
            log.error("rollout step failed: \(error)")
        }
    }

    private func advance(_ rollout: Rollout, now: Int64) async throws {
        var r = rollout
        let zone = TimeZone(identifier: r.timeZone) ?? TimeZone(identifier: "UTC")!
        let deviceLocal = r.timeZone == RolloutRules.deviceTime
        let window = r.window?.check(at: now, zone: zone) ?? (open: true, opensAt: now)
        // With "device", each device's window by its own clock (its Informs' UTC offset; unknown: UTC).
        func windowOf(_ device: Device?) -> (open: Bool, opensAt: Int64) {
            guard deviceLocal, let w = r.window else { return window }
            return w.check(at: now, deviceOffsetMinutes: device?.utcOffsetMinutes)
        }

        // 1. Devices under way.
        var changed: [RolloutDevice] = []
        var cancelTasks: [DeviceTask] = []
        var events: [StoreWrite] = []
        for var d in try store.rolloutDevices(rolloutID: r.id, states: [.sent], maxWave: .max, dueBy: nil, limit: 100_000) {
            let task = try d.taskID.flatMap { try store.task(id: $0) }
            let device = try store.device(id: d.deviceID)
            var outcome = RolloutRules.resolve(d, task: task, softwareVersion: device?.softwareVersion ?? "", lastBoot: device?.lastBoot ?? 0,
                                               version: r.version, now: now, unreachableAfter: unreachableAfter)
            let own = windowOf(device)
            if outcome == nil, !own.open, task?.state == .pending { outcome = .retry("the window closed before it fetched the image") }
            guard let outcome else { continue }
            switch outcome {
            case .upgraded:
                d.state = .upgraded; d.reason = ""
            case .failed(let why):
                d.state = .failed; d.reason = why
                events.append(EngineEvents.event("firmware.failed", d.deviceID, now, ["rollout_id": r.id, "version": r.version, "reason": why]))
            case .retry(let why):
                if var t = task, t.state == .pending {
                    t.state = .cancelled; t.updatedAt = now
                    cancelTasks.append(t)
                }
                d.state = .pending; d.reason = why; d.taskID = nil
                d.nextAt = own.open ? now + RolloutRules.backoff(attempts: d.attempts, base: retryBase) : own.opensAt
            }
            changed.append(d)
        }
        if !cancelTasks.isEmpty { try await store.apply(cancelTasks.map { .updateTask($0) }) }
        try await store.updateRolloutDevices(changed)

        // 2. Stop on failures; next wave when this one is through.
        let counts = try store.rolloutCounts(rolloutID: r.id)
        var total = RolloutRules.Tally()
        var upToWave = RolloutRules.Tally()
        for (wave, t) in counts {
            for (s, n) in t.byState {
                total.byState[s, default: 0] += n
                if wave <= r.wave { upToWave.byState[s, default: 0] += n }
            }
        }
        // The failure rate of this wave (an earlier wave's successes do not dilute a later one's failures), since
        // an operator last resumed it.
        let thisWave = RolloutRules.sinceResume(counts[r.wave] ?? RolloutRules.Tally(), failedBase: r.failedBase, attemptedBase: r.attemptedBase)
        let deferred = try store.rolloutDeferred(rolloutID: r.id, maxWave: r.wave, minAttempts: RolloutRules.deferAfterAttempts)
        let waveComplete = upToWave[.sent] == 0 && upToWave[.pending] == deferred
        let state = r.state
        if state == .running, RolloutRules.tooManyFailures(thisWave, maxRate: r.maxFailureRate, waveComplete: waveComplete) {
            r.state = .stopped
            r.reason = "failure rate \(Self.percent(thisWave.failureRate)) in wave \(r.wave + 1) over the limit of \(Self.percent(r.maxFailureRate)) "
                + "(\(thisWave[.failed]) failed of \(thisWave.attempted))"
            r.updatedAt = now
            if try await store.updateRollout(r, expecting: state) {
                events.append(EngineEvents.rollout("rollout.stopped", r, now: now, ["failed": thisWave[.failed], "upgraded": thisWave[.upgraded]]))
                log.error("rollout \(r.id) to \(r.version) stopped: \(r.reason)")
            }
        } else if state == .running, waveComplete {
            if r.wave + 1 < r.waves.count {
                r.wave += 1
                r.failedBase = 0; r.attemptedBase = 0
                r.updatedAt = now
                if try await store.updateRollout(r, expecting: state) {
                    events.append(EngineEvents.rollout("rollout.wave", r, now: now, ["upgraded": total[.upgraded], "failed": total[.failed]]))
                    log.info("rollout \(r.id) to \(r.version): wave \(r.wave + 1) of \(r.waves.count)")
                }
            } else if total[.pending] == 0 && total[.sent] == 0 {
                r.state = .finished
                r.reason = "\(total[.upgraded]) upgraded, \(total[.failed]) failed, \(total[.skipped]) already on \(r.version)"
                r.updatedAt = now
                if try await store.updateRollout(r, expecting: state) {
                    events.append(EngineEvents.rollout("rollout.finished", r, now: now, ["upgraded": total[.upgraded], "failed": total[.failed]]))
                    log.info("rollout \(r.id) to \(r.version) finished: \(r.reason)")
                }
            }
        }
        if !events.isEmpty { try await store.apply(events) }

        // 3. Queue downloads for the devices whose turn it is, if it is still running (an operator may have paused
        // or cancelled it during this pass, from this process or another).
        guard let current = try store.rollout(id: r.id), current.state == .running, current.wave == r.wave, deviceLocal || window.open else { return }
        let room = r.concurrency - total[.sent]
        guard room > 0 else { return }
        let due = try store.rolloutDevices(rolloutID: r.id, states: [.pending], maxWave: r.wave, dueBy: now, limit: room)
        guard !due.isEmpty else { return }
        let image = try store.file(id: r.fileID)
        guard let urlFor = fileURL.withLockedValue({ $0 }), let image else {
            log.error("rollout \(r.id): \(image == nil ? "its image \(r.fileID) is gone" : "no download URL (the API is not mounted)")")
            return
        }
        let url = urlFor(image)
        let registry = profiles()
        var toWake: [Device] = []
        for var d in due {
            guard let device = try store.device(id: d.deviceID) else {
                d.state = .cancelled; d.reason = "the device was deleted"
                try await store.updateRolloutDevices([d])
                continue
            }
            let own = windowOf(device)
            guard own.open else {
                // Outside its own window: its turn comes when that opens.
                d.nextAt = own.opensAt
                try await store.updateRolloutDevices([d])
                continue
            }
            var kind = TaskKind.download(url: url, fileType: image.fileType, fileSize: UInt32(clamping: image.size), targetFileName: "")
            if let w = r.window, registry.profile(named: device.profile)?.scheduleDownload == true {
                // A CPE that schedules its own transfers gets the rest of the window to choose from.
                let left = w.secondsLeft(at: now, zone: deviceLocal ? DailyWindow.zone(offsetMinutes: device.utcOffsetMinutes) : zone)
                kind = .scheduleDownload(url: url, fileType: image.fileType, fileSize: UInt32(clamping: image.size), targetFileName: "",
                                         windowStart: 0, windowEnd: UInt32(clamping: max(left, 60)))
            }
            let task = try await store.createTask(DeviceTask(deviceID: device.id, kind: kind, createdAt: now, updatedAt: now))
            d.state = .sent; d.taskID = task.id; d.attempts += 1; d.sentAt = now; d.reason = ""
            // Recorded with its task at once: a stop between two devices leaves no download the rollout does not know.
            try await store.updateRolloutDevices([d])
            toWake.append(device)
        }
        // Wake them without holding up the next pass; one that cannot be reached fetches it at its next Inform.
        let wake = self.wake
        Task { await withTaskGroup(of: Void.self) { g in for d in toWake { g.addTask { await wake(d) } } } }
    }

    /// A cancelled rollout: downloads not yet fetched are cancelled, devices still waiting are marked cancelled.
    static func windDown(_ r: Rollout, store: OperatorStore, now: Int64) async throws {
        var changed: [RolloutDevice] = []
        var tasks: [StoreWrite] = []
        for var d in try store.rolloutDevices(rolloutID: r.id, states: [.pending, .sent], maxWave: .max, dueBy: nil, limit: RolloutService.maxDevices) {
            d.reason = r.reason
            if d.state == .sent, let id = d.taskID, var t = try store.task(id: id) {
                if t.state == .pending {
                    t.state = .cancelled; t.updatedAt = now
                    tasks.append(.updateTask(t))
                } else if !t.state.isFinal {
                    // A download under way finishes on its own (its task shows how); the rollout no longer follows it.
                    d.reason = "\(r.reason) while its download was under way (task \(id))"
                }
            }
            d.state = .cancelled
            changed.append(d)
        }
        if !tasks.isEmpty { try await store.apply(tasks) }
        try await store.updateRolloutDevices(changed)
    }

    static func percent(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }
}
