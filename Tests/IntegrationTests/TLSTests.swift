import Foundation
import TestSupport
import Testing
import ACSCore
@testable import Engine
import NetHTTP
import Simulator
import Storage

/// HTTPS on the CWMP and operator ports with certificates made by scripts/tls-certs (openssl): simulated CPEs over
/// TLS with Digest and with Basic, plain HTTP refused on a TLS port, the legacy plain CWMP port, certificate reload,
/// and clients that stall or send garbage.
@Suite(.serialized, .enabled(if: TLSLab.available, "needs openssl"))
struct TLSTests {
    static func start(_ tag: String, certs: TLSLab, plainPort: Bool = false, profiles: String? = nil, secrets: [String: String] = [:],
                      clientCA: Bool = false) async throws -> CorralServer {
        var config = serverConfig(data: temporaryDirectory(tag))
        config.secrets = secrets
        if clientCA { config.clientCA = certs.ca }
        config.tlsCert = certs.serverCert
        config.tlsKey = certs.serverKey
        if plainPort { config.cwmpPlainPort = try freeTCPPort() }
        if let profiles {
            let dir = temporaryDirectory(tag + "-profiles")
            try profiles.write(toFile: dir + "/p.lua", atomically: true, encoding: .utf8)
            config.profilesDirectory = dir
            // The test profile informs every 2 s, like the generic ones in serverConfig.
            config.profiles["basic-legacy"] = CorralConfig.ProfileOverride(informInterval: 2)
            config.profiles["mtls"] = CorralConfig.ProfileOverride(informInterval: 2)
        }
        let server = try CorralServer(config: config)
        try await server.start()
        return server
    }

    static func sim(_ url: String, count: Int, prefix: String, ca: String?, basicOnly: Bool = false, model: String = "tr181") throws -> Simulator {
        var c = SimulatorConfig(acsURL: url, count: count, model: model)
        c.serialPrefix = prefix
        c.dataModelDirectory = Paths.datamodels
        c.httpTimeoutSeconds = 10
        c.caFile = ca
        c.basicOnly = basicOnly
        return try Simulator(config: c)
    }

    static func onboarded(_ server: CorralServer, prefix: String) throws -> Int {
        try server.store.devices(limit: 1000, offset: 0).filter { $0.serialNumber.hasPrefix(prefix) && $0.credentialsConfirmed }.count
    }

    @Test func cpesOnboardOverHTTPSWithDigestAndBasicAndPlainHTTPIsRefused() async throws {
        let certs = try TLSLab.make("tlsa")
        let server = try await Self.start("tlsa", certs: certs)
        #expect(server.tls != nil)
        let url = "https://127.0.0.1:\(server.cwmpPort)/cwmp"
        let digest = try Self.sim(url, count: 3, prefix: "TLSD-", ca: certs.ca)
        let basic = try Self.sim(url, count: 2, prefix: "TLSB-", ca: certs.ca, basicOnly: true)
        try await digest.start()
        try await basic.start()
        try await waitUntil("Digest and Basic CPEs onboarded over TLS", seconds: 40) {
            try Self.onboarded(server, prefix: "TLSD-") == 3 && Self.onboarded(server, prefix: "TLSB-") == 2
        }
        #expect(digest.stats.failures == 0 && basic.stats.failures == 0, "\(digest.stats.errors) \(basic.stats.errors)")
        await digest.stop()
        await basic.stop()

        // The operator port speaks HTTPS too, with HSTS; a client that does not trust the CA is refused by TLS.
        let trusted = try TLSClientContext(caPath: certs.ca)
        let health = try await HTTPClient.send(url: "https://127.0.0.1:\(server.httpPort)/healthz", tls: trusted)
        #expect(health.status == 200)
        #expect(health.headers.first("Strict-Transport-Security")?.contains("max-age=") == true)
        await #expect(throws: HTTPClientError.self) {
            _ = try await HTTPClient.send(url: "https://127.0.0.1:\(server.httpPort)/healthz", timeout: .seconds(5))
        }
        // Plain HTTP on TLS ports gets no HTTP answer.
        for port in [server.cwmpPort, server.httpPort] {
            do {
                let r = try await HTTPClient.send(url: "http://127.0.0.1:\(port)/healthz", timeout: .seconds(5))
                Issue.record("plain HTTP answered on TLS port \(port): \(r.status)")
            } catch {}
        }
        // A simulator without the CA fails every session with a TLS error and nothing is registered for it.
        let untrusting = try Self.sim(url, count: 1, prefix: "TLSU-", ca: nil)
        try await untrusting.start()
        try await waitUntil("the untrusting CPE fails", seconds: 20) { untrusting.stats.failures > 0 }
        await untrusting.stop()
        #expect(untrusting.stats.errors.last?.contains("TLS") == true, "\(untrusting.stats.errors)")
        #expect(try Self.onboarded(server, prefix: "TLSU-") == 0)
        // Both show as refused first contacts with the TLS hint (the recorder writes every 2 s).
        try await waitUntil("TLS failures recorded", seconds: 10) {
            try server.store.onboardingAttempts(organisationPath: "/1/", deviceID: nil, search: "", limit: 20).contains {
                $0.reason == .tlsFailure && $0.address == "127.0.0.1" && !$0.detail.isEmpty
            }
        }
        #expect(server.cwmp.metrics.text().contains("corral_cwmp_auth_failures_total{reason=\"tls_failure\"}"))
        await server.stop()
    }

    @Test func thePlainCWMPPortTakesDigestOnlyUnlessAProfileOptsInToBasic() async throws {
        let certs = try TLSLab.make("tlsp")
        let server = try await Self.start("tlsp", certs: certs, plainPort: true)
        #expect(server.cwmpPlainPort > 0)
        let plain = "http://127.0.0.1:\(server.cwmpPlainPort)/cwmp"
        let digest = try Self.sim(plain, count: 1, prefix: "PLD-", ca: nil)
        let basic = try Self.sim(plain, count: 1, prefix: "PLB-", ca: nil, basicOnly: true)
        try await digest.start()
        try await basic.start()
        try await waitUntil("the Digest CPE onboards on the plain port; the Basic one is refused", seconds: 30) {
            try Self.onboarded(server, prefix: "PLD-") == 1 && basic.stats.failures > 0
        }
        #expect(basic.stats.errors.last?.contains("no Basic challenge") == true, "\(basic.stats.errors)")
        #expect(try Self.onboarded(server, prefix: "PLB-") == 0)
        await digest.stop()
        await basic.stop()
        await server.stop()

        // A profile for Basic-only devices opts in: then its devices onboard (with its onboarding credentials) and keep
        // their sessions over plain HTTP.
        let optIn = """
            return profile {
              name = "basic-legacy", extends = "generic-tr098", match = { data_model = "tr098" },
              onboarding = { username = "legacy-onboarding", password = secret "legacy" },
              auth = { basic_over_http = true },
            }
            """
        let server2 = try await Self.start("tlsp2", certs: certs, plainPort: true, profiles: optIn, secrets: ["legacy": "legacy-secret-1"])
        var legacy = try Self.sim("http://127.0.0.1:\(server2.cwmpPlainPort)/cwmp", count: 1, prefix: "PLL-", ca: nil, basicOnly: true, model: "tr098")
        var lc = legacy.config
        lc.username = "legacy-onboarding"
        lc.password = "legacy-secret-1"
        legacy = try Simulator(config: lc)
        try await legacy.start()
        try await waitUntil("the Basic-only CPE of the opted-in profile onboards over plain HTTP", seconds: 30) {
            try Self.onboarded(server2, prefix: "PLL-") == 1
        }
        #expect(try server2.store.devices(limit: 10, offset: 0).first { $0.serialNumber.hasPrefix("PLL-") }?.profile == "basic-legacy")
        let before = legacy.stats.snapshot.sessions
        try await waitUntil("a periodic session with its own credentials, Basic over plain HTTP", seconds: 20) { legacy.stats.snapshot.sessions > before }
        await legacy.stop()
        await server2.stop()
    }

    @Test func aProfileCanRequireAClientCertificateThatNamesTheDevice() async throws {
        let certs = try TLSLab.make("mtls")
        let profile = """
            return profile {
              name = "mtls", extends = "generic-tr098", match = { data_model = "tr098" }, priority = 10,
              auth = { client_certificate = "required" },
            }
            """
        let server = try await Self.start("mtls", certs: certs, profiles: profile, clientCA: true)
        let url = "https://127.0.0.1:\(server.cwmpPort)/cwmp"
        func sim(_ prefix: String, cert: (cert: String, key: String)?) throws -> Simulator {
            var c = try Self.sim(url, count: 1, prefix: prefix, ca: certs.ca, model: "tr098").config
            c.clientCertificate = cert?.cert
            c.clientKey = cert?.key
            return try Simulator(config: c)
        }
        // Its own certificate (CN = OUI-serial): onboarded and keeps its sessions.
        let good = try sim("MTA-", cert: try certs.client("00C0FF-MTA-000000"))
        // No certificate, and a certificate for another device: refused before anything is registered.
        let none = try sim("MTB-", cert: nil)
        let other = try sim("MTC-", cert: try certs.client("00C0FF-MTA-000000"))
        for s in [good, none, other] { try await s.start() }
        try await waitUntil("the device with its certificate onboards; the others are refused", seconds: 30) {
            try Self.onboarded(server, prefix: "MTA-") == 1 && none.stats.failures > 0 && other.stats.failures > 0
        }
        #expect(none.stats.errors.last?.contains("requires a client certificate") == true, "\(none.stats.errors)")
        #expect(other.stats.errors.last?.contains("names 00C0FF-MTA-000000, not 00C0FF-MTC-000000") == true, "\(other.stats.errors)")
        #expect(try server.store.device(name: "00C0FF-MTB-000000") == nil)
        #expect(try server.store.device(name: "00C0FF-MTC-000000") == nil)
        // A TR-181 device (generic profile, no mutual TLS) still onboards without a certificate on the same port.
        let plain = try Self.sim(url, count: 1, prefix: "MTD-", ca: certs.ca)
        try await plain.start()
        try await waitUntil("a device of a profile without mutual TLS onboards", seconds: 30) { try Self.onboarded(server, prefix: "MTD-") == 1 }
        for s in [good, none, other, plain] { await s.stop() }
        await server.stop()
    }

    @Test func aReloadedCertificateServesNewConnectionsAndABadOneIsRefused() async throws {
        let certs = try TLSLab.make("tlsr")
        let server = try await Self.start("tlsr", certs: certs)
        let url = "https://127.0.0.1:\(server.httpPort)/healthz"
        let oldCA = try TLSClientContext(caPath: certs.ca)
        #expect(try await HTTPClient.send(url: url, tls: oldCA).status == 200)
        // A new CA and certificate written over the files: until SIGHUP (reloadTLS) the old one is served.
        let other = try TLSLab.make("tlsr2")
        try FileManager.default.removeItem(atPath: certs.serverCert)
        try FileManager.default.removeItem(atPath: certs.serverKey)
        try FileManager.default.copyItem(atPath: other.serverCert, toPath: certs.serverCert)
        try FileManager.default.copyItem(atPath: other.serverKey, toPath: certs.serverKey)
        #expect(try await HTTPClient.send(url: url, tls: oldCA).status == 200)
        // An open keep-alive connection survives the reload.
        let open = try await HTTPClientConnection.connect(host: "127.0.0.1", port: server.httpPort, tls: oldCA)
        #expect(try await open.send(uri: "/healthz").status == 200)
        #expect(server.reloadTLS() == nil)
        let newCA = try TLSClientContext(caPath: other.ca)
        #expect(try await HTTPClient.send(url: url, tls: newCA).status == 200)
        await #expect(throws: HTTPClientError.self) { _ = try await HTTPClient.send(url: url, timeout: .seconds(5), tls: oldCA) }
        #expect(try await open.send(uri: "/healthz").status == 200)
        await open.close()
        // A broken key file: the reload is refused and the current certificate stays.
        try "not a key".write(toFile: certs.serverKey, atomically: true, encoding: .utf8)
        #expect(server.reloadTLS()?.contains("tls_key") == true)
        #expect(try await HTTPClient.send(url: url, tls: newCA).status == 200)
        await server.stop()
    }

    @Test func stalledAndGarbageTLSClientsAreClosedWhileOthersAreServed() async throws {
        let certs = try TLSLab.make("tlsg")
        var config = serverConfig(data: temporaryDirectory("tlsg"))
        config.tlsCert = certs.serverCert
        config.tlsKey = certs.serverKey
        config.sessionIdleTimeout = 10
        let server = try CorralServer(config: config)
        try await server.start()
        // 20 connections that never start the handshake, 20 that send garbage instead of a ClientHello.
        var silent: [Int32] = [], garbage: [Int32] = []
        for _ in 0..<20 { silent.append(try rawConnect(server.cwmpPort)) }
        for _ in 0..<20 {
            let fd = try rawConnect(server.cwmpPort)
            let junk = [UInt8]("GET / HTTP/1.1\r\nHost: x\r\n\r\n\u{0}\u{1}\u{2}".utf8)
            _ = junk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            garbage.append(fd)
        }
        // Everyone else is served meanwhile.
        let ca = try TLSClientContext(caPath: certs.ca)
        #expect(try await HTTPClient.send(url: "https://127.0.0.1:\(server.httpPort)/healthz", tls: ca).status == 200)
        // Garbage is closed at once (no HTTP answer in clear); silent clients by the idle timeout.
        try await waitUntil("garbage connections closed", seconds: 5) { garbage.allSatisfy { peerClosed($0) } }
        for fd in garbage { close(fd) }
        let limits = ServerLimits()
        try await waitUntil("silent connections closed by the first-byte timeout", seconds: Double(limits.firstByteTimeout.components.seconds) + 5, every: .milliseconds(250)) {
            silent.allSatisfy { peerClosed($0) }
        }
        for fd in silent { close(fd) }
        await server.stop()
    }

    @Test func halfATLSConfigurationIsAClearStartUpError() throws {
        var c = CorralConfig()
        c.tlsCert = "/nonexistent/cert.pem"
        #expect(throws: ConfigError.self) { try c.tlsIdentity() }
        c.tlsKey = "/nonexistent/key.pem"
        do { _ = try c.tlsIdentity(); Issue.record("missing files accepted") } catch {
            #expect("\(error)".contains("/nonexistent/cert.pem"), "\(error)")
        }
        var plainOnly = CorralConfig()
        plainOnly.cwmpPlainPort = 7548
        #expect(throws: ConfigError.self) { try plainOnly.tlsIdentity() }
    }
}

/// Certificates from scripts/tls-certs in a temporary directory.
struct TLSLab {
    let dir: String
    var ca: String { dir + "/ca.crt" }
    var serverCert: String { dir + "/server.crt" }
    var serverKey: String { dir + "/server.key" }
    static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") }

    static func make(_ tag: String) throws -> TLSLab {
        let lab = TLSLab(dir: temporaryDirectory(tag + "-certs"))
        let r = try runCommand(["/bin/bash", Paths.packageRoot + "/scripts/tls-certs", "server", lab.dir])
        guard r.status == 0 else { throw Timeout(description: "tls-certs failed: \(r.output)") }
        return lab
    }

    func client(_ commonName: String) throws -> (cert: String, key: String) {
        let r = try runCommand(["/bin/bash", Paths.packageRoot + "/scripts/tls-certs", "client", dir, commonName])
        guard r.status == 0 else { throw Timeout(description: "tls-certs client failed: \(r.output)") }
        return (dir + "/client-\(commonName).crt", dir + "/client-\(commonName).key")
    }
}

/// A blocking TCP connection to 127.0.0.1:port.
func rawConnect(_ port: Int) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard rc == 0 else { close(fd); throw Timeout(description: "connect to \(port) failed: errno \(errno)") }
    return fd
}

/// True when the peer closed (or reset) the connection: a non-blocking read sees EOF or an error other than EAGAIN.
/// Anything the server sent first (a TLS alert) is drained.
func peerClosed(_ fd: Int32) -> Bool {
    var buf = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = recv(fd, &buf, buf.count, Int32(MSG_DONTWAIT))
        if n > 0 { continue }
        if n == 0 { return true }
        return errno != EAGAIN && errno != EWOULDBLOCK
    }
}
