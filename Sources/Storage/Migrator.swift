/// A schema change. Migrations are only ever added, never edited once landed.
public struct Migration: Sendable {
    public let version: Int
    public let sql: String
    public init(_ version: Int, _ sql: String) { self.version = version; self.sql = sql }
}

enum Migrator {
    static func migrate(_ db: SQLiteConnection, _ migrations: [Migration]) throws {
        try db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
        var applied = Set<Int64>()
        try db.query("SELECT version FROM schema_migrations") { applied.insert($0.int(0)) }
        for m in migrations.sorted(by: { $0.version < $1.version }) where !applied.contains(Int64(m.version)) {
            try db.execute("BEGIN IMMEDIATE")
            do {
                try db.execute(m.sql)
                try db.run("INSERT INTO schema_migrations(version, applied_at) VALUES (?, strftime('%s','now'))", [.int(Int64(m.version))])
                try db.execute("COMMIT")
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        }
    }
}
