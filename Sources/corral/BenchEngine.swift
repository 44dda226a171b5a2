import ACSCore
import ArgumentParser
import CWMP
import Engine
import Foundation
import PostgresStore
import HTTPAuth
import Storage

/// The CWMP engine without the network: periodic sessions (challenge, Inform with Digest, empty POST) straight into
/// `CWMPService.handle`, against a real SQLite store (or PostgreSQL: --database), plus the codec and auth pieces on their own. Splits a
/// session's CPU between the engine and the HTTP/TCP layer (compare with `scripts/bench` sessions).
struct BenchEngine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "engine", abstract: "Per-session engine cost without the network.")
    @Option(help: "Sessions to run.") var sessions = 20_000
    @Option(help: "Devices (sessions rotate over them).") var devices = 256
    @Option(help: "Concurrent sessions.") var concurrency = 64
    @Option(help: "An empty PostgreSQL database to run against (postgresql://…) instead of a temporary SQLite file.") var database: String?

    func run() async throws {
        let dir = NSTemporaryDirectory() + "corral-bench-engine-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try StoreOpener.open(url: database, dataDirectory: dir)
        defer { store.close() }
        var config = EngineConfig()
        config.nonceSecret = Array(repeating: 7, count: 32)
        let service = CWMPService(store: store, config: config)
        // On PostgreSQL sessions hold device leases, as they do when `serve` shares the database with other nodes.
        if case .postgres = try StoreOpener.kind(database, dataDirectory: dir) { service.leaseNode.withLockedValue { $0 = "bench" } }
        let now = Int64(Date().timeIntervalSince1970)
        var devs: [(Device, String)] = []
        for i in 0..<devices {
            let serial = String(format: "ENG%06d", i)
            var d = try await store.createDevice(Device(name: "00C0FF-\(serial)", oui: "00C0FF", productClass: "SimRouter", serialNumber: serial,
                                                        profile: "generic-tr181", dataModel: .tr181, informInterval: 300, createdAt: now))
            let password = "pw-\(i)"
            d.username = d.name
            d.passwordHA1 = Digest.ha1(username: d.name, realm: Onboarding.realm, password: password)
            d.credentialsConfirmed = true
            try await store.apply([.updateDevice(d)])
            devs.append((d, password))
        }
        let informs = devs.map { d, _ in Self.informBody(serial: d.serialNumber) }

        // Pieces on their own.
        let n = 20_000
        var timings: [String: Double] = [:]
        let clock = ContinuousClock()
        func time(_ name: String, _ body: () throws -> Void) rethrows {
            let t0 = clock.now
            for _ in 0..<n { try body() }
            timings[name] = BenchStats.ms(clock.now - t0) * 1000 / Double(n)
        }
        let nonces = NonceSource(secret: config.nonceSecret)
        let challenge = DigestChallenge(realm: Onboarding.realm, nonce: nonces.make(), qop: "auth", algorithm: "MD5")
        let creds = Digest.authorize(challenge: challenge, username: devs[0].0.name, password: devs[0].1, method: "POST", uri: "/cwmp")!
        let header = creds.headerValue
        try time("decode_inform_us") { _ = try CWMPDecoder.decode(informs[0], from: .cpe) }
        time("encode_inform_response_us") {
            _ = CWMPEncoder.encode(Envelope(version: .v1_2, header: CWMPHeader(id: "1"), body: .acsResponse(.inform(maxEnvelopes: 1))))
        }
        time("nonce_make_us") { _ = nonces.make() }
        time("nonce_check_us") { _ = nonces.check(challenge.nonce) }
        time("challenge_header_us") { _ = DigestChallenge(realm: Onboarding.realm, nonce: challenge.nonce, qop: "auth", algorithm: "MD5").headerValue }
        time("authorization_parse_us") { _ = AuthorizationHeader.parse(header) }
        time("digest_verify_us") { _ = Digest.verify(credentials: creds, ha1: devs[0].0.passwordHA1, method: "POST") }
        try time("store_device_by_username_us") { _ = try store.device(username: devs[0].0.name) }
        try time("store_tasks_us") { _ = try store.tasks(deviceID: devs[0].0.id, states: [.pending]) }

        // Whole sessions through CWMPService.handle.
        let counter = SessionCounter()
        let sessions = self.sessions, concurrency = self.concurrency
        let devList = devs, informList = informs
        let cpu0 = Self.cpuSeconds()
        let trips0 = PostgresSQLConnection.roundTrips
        let t0 = clock.now
        await withTaskGroup(of: Void.self) { group in
            for w in 0..<concurrency {
                group.addTask {
                    var k = w
                    while counter.next() <= sessions {
                        let (d, password) = devList[k % devList.count]
                        await Self.session(service, d, password, informList[k % devList.count], connectionID: UInt64(k + 1))
                        k += concurrency
                    }
                }
            }
        }
        let wall = BenchStats.ms(clock.now - t0) / 1000
        let cpu = Self.cpuSeconds() - cpu0
        timings["engine_session_cpu_us"] = cpu / Double(sessions) * 1e6
        timings["engine_sessions_per_second"] = Double(sessions) / wall
        if database != nil { timings["engine_db_round_trips_per_session"] = Double(PostgresSQLConnection.roundTrips - trips0) / Double(sessions) }
        try BenchStats.printJSON(timings.mapValues { ($0 * 100).rounded() / 100 })
    }

    static func session(_ service: CWMPService, _ d: Device, _ password: String, _ inform: [UInt8], connectionID: UInt64) async {
        func x(_ body: [UInt8], cookie: String? = nil, auth: String? = nil) -> CWMPExchange {
            CWMPExchange(body: body, cookieHeader: cookie, authorization: auth, remoteAddress: "127.0.0.1", connectionID: connectionID, uri: "/cwmp")
        }
        let r1 = await service.handle(x(inform))
        guard r1.status == 401, let ch = DigestChallenge.parse(r1.headers.filter { $0.0 == "WWW-Authenticate" }.map(\.1)),
              let creds = Digest.authorize(challenge: ch, username: d.name, password: password, method: "POST", uri: "/cwmp") else {
            fatalError("expected a challenge, got \(r1.status)")
        }
        let r2 = await service.handle(x(inform, auth: creds.headerValue))
        guard r2.status == 200, let cookie = r2.headers.first(where: { $0.0 == "Set-Cookie" })?.1.split(separator: ";").first else {
            fatalError("expected InformResponse, got \(r2.status) \(String(decoding: r2.body, as: UTF8.self))")
        }
        let r3 = await service.handle(x([], cookie: String(cookie)))
        guard r3.status == 204 else { fatalError("expected 204, got \(r3.status)") }
    }

    static func informBody(serial: String) -> [UInt8] {
        let r = "Device."
        let params = [
            ParameterValue(name: r + "DeviceInfo.HardwareVersion", value: "HW-1"),
            ParameterValue(name: r + "DeviceInfo.SoftwareVersion", value: "1.0.0"),
            ParameterValue(name: r + "DeviceInfo.ProvisioningCode", value: ""),
            ParameterValue(name: r + "DeviceInfo.UpTime", value: "1234", type: .unsignedInt),
            ParameterValue(name: r + "ManagementServer.ConnectionRequestURL", value: "http://127.0.0.1:7548/cr/\(serial)"),
            ParameterValue(name: r + "ManagementServer.ParameterKey", value: ""),
            ParameterValue(name: r + "RootDataModelVersion", value: "2.19"),
            ParameterValue(name: r + "WiFi.SSID.1.SSID", value: "Corral-\(serial.suffix(4))"),
        ]
        let inform = Inform(deviceId: DeviceID(manufacturer: "Corral Simulated", oui: "00C0FF", productClass: "SimRouter", serialNumber: serial),
                            events: [EventStruct(EventCode.periodic)], currentTime: "2026-01-01T00:00:00Z", parameters: params)
        return CWMPEncoder.encode(Envelope(version: .v1_2, header: CWMPHeader(id: "1"), body: .cpeRequest(.inform(inform))))
    }

    static func cpuSeconds() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
    }
}

final class SessionCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func next() -> Int { lock.withLock { n += 1; return n } }
}
