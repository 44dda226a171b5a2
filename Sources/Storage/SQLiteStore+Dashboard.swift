import ACSCore

/// Fleet aggregates for the WebGUI dashboard. Each is one grouped SQL query confined to an organisation subtree.
extension SQLiteStore {
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

    public func parameterValueCounts(paths: [String], under path: String) throws -> [(value: Int, count: Int)] {
        guard !paths.isEmpty else { return [] }
        return try db.read { c in
            var out: [(value: Int, count: Int)] = []
            let marks = paths.map { _ in "?" }.joined(separator: ",")
            try c.query("""
                SELECT CAST(round(CAST(p.value AS REAL)) AS INTEGER), count(DISTINCT p.device_id) FROM parameters p JOIN devices d ON d.id = p.device_id
                WHERE p.path IN (\(marks)) AND (p.value GLOB '[0-9]*' OR p.value GLOB '-[0-9]*')
                  AND d.organisation_id IN (SELECT id FROM organisations WHERE path LIKE ? ESCAPE '\\')
                GROUP BY 1 ORDER BY 1
                """, paths.map { .text($0) } + [Self.likePrefix(path)]) { out.append((value: Int($0.int(0)), count: Int($0.int(1)))) }
            return out
        }
    }
}
