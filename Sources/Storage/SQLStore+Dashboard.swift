import ACSCore

/// Fleet aggregates for the WebGUI dashboard. Each is one grouped SQL query confined to an organisation subtree.
extension SQLStore {
    public func devicesCreatedPerDay(under path: String, since: Int64) throws -> [(day: Int64, count: Int)] {
        let subtree = Self.subtreeClause(path, column: "organisation_id")
        return try db.read { c in
            var out: [(day: Int64, count: Int)] = []
            try c.query("""
                SELECT created_at / 86400, count(*) FROM devices WHERE created_at >= ?\(subtree.sql)
                GROUP BY created_at / 86400 ORDER BY 1
                """, [.int(since)] + subtree.args) { out.append((day: $0.int(0), count: Int($0.int(1)))) }
            return out
        }
    }

    /// Each path is its own branch; a cellular path's branch repeats the condition of the partial index
    /// parameters_cellular (migration 6) so that SQLite reads the index, not the table. Other paths still work,
    /// by a scan of the parameters.
    public func parameterValueCounts(paths: [String], under path: String) throws -> [(value: Int, count: Int)] {
        guard !paths.isEmpty else { return [] }
        let subtree = Self.subtreeClause(path, column: "d.organisation_id")
        // SQLite reads the number at the start of the text; PostgreSQL's cast wants the whole text to be a number.
        let numeric = db.dialect == .sqlite ? "(p.value GLOB '[0-9]*' OR p.value GLOB '-[0-9]*')"
                                            : "p.value ~ '^-?[0-9]+(\\.[0-9]+)?$'"
        let branches = paths.map { p in
            """
            SELECT p.device_id AS did, p.value AS v FROM parameters p
            WHERE p.path = ?\(p.contains(".Cellular.") ? " AND instr(p.path, '.Cellular.') > 0" : "")
              AND \(numeric)
            """
        }.joined(separator: " UNION ALL ")
        let join = subtree.sql.isEmpty ? "" : " JOIN devices d ON d.id = did WHERE TRUE\(subtree.sql)"
        return try db.read { c in
            var out: [(value: Int, count: Int)] = []
            try c.query("""
                SELECT CAST(round(CAST(v AS REAL)) AS INTEGER), count(DISTINCT did) FROM (\(branches)) AS b\(join)
                GROUP BY 1 ORDER BY 1
                """, paths.map { .text($0) } + subtree.args) { out.append((value: Int($0.int(0)), count: Int($0.int(1)))) }
            return out
        }
    }
}
