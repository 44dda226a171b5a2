import Foundation

/// Which SQL the connection speaks. The store's statements are written once, in SQLite's syntax; a PostgreSQL
/// connection rewrites what differs (`PostgresDialect`), and the few queries whose meaning needs another form ask
/// for the dialect (`c.dialect`).
public enum SQLDialect: String, Sendable {
    case sqlite, postgres
}

/// One database connection as the store uses it: statements with bound values, rows read by column index. Not
/// thread-safe: the owner (the writer thread or a pooled reader) serialises access.
public protocol SQLConnection: AnyObject {
    var dialect: SQLDialect { get }
    /// One or more statements without bound values (migrations, BEGIN/COMMIT, savepoints).
    func execute(_ sql: String) throws
    /// Schema statements written for SQLite (migrations), translated to this engine's DDL.
    func executeSchema(_ sql: String) throws
    /// A statement that returns no rows (or whose rows are ignored).
    func run(_ sql: String, _ args: [SQLValue]) throws
    /// Calls `row` for each result row.
    func query(_ sql: String, _ args: [SQLValue], row: (SQLRow) throws -> Void) throws
    /// Calls `row` for each result row of a query that may return very many, holding at most `batch` rows at once;
    /// `row` returns false to stop early.
    func stream(_ sql: String, _ args: [SQLValue], batch: Int, row: (SQLRow) throws -> Bool) throws
    /// Runs `work` with every statement stopped after `seconds` (nil: no limit); stopped statements throw an error
    /// whose `isTimeLimit` is true.
    func run<T>(within seconds: Double?, _ work: (any SQLConnection) throws -> T) throws -> T
    /// False inside a transaction; true again when the database ended it by itself.
    var isAutocommit: Bool { get }
    /// The id the last INSERT gave its row (tables with an `id` key).
    var lastInsertRowID: Int64 { get }
    /// Rows the last INSERT, UPDATE or DELETE touched.
    var changes: Int { get }
}

extension SQLConnection {
    /// SQLite steps through its rows one at a time already.
    public func stream(_ sql: String, _ args: [SQLValue], batch: Int, row: (SQLRow) throws -> Bool) throws {
        var going = true
        try query(sql, args) { r in if going { going = try row(r) } }
    }
    public func run(_ sql: String) throws { try run(sql, []) }
    public func query(_ sql: String, row: (SQLRow) throws -> Void) throws { try query(sql, [], row: row) }
    public func scalar(_ sql: String, _ args: [SQLValue] = []) throws -> SQLValue {
        var value = SQLValue.null
        try query(sql, args) { value = $0[0] }
        return value
    }
}

/// What the API and the engine need to know of a database error, whichever engine raised it.
public protocol DatabaseFault: Error {
    /// A UNIQUE or FOREIGN KEY check refused the write: a conflict with another writer, not a fault.
    var isConstraintViolation: Bool { get }
    /// The statement ran past its time limit (`ReadDeadline`) and was stopped.
    var isTimeLimit: Bool { get }
    /// The database cannot be reached (down, restarting, connection lost): retry later.
    var isUnavailable: Bool { get }
}

/// Values bound to statements and read from rows.
public enum SQLValue: Sendable, Equatable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)

    public var int: Int64 {
        switch self {
        case .int(let v): v
        case .text(let s): Int64(s) ?? 0
        case .double(let v): Int64(exactly: v.rounded(.towardZero)) ?? 0
        case .null: 0
        }
    }
    public var text: String {
        switch self {
        case .text(let s): s
        case .int(let v): String(v)
        case .double(let v): String(v)
        case .null: ""
        }
    }
    public var isNull: Bool { self == .null }
}

/// One result row. SQLite rows are read in place from the statement; other engines hand over decoded values.
public struct SQLRow {
    enum Source {
        case sqlite(OpaquePointer)
        case values([SQLValue])
    }
    let source: Source

    public init(values: [SQLValue]) { source = .values(values) }
    init(statement: OpaquePointer) { source = .sqlite(statement) }

    public subscript(_ i: Int32) -> SQLValue {
        switch source {
        case .sqlite(let stmt): return SQLiteConnection.value(stmt, i)
        case .values(let v): return Int(i) < v.count ? v[Int(i)] : .null
        }
    }
    public func int(_ i: Int32) -> Int64 {
        switch source {
        case .sqlite(let stmt): return SQLiteConnection.int(stmt, i)
        case .values: return self[i].int
        }
    }
    public func text(_ i: Int32) -> String {
        switch source {
        case .sqlite(let stmt): return SQLiteConnection.text(stmt, i)
        case .values: return self[i].text
        }
    }
}
