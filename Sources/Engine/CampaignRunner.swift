import ACSCore
import Foundation
import NIOConcurrencyHelpers
import Scripting
import Storage

/// Runs persisted campaigns: every tick it finishes devices whose tasks are done, applies the stop rule, gates waves,
/// and starts the next devices within the rate (devices/minute) and concurrency limits. All state is in the store,
/// so a restarted server picks up where it stopped; the campaign's Lua is reloaded from the text saved at start.
public final class CampaignRunner: @unchecked Sendable {
    let store: AutomationStore
    /// Read when a campaign's script is loaded: profiles reload while serving.
    let currentRegistry: @Sendable () -> ProfileRegistry
    var registry: ProfileRegistry { currentRegistry() }
    let log: Log
    let tick: Double
    let wake: @Sendable (Device) async -> Void
    private var loop: Task<Void, Never>?
    /// Where devices run TR-143 tests a campaign asks for (`serve` sets its test servers').
    public let diagnosticServers = NIOLockedValueBox<@Sendable (DeviceProfile?, String?) -> DiagnosticServers>({
        SpeedTestService.servers(config: CorralConfig(), profile: $0, organisationURL: $1)
    })
    private var scripts: [Int64: CampaignScript] = [:]
    /// Token bucket per campaign (in memory: after a restart it simply starts full).
    private var allowance: [Int64: (tokens: Double, at: Double)] = [:]

    public init(store: AutomationStore, registry: @escaping @Sendable () -> ProfileRegistry, log: Log = Log(label: "campaign"), tick: Double = 1,
                wake: @escaping @Sendable (Device) async -> Void = { try? await ConnectionRequester.send(to: $0) }) {
        self.store = store; self.currentRegistry = registry; self.log = log; self.tick = tick; self.wake = wake
    }

    public convenience init(store: AutomationStore, registry: ProfileRegistry, log: Log = Log(label: "campaign"), tick: Double = 1,
                            wake: @escaping @Sendable (Device) async -> Void = { try? await ConnectionRequester.send(to: $0) }) {
        self.init(store: store, registry: { registry }, log: log, tick: tick, wake: wake)
    }

    /// Steps only while `leader` says this node leads (one node of a cluster runs campaigns).
    public func start(leader: Leadership = .always) {
        loop = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                if leader.isLeader { await withTaskExecutorPreference(Executors.scripts) { await self.step(now: Date().timeIntervalSince1970) } }
                try? await Task.sleep(for: .milliseconds(Int(self.tick * 1000)))
            }
        }
    }

    public func stop() async {
        loop?.cancel()
        _ = await loop?.value
        loop = nil
    }

    /// One pass over the campaigns. Not re-entrant: the loop calls it serially.
    public func step(now: Double) async {
        do {
            for c in try store.campaigns(states: [.running, .paused]) { try await advance(c, now: now) }
            for c in try store.campaigns(states: [.cancelled, .stopped]) where try store.campaignProgress(campaignID: c.id).count(.pending) > 0 {
                try await wind(c, now: Int64(now))
            }
        } catch {
            log.error("campaign step failed: \(error)")
        }
    }

    private func advance(_ campaign: CampaignRecord, now: Double) async throws {
        var c = campaign
        let nowS = Int64(now)
        try await poll(c, now: nowS)
        guard c.state == .running else { return }
        let p = try store.campaignProgress(campaignID: c.id)
        let done = p.count(.done), failed = p.count(.failed)
        let finished = done + failed
        if finished >= max(1, c.minDevices), Double(failed) / Double(finished) > c.failureRate {
            c.state = .stopped
            c.stopReason = String(format: "stop rule: %d of %d failed (%.0f%% > %.0f%%)", failed, finished,
                                  100 * Double(failed) / Double(finished), 100 * c.failureRate)
            c.updatedAt = nowS
            try await store.apply([.automation(.updateCampaign(c)), EngineEvents.campaign("stopped", c, now: nowS)])
            log.info("campaign #\(c.id) \(c.name) stopped: \(c.stopReason)")
            try await wind(c, now: nowS)
            return
        }
        if p.count(.pending) == 0 && p.count(.running) == 0 {
            c.state = .done
            c.updatedAt = nowS
            try await store.apply([.automation(.updateCampaign(c)), EngineEvents.campaign("finished", c, now: nowS)])
            scripts[c.id] = nil
            log.info("campaign #\(c.id) \(c.name) done: \(done) done, \(failed) failed")
            return
        }
        // Rate: tokens accrue at per_minute/60 per second, up to one tick's worth (at least one device).
        var bucket = allowance[c.id] ?? (Double(max(1, c.perMinute / 60)), now)
        bucket.tokens = min(Double(c.perMinute) / 60 * max(tick, 1) + 1, bucket.tokens + (now - bucket.at) * Double(c.perMinute) / 60)
        bucket.at = now
        let slots = min(Int(bucket.tokens), c.concurrent - p.count(.running))
        guard slots > 0 else { allowance[c.id] = bucket; return }
        let next = try store.campaignDevices(campaignID: c.id, states: [.pending], limit: slots)
        guard let wave = next.first?.wave else { allowance[c.id] = bucket; return }
        // Waves: a later wave starts only when every earlier device has finished (canary first).
        let earlierRunning = p.waves.filter { $0.key < wave }.contains { ($0.value[.running] ?? 0) > 0 }
        guard !earlierRunning else { allowance[c.id] = bucket; return }
        let script: CampaignScript
        do { script = try loadScript(c, now: nowS) } catch let e as ScriptError {
            // A script that cannot start is disabled with its reason, never retried every tick (it stays stopped
            // across restarts too).
            c.state = .stopped
            c.stopReason = "script failed to start: \(e.message)"
            c.updatedAt = nowS
            try await store.apply([.automation(.updateCampaign(c)), EngineEvents.campaign("stopped", c, now: nowS)])
            log.error("campaign #\(c.id) \(c.name) stopped: \(c.stopReason)")
            try await wind(c, now: nowS)
            return
        }
        for cd in next where cd.wave == wave {
            bucket.tokens -= 1
            try await startDevice(cd, campaign: c, script: script, now: nowS)
        }
        allowance[c.id] = bucket
    }

    private func loadScript(_ c: CampaignRecord, now: Int64) throws -> CampaignScript {
        if let s = scripts[c.id] { return s }
        // The targets were snapshotted at start; queries apply(dev) may make stay in the campaign's subtree.
        let scope = try store.organisationPath(id: c.organisationID) ?? "/nowhere/"
        let s = try CampaignScript(source: c.script, name: c.scriptName, store: store, registry: registry, now: now, scope: scope)
        scripts[c.id] = s
        return s
    }

    private func startDevice(_ cd: CampaignDevice, campaign c: CampaignRecord, script: CampaignScript, now: Int64) async throws {
        var d = cd
        d.updatedAt = now
        guard let device = try store.device(id: cd.deviceID) else {
            d.state = .skipped
            d.error = "device deleted"
            try await store.apply([.automation(.updateCampaignDevice(d))])
            return
        }
        do {
            var kinds = CampaignScript.tasks(for: try script.actions(for: device, now: now))
            // Tests are planned for this device here; the organisation's test server is read only when there is one.
            if kinds.contains(where: { if case .diagnostics(let s) = $0 { !s.isPlanned } else { false } }) {
                let profile = currentRegistry().profile(named: device.profile)
                let orgURL = try (store as? DiagnosticStore)?.effectiveSpeedtestBaseURL(organisationID: device.organisationID) ?? nil
                let servers = diagnosticServers.withLockedValue { $0 }(profile, orgURL)
                kinds = try kinds.map { try DiagnosticsPlanner.resolve($0, device: device, aliases: profile?.aliases ?? [:], servers: servers,
                                                                        tag: DiagnosticSpec.newTag()) }
            }
            if kinds.isEmpty {
                d.state = .done
                d.error = "nothing to change"
            } else {
                for k in kinds {
                    let t = try await store.createTask(DeviceTask(deviceID: device.id, kind: k, createdAt: now, updatedAt: now))
                    d.taskIDs.append(t.id)
                }
                d.state = .running
            }
        } catch {
            d.state = .failed
            d.error = "\(error)"
        }
        try await store.apply([.automation(.updateCampaignDevice(d))])
        if d.state == .running && c.connectionRequest {
            let wake = self.wake
            Task { await wake(device) }
        }
    }

    /// Running devices whose tasks are all final become done or failed; stuck ones time out.
    private func poll(_ c: CampaignRecord, now: Int64) async throws {
        var writes: [StoreWrite] = []
        for var d in try store.campaignDevices(campaignID: c.id, states: [.running], limit: 100_000) {
            let tasks = try d.taskIDs.compactMap { try store.task(id: $0) }
            if tasks.allSatisfy({ $0.state.isFinal }) {
                if let bad = tasks.first(where: { $0.state != .done }) {
                    d.state = .failed
                    d.error = bad.fault.map { "\($0.code) \($0.string)" + ($0.setParameterValuesFaults.first.map { f in ": \(f.parameterName) \(f.code) \(f.string)" } ?? "") } ?? bad.state.rawValue
                } else {
                    d.state = .done
                }
            } else if now - d.updatedAt > Int64(scripts[c.id]?.definition.deviceTimeout ?? 86_400) {
                d.state = .failed
                d.error = "timed out"
            } else {
                continue
            }
            d.updatedAt = now
            writes.append(.automation(.updateCampaignDevice(d)))
        }
        try await store.apply(writes)
    }

    /// A stopped or cancelled campaign: pending devices are skipped; a cancel also withdraws tasks not yet sent.
    private func wind(_ c: CampaignRecord, now: Int64) async throws {
        var writes: [StoreWrite] = []
        for var d in try store.campaignDevices(campaignID: c.id, states: [.pending], limit: 1_000_000) {
            d.state = .skipped
            d.updatedAt = now
            writes.append(.automation(.updateCampaignDevice(d)))
        }
        if c.state == .cancelled {
            for d in try store.campaignDevices(campaignID: c.id, states: [.running], limit: 1_000_000) {
                for var t in try d.taskIDs.compactMap({ try store.task(id: $0) }) where t.state == .pending {
                    t.state = .cancelled
                    t.updatedAt = now
                    writes.append(.updateTask(t))
                }
            }
        }
        try await store.apply(writes)
        scripts[c.id] = nil
    }
}
