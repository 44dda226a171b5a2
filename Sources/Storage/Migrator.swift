import Foundation

/// A schema change. Migrations are only ever added, never edited once landed. Each is written for SQLite; the
/// PostgreSQL connection translates its DDL (`SQLConnection.executeSchema`), or `postgres` gives the statements
/// outright where the engines differ too much (full-text index, triggers).
public struct Migration: Sendable {
    public let version: Int
    public let sql: String
    public let postgres: String?
    public init(_ version: Int, _ sql: String, postgres: String? = nil) {
        self.version = version; self.sql = sql; self.postgres = postgres
    }
}

/// A database migrated by a newer Corral than this one: this binary would not know its tables.
public struct SchemaTooNew: Error, CustomStringConvertible, Sendable {
    public let database: Int
    public let known: Int
    public var description: String {
        "the database schema is at version \(database), this corral knows versions up to \(known): upgrade this node "
            + "to the release the other nodes run (a node never runs on a schema newer than its own)"
    }
}

public enum Migrator {
    public static func migrate(_ db: any SQLConnection, _ migrations: [Migration]) throws {
        try db.executeSchema("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
        var applied = Set<Int64>()
        try db.query("SELECT version FROM schema_migrations") { applied.insert($0.int(0)) }
        let known = migrations.map(\.version).max() ?? 0
        if let newest = applied.max(), newest > Int64(known) { throw SchemaTooNew(database: Int(newest), known: known) }
        for m in migrations.sorted(by: { $0.version < $1.version }) where !applied.contains(Int64(m.version)) {
            try db.execute("BEGIN IMMEDIATE")
            do {
                try db.executeSchema(db.dialect == .postgres ? m.postgres ?? m.sql : m.sql)
                try db.run("INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)",
                           [.int(Int64(m.version)), .int(Int64(Date().timeIntervalSince1970))])
                try db.execute("COMMIT")
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        }
    }
}
