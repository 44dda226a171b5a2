import Foundation

/// A real PostgreSQL server for the tests: Debian's binaries, a cluster made with `initdb` in a temporary directory
/// (as the `postgres` user when the tests run as root), listening on a free loopback port, password (SCRAM)
/// authentication. One per test process, started on first use and stopped at exit; each test takes a database of its
/// own (`newDatabase`).
public final class PostgresServer: @unchecked Sendable {
    public let port: Int
    public let directory: String
    public static let user = "corral"
    public static let password = "corral-test-pw"
    let bin: String
    private let lock = NSLock()
    private var counter = 0

    /// The process's server, or the reason none can run here (the tests that need one fail with it).
    public static let shared: Result<PostgresServer, PostgresServerError> = Result { try PostgresServer() }
        .mapError { $0 as? PostgresServerError ?? PostgresServerError(message: "\($0)") }

    public static func get() throws -> PostgresServer { try shared.get() }

    /// A server of its own (for a test that stops and starts it); `shared` is the one most tests use.
    public init() throws {
        guard let bin = Self.binDirectory() else {
            throw PostgresServerError(message: "no PostgreSQL server binaries under /usr/lib/postgresql (apt install postgresql; scripts/install-deps does)")
        }
        self.bin = bin
        let dir = NSTemporaryDirectory() + "corral-pg-" + UUID().uuidString.prefix(8)
        directory = dir
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let pwfile = dir + "/pw"
        try Self.password.write(toFile: pwfile, atomically: true, encoding: .utf8)
        if getuid() == 0 { _ = try Self.run("/bin/chown", ["-R", "postgres:postgres", dir]) }
        try Self.runAsOwner(bin + "/initdb", ["-D", dir + "/data", "-U", Self.user, "--pwfile=" + pwfile, "--auth=scram-sha-256",
                                              "--locale=C", "--encoding=UTF8", "--no-sync"])
        port = try Ports.free()
        try start()
        let stop = bin + "/pg_ctl"
        let data = dir + "/data"
        PostgresServer.atExit.append { _ = try? Self.runAsOwner(stop, ["-D", data, "-m", "immediate", "-w", "stop"]); try? FileManager.default.removeItem(atPath: dir) }
        atexit { for f in PostgresServer.atExit { f() } }
    }

    nonisolated(unsafe) static var atExit: [() -> Void] = []

    /// `postgresql://corral:…@127.0.0.1:<port>/<database>`.
    public func url(_ database: String) -> String {
        "postgresql://\(Self.user):\(Self.password)@127.0.0.1:\(port)/\(database)"
    }

    /// A new empty database; its URL.
    public func newDatabase(_ prefix: String = "t") throws -> String {
        lock.lock()
        counter += 1
        let name = "\(prefix)_\(getpid())_\(counter)"
        lock.unlock()
        try psql("postgres", "CREATE DATABASE \(name)")
        return url(name)
    }

    /// Runs SQL with psql (as the cluster's owner role); its output.
    @discardableResult
    public func psql(_ database: String, _ sql: String) throws -> String {
        try Self.run(bin + "/psql", ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", url(database), "-c", sql])
    }

    /// Starts the server (again).
    public func start() throws {
        let options = "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 -c shared_buffers=64MB"
        try Self.runAsOwner(bin + "/pg_ctl", ["-D", directory + "/data", "-o", options, "-l", directory + "/log", "-w", "-t", "60", "start"])
    }

    /// Stops the server at once, as a crash would (connections are cut).
    public func stop() throws {
        try Self.runAsOwner(bin + "/pg_ctl", ["-D", directory + "/data", "-m", "immediate", "-w", "stop"])
    }

    static func binDirectory() -> String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        return versions.last.map { "\(root)/\($0)/bin" }.flatMap { FileManager.default.fileExists(atPath: $0 + "/initdb") ? $0 : nil }
    }

    static func runAsOwner(_ tool: String, _ args: [String]) throws {
        if getuid() == 0 {
            _ = try run("/usr/sbin/runuser", ["-u", "postgres", "--", tool] + args)
        } else {
            _ = try run(tool, args)
        }
    }

    @discardableResult
    static func run(_ tool: String, _ args: [String]) throws -> String {
        let (status, text) = try runCommand([tool] + args)
        guard status == 0 else {
            throw PostgresServerError(message: "\((tool as NSString).lastPathComponent) \(args.joined(separator: " ")) failed (\(status)): \(text)")
        }
        return text
    }
}

public struct PostgresServerError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// `CORRAL_TEST_DATABASE=postgres` runs the server-level suites on PostgreSQL: each server a test starts gets a new
/// database on the tests' server instead of SQLite in its data directory (nil: SQLite, the default).
/// A server restarted on the same data directory finds the same database.
public enum TestDatabase {
    nonisolated(unsafe) private static var byDirectory: [String: String] = [:]
    private static let lock = NSLock()

    public static func url(for dataDirectory: String) throws -> String? {
        guard ProcessInfo.processInfo.environment["CORRAL_TEST_DATABASE"] == "postgres" else { return nil }
        lock.lock()
        defer { lock.unlock() }
        if let url = byDirectory[dataDirectory] { return url }
        let url = try PostgresServer.get().newDatabase("suite")
        byDirectory[dataDirectory] = url
        return url
    }
}
