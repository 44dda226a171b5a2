import ACSCore
import Foundation
import Scripting
import Storage

/// Evaluates the `alert{}` rules over the whole population every `interval` seconds, and records `device.offline`
/// for the devices whose expected Inform did not come. Each rule is one SQL query (its filter and condition pushed
/// down), compared with the rule's open alerts by `AlertTransitions`; the changes are written in batches and are
/// idempotent, so a pass cut short is simply done again.
final class AlertEvaluator: @unchecked Sendable {
    let store: AutomationStore
    private var rules: [AlertRule]
    let interval: Int64
    let log: Log
    private let lock = NSLock()
    private var lastPass: Int64 = 0
    private var storming: [String: String] = [:]
    private var raised = 0
    private var cleared = 0
    /// A rule that holds on more devices than this raises for the first ones only and says so: an alert storm is
    /// one fact for the NOC, not a million rows written every pass.
    static let maxAlertsPerRule = 50_000
    /// Where the offline sweep keeps how far it got (a row of automation_schedule).
    static let sweepKey = "corral:offline-sweep"
    static let sweepBatch = 5000
    static let writeBatch = 1000

    init(store: AutomationStore, rules: [AlertRule], interval: Int64, log: Log) {
        self.store = store; self.rules = rules; self.interval = max(1, interval); self.log = log
    }

    /// New rules after a reload (the next pass uses them; alerts of removed rules are cleared by that pass).
    func setRules(_ r: [AlertRule]) {
        lock.withLock {
            let gone = Set(rules.map(\.name)).subtracting(r.map(\.name))
            rules = r
            for n in gone { storming[n] = nil }
            lastPass = 0
        }
    }

    /// Raise and clear changes written since start (a clear of a pending alert counts too: it is rare).
    var transitions: (Int, Int) { lock.withLock { (raised, cleared) } }

    /// (rule name, problem) for the status page.
    var problems: [(String, String)] { lock.withLock { storming.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } } }

    func passIfDue(now: Int64) async throws {
        let due = lock.withLock { () -> [AlertRule]? in
            guard now - lastPass >= interval else { return nil }
            lastPass = now
            return rules
        }
        guard let rules = due else { return }
        try await sweepOffline(now: now)
        // Rules taken out of the files (while serving or stopped): nothing holds their alerts any more. Alerts that
        // handlers raised ("file#n") are theirs to clear.
        let names = Set(rules.map(\.name))
        for (name, source) in try store.openAlertNames() where !source.contains("#") && !names.contains(name) {
            let open = try store.openAlerts(name: name)
            if !open.isEmpty { try await store.apply([.automation(.effects(open.map { .clearAlert(name: name, deviceID: $0.deviceID, at: now) }))]) }
        }
        for r in rules {
            do { try await evaluate(r, now: now) } catch { log.error("alert \(r.name): \(error)") }
        }
    }

    /// `device.offline` once per device that turned offline since the last sweep (the moment it turned, on the
    /// devices_offline_at index). The first sweep only marks where to start: devices already offline then are not news.
    func sweepOffline(now: Int64) async throws {
        guard var from = try store.scheduleRuns()[Self.sweepKey] else {
            try await store.apply([.automation(.scheduleRun(handler: Self.sweepKey, at: now, tasks: [], error: ""))])
            return
        }
        while from < now {
            var batch = try store.devicesTurnedOffline(from: from, to: now, limit: Self.sweepBatch)
            var upTo = now
            if batch.count == Self.sweepBatch, let last = batch.last?.at {
                if batch.first!.at < last {
                    // Full batch: stop before the last moment so that devices sharing it are all taken next time.
                    batch.removeAll { $0.at == last }
                    upTo = last
                } else {
                    // One moment fills the batch: take every device of that moment, then go on after it.
                    batch = try store.devicesTurnedOffline(from: last, to: last + 1, limit: Int.max)
                    upTo = last + 1
                }
            }
            let events = batch.map { d in
                AutomationEffect.event(EventRecord(at: now, kind: "device.offline", deviceID: d.id, data: "{\"offline_since\":\(d.at)}"))
            }
            try await store.apply([.automation(.effects(events)), .automation(.scheduleRun(handler: Self.sweepKey, at: upTo, tasks: [], error: ""))])
            if upTo == now { break }
            from = upTo
        }
    }

    func evaluate(_ rule: AlertRule, now: Int64) async throws {
        var holding = try store.matchingDeviceIDs(rule.query(now: now), now: now, limit: Self.maxAlertsPerRule + 1)
        lock.withLock {
            if holding.count > Self.maxAlertsPerRule {
                storming[rule.name] = "alert \(rule.name) holds on more than \(Self.maxAlertsPerRule) devices: only the first \(Self.maxAlertsPerRule) are raised"
            } else {
                storming[rule.name] = nil
            }
        }
        let cut = holding.count > Self.maxAlertsPerRule
        holding = Array(holding.prefix(Self.maxAlertsPerRule))
        var open = try store.openAlerts(name: rule.name)
        // Beyond the cut nothing is known: open alerts there are neither cleared nor raised this pass.
        if cut, let last = holding.last { open.removeAll { $0.deviceID > last } }
        let changes = AlertTransitions.plan(holding: Set(holding), open: open, hold: rule.hold, now: now)
        guard !changes.isEmpty else { return }
        for chunk in stride(from: 0, to: changes.count, by: Self.writeBatch).map({ Array(changes[$0..<min($0 + Self.writeBatch, changes.count)]) }) {
            let raising = chunk.compactMap { if case .raise(let id, _) = $0 { id } else { nil } }
            let values = rule.valuePaths.isEmpty || raising.isEmpty ? [:] : try store.parameterValues(deviceIDs: raising, paths: rule.valuePaths)
            let effects = chunk.map { c -> AutomationEffect in
                switch c {
                case .pending(let id, let since):
                    return .pendingAlert(AlertRecord(name: rule.name, deviceID: id, severity: rule.severity, state: .pending, since: since,
                                                     message: rule.message, source: rule.file))
                case .raise(let id, let since):
                    let value = rule.valuePaths.lazy.compactMap { values[id]?[$0]?.value }.first ?? ""
                    return .raiseAlert(AlertRecord(name: rule.name, deviceID: id, severity: rule.severity, state: .active, since: since,
                                                   raisedAt: now, message: rule.message, value: String(value.prefix(200)), source: rule.file))
                case .clear(let id):
                    return .clearAlert(name: rule.name, deviceID: id, at: now)
                }
            }
            try await store.apply([.automation(.effects(effects))])
            lock.withLock {
                for c in chunk {
                    switch c {
                    case .raise: self.raised += 1
                    case .clear: self.cleared += 1
                    case .pending: break
                    }
                }
            }
        }
    }
}
