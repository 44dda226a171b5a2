import ACSCore
import Foundation
import Logging
import NetHTTP
import Testing
@testable import API
@testable import Engine
import Storage

/// /metrics from swift-metrics + swift-prometheus, read by a real Prometheus text parser (Python's prometheus_client),
/// and the log formats (issue 16).
@Suite(.serialized, .stopsLiveServers) struct MetricsAndLogsTests {
    /// Parses Prometheus text with prometheus_client; returns "name{label=value,...}" → value for every sample.
    static func parse(_ text: String) throws -> [String: Double] {
        let dir = temporaryDirectory("prom")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try text.write(toFile: dir + "/metrics.txt", atomically: true, encoding: .utf8)
        let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = {}
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                for s in family.samples:
                    labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
                    out[s.name + "{" + labels + "}"] = s.value
            print(json.dumps(out))
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", script, dir + "/metrics.txt"]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let problem = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw Timeout(description: "prometheus_client could not parse /metrics (apt install python3-prometheus-client): \(problem)")
        }
        return (try JSONSerialization.jsonObject(with: data) as? [String: Double]) ?? [:]
    }

    @Test func metricsCountSessionsInformsFailuresTasksAndWakeUps() async throws {
        let live = try await LiveServer()
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1))
        let sim = try live.simulator(count: 2, prefix: "MET-")
        let bad = try live.simulator(count: 1, prefix: "METBAD-") { $0.password = "wrong" }
        try await sim.start()
        try await bad.start()
        try await waitUntil("onboarded", seconds: 30) { try live.store.devices(limit: 5, offset: 0).filter(\.credentialsConfirmed).count == 2 }
        let d = try #require(try live.store.devices(limit: 1, offset: 0).first)
        try await waitUntil("connection request URL known", seconds: 30) { try live.store.device(id: d.id)?.connectionRequestURL.isEmpty == false }
        let task = try await admin.send("POST", "/devices/\(d.id)/tasks", json: ["action": "get", "paths": ["Device.DeviceInfo.UpTime"],
                                                                                  "connection_request": true, "timeout": 30])
        #expect(task.json["state"] as? String == "done", "\(task.text)")
        try await waitUntil("a refused contact", seconds: 30) {
            live.server.cwmp.metrics.text().contains("corral_cwmp_auth_failures_total{reason=\"wrong_password\"}")
        }
        let r = try await admin.send("GET", "//metrics")
        #expect(r.status == 200)
        let m = try Self.parse(r.text)
        #expect((m["corral_cwmp_sessions_total{}"] ?? 0) >= 3, "\(m.keys.sorted())")
        #expect((m["corral_informs_total{event=0 BOOTSTRAP}"] ?? 0) >= 2)
        #expect((m["corral_informs_total{event=6 CONNECTION REQUEST}"] ?? 0) >= 1)
        #expect((m["corral_cwmp_auth_failures_total{reason=wrong_password}"] ?? 0) >= 1)
        #expect((m["corral_tasks_total{action=get,outcome=done}"] ?? 0) >= 1, "\(m.keys.filter { $0.hasPrefix("corral_tasks") })")
        #expect((m["corral_connection_requests_total{method=http,outcome=woke}"] ?? 0) >= 1)
        #expect((m["corral_connection_request_latency_seconds_count{method=http}"] ?? 0) >= 1)
        #expect((m["corral_cwmp_session_duration_seconds_count{}"] ?? 0) >= 2)
        #expect(m["corral_devices{}"] == 2 && m["corral_devices_online{}"] == 2)
        #expect(m["corral_active_sessions{}"] != nil && m["corral_queue_depth{queue=webhook_deliveries}"] == 0)
        // The sections still written by hand parse too.
        #expect(m["corral_wakeups_total{method=http}"] != nil)
        await sim.stop()
        await bad.stop()
    }

    @Test func logLinesAsTextOrJSONWithMetadataAndLevelsPerSubsystem() throws {
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        let text = CorralLogHandler.render(format: .text, label: "cwmp", level: .info, message: "session opened",
                                           metadata: ["remote": "10.0.0.1", "device": "00C0FF-X"], at: at)
        #expect(text == "[cwmp] info: session opened device=00C0FF-X remote=10.0.0.1")
        let json = CorralLogHandler.render(format: .json, label: "cwmp", level: .error, message: "a \"quoted\" message",
                                           metadata: ["device": "00C0FF-X"], at: at)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String])
        #expect(object == ["time": "2027-01-15T08:00:00.000Z", "level": "error", "label": "cwmp", "message": "a \"quoted\" message", "device": "00C0FF-X"])
        #expect(!json.contains("\n"))
        #expect(Log.levels("", label: "cwmp") == .info)
        #expect(Log.levels("debug", label: "cwmp") == .debug)
        #expect(Log.levels("error,cwmp=debug", label: "cwmp") == .debug)
        #expect(Log.levels("error,cwmp=debug", label: "webhook") == .error)
        #expect(Log.levels("cwmp=off,info", label: "cwmp") == .off)
        #expect(Log(label: "x", level: .error).logger.logLevel == .error)
    }
}
