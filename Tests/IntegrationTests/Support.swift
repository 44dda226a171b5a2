import Foundation
import TestSupport
import Testing
import ACSCore
import CWMP
@testable import Engine
import Simulator
import Storage

enum Paths {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static var datamodels: String { packageRoot + "/datamodels" }
    static var corralBinary: String { packageRoot + "/.build/debug/corral" }
}

func temporaryDirectory(_ tag: String) -> String {
    let dir = NSTemporaryDirectory() + "corral-\(tag)-" + UUID().uuidString.prefix(8)
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

struct Timeout: Error, CustomStringConvertible {
    let description: String
}

/// Polls `condition` until it holds or `seconds` pass.
func waitUntil(_ what: String, seconds: Double, every: Duration = .milliseconds(50), _ condition: () throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return }
        try await Task.sleep(for: every)
    }
    if try condition() { return }
    throw Timeout(description: "timed out after \(seconds) s waiting for: \(what)")
}

func serverConfig(data: String, cwmpPort: Int = 0, informInterval: Int = 2) -> CorralConfig {
    var c = CorralConfig()
    c.dataDirectory = data
    c.databaseURL = try! TestDatabase.url(for: data)
    c.host = "127.0.0.1"
    c.cwmpPort = cwmpPort
    c.httpPort = 0
    c.stunPort = 0
    c.speedtestPort = 0
    c.udpEchoPort = 0
    c.sessionIdleTimeout = 10
    for name in ["generic-tr181", "generic-tr098"] {
        c.profiles[name] = CorralConfig.ProfileOverride(onboardingUsername: nil, onboardingPassword: nil, informInterval: informInterval)
    }
    return c
}

func simulator(port: Int, count: Int, model: String, prefix: String, offset: Int = 0) throws -> Simulator {
    var c = SimulatorConfig(acsURL: "http://127.0.0.1:\(port)/cwmp", count: count, model: model)
    c.serialPrefix = prefix
    c.serialOffset = offset
    c.dataModelDirectory = Paths.datamodels
    c.jitter = 0.2
    c.httpTimeoutSeconds = 10
    return try Simulator(config: c)
}

/// Queues a task, wakes the device with a connection request and waits for a final state.
func runNow(_ kind: TaskKind, on device: Device, store: CorralStore, seconds: Double = 20) async throws -> DeviceTask {
    let service = TaskService(store: store)
    let task = try await service.queue(kind, on: device)
    try await ConnectionRequester.send(to: device)
    var final: DeviceTask?
    try await waitUntil("task #\(task.id) \(kind.label) to finish", seconds: seconds) {
        final = try store.task(id: task.id)
        return final?.state.isFinal == true
    }
    return final!
}

/// Runs a command to completion and returns its exit status and output (stdout and stderr, through a temporary
/// file). posix_spawn + waitpid rather than Foundation's Process: Process.waitUntilExit was seen to miss the exit of a
/// script that left a daemon behind (scripts/xmpp-lab starts prosody) and hang the suite; a file, unlike a pipe,
/// never waits for a daemon that inherited it.
func runCommand(_ args: [String], env: [String: String] = [:]) throws -> (status: Int32, output: String) {
    let log = temporaryDirectory("cmd") + "/output"
    defer { try? FileManager.default.removeItem(atPath: (log as NSString).deletingLastPathComponent) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let environment = ProcessInfo.processInfo.environment.merging(env) { $1 }.map { "\($0.key)=\($0.value)" }
    func cStrings(_ s: [String]) -> [UnsafeMutablePointer<CChar>?] { s.map { strdup($0) } + [nil] }
    let argv = cStrings(args), envp = cStrings(environment)
    defer { (argv + envp).forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, args[0], &actions, nil, argv, envp)
    guard rc == 0 else { throw Timeout(description: "cannot run \(args[0]): \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    // WIFEXITED / WEXITSTATUS are macros: exit code in bits 8-15 when the low 7 bits are 0.
    let exited = status & 0x7f == 0
    return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), output)
}

/// A free TCP port below Linux's ephemeral range (32768-60999) for servers a test restarts on the same port: a port
/// the kernel handed out as ephemeral can be taken by an outgoing connection between stop and restart.
func restartablePort() throws -> Int {
    for _ in 0..<200 {
        let port = Int.random(in: 20_000..<32_000)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        if rc == 0 { return port }
    }
    throw Timeout(description: "no free port in 20000-32000")
}

/// Runs the corral binary (as an operator would, beside a server the test runs) off the cooperative pool.
func runCorral(_ args: [String]) async throws -> (status: Int32, out: String, err: String) {
    try await withCheckedThrowingContinuation { cont in
        DispatchQueue.global().async {
            do {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: Paths.corralBinary)
                p.arguments = args
                p.environment = ProcessInfo.processInfo.environment.merging(["CORRAL_LOG": "error"]) { $1 }
                let out = Pipe(), err = Pipe()
                p.standardOutput = out
                p.standardError = err
                try p.run()
                let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
                p.waitUntilExit()
                cont.resume(returning: (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self)))
            } catch { cont.resume(throwing: error) }
        }
    }
}
