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

/// A free port below the ephemeral range, for a server a test restarts on the same port.
func restartablePort() throws -> Int { try Ports.restartable() }

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
