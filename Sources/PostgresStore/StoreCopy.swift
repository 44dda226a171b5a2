import Foundation
import Storage

/// `corral migrate`: copies every table of a SQLite installation into an empty PostgreSQL database migrated to the
/// same schema, in one transaction (a failure leaves the target as it was), and compares the row counts after.
public enum StoreCopy {
    public struct Copied: Sendable, Equatable {
        public let table: String
        public let rows: Int
    }

    public struct Refused: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Kept by triggers from the tables copied (device_tallies), SQLite's own (FTS5, its catalogue), or the
    /// migration bookkeeping each engine keeps itself.
    static func copied(_ table: String) -> Bool {
        !(table.hasPrefix("sqlite_") || table.hasPrefix("devices_text") || ["device_tallies", "schema_migrations"].contains(table))
    }

    public static func copy(from source: SQLStore, to target: SQLStore, progress: @escaping @Sendable (String, Int) -> Void = { _, _ in }) async throws -> [Copied] {
        guard source.db.dialect == .sqlite, target.db.dialect == .postgres else {
            throw Refused(description: "corral migrate copies a SQLite installation into a PostgreSQL database")
        }
        let sourceVersion = try source.db.read { try $0.scalar("SELECT max(version) FROM schema_migrations").int }
        let targetVersion = try target.db.read { try $0.scalar("SELECT max(version) FROM schema_migrations").int }
        guard sourceVersion == targetVersion else {
            throw Refused(description: "schema versions differ (SQLite \(sourceVersion), PostgreSQL \(targetVersion)): run the same corral release on both")
        }
        let held = try target.db.read { c in
            (try c.scalar("SELECT count(*) FROM devices").int, try c.scalar("SELECT count(*) FROM users").int)
        }
        guard held == (0, 0) else {
            throw Refused(description: "the PostgreSQL database already holds \(held.0) devices and \(held.1) users: corral migrate copies into an empty database only (nothing was changed)")
        }
        let tables: [(name: String, columns: [String])] = try source.db.read { c in
            var names: [String] = []
            try c.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid") { names.append($0.text(0)) }
            return try names.filter(copied).map { name in
                var columns: [String] = []
                try c.query("SELECT name FROM pragma_table_info(?)", [.text(name)]) { columns.append($0.text(0)) }
                return (name, columns)
            }
        }
        let report = try await target.db.write { c -> [Copied] in
            var out: [Copied] = []
            // The tally triggers would update the same few device_tallies rows once per copied device, all in this
            // one transaction: each update walks the row's earlier versions, so the copy slows down as it goes
            // (1M devices: hours). Off for the copy, the tallies counted once after it.
            try c.execute("ALTER TABLE devices DISABLE TRIGGER USER")
            for t in tables {
                let names = t.columns.map { $0 == "window" ? "\"window\"" : $0 }.joined(separator: ", ")
                // Rows per INSERT: PostgreSQL takes at most 65,535 parameters per statement.
                let perInsert = max(1, min(500, 60_000 / max(1, t.columns.count)))
                var batch: [SQLValue] = []
                var rows = 0
                func flush() throws {
                    guard !batch.isEmpty else { return }
                    let n = batch.count / t.columns.count
                    let one = "(" + Array(repeating: "?", count: t.columns.count).joined(separator: ",") + ")"
                    try c.run("INSERT INTO \(t.name) (\(names)) VALUES \(Array(repeating: one, count: n).joined(separator: ",")) ON CONFLICT DO NOTHING", batch)
                    rows += n
                    batch.removeAll(keepingCapacity: true)
                }
                let select = "SELECT \(t.columns.map { "\"\($0)\"" }.joined(separator: ", ")) FROM \(t.name)"
                try source.db.read { s in
                    try s.query(select, []) { r in
                        for i in 0..<t.columns.count { batch.append(r[Int32(i)]) }
                        if batch.count >= perInsert * t.columns.count { try flush() }
                    }
                }
                try flush()
                progress(t.name, rows)
                out.append(Copied(table: t.name, rows: rows))
            }
            try c.execute(PostgresDatabase.identitySequences)
            try c.execute("""
                DELETE FROM device_tallies;
                INSERT INTO device_tallies
                    SELECT organisation_id, manufacturer, model_name, software_version, profile, count(*) FROM devices
                    GROUP BY organisation_id, manufacturer, model_name, software_version, profile;
                ALTER TABLE devices ENABLE TRIGGER USER
                """)
            return out
        }
        // Every row arrived (rows the target's migrations seeded, such as the root organisation, count once).
        for t in report {
            let (a, b) = (try source.db.read { try $0.scalar("SELECT count(*) FROM \(t.table)").int },
                          try target.db.read { try $0.scalar("SELECT count(*) FROM \(t.table)").int })
            guard a == b else { throw Refused(description: "table \(t.table): \(a) rows in SQLite, \(b) in PostgreSQL after the copy") }
        }
        return report
    }
}
