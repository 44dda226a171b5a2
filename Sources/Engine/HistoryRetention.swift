import Foundation
import Storage

/// Deletes informs and KPI samples older than their retention (`inform_retention_days`, default 30;
/// `kpi_retention_days`, default 90; 0 keeps a table forever). Runs every `interval` seconds; each pass deletes in
/// batches of `batch` rows, one short write each on the store's single writer, with a pause between batches so
/// sessions' group commits go in between: pruning never holds the writer for more than one batch.
public final class HistoryRetention: Sendable {
    public struct Policy: Sendable, Equatable {
        public var informDays: Int
        public var kpiDays: Int
        public var batch = 1000
        /// Between two batches of one pass.
        public var pause: Duration = .milliseconds(5)
        /// At most this many batches per table and pass (a backlog is worked off over several passes).
        public var maxBatches = 2000
        public init(informDays: Int, kpiDays: Int) { self.informDays = informDays; self.kpiDays = kpiDays }
    }

    let store: CorralStore
    let policy: Policy
    let log = Log(label: "retention")

    public init(store: CorralStore, policy: Policy) {
        self.store = store
        self.policy = policy
    }

    /// One pass: returns the rows deleted per table.
    @discardableResult
    public func prune(now: Int64) async throws -> [HistoryTable: Int] {
        var deleted: [HistoryTable: Int] = [:]
        for (table, days) in [(HistoryTable.informs, policy.informDays), (.kpiSamples, policy.kpiDays), (.events, policy.informDays), (.alerts, policy.informDays), (.diagnosticResults, policy.kpiDays)] where days > 0 {
            let cutoff = now - Int64(days) * 86_400
            var total = 0
            for i in 0..<policy.maxBatches {
                if i > 0 { try await Task.sleep(for: policy.pause) }
                let n = try await store.pruneHistory(table, olderThan: cutoff, batch: policy.batch)
                total += n
                if n < policy.batch { break }
            }
            deleted[table] = total
        }
        return deleted
    }

    /// Runs `prune` every `interval` seconds (the first pass after `firstDelay`) until the task is cancelled.
    /// Prunes only while `leader` says this node leads (one node of a cluster prunes).
    public func start(interval: Duration = .seconds(60), firstDelay: Duration = .seconds(10), leader: Leadership = .always) -> Task<Void, Never> {
        Task {
            var delay = firstDelay
            while !Task.isCancelled {
                try? await Task.sleep(for: delay)
                delay = interval
                guard !Task.isCancelled else { return }
                guard leader.isLeader else { continue }
                do {
                    let n = try await prune(now: Int64(Date().timeIntervalSince1970))
                    let total = n.values.reduce(0, +)
                    if total > 0 { log.info("retention: deleted \(n.map { "\($0.value) \($0.key.rawValue)" }.sorted().joined(separator: ", "))") }
                } catch {
                    log.error("retention: \(error)")
                }
            }
        }
    }
}
