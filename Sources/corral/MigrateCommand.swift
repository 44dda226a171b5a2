import ArgumentParser
import Engine
import Foundation
import PostgresStore
import Storage

/// `corral migrate --from sqlite:<data> --to postgresql://…`: moves an installation to PostgreSQL.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy a SQLite installation into an empty PostgreSQL database (for several nodes).",
        discussion: """
            Stop `corral serve` first. The PostgreSQL database is created empty by its administrator \
            (CREATE DATABASE corral OWNER corral; pg_trgm must be available: Debian's postgresql-contrib); this command \
            migrates its schema, copies every table in one transaction and compares the row counts. It refuses a \
            database that already holds devices or users, so running it twice changes nothing. Files and backups stay \
            in the data directory: give every node the same files/ and backups/ (shared storage).
            """)

    @Option(help: "The installation to copy: sqlite:<data directory>.") var from: String
    @Option(help: "The target: postgresql://user:password@host:port/database.") var to: String

    func run() async throws {
        guard case .sqlite(let dir) = try StoreOpener.kind(from, dataDirectory: "./data"), from.hasPrefix("sqlite:") else {
            throw ValidationError("--from must be sqlite:<data directory>")
        }
        guard case .postgres(let url) = try StoreOpener.kind(to, dataDirectory: dir) else {
            throw ValidationError("--to must be postgresql://user:password@host:port/database")
        }
        guard FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("corral.db")) else {
            throw ValidationError("no Corral database in \(dir) (corral.db)")
        }
        let source = try SQLStore(directory: dir)
        defer { source.close() }
        let target = SQLStore(database: try PostgresDatabase.open(url: url))
        defer { target.close() }
        let started = Date()
        do {
            let copied = try await StoreCopy.copy(from: source, to: target) { table, rows in
                print("  \(table): \(rows) rows")
            }
            let total = copied.reduce(0) { $0 + $1.rows }
            print("copied \(total) rows in \(copied.count) tables to \(PostgresTarget.redacted(url)) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s; row counts match")
        } catch let e as StoreCopy.Refused {
            FileHandle.standardError.write(Data("corral migrate: \(e.description)\n".utf8))
            throw ExitCode(1)
        }
    }
}
