import ACSCore
import Foundation
import Scripting
import Storage

/// Starting and steering campaigns (CLI and, later, the API). The server's CampaignRunner does the work.
public struct CampaignService: Sendable {
    let store: AutomationStore
    let registry: ProfileRegistry

    public init(store: AutomationStore, registry: ProfileRegistry) { self.store = store; self.registry = registry }

    /// Dry run: every target device and what apply(dev) would do to it; nothing is written. Returns the count.
    @discardableResult
    public func dryRun(source: String, name: String, now: Int64, _ body: (Device, Result<[CampaignAction], ScriptError>) -> Void) throws -> Int {
        let script = try CampaignScript(source: source, name: name, store: store, registry: registry, now: now)
        var n = 0
        try script.targets { d in
            n += 1
            do { body(d, .success(try script.actions(for: d, now: now))) }
            catch let e as ScriptError { body(d, .failure(e)) }
        }
        return n
    }

    /// Persists the campaign with its target list (snapshot, in order, split into waves); the runner starts it.
    public func start(source: String, name: String, now: Int64) async throws -> CampaignRecord {
        let script = try CampaignScript(source: source, name: name, store: store, registry: registry, now: now)
        let d = script.definition
        var targets: [(deviceID: Int64, wave: Int)] = []
        try script.targets { targets.append(($0.id, CampaignScript.wave(of: targets.count, waves: d.waves))) }
        guard !targets.isEmpty else { throw ScriptError(.invalid, "\(name): the target matches no device") }
        let record = CampaignRecord(name: d.name, scriptName: name, script: source, perMinute: d.perMinute, concurrent: d.concurrent,
                                    failureRate: d.failureRate, minDevices: d.minDevices, connectionRequest: d.connectionRequest, createdAt: now)
        return try await store.createCampaign(record, targets: targets)
    }

    public enum Control: String, Sendable { case pause, resume, cancel }

    public func control(_ id: Int64, _ action: Control, now: Int64) async throws -> CampaignRecord {
        guard var c = try store.campaign(id: id) else { throw ScriptError(.invalid, "no campaign \(id)") }
        switch (action, c.state) {
        case (.pause, .running): c.state = .paused
        case (.resume, .paused): c.state = .running
        case (.cancel, .running), (.cancel, .paused):
            c.state = .cancelled
            c.stopReason = "cancelled by the operator"
        default: throw ScriptError(.invalid, "cannot \(action.rawValue) campaign \(id): it is \(c.state.rawValue)")
        }
        c.updatedAt = now
        try await store.apply([.automation(.updateCampaign(c))])
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
