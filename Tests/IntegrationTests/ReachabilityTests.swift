import Foundation
import Testing
import ACSCore
import CWMP
@testable import Engine
import Simulator
import STUN
import Storage
import NetHTTP

/// Corral's STUN server, UDP connection requests and the wake-up order with fallback, on loopback with simulated
/// TR-111 CPEs. (Through a real NAT: NATReachabilityTests.)
@Suite(.serialized) struct ReachabilityTests {
    static func stunProfile(port: Int) -> String {
        """
        return profile {
          name = "stun-tr181", extends = "generic-tr181", match = { data_model = "tr181", product_class = "SimRouter" },
          stun = { enable = true, server = "127.0.0.1", port = \(port), min_keepalive = 1 },
          wake = { "udp", "http" },
        }
        """
    }

    /// A server with the STUN profile and a simulator whose CPEs bind with it every 1-2 s.
    static func start(_ tag: String, count: Int, httpCR: Bool) async throws -> (CorralServer, Simulator, String) {
        let data = temporaryDirectory(tag)
        let profiles = temporaryDirectory(tag + "-profiles")
        let stunPort = try freeUDPPort()
        try stunProfile(port: stunPort).write(toFile: profiles + "/stun.lua", atomically: true, encoding: .utf8)
        var config = serverConfig(data: data)
        config.stunPort = stunPort
        config.profilesDirectory = profiles
        // Long periodic interval: every session after onboarding is one the test caused.
        config.profiles["stun-tr181"] = CorralConfig.ProfileOverride(onboardingUsername: nil, onboardingPassword: nil, informInterval: 600)
        let server = try CorralServer(config: config)
        try await server.start()
        var sc = SimulatorConfig(acsURL: "http://127.0.0.1:\(server.cwmpPort)/cwmp", count: count, model: "tr181")
        sc.serialPrefix = tag.uppercased() + "-"
        sc.dataModelDirectory = Paths.datamodels
        sc.stunServer = "127.0.0.1:\(stunPort)"
        sc.stunKeepAlive = 1...2
        sc.httpConnectionRequests = httpCR
        let sim = try Simulator(config: sc)
        try await sim.start()
        return (server, sim, data)
    }

    static func udpAddress(_ server: CorralServer, _ d: Device) throws -> String {
        try server.store.parameters(deviceID: d.id, prefix: "Device.ManagementServer.UDPConnectionRequestAddress").first?.value ?? ""
    }

    @Test func udpConnectionRequestWakesCPEsWithoutHTTP() async throws {
        let (server, sim, _) = try await Self.start("udpcr", count: 3, httpCR: false)
        try await waitUntil("3 devices onboarded on the STUN profile with a UDP address", seconds: 40) {
            let all = try server.store.devices(limit: 10, offset: 0)
            return all.count == 3 && all.allSatisfy { d in d.credentialsConfirmed && d.profile == "stun-tr181" && !((try? Self.udpAddress(server, d)) ?? "").isEmpty }
        }
        let device = try #require(try server.store.device(name: "00C0FF-UDPCR-000000"))
        #expect(device.connectionRequestURL.isEmpty)
        let address = try Self.udpAddress(server, device)
        let cpe = try #require(sim.device(serial: "UDPCR-000000"))
        // The CPE reports the address Corral's STUN server mapped, and got active notification on it at onboarding.
        #expect(cpe.value("Device.ManagementServer.UDPConnectionRequestAddress") == address)
        let attrs = try cpe.withModel { $0.getParameterAttributes(["Device.ManagementServer.UDPConnectionRequestAddress"]) }.get()
        #expect(attrs.first?.notification == 2)
        let binding = try #require(server.stun?.bindings.binding(address: address))
        #expect(binding.requests >= 1)

        // A task delivered through a UDP wake-up.
        let service = TaskService(store: server.store)
        let task = try await service.queue(.getParameterValues(["Device.DeviceInfo.UpTime"]), on: device)
        let attempt = await server.waker.wake(device)
        #expect(attempt.woke == .udp, "\(attempt.summary)")
        #expect(attempt.tried.map(\.method) == [.udp])
        #expect(server.waker.log.last(deviceID: device.id) == attempt)
        let report = server.waker.report(for: device)
        #expect(report.supportedMethods.contains("STUN") && report.stunEnabled, "\(report.lines)")
        #expect(report.stunBinding?.address == address && (report.stunBinding?.requests ?? 0) >= 1)
        #expect(report.lastWake?.wokeBy == "udp")
        #expect(report.wakeOrder == ["udp", "http"])
        let done = try await service.wait(for: task.id, timeout: .seconds(20))
        #expect(done?.state == .done)
        let informs = try server.store.informs(deviceID: device.id, limit: 3)
        #expect(informs.contains { $0.events.contains(EventCode.connectionRequest) })

        // Wake the others too: each is reachable only over UDP.
        for name in ["00C0FF-UDPCR-000001", "00C0FF-UDPCR-000002"] {
            let d = try #require(try server.store.device(name: name))
            let a = await server.waker.wake(d)
            #expect(a.woke == .udp, "\(name): \(a.summary)")
        }
        let metrics = String(decoding: try await HTTPClient.send(url: "http://127.0.0.1:\(server.httpPort)/metrics").body, as: UTF8.self)
        #expect(metrics.contains("corral_wakeups_total{method=\"udp\"} 3"), "\(metrics)")
        #expect(metrics.contains("corral_udp_connection_requests_total 3"))
        await sim.stop()
        await server.stop()
    }

    @Test func wakeFallsBackToHTTPWhenUDPBringsNoSession() async throws {
        let (server, sim, _) = try await Self.start("fallback", count: 1, httpCR: true)
        try await waitUntil("onboarded with a UDP address", seconds: 40) {
            guard let d = try server.store.device(name: "00C0FF-FALLBACK-000000") else { return false }
            let address = try Self.udpAddress(server, d)
            return d.credentialsConfirmed && !address.isEmpty
        }
        let device = try #require(try server.store.device(name: "00C0FF-FALLBACK-000000"))
        // The stored address goes stale (as after a NAT reboot the CPE has not reported yet): UDP reaches nobody.
        var waker = server.waker
        waker.udpTimeout = 0.5
        try await server.store.apply([.parameters(deviceID: device.id, values: [
            ParameterValue(name: "Device.ManagementServer.UDPConnectionRequestAddress", value: "127.0.0.1:9")], at: Int64(Date().timeIntervalSince1970))])
        let attempt = await waker.wake(device)
        #expect(attempt.tried.map(\.method) == [.udp, .http], "\(attempt.summary)")
        #expect(attempt.tried.first?.outcome == "no session within 0.5 s")
        #expect(attempt.woke == .http)
        await sim.stop()
        await server.stop()
    }

    @Test func stunPortSurvivesFloodsAndGarbage() async throws {
        let data = temporaryDirectory("stunflood")
        var config = serverConfig(data: data)
        config.stunPort = try freeUDPPort()
        let server = try CorralServer(config: config)
        try await server.start()
        let sock = try UDPTestSocket()
        let target = Endpoint(ip: [127, 0, 0, 1], port: UInt16(server.stunPort))
        // Garbage, truncated and oversized datagrams, and a flood past the per-source rate: none crashes the server.
        var rng = SystemRandomNumberGenerator()
        for i in 0..<3000 {
            let n = i % 3 == 0 ? 1400 : Int.random(in: 0...64, using: &rng)
            sock.send((0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }, to: target)
        }
        let request = STUNMessage(type: 1, rfc5389: false, transactionID: Array(1...16),
                                  attributes: [.init(type: 0xC001, value: Array(STUNMessage.tr111Binding.utf8))]).encode()
        for _ in 0..<1000 { sock.send(request, to: target) }
        try await Task.sleep(for: .milliseconds(300))
        let counts = try #require(server.stun?.stats.counts)
        #expect(counts.rateLimited > 0, "\(counts)")
        #expect(counts.answered <= 400, "a flood from one source is answered at most at its burst: \(counts)")
        // Another source is served at once.
        let other = try UDPTestSocket()
        other.send(request, to: target)
        let reply = try #require(other.receive(timeout: 2))
        let m = try STUNMessage.decode(reply)
        #expect(m.type == 0x0101)
        #expect(Endpoint.fromMappedAddress(try #require(m.attribute(0x0001)).value)?.port == other.port)
        await server.stop()
    }
}

/// A free UDP port on loopback (bound, read, released).
func freeUDPPort() throws -> Int {
    let s = try UDPTestSocket()
    return Int(s.port)
}

/// A plain POSIX UDP socket on 127.0.0.1 for tests that talk to the STUN port directly.
final class UDPTestSocket {
    let fd: Int32
    let port: UInt16
    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard r == 0 else { close(fd); throw Timeout(description: "bind failed") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        port = UInt16(bigEndian: addr.sin_port)
    }
    deinit { close(fd) }

    func send(_ bytes: [UInt8], to e: Endpoint) {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr(e.host)
        addr.sin_port = e.port.bigEndian
        _ = bytes.withUnsafeBytes { b in
            withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
    }

    func receive(timeout: Double) -> [UInt8]? {
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buf = [UInt8](repeating: 0, count: 2048)
        let n = recv(fd, &buf, buf.count, 0)
        return n > 0 ? Array(buf[0..<n]) : nil
    }
}
