import ACSCore

extension SQLStore {
    static let diagnosticColumns = "r.id, r.device_id, r.task_id, r.test, r.state, r.ok, r.at, r.throughput_bps, r.avg_rtt_us, r.jitter_us, r.loss, r.result"

    static func insertDiagnosticResult(_ r: DiagnosticRecord, on c: any SQLConnection) throws {
        try c.run("""
            INSERT INTO diagnostic_results(device_id, task_id, test, state, ok, at, throughput_bps, avg_rtt_us, jitter_us, loss, result)
            VALUES (?,?,?,?,?,?,?,?,?,?,?)
            """, [.int(r.deviceID), r.taskID.map { .int($0) } ?? .null, .text(r.test), .text(r.state), .int(r.ok ? 1 : 0), .int(r.at),
                  r.throughputBps.map { .double($0) } ?? .null, r.avgRttUs.map { .int($0) } ?? .null, r.jitterUs.map { .double($0) } ?? .null,
                  r.loss.map { .double($0) } ?? .null, .text(r.result)])
    }

    /// Tasks waiting for a confirming event since before `updatedBefore` (oldest first), whose label starts with
    /// `kindPrefix` ("diagnose").
    public func waitingTasks(kindPrefix: String, updatedBefore: Int64, limit: Int) throws -> [DeviceTask] {
        try db.read { c in
            var out: [DeviceTask] = []
            try c.query("""
                SELECT \(Self.taskColumns) FROM tasks WHERE state = 'waiting' AND updated_at < ? AND kind LIKE ? ORDER BY updated_at LIMIT ?
                """, [.int(updatedBefore), .text(kindPrefix + "%"), .int(Int64(limit))]) { r in
                if let t = Self.task(r) { out.append(t) }
            }
            return out
        }
    }

    public func setSpeedtestBaseURL(organisationID: Int64, _ url: String) async throws {
        try await db.write { c in try c.run("UPDATE organisations SET speedtest_base_url = ? WHERE id = ?", [.text(url), .int(organisationID)]) }
    }

    /// The organisation's own setting ('' = none).
    public func speedtestBaseURL(organisationID: Int64) throws -> String {
        try db.read { c in try c.scalar("SELECT speedtest_base_url FROM organisations WHERE id = ?", [.int(organisationID)]).text }
    }

    /// The test server URL of the nearest organisation on the device's path that sets one; nil = none does.
    public func effectiveSpeedtestBaseURL(organisationID: Int64) throws -> String? {
        try db.read { c in
            let path = try c.scalar("SELECT path FROM organisations WHERE id = ?", [.int(organisationID)]).text
            let ids = path.split(separator: "/").compactMap { Int64($0) }
            guard !ids.isEmpty else { return nil }
            var found: [Int64: String] = [:]
            try c.query("SELECT id, speedtest_base_url FROM organisations WHERE id IN (\(ids.map { _ in "?" }.joined(separator: ","))) AND speedtest_base_url != ''",
                        ids.map { .int($0) }) { found[$0.int(0)] = $0.text(1) }
            return ids.reversed().lazy.compactMap { found[$0] }.first
        }
    }

    /// Newest first.
    public func diagnosticResults(_ q: DiagnosticQuery) throws -> [DiagnosticRecord] {
        let (clauses, args) = Self.diagnosticFilter(q)
        return try db.read { c in
            var out: [DiagnosticRecord] = []
            try c.query("""
                SELECT \(Self.diagnosticColumns) FROM diagnostic_results r JOIN devices d ON d.id = r.device_id
                WHERE \(clauses) ORDER BY r.id DESC LIMIT ?
                """, args + [.int(Int64(max(1, min(q.limit, 1000))))]) { out.append(Self.diagnosticRecord($0)) }
            return out
        }
    }

    public func diagnosticResult(id: Int64) throws -> DiagnosticRecord? {
        try db.read { c in
            var out: DiagnosticRecord?
            try c.query("SELECT \(Self.diagnosticColumns) FROM diagnostic_results r WHERE r.id = ?", [.int(id)]) { out = Self.diagnosticRecord($0) }
            return out
        }
    }

    public func diagnosticResult(taskID: Int64) throws -> DiagnosticRecord? {
        try db.read { c in
            var out: DiagnosticRecord?
            try c.query("SELECT \(Self.diagnosticColumns) FROM diagnostic_results r WHERE r.task_id = ? ORDER BY r.id DESC LIMIT 1", [.int(taskID)]) {
                out = Self.diagnosticRecord($0)
            }
            return out
        }
    }

    /// The fleet's results grouped by a device field: counts and averages in SQL, the median per group from the
    /// sorted throughputs (bounded: at most `maxGroups` groups, the largest first).
    public func diagnosticSummary(_ q: DiagnosticQuery, by grouping: DiagnosticGrouping, maxGroups: Int = 100) throws -> [DiagnosticGroup] {
        let (clauses, args) = Self.diagnosticFilter(q)
        let key = grouping.column
        return try db.read { c in
            var groups: [DiagnosticGroup] = []
            try c.query("""
                SELECT \(key) AS k, count(*), count(DISTINCT r.device_id), sum(1 - r.ok),
                       avg(CASE WHEN r.ok <> 0 THEN r.throughput_bps END), min(CASE WHEN r.ok <> 0 THEN r.throughput_bps END),
                       avg(CASE WHEN r.ok <> 0 THEN r.avg_rtt_us END), avg(CASE WHEN r.ok <> 0 THEN r.jitter_us END), avg(CASE WHEN r.ok <> 0 THEN r.loss END)
                FROM diagnostic_results r JOIN devices d ON d.id = r.device_id
                WHERE \(clauses) GROUP BY k ORDER BY count(*) DESC LIMIT ?
                """, args + [.int(Int64(maxGroups))]) { r in
                groups.append(DiagnosticGroup(key: r.text(0), results: Int(r.int(1)), devices: Int(r.int(2)), failed: Int(r.int(3)),
                                              avgThroughputBps: Self.optDouble(r[4]), minThroughputBps: Self.optDouble(r[5]),
                                              medianThroughputBps: nil, avgRttUs: Self.optDouble(r[6]),
                                              avgJitterUs: Self.optDouble(r[7]), avgLoss: Self.optDouble(r[8])))
            }
            for i in groups.indices where groups[i].avgThroughputBps != nil {
                // The middle value by rank: a count, then one row at its offset (not a bounded list of the slowest).
                let filter = "\(clauses) AND r.ok <> 0 AND r.throughput_bps IS NOT NULL AND \(key) = ?"
                let from = "FROM diagnostic_results r JOIN devices d ON d.id = r.device_id WHERE \(filter)"
                let n = try c.scalar("SELECT count(*) \(from)", args + [.text(groups[i].key)]).int
                guard n > 0 else { continue }
                groups[i].medianThroughputBps = try c.scalar("SELECT r.throughput_bps \(from) ORDER BY r.throughput_bps LIMIT 1 OFFSET ?",
                                                             args + [.text(groups[i].key), .int(n / 2)]).doubleValue
            }
            return groups
        }
    }

    static func diagnosticFilter(_ q: DiagnosticQuery) -> (String, [SQLValue]) {
        var clauses = ["TRUE"]
        var args: [SQLValue] = []
        if let v = q.deviceID { clauses.append("r.device_id = ?"); args.append(.int(v)) }
        if let v = q.test { clauses.append("r.test = ?"); args.append(.text(v)) }
        if let v = q.since { clauses.append("r.at >= ?"); args.append(.int(v)) }
        if let v = q.beforeID { clauses.append("r.id < ?"); args.append(.int(v)) }
        if let p = q.organisationPath, p != DeviceQuerySQL.rootPath {
            clauses.append("d.organisation_id IN (SELECT id FROM organisations WHERE path LIKE ? ESCAPE '\\')")
            args.append(likePrefix(p))
        }
        return (clauses.joined(separator: " AND "), args)
    }

    static func optDouble(_ v: SQLValue) -> Double? { v.doubleValue }

    static func diagnosticRecord(_ r: SQLRow) -> DiagnosticRecord {
        DiagnosticRecord(id: r.int(0), deviceID: r.int(1), taskID: r[2] == .null ? nil : r.int(2), test: r.text(3), state: r.text(4),
                         ok: r.int(5) != 0, at: r.int(6), throughputBps: r[7].doubleValue, avgRttUs: r[8] == .null ? nil : r.int(8),
                         jitterUs: r[9].doubleValue, loss: r[10].doubleValue, result: r.text(11))
    }
}

extension SQLValue {
    var doubleValue: Double? {
        switch self {
        case .double(let d): d
        case .int(let i): Double(i)
        default: nil
        }
    }
}
extension SQLStore: DiagnosticStore {}
