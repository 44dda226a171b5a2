import Foundation
import TestSupport
import Testing
import ACSCore
@testable import API
@testable import Engine
import NetHTTP
import Simulator
import Storage

enum Paths {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
}

func temporaryDirectory(_ tag: String) -> String {
    let dir = NSTemporaryDirectory() + "corral-api-\(tag)-" + UUID().uuidString.prefix(8)
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

struct Timeout: Error, CustomStringConvertible { let description: String }

func waitUntil(_ what: String, seconds: Double, _ condition: () throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    if try condition() { return }
    throw Timeout(description: "timed out after \(seconds) s waiting for: \(what)")
}

/// Password hashing cost in tests: the real scheme, fewer iterations (the default is checked in HTTPAuthTests).
let testIterations = 1000

/// Stops what a test started (simulators, then servers, whose data directories go too) once it has ended, and awaits
/// it: a `defer` cannot await, and a stop left to a detached task could still be running in the next test.
struct StopsLiveServers: TestTrait, SuiteTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        guard !test.isSuite else { return try await function() }
        let started = Started()
        do {
            try await Started.$current.withValue(started) { try await function() }
        } catch {
            await started.stopAll()
            throw error
        }
        await started.stopAll()
    }

    /// What the running test started, newest first when stopping.
    final class Started: @unchecked Sendable {
        @TaskLocal static var current: Started?
        private let lock = NSLock()
        private var stops: [@Sendable () async -> Void] = []
        func add(_ stop: @escaping @Sendable () async -> Void) { lock.withLock { stops.append(stop) } }
        func stopAll() async {
            let all = lock.withLock { () -> [@Sendable () async -> Void] in defer { stops = [] }; return stops }
            for stop in all.reversed() { await stop() }
        }
    }
}

extension Trait where Self == StopsLiveServers {
    /// Every LiveServer and simulator a test of the suite starts is stopped, awaited, when the test ends.
    static var stopsLiveServers: Self { StopsLiveServers() }
}

/// A live `corral serve` equivalent on loopback: CWMP + operator port with the API, real SQLite in a temp dir.
final class LiveServer: @unchecked Sendable {
    let server: CorralServer
    let api: APIHandler
    let data: String
    var store: SQLStore { server.store }
    var base: String { "http://127.0.0.1:\(server.httpPort)" }

    init(informInterval: Int = 2, configure: (inout CorralConfig) -> Void = { _ in }) async throws {
        data = temporaryDirectory("srv")
        var c = CorralConfig()
        c.dataDirectory = data
        c.host = "127.0.0.1"
        c.cwmpPort = 0
        c.httpPort = 0
        c.stunPort = 0
        c.speedtestPort = 0
        c.udpEchoPort = 0
        c.sessionIdleTimeout = 10
        c.maxUploadBytes = 4 << 20
        c.scriptsDirectory = Paths.packageRoot + "/scripts"
        for name in ["generic-tr181", "generic-tr098"] {
            c.profiles[name] = CorralConfig.ProfileOverride(onboardingUsername: nil, onboardingPassword: nil, informInterval: informInterval)
        }
        c.databaseURL = try TestDatabase.url(for: data)
        configure(&c)
        server = try CorralServer(config: c)
        api = APIHandler.install(on: server, passwordIterations: testIterations)
        try await server.start()
        api.serverStarted(server)
        StopsLiveServers.Started.current?.add { [self] in await self.stop() }
    }

    private let stopLock = NSLock()
    private var stopped = false

    /// Idempotent: the test may stop it itself, and the suite's trait stops it again.
    func stop() async {
        guard stopLock.withLock({ () -> Bool in defer { stopped = true }; return !stopped }) else { return }
        await server.stop()
        try? FileManager.default.removeItem(atPath: data)
    }

    func user(_ name: String, role: Role, org: Int64, password: String = "correct-horse-battery") async throws -> UserAccount {
        try await AccountBootstrap.addUser(store: store, username: name, password: password, role: role, organisationID: org, iterations: testIterations)
    }

    /// A bearer token for a new user with this role in this organisation.
    func token(role: Role, org: Int64, name: String = UUID().uuidString.prefix(8).lowercased()) async throws -> String {
        let u = try await user("u-\(name)", role: role, org: org)
        return try await AccountBootstrap.addToken(store: store, username: u.username, name: "t-\(name)", role: role)
    }

    func simulator(count: Int, model: String = "tr181", prefix: String, configure: (inout SimulatorConfig) -> Void = { _ in }) throws -> Simulator {
        var c = SimulatorConfig(acsURL: "http://127.0.0.1:\(server.cwmpPort)/cwmp", count: count, model: model)
        c.serialPrefix = prefix
        c.dataModelDirectory = Paths.packageRoot + "/datamodels"
        c.jitter = 0.2
        c.httpTimeoutSeconds = 10
        configure(&c)
        let sim = try Simulator(config: c)
        StopsLiveServers.Started.current?.add { await sim.stop() }
        return sim
    }
}

/// A small HTTP client for the API over one keep-alive connection.
final class APIClient: @unchecked Sendable {
    let host = "127.0.0.1"
    let port: Int
    var headers = HTTPFields()
    let token: String?
    private var conn: HTTPClientConnection?

    init(port: Int, token: String? = nil) {
        self.port = port
        self.token = token
        if let token { headers.set("Authorization", "Bearer \(token)") }
    }

    struct Reply {
        let status: Int
        let headers: HTTPFields
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]) ?? [:] }
    }

    func send(_ method: String, _ path: String, json: Any? = nil, body: [UInt8]? = nil, contentType: String? = nil,
              extra: [(String, String)] = []) async throws -> Reply {
        if conn?.isOpen != true { conn = try await HTTPClientConnection.connect(host: host, port: port) }
        var h = headers
        h.set("Host", "\(host):\(port)")
        var bytes: [UInt8] = []
        if let json {
            bytes = Array(try JSONSerialization.data(withJSONObject: json))
            h.set("Content-Type", "application/json")
        } else if let body {
            bytes = body
            h.set("Content-Type", contentType ?? "application/octet-stream")
        }
        for (k, v) in extra { h.set(k, v) }
        // "/devices" means "/api/v1/devices"; a full "/api/…" or "//files/…" (outside the API) is sent as is.
        let uri = path.hasPrefix("/api/") ? path : path.hasPrefix("//") ? String(path.dropFirst()) : "/api/v1" + path
        let r = try await conn!.send(method: method, uri: uri, headers: h, body: bytes, timeout: .seconds(60))
        return Reply(status: r.status, headers: r.headers, body: r.body)
    }

    func get(_ path: String) async throws -> Reply { try await send("GET", path) }
    func close() async { await conn?.close() }
}

/// Sends a raw request head (no body) on a fresh socket and returns the status code of the answer.
func rawStatus(port: Int, _ head: String) throws -> Int {
    let text = try rawAnswer(port: port, head)
    guard text.hasPrefix("HTTP/1.1 "), let code = Int(text.dropFirst(9).prefix(3)) else { throw Timeout(description: "not HTTP: \(text.prefix(40))") }
    return code
}

/// The first bytes (up to 4 KiB) of the answer to a raw request head.
func rawAnswer(port: Int, _ head: String) throws -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var tv = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard rc == 0 else { throw Timeout(description: "connect failed: errno \(errno)") }
    let bytes = Array(head.utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 4096)
    while out.count < 4096 {
        let n = read(fd, &buf, buf.count)
        if n <= 0 { break }
        out += buf[0..<n]
    }
    guard out.count > 12 else { throw Timeout(description: "no answer (read \(out.count), errno \(errno))") }
    return String(decoding: out, as: UTF8.self)
}
