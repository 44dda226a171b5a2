import Foundation
import PostgresStore
import Storage

/// Opens the store a configuration names: SQLite in the data directory by default, `sqlite:<directory>`, or a
/// shared PostgreSQL database (`postgresql://…`).
public enum StoreOpener {
    public enum Kind: Equatable, Sendable {
        case sqlite(directory: String)
        case postgres(url: String)
    }

    public static func kind(_ url: String?, dataDirectory: String) throws -> Kind {
        guard let url, !url.isEmpty else { return .sqlite(directory: dataDirectory) }
        if url.hasPrefix("sqlite:") {
            var dir = String(url.dropFirst("sqlite:".count))
            if dir.hasPrefix("//") { dir.removeFirst(2) }
            return .sqlite(directory: dir.isEmpty ? dataDirectory : dir)
        }
        if url.hasPrefix("postgresql://") || url.hasPrefix("postgres://") { return .postgres(url: url) }
        throw ConfigError("--database \(PostgresTarget.redacted(url)): expected postgresql://user:password@host:port/database or sqlite:<directory>")
    }

    public static func open(_ config: CorralConfig) throws -> SQLStore {
        try open(url: config.databaseURL, dataDirectory: config.dataDirectory)
    }

    public static func open(url: String?, dataDirectory: String) throws -> SQLStore {
        switch try kind(url, dataDirectory: dataDirectory) {
        case .sqlite(let dir): return try SQLStore(directory: dir)
        case .postgres(let url): return SQLStore(database: try PostgresDatabase.open(url: url))
        }
    }
}
