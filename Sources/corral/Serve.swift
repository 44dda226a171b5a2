import API
import ArgumentParser
import Engine
import Foundation
import Logging
import Metrics
import NetHTTP
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the ACS: CWMP endpoint, operator HTTP port, embedded SQLite store (or a shared PostgreSQL database: --database).",
        discussion: """
            CPEs POST to http://<host>:<cwmp-port>/ (any path). A CPE informing with a profile's onboarding \
            credentials is registered and given its own credentials. Built-in profiles: generic-tr181 \
            (user corral-tr181, password onboard-tr181) and generic-tr098 (corral-tr098 / onboard-tr098); \
            the passwords are secrets: set corral.json "secrets": {"generic-tr181-onboarding": "..."} or \
            CORRAL_SECRET_GENERIC_TR181_ONBOARDING (usernames: "profiles": {"generic-tr181": {"onboardingUsername": ...}} \
            or CORRAL_ONBOARDING_GENERIC_TR181_USERNAME). More profiles: "profiles_dir" or CORRAL_PROFILES (see \
            docs/profiles.md). The server also runs the campaigns started with `corral campaign start`. \
            Logs: --log-format text|json (any command; or CORRAL_LOG_FORMAT), levels CORRAL_LOG=info,cwmp=debug.
            """)

    @OptionGroup var store: StoreOptions
    @Option(help: "Address to listen on (default 0.0.0.0, or CORRAL_HOST).") var host: String?
    @Option(name: .customLong("cwmp-port"), help: "CWMP port (default 7547, or CORRAL_CWMP_PORT).") var cwmpPort: Int?
    @Option(name: .customLong("http-port"), help: "Operator HTTP port (default 8080, or CORRAL_HTTP_PORT).") var httpPort: Int?
    @Option(name: .customLong("stun-port"), help: "STUN server UDP port for TR-111 bindings and UDP connection requests (default 3478, or CORRAL_STUN_PORT; 0 = off).") var stunPort: Int?
    @Option(name: .customLong("speedtest-port"), help: "TR-143 HTTP test server TCP port (GET /download/<bytes>, PUT /upload/<name>; default 8081, or CORRAL_SPEEDTEST_PORT; 0 = off).") var speedtestPort: Int?
    @Option(name: .customLong("udp-echo-port"), help: "TR-143 UDP echo / Echo Plus server port (default 8862, or CORRAL_UDP_ECHO_PORT; 0 = off).") var udpEchoPort: Int?
    @OptionGroup var xmpp: XMPPOptions
    @OptionGroup var tls: TLSOptions
    @OptionGroup var edge: EdgeOptions

    func run() async throws {
        NetRuntime.installNIOExecutor()
        var config = try ConfigLoading.load(store)
        if let host { config.host = host }
        if let cwmpPort { config.cwmpPort = cwmpPort }
        if let httpPort { config.httpPort = httpPort }
        if let stunPort {
            guard (0...65535).contains(stunPort) else { throw ValidationError("--stun-port must be 0-65535") }
            config.stunPort = stunPort
        }
        if let speedtestPort {
            guard (0...65535).contains(speedtestPort) else { throw ValidationError("--speedtest-port must be 0-65535") }
            config.speedtestPort = speedtestPort
        }
        if let udpEchoPort {
            guard (0...65535).contains(udpEchoPort) else { throw ValidationError("--udp-echo-port must be 0-65535") }
            config.udpEchoPort = udpEchoPort
        }
        try xmpp.apply(to: &config)
        try tls.apply(to: &config)
        try edge.apply(to: &config)
        let server = try CorralServer(config: config)
        // Libraries instrumented with swift-metrics report into the same registry /metrics shows.
        MetricsSystem.bootstrap(server.cwmp.metrics.factory)
        let api = APIHandler.install(on: server)
        let firstAdmin = try await AccountBootstrap.ensureFirstAdmin(store: server.store)
        try await server.start()
        api.serverStarted(server)
        if let firstAdmin {
            // Shown once; only its PBKDF2 hash is stored.
            FileHandle.standardOutput.write(Data("corral: created the first user: admin (superadmin), password \(firstAdmin)\n".utf8))
        }
        // Written unbuffered: supervisors and tests read this line from a pipe.
        let secure = server.tls != nil
        FileHandle.standardOutput.write(Data("corral: CWMP listening on \(config.host):\(server.cwmpPort), HTTP on \(config.host):\(server.httpPort), data in \(config.dataDirectory)\n".utf8))
        FileHandle.standardOutput.write(Data((secure
            ? "corral: TLS on: CWMP \(server.cwmpPort) and operator \(server.httpPort) speak HTTPS only (certificate \(config.tlsCert ?? ""); SIGHUP reloads it)\(server.cwmpPlainPort > 0 ? "; plain-HTTP CWMP on \(server.cwmpPlainPort) (Digest only)" : "")\n"
            : "corral: TLS off: CWMP and operator ports are plain HTTP (--tls-cert/--tls-key to turn it on)\n").utf8))
        let st = server.speedTest
        FileHandle.standardOutput.write(Data("corral: TR-143 test server \(st.http == nil ? "off" : "on tcp \(st.httpPort)"), UDP echo \(st.echo == nil ? "off" : "on udp \(st.echoPort)"); devices use \(st.servers(for: nil).baseURL)\n".utf8))
        // SIGHUP: the certificate (with TLS), the profiles and the automation files.
        onSignal(SIGHUP) {
            if secure { server.reloadTLS() }
            Task { _ = await server.reloader.reload(by: "SIGHUP") }
        }
        FileHandle.standardOutput.write(Data((server.stun == nil ? "corral: STUN off (stun_port 0)\n"
                                              : "corral: STUN listening on udp \(config.host):\(server.stunPort)\n").utf8))
        if server.metricsPort > 0 {
            FileHandle.standardOutput.write(Data("corral: metrics on http://\(config.metricsHost):\(server.metricsPort)/metrics\(config.metricsToken == nil ? "" : " (bearer token)")\n".utf8))
        }
        if let x = server.xmpp {
            FileHandle.standardOutput.write(Data("corral: XMPP connection requests as \(x.account.bareJID) via \(x.host):\(x.port) (logging in in the background)\n".utf8))
        }
        // SIGTERM/SIGINT: a graceful shutdown (sessions in flight finish, the runners stop, the store's writer drains).
        let group = ServiceGroup(configuration: .init(services: [.init(service: ServerService(server: server))],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "lifecycle")))
        try await group.run()
    }
}

/// The running server as a swift-service-lifecycle service: it runs until the group shuts down gracefully.
struct ServerService: Service {
    let server: CorralServer
    func run() async throws {
        try? await gracefulShutdown()
        FileHandle.standardOutput.write(Data("corral: shutting down\n".utf8))
        await server.stop()
        FileHandle.standardOutput.write(Data("corral: stopped\n".utf8))
    }
}

/// Suspends until SIGINT or SIGTERM.
func waitForTermination() async {
    await withCheckedContinuation { (cont: CheckedContinuation<Void, Never>) in
        let once = OnceFlag()
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .main)
            source.setEventHandler { if once.set() { cont.resume() } }
            source.resume()
            SignalSources.keep(source)
        }
    }
}

/// Runs `action` on the main queue each time `sig` arrives.
func onSignal(_ sig: Int32, _ action: @escaping @Sendable () -> Void) {
    signal(sig, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: sig, queue: .main)
    source.setEventHandler(handler: action)
    source.resume()
    SignalSources.keep(source)
}

final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    func set() -> Bool { lock.withLock { if done { return false }; done = true; return true } }
}

enum SignalSources {
    nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []
    static func keep(_ s: DispatchSourceSignal) { sources.append(s) }
}
