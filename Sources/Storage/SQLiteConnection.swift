import CSQLite
import Foundation

public struct SQLiteError: DatabaseFault, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String
    public var description: String { "SQLite error \(code): \(message)" }
    /// A UNIQUE or FOREIGN KEY check refused the write: another writer changed or removed what it refers to
    /// since the caller looked (an organisation deleted while a user is moved into it). A conflict, not a fault.
    public var isConstraintViolation: Bool { code & 0xff == SQLITE_CONSTRAINT }
    /// The read ran past its time limit (`ReadDeadline`) and SQLite stopped it.
    public var isTimeLimit: Bool { code == SQLITE_INTERRUPT }
    /// The file is damaged (or not a database at all).
    public var isCorruption: Bool { code & 0xff == SQLITE_CORRUPT || code & 0xff == SQLITE_NOTADB }
    /// A local file is never "unreachable"; a busy one waits (busy_timeout) instead.
    public var isUnavailable: Bool { false }
}

/// The time a read may take, for the task that runs it: `ReadDeadline.$seconds.withValue(10) { … }` around an API
/// request bounds every query it makes (a `param=…~<long value>` filter ran 11–44 s). nil = unbounded.
public enum ReadDeadline {
    @TaskLocal public static var seconds: Double?
}

/// What a reader connection's progress handler compares with the clock; one per connection.
final class DeadlineBox {
    var until: Double = 0   // monotonic seconds; 0 = none
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// A thin wrapper over one sqlite3 connection with a prepared-statement cache. Not thread-safe: the owner
/// (writer thread or a pooled reader) serialises access.
public final class SQLiteConnection: SQLConnection {
    public typealias Row = SQLRow
    public var dialect: SQLDialect { .sqlite }
    let handle: OpaquePointer
    private var cache: [String: OpaquePointer] = [:]
    private var deadline: DeadlineBox?

    /// Lets `run(within:)` interrupt long statements: SQLite calls back every 4,000 virtual-machine steps.
    func enableDeadlines() {
        let box = DeadlineBox()
        deadline = box
        sqlite3_progress_handler(handle, 4000, { ctx in
            guard let ctx else { return 0 }
            let box = Unmanaged<DeadlineBox>.fromOpaque(ctx).takeUnretainedValue()
            return box.until > 0 && DeadlineBox.now() > box.until ? 1 : 0
        }, Unmanaged.passUnretained(box).toOpaque())
    }

    /// Runs `work` with statements interrupted (SQLITE_INTERRUPT) after `seconds`; nil = no limit.
    public func run<T>(within seconds: Double?, _ work: (any SQLConnection) throws -> T) throws -> T {
        guard let seconds, let deadline else { return try work(self) }
        deadline.until = DeadlineBox.now() + seconds
        defer { deadline.until = 0 }
        return try work(self)
    }

    public init(path: String, readOnly: Bool = false) throws {
        var db: OpaquePointer?
        let flags = readOnly ? SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
                             : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let msg = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open \(path)"
            if let db { sqlite3_close(db) }
            throw SQLiteError(code: rc, message: msg)
        }
        handle = db
        sqlite3_busy_timeout(db, 10_000)
    }

    deinit {
        for stmt in cache.values { sqlite3_finalize(stmt) }
        sqlite3_close_v2(handle)
    }

    public func execute(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let msg = err.map { String(cString: $0) } ?? "error"
            sqlite3_free(err)
            throw SQLiteError(code: rc, message: msg)
        }
    }

    public func executeSchema(_ sql: String) throws { try execute(sql) }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let stmt = cache[sql] { return stmt }
        if cache.count >= 256 {
            // Dynamic queries (filters) would otherwise grow the cache without bound.
            for s in cache.values { sqlite3_finalize(s) }
            cache.removeAll()
        }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw SQLiteError(code: rc, message: "\(lastMessage) in: \(sql)") }
        cache[sql] = stmt
        return stmt
    }

    private var lastMessage: String { String(cString: sqlite3_errmsg(handle)) }

    private func bind(_ stmt: OpaquePointer, _ args: [SQLValue]) throws {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
        for (i, arg) in args.enumerated() {
            let idx = Int32(i + 1)
            let rc: Int32
            switch arg {
            case .null: rc = sqlite3_bind_null(stmt, idx)
            case .int(let v): rc = sqlite3_bind_int64(stmt, idx, v)
            case .double(let v): rc = sqlite3_bind_double(stmt, idx, v)
            case .text(let s):
                // With its byte length: a NUL inside the value must not cut it short ("ab\0x" is not "ab").
                var s = s
                rc = s.withUTF8 { utf8 in
                    guard let base = utf8.baseAddress, utf8.count > 0 else { return sqlite3_bind_text(stmt, idx, "", 0, corral_sqlite_transient()) }
                    return base.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
                        sqlite3_bind_text(stmt, idx, $0, Int32(utf8.count), corral_sqlite_transient())
                    }
                }
            }
            if rc != SQLITE_OK { throw SQLiteError(code: rc, message: lastMessage) }
        }
    }

    /// Runs a statement that returns no rows.
    public func run(_ sql: String, _ args: [SQLValue]) throws {
        let stmt = try prepared(sql)
        try bind(stmt, args)
        defer { sqlite3_reset(stmt) }
        let rc = sqlite3_step(stmt)
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else { throw SQLiteError(code: rc, message: lastMessage) }
    }

    /// Calls `row` for each result row; the closure reads columns through the cursor.
    public func query(_ sql: String, _ args: [SQLValue], row: (SQLRow) throws -> Void) throws {
        let stmt = try prepared(sql)
        try bind(stmt, args)
        defer { sqlite3_reset(stmt) }
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw SQLiteError(code: rc, message: lastMessage) }
            try row(SQLRow(statement: stmt))
        }
    }

    /// False inside a transaction; true again if SQLite rolled it back by itself (FULL, IOERR, NOMEM...).
    public var isAutocommit: Bool { sqlite3_get_autocommit(handle) != 0 }

    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    public var changes: Int { Int(sqlite3_changes(handle)) }

    static func value(_ stmt: OpaquePointer, _ i: Int32) -> SQLValue {
        switch sqlite3_column_type(stmt, i) {
        case SQLITE_INTEGER: return .int(sqlite3_column_int64(stmt, i))
        case SQLITE_FLOAT: return .double(sqlite3_column_double(stmt, i))
        case SQLITE_NULL: return .null
        default: return .text(text(stmt, i))
        }
    }
    static func int(_ stmt: OpaquePointer, _ i: Int32) -> Int64 { sqlite3_column_int64(stmt, i) }
    static func text(_ stmt: OpaquePointer, _ i: Int32) -> String {
        guard let p = sqlite3_column_text(stmt, i) else { return "" }
        // With its byte length, like the binding: a stored NUL comes back.
        return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, i))), as: UTF8.self)
    }
}
