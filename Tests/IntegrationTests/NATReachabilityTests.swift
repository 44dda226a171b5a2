import Foundation
import TestSupport
import Testing
import ACSCore
import CWMP
import Storage

/// Through a real NAT: `corral serve` in one network namespace, `corral sim` in a home network behind a masquerading
/// router (scripts/nat-lab), `corral task --now` as an operator would run it. Needs root (CI runs as root).
@Suite(.serialized, .enabled(if: NATLab.available, "needs root, ip and nft (scripts/install-deps)"))
struct NATReachabilityTests {
    @Test func udpConnectionRequestsCrossTheNATAndSurviveANewMapping() async throws {
        let lab = NATLab(prefix: "crlnat")
        try lab.up()
        defer { lab.down() }
        let data = temporaryDirectory("nat")
        let profiles = temporaryDirectory("nat-profiles")
        defer { try? FileManager.default.removeItem(atPath: profiles) }
        // HTTP first, so each wake-up shows the HTTP connection request failing before UDP succeeds.
        try """
            return profile {
              name = "nat-tr181", extends = "generic-tr181", match = { data_model = "tr181", product_class = "SimRouter" },
              stun = { enable = true, server = "198.51.100.1", port = 3478, min_keepalive = 1 },
              wake = { "http", "udp" },
            }
            """.write(toFile: profiles + "/nat.lua", atomically: true, encoding: .utf8)
        try #"{"profiles": {"nat-tr181": {"informInterval": 600}}}"#.write(toFile: data + "/corral.json", atomically: true, encoding: .utf8)
        let env = ["CORRAL_PROFILES": profiles]
        let serve = try lab.spawn(in: "acs", [Paths.corralBinary, "serve", "--data", data, "--host", "0.0.0.0", "--cwmp-port", "7547",
                                              "--http-port", "8080", "--stun-port", "3478"], env: env, log: data + "/serve.out")
        defer { serve.terminate(); serve.waitUntilExit() }
        try await waitUntil("serve listening", seconds: 30) { ((try? String(contentsOfFile: data + "/serve.out", encoding: .utf8)) ?? "").contains("CWMP listening") }
        let sim = try lab.spawn(in: "home", [Paths.corralBinary, "sim", "--acs", "http://198.51.100.1:7547/cwmp", "--count", "2",
                                             "--serial-prefix", "NAT-", "--cr-host", "192.0.2.2", "--stun", "198.51.100.1:3478",
                                             "--stun-keepalive", "1-2", "--datamodels", Paths.datamodels], env: [:], log: data + "/sim.out")
        defer { sim.terminate(); sim.waitUntilExit() }

        let store = try SQLStore(directory: data)
        defer { store.close() }
        func udpAddress(_ name: String) throws -> String {
            guard let d = try store.device(name: name) else { return "" }
            return try store.parameters(deviceID: d.id, prefix: "Device.ManagementServer.UDPConnectionRequestAddress").first?.value ?? ""
        }
        try await waitUntil("both CPEs onboarded and reporting their NAT mapping", seconds: 60) {
            try ["00C0FF-NAT-000000", "00C0FF-NAT-000001"].allSatisfy { try udpAddress($0).hasPrefix("198.51.100.2:") }
        }
        let device = try #require(try store.device(name: "00C0FF-NAT-000000"))
        // The CPE's HTTP connection-request URL is its private address, which the ACS side cannot route to.
        #expect(device.connectionRequestURL.hasPrefix("http://192.0.2.2:"))
        #expect(device.ipAddress == "198.51.100.2")
        let first = try udpAddress(device.name)
        let show = try lab.run(in: "acs", [Paths.corralBinary, "devices", "show", "--data", data, device.name], env: env)
        #expect(show.output.contains("NAT detected: yes, STUN on, UDP address \(first)"), "\(show.output)")

        let wake1 = try lab.run(in: "acs", [Paths.corralBinary, "task", "--data", data, device.name, "get", "Device.DeviceInfo.UpTime",
                                            "--now", "--timeout", "20"], env: env)
        print("NAT wake-up 1:", wake1.output)
        #expect(wake1.status == 0, "\(wake1.output)")
        #expect(wake1.output.contains("woken by udp"), "\(wake1.output)")
        #expect(wake1.output.contains("http: ") && wake1.output.contains("unreachable"), "HTTP must have failed first: \(wake1.output)")
        #expect(wake1.output.contains("done"), "\(wake1.output)")

        // The NAT forgets its mappings; the CPE's next keep-alive gets a new one (random ports), it sends
        // BINDING-CHANGE and reports the new address at once (4 VALUE CHANGE), and UDP reaches it again.
        lab.flush()
        try await waitUntil("a new mapping reported", seconds: 30) { let a = try udpAddress(device.name); return !a.isEmpty && a != first }
        let informs = try store.informs(deviceID: device.id, limit: 5)
        #expect(informs.contains { $0.events.contains(EventCode.valueChange) }, "\(informs)")
        let wake2 = try lab.run(in: "acs", [Paths.corralBinary, "task", "--data", data, device.name, "get", "Device.DeviceInfo.UpTime",
                                            "--now", "--timeout", "20"], env: env)
        print("NAT wake-up 2 (new mapping \(try udpAddress(device.name)), was \(first)):", wake2.output)
        #expect(wake2.status == 0 && wake2.output.contains("woken by udp"), "\(wake2.output)")
        if wake1.status != 0 || wake2.status != 0 {
            print("serve:", (try? String(contentsOfFile: data + "/serve.out", encoding: .utf8)) ?? "")
            print("sim:", (try? String(contentsOfFile: data + "/sim.out", encoding: .utf8)) ?? "")
        }
    }
}

extension NATReachabilityTests {
    /// XMPP needs no inbound path at all: the CPE's own TCP session to prosody (in the ACS network) carries the
    /// connection request through the NAT; after the NAT forgets its mappings the CPE logs in again by itself.
    @Test(.enabled(if: XMPPLab.available, "needs prosody")) func xmppConnectionRequestsCrossTheNATOverTheCPEsOwnSession() async throws {
        let lab = NATLab(prefix: "crlxmpp")
        try lab.up()
        defer { lab.down() }
        let data = temporaryDirectory("natx")
        let profiles = temporaryDirectory("natx-profiles")
        let prosody = temporaryDirectory("natx-prosody")
        defer { for d in [profiles, prosody] { try? FileManager.default.removeItem(atPath: d) } }
        let started = try lab.run(in: "acs", ["/bin/bash", XMPPLab.script, "start", prosody, "5222", "198.51.100.1", XMPPLab.domain],
                                  env: ["XMPP_LAB_ACS_PASSWORD": XMPPLab.acsPassword])
        #expect(started.status == 0, "\(started.output)")
        defer { _ = try? lab.run(in: "acs", ["/bin/bash", XMPPLab.script, "stop", prosody], env: [:]) }
        try """
            return profile {
              name = "natx-tr181", extends = "generic-tr181", match = { data_model = "tr181", product_class = "SimRouter" },
              wake = { "http", "xmpp" },
            }
            """.write(toFile: profiles + "/natx.lua", atomically: true, encoding: .utf8)
        try """
            {"profiles": {"natx-tr181": {"informInterval": 600}},
             "xmpp": {"server": "198.51.100.1:5222", "jid": "acs@\(XMPPLab.domain)", "password_secret": "xmpp-acs",
                      "ca": "\(prosody)/certs/\(XMPPLab.domain).crt", "keep_alive": 2}}
            """.write(toFile: data + "/corral.json", atomically: true, encoding: .utf8)
        // The password as a secret from the environment, never on a command line.
        let env = ["CORRAL_PROFILES": profiles, "CORRAL_SECRET_XMPP_ACS": XMPPLab.acsPassword]
        let serve = try lab.spawn(in: "acs", [Paths.corralBinary, "serve", "--data", data, "--host", "0.0.0.0", "--cwmp-port", "7547",
                                              "--http-port", "8080", "--stun-port", "0"], env: env, log: data + "/serve.out")
        defer { serve.terminate(); serve.waitUntilExit() }
        try await waitUntil("serve listening", seconds: 30) { ((try? String(contentsOfFile: data + "/serve.out", encoding: .utf8)) ?? "").contains("CWMP listening") }
        let sim = try lab.spawn(in: "home", [Paths.corralBinary, "sim", "--acs", "http://198.51.100.1:7547/cwmp", "--count", "2",
                                             "--serial-prefix", "NATX-", "--cr-host", "192.0.2.2", "--xmpp", "198.51.100.1:5222",
                                             "--xmpp-domain", XMPPLab.domain, "--xmpp-keepalive", "2", "--datamodels", Paths.datamodels],
                                env: [:], log: data + "/sim.out")
        defer { sim.terminate(); sim.waitUntilExit() }
        let store = try SQLStore(directory: data)
        defer { store.close() }
        func jid(_ name: String) throws -> String {
            guard let d = try store.device(name: name) else { return "" }
            return try store.parameters(deviceID: d.id, prefix: "Device.ManagementServer.ConnReqJabberID").first?.value ?? ""
        }
        do {
            try await waitUntil("both CPEs onboarded with their JIDs", seconds: 60) {
                try ["00C0FF-NATX-000000", "00C0FF-NATX-000001"].allSatisfy { try jid($0).hasSuffix("/cwmp") }
            }
        } catch {
            print("serve:", (try? String(contentsOfFile: data + "/serve.out", encoding: .utf8)) ?? "")
            print("sim:", (try? String(contentsOfFile: data + "/sim.out", encoding: .utf8)) ?? "")
            throw error
        }
        let device = try #require(try store.device(name: "00C0FF-NATX-000000"))
        #expect(device.connectionRequestURL.hasPrefix("http://192.0.2.2:"))
        func wake() throws -> (status: Int32, output: String) {
            try lab.run(in: "acs", [Paths.corralBinary, "task", "--data", data, device.name, "get", "Device.DeviceInfo.UpTime",
                                    "--now", "--timeout", "20"], env: env)
        }
        let wake1 = try wake()
        print("NAT XMPP wake-up 1:", wake1.output)
        #expect(wake1.status == 0 && wake1.output.contains("woken by xmpp"), "\(wake1.output)")
        #expect(wake1.output.contains("http: ") && wake1.output.contains("unreachable"), "HTTP must have failed first: \(wake1.output)")

        // The NAT forgets its mappings: the CPE's TCP session breaks, its pings notice, it logs in again (the same
        // full JID, so nothing changes for Corral) and XMPP reaches it again.
        lab.flush()
        var wake2 = (status: Int32(1), output: "")
        let deadline = Date().addingTimeInterval(40)
        while Date() < deadline {
            wake2 = try wake()
            if wake2.status == 0 && wake2.output.contains("woken by xmpp") { break }
            try await Task.sleep(for: .seconds(1))
        }
        print("NAT XMPP wake-up after the flush:", wake2.output)
        #expect(wake2.status == 0 && wake2.output.contains("woken by xmpp"), "\(wake2.output)")
        if wake1.status != 0 || wake2.status != 0 {
            print("serve:", (try? String(contentsOfFile: data + "/serve.out", encoding: .utf8)) ?? "")
            print("sim:", (try? String(contentsOfFile: data + "/sim.out", encoding: .utf8)) ?? "")
        }
    }
}

/// The namespaces of scripts/nat-lab and processes run inside them.
struct NATLab {
    let prefix: String
    static var available: Bool {
        getuid() == 0 && ["/usr/sbin/ip", "/usr/sbin/nft"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }
    var script: String { Paths.packageRoot + "/scripts/nat-lab" }

    func up() throws {
        let r = try Self.exec(["/bin/bash", script, "up", prefix], env: [:])
        guard r.status == 0 else { throw Timeout(description: "nat-lab up failed: \(r.output)") }
    }
    func down() { _ = try? Self.exec(["/bin/bash", script, "down", prefix], env: [:]) }
    func flush() { _ = try? Self.exec(["/bin/bash", script, "flush", prefix], env: [:]) }

    /// Starts a process in a namespace; its output goes to `log` (shown when a test fails).
    func spawn(in ns: String, _ args: [String], env: [String: String], log: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        p.arguments = ["netns", "exec", "\(prefix)-\(ns)"] + args
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardOutput = out
        p.standardError = out
        try p.run()
        return p
    }

    func run(in ns: String, _ args: [String], env: [String: String]) throws -> (status: Int32, output: String) {
        try Self.exec(["/usr/sbin/ip", "netns", "exec", "\(prefix)-\(ns)"] + args, env: env)
    }

    static func exec(_ args: [String], env: [String: String]) throws -> (status: Int32, output: String) {
        try runCommand(args, env: env)
    }
}
