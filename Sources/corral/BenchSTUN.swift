import ACSCore
import ArgumentParser
import Engine
import Foundation
import Simulator
import STUN

/// `corral bench stun`: the STUN responder's cost, Binding Requests answered per second over a real socket, and
/// wake-up latency (API call to the CPE's session) by UDP and by HTTP on loopback, with an in-process server and
/// simulator. Prints JSON (scripts/bench merges it into bench.json).
struct BenchSTUN: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stun", abstract: "Measure STUN binding rate and UDP/HTTP wake-up latency on loopback.")
    @Option(help: "Binding requests for the socket measurement.") var requests = 200_000
    @Option(help: "Wake-ups per method.") var wakes = 200
    @Option(help: "Simulated CPEs for the wake-ups.") var devices = 20
    @Option(name: .customLong("datamodels"), help: "Directory with the BBF data-model XML files.") var datamodels = "datamodels"
    @Option(help: "XMPP server host:port (e.g. scripts/xmpp-lab): XMPP wake-ups too, as acs@<xmpp-domain>.") var xmpp: String?
    @Option(name: .customLong("xmpp-domain"), help: "Domain of the XMPP accounts.") var xmppDomain = "corral.test"
    @Option(name: .customLong("xmpp-ca"), help: "PEM the XMPP server's certificate chains to.") var xmppCA: String?
    @Option(name: .customLong("xmpp-password"), help: "Password of acs@<xmpp-domain>.") var xmppPassword = "acs-secret"

    func run() async throws {
        // 1. The responder alone, one thread: what one core can answer.
        let request = STUNMessage(type: 1, rfc5389: false, transactionID: Array(1...16),
                                  attributes: [.init(type: 0xC001, value: Array(STUNMessage.tr111Binding.utf8))]).encode()
        let src = Endpoint(ip: [127, 0, 0, 1], port: 40000)
        let n = 1_000_000
        let t0 = CPUTime.now()
        var bytes = 0
        for _ in 0..<n { if case .reply(let b, _) = STUNResponder.respond(to: request, from: src) { bytes += b.count } }
        let pureRate = Double(n) / max(1e-9, CPUTime.now() - t0)

        // 2. Over a socket: the server with its handler, clients on 16 loopback addresses (per-source limit lifted),
        // 128 requests in flight.
        let server = STUNServer(host: "127.0.0.1", port: 0, ratePerSource: 1e12)
        let port = try await server.start()
        let sockets = try (0..<16).map { try BenchUDPSocket(host: "127.0.0.\(2 + $0)") }
        let cpu0 = CPUTime.now(), wall0 = Date().timeIntervalSince1970
        var answered = 0
        let perBatch = 8, batches = requests / (perBatch * sockets.count)
        for _ in 0..<batches {
            for s in sockets { for _ in 0..<perBatch { s.send(request, toPort: port) } }
            for s in sockets { answered += s.drain(expect: perBatch) }
        }
        let wall = Date().timeIntervalSince1970 - wall0, cpu = CPUTime.now() - cpu0
        await server.stop()

        // 3. Wake-ups: a server with STUN and simulated TR-111 CPEs that have both an HTTP and a UDP CR port.
        let (udp, http, xmppWakes) = try await wakeLatencies()
        struct Out: Encodable {
            let stun_binding_per_core_per_s: Int, stun_binding_socket_per_s: Int, stun_cpu_us_per_request: Double, stun_answered: Int, stun_sent: Int
            let wake_udp_p50_ms: Double, wake_udp_p99_ms: Double, wake_http_p50_ms: Double, wake_http_p99_ms: Double, wakes_per_method: Int
            let wake_xmpp_p50_ms: Double?, wake_xmpp_p99_ms: Double?
        }
        let sent = batches * perBatch * sockets.count
        let out = Out(stun_binding_per_core_per_s: Int(pureRate), stun_binding_socket_per_s: Int(Double(answered) / max(wall, 1e-9)),
                      stun_cpu_us_per_request: (cpu / Double(max(answered, 1))) * 1e6, stun_answered: answered, stun_sent: sent,
                      wake_udp_p50_ms: Self.pct(udp, 0.5), wake_udp_p99_ms: Self.pct(udp, 0.99),
                      wake_http_p50_ms: Self.pct(http, 0.5), wake_http_p99_ms: Self.pct(http, 0.99), wakes_per_method: wakes,
                      wake_xmpp_p50_ms: xmpp == nil ? nil : Self.pct(xmppWakes, 0.5), wake_xmpp_p99_ms: xmpp == nil ? nil : Self.pct(xmppWakes, 0.99))
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try enc.encode(out), as: UTF8.self))
    }

    static func pct(_ v: [Double], _ p: Double) -> Double {
        guard !v.isEmpty else { return -1 }
        let s = v.sorted()
        return (s[min(s.count - 1, Int(Double(s.count) * p))] * 100).rounded() / 100
    }

    func wakeLatencies() async throws -> ([Double], [Double], [Double]) {
        let data = NSTemporaryDirectory() + "corral-bench-stun-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: data) }
        let profiles = data + "-profiles"
        try FileManager.default.createDirectory(atPath: profiles, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: profiles) }
        let stunPort = try BenchUDPSocket(host: "127.0.0.1").port   // a free port, released
        try """
            return profile { name = "bench-stun", extends = "generic-tr181", match = { data_model = "tr181", product_class = "SimRouter" },
              stun = { enable = true, server = "127.0.0.1", port = \(stunPort) } }
            """.write(toFile: profiles + "/stun.lua", atomically: true, encoding: .utf8)
        var c = CorralConfig()
        c.dataDirectory = data; c.host = "127.0.0.1"; c.cwmpPort = 0; c.httpPort = 0; c.stunPort = stunPort; c.speedtestPort = 0; c.udpEchoPort = 0
        c.profilesDirectory = profiles
        c.profiles["bench-stun"] = CorralConfig.ProfileOverride(informInterval: 3600)
        if let xmpp {
            var x = XMPPSettings(server: xmpp, jid: "acs@\(xmppDomain)", password: xmppPassword)
            x.ca = xmppCA
            c.xmpp = x
        }
        let server = try CorralServer(config: c)
        try await server.start()
        var sc = SimulatorConfig(acsURL: "http://127.0.0.1:\(server.cwmpPort)/cwmp", count: devices, model: "tr181")
        sc.dataModelDirectory = datamodels
        sc.serialPrefix = "BST-"
        sc.stunServer = "127.0.0.1:\(stunPort)"
        sc.stunKeepAlive = 30...60
        sc.xmppServer = xmpp
        sc.xmppDomain = xmppDomain
        let sim = try Simulator(config: sc)
        try await sim.start()
        defer { Task { await sim.stop(); await server.stop() } }
        let deadline = Date().addingTimeInterval(60)
        var ready: [Device] = []
        while Date() < deadline {
            ready = try server.store.devices(limit: devices, offset: 0).filter { d in
                let f = server.waker.facts(for: d)
                return d.credentialsConfirmed && !f.udpAddress.isEmpty && (xmpp == nil || !f.jabberID.isEmpty)
            }
            if ready.count == devices, xmpp == nil || server.xmpp?.status.connected == true { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        guard !ready.isEmpty else { throw ValidationError("no simulated CPE reported a UDP address (and JID) within 60 s") }
        let methods: [WakeMethod] = xmpp == nil ? [.udp, .http] : [.udp, .http, .xmpp]
        var latency: [WakeMethod: [Double]] = [:]
        for i in 0..<(wakes * methods.count) {
            let d = ready[i % ready.count]
            let m = methods[i % methods.count]
            // Let the previous session of this device end first (a wake during a session only queues another).
            try await Task.sleep(for: .milliseconds(30))
            let a = await server.waker.wake(d, order: [m])
            guard a.woke != nil else { continue }
            latency[m, default: []].append(Double(a.millis))
        }
        _ = sim
        return (latency[.udp] ?? [], latency[.http] ?? [], latency[.xmpp] ?? [])
    }
}

enum CPUTime {
    /// User + system CPU seconds of this process.
    static func now() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
    }
}

/// A blocking POSIX UDP socket for the load side of the bench.
final class BenchUDPSocket {
    let fd: Int32
    let port: Int
    init(host: String) throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr(host)
        let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard r == 0 else { close(fd); throw ValidationError("cannot bind a UDP socket on \(host)") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        port = Int(UInt16(bigEndian: addr.sin_port))
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }
    deinit { close(fd) }
    func send(_ bytes: [UInt8], toPort port: Int) {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        _ = bytes.withUnsafeBytes { b in
            withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
    }
    /// Reads up to `expect` replies (stops at the 200 ms receive timeout).
    func drain(expect: Int) -> Int {
        var buf = [UInt8](repeating: 0, count: 512)
        var got = 0
        while got < expect, recv(fd, &buf, buf.count, 0) > 0 { got += 1 }
        return got
    }
}
