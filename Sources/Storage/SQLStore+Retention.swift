import ACSCore

/// History tables that grow with every session and are pruned by age (`HistoryRetention` in Engine).
public enum HistoryTable: String, Sendable, CaseIterable {
    /// One row per Inform (`informs.at`).
    case informs
    /// One row per KPI sample a profile took (`kpi_samples.at`).
    case kpiSamples = "kpi_samples"
    /// Events for automations (`events.at`), kept as long as informs.
    case events
    /// Cleared alerts (`alerts.cleared_at`), kept as long as events; open ones are never pruned.
    case alerts
    /// TR-143 results (`diagnostic_results.at`), kept as long as KPI samples.
    case diagnosticResults = "diagnostic_results"
}

extension SQLStore {
    /// Deletes rows of `table` older than `cutoff` (Unix seconds) among its `batch` oldest rows (insertion order, which
    /// is time order: rows are written with the time they are written at), in one short write. Returns how many went;
    /// fewer than `batch` means there is nothing older left at the front of the table. The work per call is bounded by
    /// `batch` whatever the table's size, so calls can be spread out between sessions' group commits.
    public func pruneHistory(_ table: HistoryTable, olderThan cutoff: Int64, batch: Int = 1000) async throws -> Int {
        if table == .alerts { return try await pruneClearedAlerts(before: cutoff, batch: batch) }
        // The newest event always stays: `events` ids are rowids, which SQLite would hand out again once the highest
        // is gone, and the webhook cursor and live streams follow them by id.
        let keepNewest = table == .events ? " AND rowid < (SELECT MAX(rowid) FROM events)" : ""
        let batch = Int64(max(1, batch))
        if db.dialect == .postgres {
            // No rowid order there: the first `batch` old rows a scan meets (ctid: the row's place), so fewer than
            // `batch` still means nothing older is left.
            let newest = keepNewest.replacingOccurrences(of: "rowid", with: "id")
            let sql = """
                DELETE FROM \(table.rawValue) WHERE ctid = ANY(ARRAY(
                  SELECT ctid FROM \(table.rawValue) WHERE at < ?\(newest) LIMIT ?))
                """
            return try await db.write { c in
                try c.run(sql, [.int(cutoff), .int(batch)])
                return c.changes
            }
        }
        let sql = """
            DELETE FROM \(table.rawValue) WHERE rowid IN (
              SELECT rowid FROM (SELECT rowid, at FROM \(table.rawValue) ORDER BY rowid LIMIT ?) WHERE at < ?\(keepNewest))
            """
        return try await db.write { c in
            try c.run(sql, [.int(batch), .int(cutoff)])
            return c.changes
        }
    }
}

extension SQLStore {
    /// Brings the trigram text index (devices_text) up to date for up to `batch` of the devices created, renamed,
    /// re-described or deleted since the last call, in one short write (three statements). Returns how many were
    /// handled; fewer than `batch` means the index is up to date. Searches are exact either way (they also look at
    /// the devices not yet indexed); this keeps them fast.
    @discardableResult
    public func syncTextIndex(batch: Int = 5000) async throws -> Int {
        // PostgreSQL's trigram indexes (pg_trgm) are kept by the database itself.
        guard db.dialect == .sqlite else { return 0 }
        let n = Int64(max(1, batch))
        return try await db.write { c in
            let pending = "SELECT id FROM devices_text_pending ORDER BY id LIMIT ?"
            try c.run("DELETE FROM devices_text WHERE rowid IN (\(pending))", [.int(n)])
            try c.run("""
                INSERT INTO devices_text(rowid, name, serial, description)
                SELECT id, name, serial, description FROM devices WHERE id IN (\(pending))
                """, [.int(n)])
            try c.run("DELETE FROM devices_text_pending WHERE id IN (\(pending))", [.int(n)])
            return c.changes
        }
    }
}

extension SQLStore {
    /// Devices the trigram index may name for a free-text search before a scan is the faster way to a page.
    static let textIndexCandidateLimit = 10_000

    /// The SQL of a query. A free-text search of 3+ characters goes through the trigram index unless the substring is
    /// common (more than `textIndexCandidateLimit` devices: FTS5 stops counting there, a few ms): then a scan in the
    /// page's order finds the first matches sooner than the index lists a million of them (681 ms for "generated").
    func buildQuery(_ q: DeviceQuery, now: Int64) throws -> DeviceQuerySQL.Built {
        // PostgreSQL: the trigram GIN indexes of name, serial and description answer the LIKE itself.
        guard db.dialect == .sqlite else { return try DeviceQuerySQL.build(q, now: now, textIndex: false, dialect: db.dialect) }
        guard let t = q.text, DeviceQuerySQL.indexable(t) else { return try DeviceQuerySQL.build(q, now: now) }
        let limit = Self.textIndexCandidateLimit
        let n = try db.read { c in
            try c.scalar("SELECT count(*) FROM (SELECT rowid FROM devices_text WHERE devices_text MATCH ? LIMIT ?)",
                         [.text(DeviceQuerySQL.ftsPhrase(t)), .int(Int64(limit + 1))]).int
        }
        return try DeviceQuerySQL.build(q, now: now, textIndex: n <= limit)
    }
}
