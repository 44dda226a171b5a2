import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Storage

/// A PostgreSQL error as the store reports it: the server's SQLSTATE when it sent one.
public struct PostgresFault: DatabaseFault, CustomStringConvertible, Sendable {
    /// SQLSTATE ("23505" unique violation, "57014" statement timeout…), "" for client-side failures.
    public let sqlState: String
    public let message: String
    public let unavailable: Bool

    public var isConstraintViolation: Bool { sqlState.hasPrefix("23") }
    public var isTimeLimit: Bool { sqlState == "57014" }
    /// Connection failures (class 08), the server shutting down or starting (57P01–57P03), a lost socket.
    public var isUnavailable: Bool { unavailable || sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(sqlState) }
    public var description: String { sqlState.isEmpty ? "PostgreSQL: \(message)" : "PostgreSQL error \(sqlState): \(message)" }

    init(_ error: Error) {
        if let e = error as? PostgresFault { self = e; return }
        if let e = error as? PSQLError {
            sqlState = e.serverInfo?[.sqlState] ?? ""
            let detail = e.serverInfo?[.detail].map { " (\($0))" } ?? ""
            message = (e.serverInfo?[.message] ?? "\(e.code)") + detail
            unavailable = [.connectionError, .serverClosedConnection, .uncleanShutdown, .clientClosedConnection].contains(e.code)
        } else {
            sqlState = ""
            message = "\(error)"
            unavailable = true   // connect failures come as NIO channel errors
        }
    }

    init(sqlState: String = "", message: String, unavailable: Bool = false) {
        self.sqlState = sqlState; self.message = message; self.unavailable = unavailable
    }
}

/// Where and how to connect, from a `postgresql://user:password@host:port/database` URL.
public struct PostgresTarget: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String

    public init(url: String) throws {
        guard let c = URLComponents(string: url), let scheme = c.scheme, ["postgresql", "postgres"].contains(scheme) else {
            throw PostgresFault(message: "not a PostgreSQL URL (postgresql://user:password@host:port/database): \(Self.redacted(url))")
        }
        host = c.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        port = c.port ?? 5432
        username = c.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        password = c.password.flatMap { $0.removingPercentEncoding }
        let path = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
        database = path.isEmpty ? username : path
    }

    /// The URL with its password masked, for logs and error messages.
    public static func redacted(_ url: String) -> String {
        guard var c = URLComponents(string: url), c.password != nil else { return url }
        c.password = "****"
        return c.string ?? url
    }

    public var description: String { "postgresql://\(username)@\(host):\(port)/\(database)" }
}

extension PostgresTarget {
    /// postgres-nio's settings for this target (no TLS: the database is reached on a private network or loopback).
    var configuration: PostgresConnection.Configuration {
        var config = PostgresConnection.Configuration(host: host, port: port, username: username, password: password, database: database, tls: .disable)
        config.options.connectTimeout = .seconds(5)
        return config
    }
}

/// One PostgreSQL connection behind the store's `SQLConnection`: statements rewritten by `PostgresDialect`, values
/// bound as untyped text (the server infers each parameter's type from where it stands, as SQLite accepts any value
/// anywhere), rows decoded into `SQLValue`s. Calls block the calling thread until the server answers; they must not
/// run on `group`'s event loop (the store calls from its writer thread and its callers' threads). A lost connection
/// is opened again by the next statement outside a transaction.
public final class PostgresSQLConnection: SQLConnection, @unchecked Sendable {
    public var dialect: SQLDialect { .postgres }
    let target: PostgresTarget
    let eventLoop: any EventLoop
    let logger: Logger
    private var connection: PostgresConnection?
    private var cache: [String: PostgresDialect.Rewritten] = [:]
    /// Reads run often enough to keep their plans on this connection (PREPARE once, then EXECUTE): planning was
    /// most of the server's time for the session's small reads.
    private var prepared = PreparedReads()
    /// Tables whose `id` is an identity column: an INSERT into one reports the new id (`lastInsertRowID`).
    var identityTables: Set<String> = []
    private var inTransaction = false
    public private(set) var lastInsertRowID: Int64 = 0
    public private(set) var changes = 0
    private static let ids = IDs()
    private static let trips = IDs()
    /// Statements sent to a server by this process so far: one round trip each (`corral bench engine` divides them
    /// by sessions).
    public static var roundTrips: Int { trips.value }

    final class IDs: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func next() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n }
        var value: Int { lock.lock(); defer { lock.unlock() }; return n }
    }

    public init(target: PostgresTarget, eventLoop: any EventLoop, logger: Logger = Logger(label: "corral.postgres")) throws {
        self.target = target
        self.eventLoop = eventLoop
        var l = logger
        l.logLevel = .error
        self.logger = l
        _ = try open()
    }

    deinit { let _: EventLoopFuture<Void>? = connection?.close() }   // no waiting: a deinit may run on any thread

    public func close() {
        try? connection?.close().blockingWait()
        connection = nil
    }

    private func open() throws -> PostgresConnection {
        if let c = connection, !c.isClosed { return c }
        if inTransaction {
            // The transaction died with its connection: the writer's group sees `isAutocommit` and fails its jobs.
            inTransaction = false
            throw PostgresFault(message: "connection lost inside a transaction", unavailable: true)
        }
        do {
            let c = try PostgresConnection.connect(on: eventLoop, configuration: target.configuration, id: Self.ids.next(), logger: logger).blockingWait()
            // Literal strings as the standard has them (EXECUTE of prepared reads writes values as literals).
            _ = try c.query(PostgresQuery(unsafeSQL: "SET standard_conforming_strings = on"), logger: logger).blockingWait()
            prepared = PreparedReads()   // prepared statements live in the server session: none on a new one
            connection = c
            return c
        } catch {
            throw PostgresFault(sqlState: (error as? PSQLError)?.serverInfo?[.sqlState] ?? "",
                                message: "cannot connect to \(target.description): \(PostgresFault(error).message)", unavailable: true)
        }
    }

    private func failed(_ error: Error) -> PostgresFault {
        let fault = PostgresFault(error)
        if fault.isUnavailable {
            try? connection?.close().blockingWait()
            connection = nil
        }
        return fault
    }

    public func execute(_ sql: String) throws {
        let rewritten = PostgresDialect.statement(sql).sql
        try simple(rewritten)
        let verb = sql.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        if verb.hasPrefix("BEGIN") { inTransaction = true }
        if verb == "COMMIT" || verb == "ROLLBACK" || verb == "END" { inTransaction = false }
    }

    public func executeSchema(_ sql: String) throws {
        try simple(PostgresDialect.schema(sql))
    }

    /// Each statement of the text in turn (postgres-nio speaks the extended protocol: one statement per query).
    private func simple(_ sql: String) throws {
        let c = try open()
        for statement in PostgresDialect.split(sql) {
            _ = Self.trips.next()
            do { _ = try c.query(PostgresQuery(unsafeSQL: statement), logger: logger).blockingWait() } catch { throw failed(error) }
        }
    }

    public func run(_ sql: String, _ args: [SQLValue]) throws {
        try query(sql, args) { _ in }
    }

    public func query(_ sql: String, _ args: [SQLValue], row: (SQLRow) throws -> Void) throws {
        let rewritten = cache[sql] ?? {
            if cache.count >= 512 { cache.removeAll() }   // dynamic filters would grow it without bound
            let r = PostgresDialect.statement(sql, identityTables: identityTables)
            cache[sql] = r
            return r
        }()
        var binds = PostgresBindings(capacity: args.count)
        for a in args {
            switch a {
            case .null: binds.appendNull()
            case .int(let v): binds.append(UntypedText(String(v)))
            case .double(let v): binds.append(UntypedText(String(v)))
            case .text(let s): binds.append(UntypedText(s))
            }
        }
        let c = try open()
        var sql = rewritten.sql
        if !inTransaction, let execute = try prepared.execute(for: sql, prepare: { name in
            do {
                _ = Self.trips.next()
                _ = try c.query(PostgresQuery(unsafeSQL: "PREPARE \(name) AS \(sql)"), logger: logger).blockingWait()
                // EXECUTE's arguments are expressions the server types by the statement's parameters.
                _ = Self.trips.next()
                return try c.query(PostgresQuery(unsafeSQL: "SELECT t::text FROM pg_prepared_statements, unnest(parameter_types) t WHERE name = '\(name)'"),
                                   logger: logger).blockingWait().rows.map { try $0.first!.decode(String.self) }
            } catch {
                // A lost connection is dropped here as on any statement: a query written to a closed channel is
                // never answered (postgres-nio completes nothing), so the read must not go on with `c`.
                throw failed(error)
            }
        }), let text = PreparedReads.executeText(name: execute.name, types: execute.types, args: args) {
            // EXECUTE is a utility statement: it cannot take bound parameters, so the values go in as literals
            // (standard_conforming_strings is on for this connection: a quote doubled is the only escape).
            sql = text
            binds = PostgresBindings()
        }
        let result: PostgresQueryResult
        _ = Self.trips.next()
        do {
            result = try c.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).blockingWait()
        } catch {
            let fault = failed(error)
            // Class 42 (syntax, unknown column): a statement this dialect does not rewrite right; name it.
            if fault.sqlState.hasPrefix("42") {
                throw PostgresFault(sqlState: fault.sqlState, message: fault.message + " in: " + rewritten.sql)
            }
            throw fault
        }
        changes = result.metadata.rows ?? 0
        if rewritten.returnsID {
            if let last = result.rows.last, let v = try? Self.value(last.first!) { lastInsertRowID = v.int }
            return
        }
        for r in result.rows {
            var values: [SQLValue] = []
            values.reserveCapacity(r.count)
            for cell in r { values.append(try Self.value(cell)) }
            try row(SQLRow(values: values))
        }
    }

    /// Through a server-side cursor, `batch` rows per FETCH: postgres-nio collects a whole result before handing it
    /// over (and copies its row array as it grows), which took 65 s and gigabytes for 1M devices in one query.
    public func stream(_ sql: String, _ args: [SQLValue], batch: Int, row: (SQLRow) throws -> Bool) throws {
        let own = !inTransaction
        if own { try execute("BEGIN READ ONLY") }
        do {
            try query("DECLARE corral_stream NO SCROLL CURSOR FOR " + sql, args) { _ in }
            var going = true
            while going {
                var n = 0
                try query("FETCH \(max(1, batch)) FROM corral_stream", []) { r in
                    n += 1
                    if going { going = try row(r) }
                }
                if n < batch { going = false }
            }
            try execute("CLOSE corral_stream")
            if own { try execute("COMMIT") }
        } catch {
            if own { try? execute("ROLLBACK") }
            throw error
        }
    }

    public func run<T>(within seconds: Double?, _ work: (any SQLConnection) throws -> T) throws -> T {
        guard let seconds, !inTransaction else { return try work(self) }
        try simple("SET statement_timeout = \(max(1, Int(seconds * 1000)))")
        defer { try? simple("SET statement_timeout = 0") }
        return try work(self)
    }

    public var isAutocommit: Bool { !inTransaction || connection == nil || connection?.isClosed == true }

    /// The refreshed list of identity tables (after migrations).
    func loadIdentityTables() throws {
        var names: Set<String> = []
        try query("""
            SELECT table_name FROM information_schema.columns
            WHERE table_schema = current_schema() AND column_name = 'id' AND is_identity = 'YES'
            """, []) { names.insert($0.text(0)) }
        identityTables = names
        cache.removeAll()
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int8, .int4, .int2: return .int(try cell.decode(Int64.self))
        case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
        case .float8, .float4: return .double(try cell.decode(Double.self))
        case .numeric:
            // sum() of integers is numeric: an integral one reads back as an integer, like SQLite's.
            let d = try cell.decode(Decimal.self)
            let n = NSDecimalNumber(decimal: d)
            if d == Decimal(n.int64Value) { return .int(n.int64Value) }
            return .double(n.doubleValue)
        default: return .text(try cell.decode(String.self))
        }
    }
}

/// A value bound as text of no declared type: PostgreSQL gives the parameter the type its place in the statement
/// asks for (`id = $1` a bigint, `name = $1` text).
struct UntypedText: PostgresDynamicTypeEncodable {
    let text: String
    init(_ text: String) { self.text = text }
    var psqlType: PostgresDataType { PostgresDataType(0) }
    var psqlFormat: PostgresFormat { .text }
    func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        byteBuffer.writeString(text)
    }
}

extension EventLoopFuture {
    /// Blocks the calling thread until the future completes. Unlike `wait()` it may be called from another event
    /// loop's thread (the store is read from HTTP handlers as SQLite is): the connection's own loop, which completes
    /// the future, belongs to the store's group and never runs store calls.
    func blockingWait() throws -> Value {
        precondition(!eventLoop.inEventLoop, "a store call on the store's own event loop would never finish")
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<Value>()
        whenComplete { box.result = $0; done.signal() }
        done.wait()
        return try box.result!.get()
    }
}

private final class ResultBox<Value>: @unchecked Sendable {
    var result: Result<Value, Error>?
}


/// Which reads a connection has prepared. A read is prepared the third time it runs (one-off dynamic filters are
/// not), at most 256 per connection; a failed PREPARE (a parameter whose type cannot be inferred) is not tried again.
/// The connection starts a new one with each server session it opens.
struct PreparedReads {
    /// Statement text → its name and parameter types.
    private var statements: [String: (name: String, types: [String])] = [:]
    private var seen: [String: Int] = [:]

    /// The prepared statement to EXECUTE instead of sending `sql`, or nil to send `sql` itself. `prepare(name)`
    /// prepares it and returns its parameter types.
    /// A lost connection (`isUnavailable`) is thrown; any other failure to prepare leaves the statement unprepared.
    mutating func execute(for sql: String, prepare: (String) throws -> [String]) throws -> (name: String, types: [String])? {
        if let s = statements[sql] { return s }
        guard sql.count <= 4000, sql.hasPrefix("SELECT") || sql.hasPrefix("WITH"), statements.count < 256 else { return nil }
        if seen.count >= 4096 { seen.removeAll() }
        let count = (seen[sql] ?? 0) + 1
        seen[sql] = count
        guard count >= 3 else { return nil }
        let name = "corral_read_\(statements.count + 1)"
        do {
            statements[sql] = (name, try prepare(name))
        } catch let fault as PostgresFault where fault.isUnavailable {
            throw fault
        } catch {
            seen[sql] = Int.min
            return nil
        }
        return statements[sql]
    }

    /// `EXECUTE name('text'::type, 42::type, NULL::type)`: nil when a value cannot be written as a literal (a NUL
    /// character, which PostgreSQL text cannot hold anyway) or the counts differ.
    static func executeText(name: String, types: [String], args: [SQLValue]) -> String? {
        guard types.count == args.count else { return nil }
        if args.isEmpty { return "EXECUTE \(name)" }
        var parts: [String] = []
        for (a, type) in zip(args, types) {
            let literal: String
            switch a {
            case .null: literal = "NULL"
            case .int(let v): literal = "'\(v)'"
            case .double(let v): literal = "'\(v)'"
            case .text(let t):
                guard !t.contains("\u{0}") else { return nil }
                literal = "'" + t.replacingOccurrences(of: "'", with: "''") + "'"
            }
            parts.append(literal + "::" + type)
        }
        return "EXECUTE \(name)(" + parts.joined(separator: ",") + ")"
    }
}
