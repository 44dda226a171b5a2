import ACSCore
import CWMP
import DataModel
import Scripting
import Storage

/// Glue between a CWMP session and its ProvisioningSession: when to start it, what it reads from the store, and the
/// store writes of its outcome (learned values, KPI samples, provision faults with retry/backoff per device).
final class ProvisioningRunner: Sendable {
    /// The current scripts (profiles reload while serving; a session keeps the ones it began with).
    let engine: @Sendable () -> ScriptEngine?
    let store: AutomationStore
    let log: Log
    let interest: EventInterest

    init(engine: @escaping @Sendable () -> ScriptEngine?, store: AutomationStore, interest: EventInterest = EventInterest(), log: Log) {
        self.engine = engine; self.store = store; self.interest = interest; self.log = log
    }

    /// A path found missing is not probed again for a week (or until the firmware changes).
    static let absenceMemory: Int64 = 7 * 86_400

    /// Prepares the session's provisioning (scripts start on the first ACS turn with nothing else queued).
    func begin(_ ctx: SessionContext, inform: Inform, now: Int64) {
        guard let engine = engine(), let kind = ctx.device.dataModel,
              let profile = engine.registry.profile(named: ctx.device.profile) ?? engine.registry.profile(for: kind) else { return }
        let states = (try? store.provisionStates(deviceID: ctx.device.id)) ?? []
        let skip = Set(states.filter { $0.nextRetry > now }.map(\.script))
        let deviceID = ctx.device.id
        let store = self.store
        ctx.provisioning = engine.session(
            device: ctx.device, profile: profile, kind: kind, events: inform.events.map(\.code), informValues: inform.parameters,
            now: now, skip: skip,
            absent: (try? store.absentPaths(deviceID: deviceID, softwareVersion: ctx.device.softwareVersion, since: now - Self.absenceMemory)) ?? [],
            lookup: { path in (try? store.parameterValues(deviceIDs: [deviceID], paths: [path]))?[deviceID]?[path] },
            subtree: { prefix in (try? store.parameters(deviceID: deviceID, prefix: prefix)) ?? [] },
            kpi: { name, since in try? store.kpi(deviceID: deviceID, name: name, since: since) })
        ctx.provisionStates = states
    }

    /// The next provisioning RPC; nil when provisioning is done (its results are then written).
    func next(_ ctx: SessionContext) async -> WorkItem? {
        guard let p = ctx.provisioning else { return nil }
        // Scripts run on their own lower-priority pool: a hook that spins until its budget ends delays other
        // scripts, not the sessions and API calls on the other pools.
        // Sessions with no runnable hook (desired values, KPIs only) never queue behind them.
        let request: ACSRequest?
        if p.runsScripts {
            let box = UncheckedBox(p)
            request = await withTaskExecutorPreference(Executors.scripts, operation: { box.value.nextRequest() })
        } else {
            request = p.nextRequest()
        }
        if let request { return WorkItem(origin: .provisioning, request: request) }
        ctx.provisioning = nil
        await finish(p, ctx: ctx)
        return nil
    }

    func completed(_ ctx: SessionContext, _ response: CPEResponse) { ctx.provisioning?.received(response) }
    func faulted(_ ctx: SessionContext, _ fault: CWMPFault) { ctx.provisioning?.faulted(fault) }

    /// Session cut: nothing is recorded as a fault; the scripts are idempotent and run again next session.
    func abandon(_ ctx: SessionContext) {
        ctx.provisioning?.close()
        ctx.provisioning = nil
    }

    private func finish(_ p: ProvisioningSession, ctx: SessionContext) async {
        let now = Int64(CWMPService.now())
        let id = ctx.device.id
        var writes: [StoreWrite] = []
        if !p.learned.isEmpty { writes.append(.parameters(deviceID: id, values: p.learned, at: now)) }
        if !p.newlyAbsent.isEmpty || !p.nowPresent.isEmpty {
            writes.append(.automation(.absentPaths(deviceID: id, softwareVersion: ctx.device.softwareVersion, add: p.newlyAbsent,
                                                   remove: p.nowPresent, at: now)))
        }
        if !p.kpiSamples.isEmpty {
            writes.append(.automation(.kpiSamples(p.kpiSamples.map { KPISample(deviceID: id, name: $0.0, at: now, value: $0.1) })))
            if interest.contains("kpi") { writes += EngineEvents.kpis(p.kpiSamples, deviceID: id, now: now) }
        }
        let previous = Dictionary(ctx.provisionStates.map { ($0.script, $0) }, uniquingKeysWith: { a, _ in a })
        for (script, error) in p.failures.sorted(by: { $0.key < $1.key }) {
            let attempts = (previous[script]?.attempts ?? 0) + 1
            let state = ProvisionState(deviceID: id, script: script, attempts: attempts,
                                       nextRetry: now + RetryPolicy.backoff(attempt: attempts), lastError: error, updatedAt: now)
            writes.append(.automation(.provisionState(state)))
            writes.append(.fault(FaultRecord(deviceID: id, taskID: nil, source: "provision", code: 0, message: error,
                                             detail: "\(script), attempt \(attempts), next try in \(RetryPolicy.backoff(attempt: attempts)) s", at: now)))
            log.info("provision fault on \(ctx.device.name): \(script): \(error)")
        }
        for script in p.succeeded where previous[script] != nil {
            writes.append(.automation(.clearProvisionState(deviceID: id, script: script)))
        }
        for line in p.logs { log.info("[\(ctx.device.name)] \(line)") }
        do { try await store.apply(writes) } catch { log.error("provisioning writes failed for \(ctx.device.name): \(error)") }
    }
}
