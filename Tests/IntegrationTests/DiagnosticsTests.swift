import Foundation
import Testing
import ACSCore
import CWMP
@testable import Engine
import Simulator
import SpeedTest
import Storage

/// TR-143 end to end: Corral's own test servers, the simulator running the tests for real over a shaped link,
/// results computed, stored and checked against the server's view.
@Suite(.serialized) struct DiagnosticsTests {
    @Test func downloadUploadEchoAndPingAgainstCorralsServers() async throws {
        var config = serverConfig(data: temporaryDirectory("diagnostics"), informInterval: 300)
        config.speedtestPort = try freeTCPPort()
        config.udpEchoPort = try freeUDPPort()
        config.speedtestBaseURL = "http://127.0.0.1:\(config.speedtestPort)"
        let server = try CorralServer(config: config)
        try await server.start()
        defer { Task { await server.stop() } }

        func sim(_ model: String, _ prefix: String, mbps: Double, latency: Double) throws -> Simulator {
            var c = SimulatorConfig(acsURL: "http://127.0.0.1:\(server.cwmpPort)/cwmp", count: 1, model: model)
            c.serialPrefix = prefix
            c.dataModelDirectory = Paths.datamodels
            c.httpTimeoutSeconds = 10
            c.linkMbps = mbps...mbps
            c.linkLatencyMs = latency...latency
            c.pingUDPPort = server.speedTest.echoPort
            return try Simulator(config: c)
        }
        let fast = try sim("tr181", "FAST-", mbps: 80, latency: 10)
        let slow = try sim("tr098", "SLOW-", mbps: 20, latency: 40)
        try await fast.start()
        try await slow.start()
        defer { Task { await fast.stop(); await slow.stop() } }
        try await waitUntil("2 devices onboarded", seconds: 30) {
            try server.store.devices(limit: 10, offset: 0).filter(\.credentialsConfirmed).count == 2
        }
        let all = try server.store.devices(limit: 10, offset: 0)
        let f = try #require(all.first { $0.serialNumber.hasPrefix("FAST-") }, "\(all.map(\.name))")
        let s = try #require(all.first { $0.serialNumber.hasPrefix("SLOW-") }, "\(all.map(\.name))")
        let service = TaskService(store: server.store)
        func run(_ test: DiagnosticTest, _ options: DiagnosticOptions, on d: Device, profile: DeviceProfile? = nil) async throws -> (DeviceTask, DiagnosticResult?) {
            let task = try await service.diagnose(test, options: options, on: d, profile: profile, servers: server.speedTest.servers(for: nil))
            try await ConnectionRequester.send(to: d)
            var final: DeviceTask?
            try await waitUntil("\(test) on \(d.name)", seconds: 40) {
                final = try server.store.task(id: task.id)
                return final?.state.isFinal == true
            }
            let record = try server.store.diagnosticResult(taskID: task.id)
            return (final!, try record.map { try JSONDecoder().decode(DiagnosticResult.self, from: Data($0.result.utf8)) })
        }

        // Download, TR-181, two connections on an 80 Mbit/s link: goodput near the link rate, agreeing with the server.
        let (dt, down) = try await run(.download, DiagnosticOptions(size: 2_000_000, connections: 2), on: f)
        #expect(dt.state == .done, "\(String(describing: dt.fault))")
        let d = try #require(down)
        #expect(d.ok && d.testBytes == 4_000_000)
        let bps = try #require(d.throughputBps)
        #expect(bps > 30e6 && bps < 100e6, "\(bps)")   // the 20 Mbit/s gateway below stays under 30
        #expect((d.tcpRttUs ?? 0) >= 4_000)
        #expect(d.server?.bytes == 4_000_000 && d.server?.connections == 2 && d.server?.complete == true)

        // The same on the 20 Mbit/s TR-098 gateway ("Completed"): slower, as its link is.
        let (_, slowDown) = try await run(.download, DiagnosticOptions(size: 1_000_000), on: s)
        let sd = try #require(slowDown)
        #expect(sd.ok && sd.state == "Completed")
        #expect(try #require(sd.throughputBps) < 30e6 && sd.throughputBps! > 8e6)

        // Upload: the server counted every byte.
        let (ut, up) = try await run(.upload, DiagnosticOptions(size: 1_500_000), on: f)
        #expect(ut.state == .done)
        #expect(up?.ok == true && up?.server?.bytes == 1_500_000 && (up?.throughputBps ?? 0) > 20e6)

        // UDP echo: round trips carry the link's latency; the server saw every packet.
        let (et, echo) = try await run(.udpecho, DiagnosticOptions(count: 5), on: f)
        #expect(et.state == .done, "\(String(describing: et.fault))")
        let e = try #require(echo)
        #expect(e.ok && e.received == 5 && e.loss == 0 && e.packets.count == 5)
        #expect((e.avgRttUs ?? 0) >= 9_000 && (e.avgRttUs ?? 0) < 200_000)
        #expect(e.server?.packetsReceived == 5 && e.upstreamLoss == 0 && e.downstreamLoss == 0)
        #expect(e.jitterUs != nil)

        // Ping on TR-098 (IPPingDiagnostics, milliseconds).
        let (pt, ping) = try await run(.ping, DiagnosticOptions(count: 3), on: s)
        #expect(pt.state == .done)
        #expect(ping?.ok == true && (ping?.avgRttUs ?? 0) >= 30_000)

        // A vendor object the CPE lacks: 9005, then the standard object in the same session.
        var vendor = DeviceProfile(name: "vendor")
        vendor.aliases["diagnostics.download"] = "Device.X_NOPE_SpeedTest."
        let (vt, v) = try await run(.download, DiagnosticOptions(size: 100_000), on: f, profile: vendor)
        #expect(vt.state == .done && v?.ok == true && v?.object == "Device.IP.Diagnostics.DownloadDiagnostics.")

        // History: every result is stored; the fleet summary groups them.
        let history = try server.store.diagnosticResults(DiagnosticQuery(deviceID: f.id, limit: 100))
        #expect(history.count == 4)
        let groups = try server.store.diagnosticSummary(DiagnosticQuery(test: "download"), by: .model, maxGroups: 10)
        #expect(groups.map(\.results).reduce(0, +) == 3)

        // A campaign tests its population at its rate, against this server's test servers.
        let source = """
            campaign { name = "speed sweep", target = { profile = "generic-tr181" }, rate = { per_minute = 600, concurrent = 2 },
              connection_request = true, apply = function(dev) dev:diagnose{ test = "download", size = 100000 } end }
            """
        let campaign = try await CampaignService(store: server.store, registry: server.profiles)
            .start(source: source, name: "speed.lua", now: Int64(Date().timeIntervalSince1970))
        try await waitUntil("the campaign to finish", seconds: 40) { try server.store.campaign(id: campaign.id)?.state == .done }
        let latest = try #require(try server.store.diagnosticResults(DiagnosticQuery(deviceID: f.id, limit: 1)).first)
        #expect(latest.ok && latest.test == "download" && latest.taskID != nil)
        let ctask = try #require(try server.store.task(id: latest.taskID!))
        guard case .diagnostics(let spec) = ctask.kind else { Issue.record("not a diagnostics task"); return }
        #expect(spec.plan.values.first?.value.hasPrefix("http://127.0.0.1:\(config.speedtestPort)/download/100000?tag=") == true)
    }

    @Test func aDeviceThatNeverReportsTimesOutWithAResult() async throws {
        var config = serverConfig(data: temporaryDirectory("diag-timeout"), informInterval: 300)
        config.speedtestPort = 0
        config.udpEchoPort = 0
        let server = try CorralServer(config: config)
        try await server.start()
        defer { Task { await server.stop() } }
        let device = try await server.store.createDevice(Device(name: "X-1", oui: "X", productClass: "P", serialNumber: "1", dataModel: .tr181))
        let servers = DiagnosticServers(baseURL: "http://127.0.0.1:1", echoHost: "127.0.0.1", echoPort: 1)
        var task = try await TaskService(store: server.store).diagnose(.ping, options: DiagnosticOptions(timeout: 60), on: device, profile: nil, servers: servers)
        task.state = .waiting
        try await server.store.apply([.updateTask(task)])
        #expect(await server.cwmp.expireDiagnostics(now: task.updatedAt + 30) == 0)
        #expect(await server.cwmp.expireDiagnostics(now: task.updatedAt + 61) == 1)
        let t = try #require(try server.store.task(id: task.id))
        #expect(t.state == .fault && t.fault?.string.contains("timed out") == true)
        #expect(try server.store.diagnosticResult(taskID: task.id)?.state == "Timeout")
    }
    /// `corral diagnose --now --json` from another process, beside a running server, as an operator runs it.
    @Test func theCLIRunsATestAndPrintsTheResultAsJSON() async throws {
        let data = temporaryDirectory("diag-cli")
        var config = serverConfig(data: data, informInterval: 300)
        config.speedtestPort = try freeTCPPort()
        config.udpEchoPort = try freeUDPPort()
        config.speedtestBaseURL = "http://127.0.0.1:\(config.speedtestPort)"
        try #"{"speedtest_base_url": "http://127.0.0.1:\#(config.speedtestPort)", "udp_echo_port": \#(config.udpEchoPort), "stun_port": 0}"#
            .write(toFile: data + "/corral.json", atomically: true, encoding: .utf8)
        let server = try CorralServer(config: config)
        try await server.start()
        defer { Task { await server.stop() } }
        var c = SimulatorConfig(acsURL: "http://127.0.0.1:\(server.cwmpPort)/cwmp", count: 1, model: "tr181")
        c.serialPrefix = "CLI-"
        c.dataModelDirectory = Paths.datamodels
        c.httpTimeoutSeconds = 10
        c.pingUDPPort = server.speedTest.echoPort
        let sim = try Simulator(config: c)
        try await sim.start()
        defer { Task { await sim.stop() } }
        try await waitUntil("onboarded", seconds: 30) { try server.store.devices(limit: 5, offset: 0).first?.credentialsConfirmed == true }
        let name = try #require(try server.store.devices(limit: 5, offset: 0).first?.name)

        func corral(_ args: [String]) async throws -> (Int32, String, String) { try await runCorral(args + ["--data", data]) }
        let (status, out, err) = try await corral(["diagnose", name, "udpecho", "--count", "4", "--now", "--json", "--timeout", "40"])
        #expect(status == 0, "\(out)\n\(err)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(out)")
        let result = json   // the result's keys are at the top level
        #expect(json["task_id"] != nil && json["task_state"] as? String == "done")
        #expect(result["state"] as? String == "Complete" && result["loss"] as? Double == 0)
        for key in ["avg_rtt_us", "min_rtt_us", "max_rtt_us", "jitter_us", "raw"] { #expect(result[key] != nil, "\(key) in \(out)") }

        let (bad, _, badErr) = try await corral(["diagnose", name, "speed"])
        #expect(bad != 0 && badErr.contains("unknown test speed"))
        let (text, human, _) = try await corral(["diagnose", name, "download", "--size", "200000", "--now"])
        #expect(text == 0 && human.contains("download: ") && human.contains("server saw 200000 bytes"), "\(human)")
    }
}
