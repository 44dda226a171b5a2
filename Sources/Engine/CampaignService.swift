import ACSCore
import Foundation
import Scripting
import Storage

/// Starting and steering campaigns (CLI and the REST API). The server's CampaignRunner does the work.
/// `scope` is an organisation subtree (`Organisation.path`): the script's every query stays inside it.
public struct CampaignService: Sendable {
    let store: AutomationStore
    let registry: ProfileRegistry

    public init(store: AutomationStore, registry: ProfileRegistry) { self.store = store; self.registry = registry }

    /// Dry run: every target device and what apply(dev) would do to it; nothing is written. Returns the count.
    /// apply(dev) runs for the first `preview` devices only; the rest are counted in SQL.
    @discardableResult
    public func dryRun(source: String, name: String, now: Int64, scope: String? = nil, preview: Int = .max,
                       definition: ((CampaignDefinition) -> Void)? = nil,
                       _ body: (Device, Result<[CampaignAction], ScriptError>) -> Void) throws -> Int {
        let script = try CampaignScript(source: source, name: name, store: store, registry: registry, now: now, scope: scope)
        definition?(script.definition)
        var n = 0
        try script.targets(max: preview) { d in
            n += 1
            do { body(d, .success(try script.actions(for: d, now: now))) }
            catch let e as ScriptError { body(d, .failure(e)) }
        }
        return n < preview ? n : try script.targetCount()
    }

    /// Persists the campaign with its target list (snapshot, in order, split into waves); the runner starts it.
    /// The campaign belongs to `organisationID` (whose subtree is `scope`) and records who started it.
    public func start(source: String, name: String, now: Int64, scope: String? = nil, organisationID: Int64 = 1,
                      createdBy: String = "") async throws -> CampaignRecord {
        let p = try prepare(source: source, name: name, now: now, scope: scope, organisationID: organisationID, createdBy: createdBy)
        let c = try await store.createCampaign(p.record, targets: p.targets)
        try await store.apply([EngineEvents.campaign("started", c, now: now)])
        return c
    }

    public struct Prepared: Sendable {
        public var record: CampaignRecord
        public var targets: [(deviceID: Int64, wave: Int)]
    }

    /// The Lua part of `start` (load the script, list the targets), synchronous so that callers can run it off
    /// their event loop; `store.createCampaign(p.record, targets: p.targets)` then saves it.
    public func prepare(source: String, name: String, now: Int64, scope: String? = nil, organisationID: Int64 = 1,
                        createdBy: String = "") throws -> Prepared {
        let script = try CampaignScript(source: source, name: name, store: store, registry: registry, now: now, scope: scope)
        let d = script.definition
        var targets: [(deviceID: Int64, wave: Int)] = []
        try script.targets { targets.append(($0.id, CampaignScript.wave(of: targets.count, waves: d.waves))) }
        guard !targets.isEmpty else { throw ScriptError(.invalid, "\(name): the target matches no device") }
        var r = CampaignRecord(name: d.name, scriptName: name, script: source, perMinute: d.perMinute, concurrent: d.concurrent,
                               failureRate: d.failureRate, minDevices: d.minDevices, connectionRequest: d.connectionRequest, createdAt: now)
        r.organisationID = organisationID
        r.createdBy = createdBy
        return Prepared(record: r, targets: targets)
    }

    public enum Control: String, Sendable, CaseIterable { case pause, resume, cancel }

    /// Whether `action` is allowed in `state` (the API answers 409 otherwise).
    public static func allows(_ action: Control, in state: CampaignState) -> Bool {
        switch (action, state) {
        case (.pause, .running), (.resume, .paused), (.cancel, .running), (.cancel, .paused): true
        default: false
        }
    }

    public func control(_ id: Int64, _ action: Control, now: Int64) async throws -> CampaignRecord {
        guard var c = try store.campaign(id: id) else { throw ScriptError(.invalid, "no campaign \(id)") }
        guard Self.allows(action, in: c.state) else {
            throw ScriptError(.invalid, "cannot \(action.rawValue) campaign \(id): it is \(c.state.rawValue)")
        }
        switch action {
        case .pause: c.state = .paused
        case .resume: c.state = .running
        case .cancel:
            c.state = .cancelled
            c.stopReason = "cancelled by the operator"
        }
        c.updatedAt = now
        let kind = switch action { case .pause: "paused"; case .resume: "resumed"; case .cancel: "cancelled" }
        try await store.apply([.automation(.updateCampaign(c)), EngineEvents.campaign(kind, c, now: now)])
        return c
    }

    /// "[#########-----------]  45%  9/20  done 8  failed 1  running 2  pending 9"
    public static func progressLine(_ c: CampaignRecord, _ p: CampaignProgress, width: Int = 30) -> String {
        let total = max(1, p.total)
        let finished = p.count(.done) + p.count(.failed) + p.count(.skipped)
        let filled = width * finished / total
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let pct = 100 * finished / total
        var line = "#\(c.id) \(c.name) [\(c.state.rawValue)] [\(bar)] \(String(pct).leftPadded(3))%  \(finished)/\(p.total)"
        for s in [CampaignDeviceState.done, .failed, .running, .pending, .skipped] where p.count(s) > 0 || s == .done || s == .failed {
            line += "  \(s.rawValue) \(p.count(s))"
        }
        if !c.stopReason.isEmpty { line += "  (\(c.stopReason))" }
        return line
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
