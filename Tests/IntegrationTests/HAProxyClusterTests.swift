import Foundation
import Testing
import ACSCore
@testable import Engine
import PostgresStore
import Scripting
import Simulator
import Storage
import TestSupport

/// Three `corral serve` processes on one PostgreSQL database behind a real HAProxy (Debian's), 300 simulated CPEs
/// through the balancer; the leading node killed with SIGKILL mid-way: nothing acknowledged is lost, every device goes on
/// informing through the two left, tasks queued after the kill are each done once, and a campaign started before
/// the kill finishes on the nodes left with every device changed once.
@Suite(.serialized) struct HAProxyClusterTests {
    final class Child {
        let process = Process()
        let log: String
        init(_ tool: String, _ args: [String], log: String, env: [String: String] = [:]) throws {
            self.log = log
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = args
            process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
            let out = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.standardOutput = out
            process.standardError = out
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }
        var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        func kill9() { kill(process.processIdentifier, SIGKILL) }
        func stop() { kill(process.processIdentifier, SIGTERM) }
    }

    static func waitForOutput(_ child: Child, _ text: String, seconds: Double = 30) async throws {
        try await waitUntil("\(text) in \(child.log)", seconds: seconds) { child.output.contains(text) }
    }

    @Test func threeNodesBehindHAProxyLoseNothingWhenOneIsKilled() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/sbin/haproxy"), "apt install haproxy (scripts/install-deps)")
        let url = try PostgresServer.get().newDatabase("ha")
        let root = temporaryDirectory("haproxy")
        defer { try? FileManager.default.removeItem(atPath: root) }
        var nodes: [(child: Child, cwmp: Int, http: Int)] = []
        defer { for n in nodes { n.child.kill9() } }
        for i in 0..<3 {
            let data = "\(root)/node\(i)"
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            try #"{"profiles": {"generic-tr181": {"informInterval": 5}}}"#.write(toFile: data + "/corral.json", atomically: true, encoding: .utf8)
            // One Digest nonce key for the cluster: a challenge from one node is answered on another.
            if i > 0 { try FileManager.default.copyItem(atPath: "\(root)/node0/nonce.secret", toPath: data + "/nonce.secret") }
            let cwmp = try restartablePort(), http = try restartablePort()
            let child = try Child(Paths.corralBinary, ["serve", "--data", data, "--database", url, "--host", "127.0.0.1",
                                                       "--cwmp-port", String(cwmp), "--http-port", String(http), "--stun-port", "0",
                                                       "--speedtest-port", "0", "--udp-echo-port", "0"],
                                  log: "\(root)/node\(i).log", env: ["CORRAL_LOG": "error,serve=info"])
            nodes.append((child, cwmp, http))
            try await Self.waitForOutput(child, "CWMP listening on")
        }
        let front = try restartablePort()
        let servers = nodes.enumerated().map { i, n in "    server n\(i) 127.0.0.1:\(n.cwmp) check port \(n.http) inter 500 fall 2 rise 1" }
        let config = """
            global
                maxconn 4000
            defaults
                mode http
                timeout connect 2s
                timeout client 30s
                timeout server 30s
                retries 2
                option redispatch
            frontend cwmp
                bind 127.0.0.1:\(front)
                default_backend corral
            backend corral
                balance roundrobin
                stick-table type string len 64 size 100k expire 5m
                stick on req.cook(corral_session)
                stick store-response res.cook(corral_session)
                option httpchk GET /healthz
            \(servers.joined(separator: "\n"))

            """
        try config.write(toFile: root + "/haproxy.cfg", atomically: true, encoding: .utf8)
        let haproxy = try Child("/usr/sbin/haproxy", ["-db", "-f", root + "/haproxy.cfg"], log: root + "/haproxy.log")
        defer { haproxy.stop() }
        try await Task.sleep(for: .seconds(1))

        let store = SQLStore(database: try PostgresDatabase.open(url: url, readers: 2))
        defer { store.close() }
        let sim = try simulator(port: front, count: 300, model: "tr181", prefix: "HA-")
        try await sim.start()
        try await waitUntil("300 devices onboarded through HAProxy", seconds: 180) {
            try store.devices(limit: 1000, offset: 0).filter(\.credentialsConfirmed).count == 300
        }
        #expect(Set(try store.devices(limit: 1000, offset: 0).map(\.passwordHA1)).count == 300)

        // A campaign over the whole fleet, run by whichever node leads; the leader may be the one killed below.
        let campaign = try await CampaignService(store: store, registry: ProfileLibrary.load(directory: nil).0.registry).start(source: """
            campaign {
              name = "cluster rename",
              target = { profile = "generic-tr181", order = "serial" },
              rate = { per_minute = 6000, concurrent = 20 },
              connection_request = true,
              apply = function(dev) dev:set("wifi.ssid", "Wave-" .. dev.serial) end,
            }
            """, name: "cluster.lua", now: Int64(Date().timeIntervalSince1970))
        try await waitUntil("the campaign under way", seconds: 30) { try store.campaignProgress(campaignID: campaign.id).count(.done) >= 10 }

        // Kill the leader mid-traffic (mid-campaign): its duties must move.
        let leaders = nodes.indices.filter { nodes[$0].child.output.contains("this node now leads") }
        #expect(leaders.count == 1, "leaders: \(leaders)")
        let killed = try #require(leaders.first)
        let before = try store.devices(limit: 1000, offset: 0)
        let informed = Dictionary(uniqueKeysWithValues: before.map { ($0.id, $0.lastInform) })
        nodes[killed].child.kill9()
        // Tasks queued after the kill: each done once, by whichever node the device reaches.
        let targets = Array(before.prefix(20))
        var tasks: [DeviceTask] = []
        let service = TaskService(store: store)
        for d in targets { tasks.append(try await service.queue(.setParameterValues([.init(name: "Device.DeviceInfo.ProvisioningCode", value: "HA-\(d.id)")]), on: d)) }
        for d in targets { try? await ConnectionRequester.send(to: d) }
        try await waitUntil("the 20 tasks done", seconds: 150) {
            try tasks.allSatisfy { try store.task(id: $0.id)?.state == .done }
        }
        for d in targets {
            #expect(sim.device(serial: d.serialNumber)?.value("Device.DeviceInfo.ProvisioningCode") == "HA-\(d.id)")
        }
        // Every device informs again after the kill, through the two nodes left.
        try await waitUntil("all 300 devices inform after the kill", seconds: 150) {
            try store.devices(limit: 1000, offset: 0).allSatisfy { $0.lastInform > informed[$0.id]! }
        }
        #expect(try store.deviceCount() == 300)
        // The campaign finishes on the nodes left: every device once, its change applied.
        try await waitUntil("the campaign done", seconds: 240) { try store.campaign(id: campaign.id)?.state.isFinal == true }
        let progress = try store.campaignProgress(campaignID: campaign.id)
        #expect(progress.count(.done) == 300, "\(progress.counts)")
        let rows = try store.campaignDevices(campaignID: campaign.id, states: [], limit: 1000)
        #expect(rows.count == 300 && rows.allSatisfy { $0.taskIDs.count == 1 }, "a device's change queued more than once")
        try await waitUntil("another node leads", seconds: 15) {
            nodes.indices.contains { $0 != killed && nodes[$0].child.output.contains("this node now leads") }
        }
        for d in before {
            #expect(sim.device(serial: d.serialNumber)?.value("Device.WiFi.SSID.1.SSID") == "Wave-\(d.serialNumber)")
        }
        await sim.stop()
    }
}
