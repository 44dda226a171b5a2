import Foundation
import PostgresStore
import Storage
import Testing
import TestSupport

/// The engines the store runs on: the conformance tests run once on each, with the same expectations.
enum StoreEngine: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// A new, empty, migrated store: a SQLite file in a temporary directory, or a new database on the tests'
    /// PostgreSQL server.
    func makeStore() throws -> SQLStore {
        switch self {
        case .sqlite: return try SQLStore(directory: temporaryDirectory())
        case .postgres: return SQLStore(database: try PostgresDatabase.open(url: try PostgresServer.get().newDatabase(), readers: 2))
        }
    }
}
