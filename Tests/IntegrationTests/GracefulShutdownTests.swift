import Foundation
import Testing
import ACSCore
import Storage
import Simulator

/// `corral serve` under swift-service-lifecycle (issue 16): SIGTERM with CPE sessions in flight shuts down
/// gracefully (exit 0, every session a CPE saw complete is stored), and `--log-format json` writes one JSON object
/// per log line.
@Suite(.serialized) struct GracefulShutdownTests {
    @Test func sigtermWithSessionsInFlightLosesNothing() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Paths.corralBinary),
                     "build the executable first (swift build): \(Paths.corralBinary)")
        let data = temporaryDirectory("sigterm")
        defer { try? FileManager.default.removeItem(atPath: data) }
        try #"{"profiles": {"generic-tr181": {"informInterval": 1}}}"#.write(toFile: data + "/corral.json", atomically: true, encoding: .utf8)
        let process = Process()
        let out = Pipe(), err = Pipe()
        process.executableURL = URL(fileURLWithPath: Paths.corralBinary)
        process.arguments = ["serve", "--data", data, "--host", "127.0.0.1", "--cwmp-port", "0", "--http-port", "0", "--stun-port", "0",
                             "--speedtest-port", "0", "--udp-echo-port", "0", "--log-format", "json"]
        var env = ProcessInfo.processInfo.environment
        env["CORRAL_LOG"] = "info,cwmp=debug"
        process.environment = env
        process.standardOutput = out
        process.standardError = err
        // Collected as they come (a full pipe would block the child).
        let collected = Collected()
        out.fileHandleForReading.readabilityHandler = { h in collected.add(out: h.availableData) }
        err.fileHandleForReading.readabilityHandler = { h in collected.add(err: h.availableData) }
        try process.run()
        var port = 0
        try await waitUntil("serve reports its port", seconds: 60) {
            guard let line = collected.out.split(separator: "\n").first(where: { $0.contains("CWMP listening on") }),
                  let p = line.split(separator: ",").first?.split(separator: ":").last.flatMap({ Int($0) }) else { return false }
            port = p
            return true
        }
        let sim = try simulator(port: port, count: 30, model: "tr181", prefix: "TERM-")
        try await sim.start()
        let reader = try SQLStore(directory: data)
        defer { reader.close() }
        try await waitUntil("30 devices onboarded", seconds: 60) {
            try reader.devices(limit: 100, offset: 0).filter(\.credentialsConfirmed).count == 30
        }
        // Periodic sessions every second from 30 CPEs: some are always in flight when the signal comes.
        try await Task.sleep(for: .seconds(2))
        let signalled = ContinuousClock.now
        kill(process.processIdentifier, SIGTERM)
        try await waitUntil("serve exits", seconds: 30) { !process.isRunning }
        #expect(ContinuousClock.now - signalled < .seconds(15))
        let completed = sim.stats.sessions
        await sim.stop()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(collected.err.suffix(2000))")
        #expect(collected.out.contains("corral: shutting down") && collected.out.contains("corral: stopped"), "\(collected.out)")

        // Every session a CPE saw complete has its Inform stored: the writer drained before the store closed.
        var stored = 0
        for d in try reader.devices(limit: 100, offset: 0) { stored += try reader.informs(deviceID: d.id, limit: 10_000).count }
        #expect(stored >= completed, "\(stored) informs stored, \(completed) sessions completed")

        // JSON logs: one object per line, with level, label, message and structured fields.
        let lines = collected.err.split(separator: "\n").filter { !$0.isEmpty }
        #expect(!lines.isEmpty)
        var labels = Set<String>()
        for line in lines {
            let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            #expect(object != nil, "not JSON: \(line)")
            guard let object else { continue }
            #expect(object["level"] is String && object["message"] is String && object["time"] is String)
            if let l = object["label"] as? String { labels.insert(l) }
        }
        #expect(labels.contains("cwmp") || labels.contains("serve"), "\(labels)")
    }

    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var o = Data(), e = Data()
        func add(out d: Data) { lock.withLock { o.append(d) } }
        func add(err d: Data) { lock.withLock { e.append(d) } }
        var out: String { lock.withLock { String(decoding: o, as: UTF8.self) } }
        var err: String { lock.withLock { String(decoding: e, as: UTF8.self) } }
    }
}
