import ACSCore
import Foundation
import HTTPAuth
import Scripting
import NetHTTP
import PostgresStore
import Storage
import XMPP

/// `corral serve`: the store, the CWMP endpoint and the operator HTTP port in one process.
public final class CorralServer: @unchecked Sendable {
    public let config: CorralConfig
    public let store: SQLStore
    public let cwmp: CWMPService
    public let campaigns: CampaignRunner
    /// Firmware rollouts (the API gives it the download URL of a stored file).
    public let rollouts: RolloutRunner
    /// The automation files and their runner (events and schedules).
    public let automations: AutomationRunner
    /// Sends events to the operators' webhooks.
    public let webhooks: WebhookDispatcher
    /// Whether this node runs the cluster-wide periodic work (always, on SQLite).
    public private(set) var leadership = Leadership.always
    /// Corral's STUN server (nil with stun_port 0); UDP connection requests leave from its socket.
    public let stun: STUNServer?
    /// Wakes devices by XMPP/UDP/HTTP in their profile's order; used by the API, the GUI and campaigns.
    public let waker: Waker
    /// Corral's XMPP session for Annex K connection requests (nil without `xmpp` settings).
    public let xmpp: XMPPService?
    /// The TR-143 HTTP test server and UDP echo server (speedtest_port, udp_echo_port).
    public let speedTest: SpeedTestService
    /// Certificate and key of the CWMP and operator ports (nil = plain HTTP); `reloadTLS()` re-reads them.
    public let tls: TLSServerIdentity?
    private var cwmpServer: HTTPServer?
    private var cwmpPlainServer: HTTPServer?
    private var httpServer: HTTPServer?
    private var metricsServer: HTTPServer?
    /// Reverse proxies whose X-Forwarded-For/-Proto are believed (trusted_proxies).
    public let proxies: TrustedProxies
    private var sweeper: Task<Void, Never>?
    private var retention: Task<Void, Never>?
    private var textIndexer: Task<Void, Never>?
    private var attemptWriter: Task<Void, Never>?
    /// The device profiles this server loaded (built-ins + profiles directory).
    /// The profiles as loaded now (a reload replaces them).
    public let catalog: ProfileCatalog
    public var profiles: ProfileRegistry { catalog.registry }
    /// Their sources and secrets (the API shows sources and validates candidate files against them).
    public var profileLibrary: ProfileLibrary { catalog.current.library }
    /// Reloads profiles and automations while serving (file change, SIGHUP, API).
    public let reloader: ScriptReloader
    private var watcher: Task<Void, Never>?
    /// Several nodes: new script versions accepted by another node (LISTEN on `SQLStore.scriptsChannel`).
    private var scriptListener: PostgresListener?
    public private(set) var cwmpPort = 0
    /// The extra plain-HTTP CWMP port next to a TLS one (cwmp_plain_port); 0 = none.
    public private(set) var cwmpPlainPort = 0
    public private(set) var httpPort = 0
    public private(set) var stunPort = 0
    /// The separate metrics port (metrics_port); 0 = /metrics is on the operator port.
    public private(set) var metricsPort = 0
    /// Extra handler on the operator port (the REST API), set before `start()`; nil answers fall through.
    public var operatorRoutes: (@Sendable (HTTPRequest) async -> HTTPResponse?)?
    /// Largest request body on the operator port (file uploads).
    public var operatorMaxBodyBytes = 1 << 20
    /// Per-request body limit on the operator port, decided from the head before reading (set by the API: small for
    /// login and JSON, uploads only with credentials). nil = operatorMaxBodyBytes.
    public var operatorBodyLimit: (@Sendable (_ method: String, _ path: String, _ headers: HTTPFields) -> Int)?
    /// Operator requests whose body is spooled to disk (uploads): the directory, or nil to buffer.
    public var operatorSpool: (@Sendable (_ method: String, _ path: String, _ headers: HTTPFields) -> String?)?
    /// Operator requests answered from their head (uploads without valid credentials, or with no room on disk).
    public var operatorRefuse: (@Sendable (_ method: String, _ path: String, _ headers: HTTPFields) -> HTTPResponse?)?
    let log = Log(label: "serve")
    private let lock: DataDirectoryLock

    public init(config: CorralConfig) throws {
        self.config = config
        tls = try config.tlsIdentity()
        do { proxies = try TrustedProxies(config.trustedProxies) } catch { throw ConfigError(error.description) }
        try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        lock = try DataDirectoryLock(directory: config.dataDirectory)
        do { store = try StoreOpener.open(config) } catch let e as SQLiteError where e.isCorruption {
            throw ConfigError("the database \(config.dataDirectory)/corral.db is corrupt (\(e.message)): run `corral check` and restore a backup")
        }
        if config.startupCheck {
            // Corruption found now is a clear refusal; found later it is a stream of odd errors.
            let started = Date()
            let problems = try store.integrityProblems(quick: true, limit: 5)
            guard problems.isEmpty else {
                throw ConfigError("the database \(config.dataDirectory)/corral.db is corrupt (\(problems.joined(separator: "; "))): run `corral check` for the details and restore a backup; startup_check: false (CORRAL_STARTUP_CHECK=0) serves it anyway")
            }
            log.info("database quick check passed in \(Int(Date().timeIntervalSince(started) * 1000)) ms")
        }
        var engine = EngineConfig()
        engine.sessionIdleTimeout = config.sessionIdleTimeout
        engine.maxSessions = config.maxSessions
        engine.maxBodyBytes = config.maxBodyBytes
        let (library, problems) = config.profileLibrary()
        for p in problems {
            if p.kind == .warning { log.info("profile warning: \(p.message)") } else { log.error("profile: \(p.message)") }
        }
        for p in library.registry.profiles where p.requireClientCertificate && config.clientCA == nil {
            log.error("profile \(p.name) requires client certificates but client_ca is not set (--client-ca): its devices will be refused")
        }
        let exposed = BuiltinProfiles.usingPublicSecret(library.registry)
        if !exposed.isEmpty {
            log.error("WARNING: profiles \(exposed.joined(separator: ", ")) accept the public default onboarding password: anyone can onboard or re-bootstrap devices with them. Set their secrets (corral.json \"secrets\" or CORRAL_SECRET_<NAME>) before real devices connect.")
        }
        let catalog = ProfileCatalog(library: library, engine: ScriptEngine(library: library, shards: Self.scriptShards))
        self.catalog = catalog
        engine.catalog = catalog
        engine.nonceSecret = try Self.loadSecret(directory: config.dataDirectory)
        engine.xmppConfigured = config.xmpp != nil
        cwmp = CWMPService(store: store, config: engine)
        let stun = config.stunPort == 0 ? nil : STUNServer(host: config.host, port: config.stunPort)
        self.stun = stun
        speedTest = try SpeedTestService(config: config)
        cwmp.speedTest.withLockedValue { [speedTest] in $0 = speedTest }
        let xmpp = try config.xmppService()
        self.xmpp = xmpp
        // Several nodes: a woken device's session may open on another node (seen through the store).
        let watch: any SessionWatch = store.db.dialect == .postgres ? ClusterSessionWatch(local: cwmp.sessionOpens, store: store) : cwmp.sessionOpens
        var wakerSetUp = Waker(store: store, udp: stun.map { .server($0) }, xmpp: xmpp, watch: watch, profiles: { catalog.registry })
        wakerSetUp.metrics = cwmp.metrics
        let waker = wakerSetUp
        self.waker = waker
        campaigns = CampaignRunner(store: store, registry: { catalog.registry }, wake: { _ = await waker.wake($0) })
        campaigns.diagnosticServers.withLockedValue { [speedTest] in $0 = { speedTest.servers(for: $0, organisationURL: $1) } }
        rollouts = RolloutRunner(store: store, tick: config.rolloutTick, profiles: { catalog.registry }, wake: { _ = await waker.wake($0) })
        let automationDir = config.automationsDirectory ?? ((config.scriptsDirectory ?? "scripts") as NSString).appendingPathComponent("automations")
        automations = AutomationRunner(directory: automationDir, store: store, registry: library.registry,
                                       campaignsDirectory: ((config.scriptsDirectory ?? "scripts") as NSString).appendingPathComponent("campaigns"),
                                       interest: engine.eventInterest)
        webhooks = WebhookDispatcher(store: store, tick: config.webhookTick)
        webhooks.allowedHosts = config.webhookHosts
        reloader = ScriptReloader(config: config, catalog: catalog, automations: automations, store: store, shards: Self.scriptShards)
    }

    /// Lua states with every profile's hooks (sessions hash to one by device ID).
    static let scriptShards = 8

    /// Digest nonces are HMACs under this secret; keeping it lets CPEs finish a handshake across a restart.
    static func loadSecret(directory: String) throws -> [UInt8] {
        let path = (directory as NSString).appendingPathComponent("nonce.secret")
        if let data = FileManager.default.contents(atPath: path), data.count >= 16 { return Array(data) }
        var g = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &g) }
        _ = FileManager.default.createFile(atPath: path, contents: Data(secret), attributes: [.posixPermissions: 0o600])
        return secret
    }

    public func start() async throws {
        let cwmp = self.cwmp
        var limits = ServerLimits(maxBodyBytes: config.maxBodyBytes)
        // CPE bodies are at most max_body_bytes each; all of them at once at most 256 MiB (200 connections holding
        // 4 MiB partial bodies took 800 MiB), and no more connections than sessions can use.
        limits.maxBufferedBodyBytes = max(256 << 20, 4 * config.maxBodyBytes)
        limits.maxConnections = config.maxSessions + 4096
        limits.tlsFailure = { [cwmp] address, error in cwmp.tlsHandshakeFailed(address: address, error: error) }
        let proxies = self.proxies
        let cwmpServer = HTTPServer(host: config.host, port: config.cwmpPort, limits: limits, tls: tls) { request in
            await withTaskExecutorPreference(Executors.cwmp) { await CWMPEndpoint.handle(Self.forwarded(request, proxies), service: cwmp) }
        }
        let storeKind = try StoreOpener.kind(config.databaseURL, dataDirectory: config.dataDirectory)
        cwmpPort = try await cwmpServer.start()
        self.cwmpServer = cwmpServer
        if case .postgres = storeKind {
            // Several nodes on one database: each CWMP session holds a lease on its device, signed with this node's
            // name (set as soon as the port is known).
            let node = config.nodeName ?? "\(ProcessInfo.processInfo.hostName):\(cwmpPort)"
            cwmp.leaseNode.withLockedValue { $0 = node }
            log.info("node \(node): device sessions are leased in the database")
        }
        if tls != nil, let plain = config.cwmpPlainPort {
            let server = HTTPServer(host: config.host, port: plain, limits: limits) { request in
                await withTaskExecutorPreference(Executors.cwmp) { await CWMPEndpoint.handle(Self.forwarded(request, proxies), service: cwmp) }
            }
            cwmpPlainPort = try await server.start()
            cwmpPlainServer = server
        }

        if let stun {
            do { stunPort = try await stun.start() } catch {
                throw ConfigError("cannot listen for STUN on udp \(config.host):\(config.stunPort): \(error) (set stun_port, --stun-port or CORRAL_STUN_PORT; 0 turns STUN off)")
            }
        }

        try await speedTest.start()

        // Logging in happens in the background: an XMPP server that is down delays nothing else (backoff, logged).
        xmpp?.start()

        let store = self.store
        let automations = self.automations
        let routes = operatorRoutes
        let stun = self.stun, waker = self.waker, xmpp = self.xmpp
        var operatorLimits = ServerLimits(maxBodyBytes: operatorMaxBodyBytes)
        operatorLimits.bodyLimit = operatorBodyLimit
        operatorLimits.spool = operatorSpool
        operatorLimits.refuse = operatorRefuse
        // People and scripts, not fleets: a few connections per address; bodies buffered at once stay bounded.
        operatorLimits.maxConnections = 2048
        operatorLimits.maxConnectionsPerAddress = 128
        operatorLimits.maxBufferedBodyBytes = max(64 << 20, 2 * operatorMaxBodyBytes)
        operatorLimits.refusal = OperatorEndpoint.problem
        if !proxies.isEmpty { operatorLimits.unlimitedAddress = { proxies.trusts($0) } }
        let metrics = OperatorEndpoint.Metrics(token: config.metricsToken, onOperatorPort: config.metricsPort == nil)
        let httpServer = HTTPServer(host: config.host, port: config.httpPort, limits: operatorLimits, tls: tls) { request in
            let request = Self.forwarded(request, proxies)
            var response: HTTPResponse
            if request.path == "/healthz" {
                // Answered on the event loop: a liveness probe must not queue behind busy pools.
                response = OperatorEndpoint.handle(request, store: store, cwmp: cwmp, stun: stun, waker: waker, xmpp: xmpp, automations: automations, metrics: metrics)
            } else {
                response = await withTaskExecutorPreference(Executors.api) {
                    if let routes, let r = await routes(request) { return r }
                    return OperatorEndpoint.handle(request, store: store, cwmp: cwmp, stun: stun, waker: waker, xmpp: xmpp, automations: automations, metrics: metrics)
                }
            }
            // Browsers that saw the operator port over TLS never fall back to plain HTTP for it.
            if request.isTLS { response.headers.set("Strict-Transport-Security", "max-age=31536000") }
            return response
        }
        httpPort = try await httpServer.start()
        self.httpServer = httpServer
        if let port = config.metricsPort {
            // Only health and metrics here, for a Prometheus on an internal network.
            let only = OperatorEndpoint.Metrics(token: config.metricsToken, onOperatorPort: true)
            var small = ServerLimits(maxBodyBytes: 0)
            small.maxConnections = 64
            let server = HTTPServer(host: config.metricsHost, port: port, limits: small) { request in
                OperatorEndpoint.handle(request, store: store, cwmp: cwmp, stun: stun, waker: waker, xmpp: xmpp, automations: automations, metrics: only)
            }
            do { metricsPort = try await server.start() } catch {
                throw ConfigError("cannot listen for metrics on \(config.metricsHost):\(port): \(error) (metrics_port, --metrics-port)")
            }
            metricsServer = server
        }

        let timeout = config.sessionIdleTimeout
        sweeper = Task {
            var lastExpiry = Date.distantPast
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(max(1, min(5, timeout / 3))))
                await cwmp.sweep()
                if Date().timeIntervalSince(lastExpiry) >= 30 {
                    lastExpiry = Date()
                    await cwmp.expireDiagnostics()
                }
            }
        }
        // The trigram text index follows created/renamed devices every 2 s, 2,000 devices per write (searches are
        // exact meanwhile: they also look at the devices not yet indexed).
        let log = self.log
        textIndexer = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(2))
                do {
                    while !Task.isCancelled, try await store.syncTextIndex(batch: 2000) == 2000 {
                        try await Task.sleep(for: .milliseconds(5))
                    }
                } catch is CancellationError {
                    return
                } catch {
                    log.error("text index: \(error)")
                }
            }
        }
        // Refused first contacts, merged in memory, written every 2 s (a flood costs one bounded write).
        attemptWriter = Task { [cwmp] in
            var dropped = 0, lastNotice = Date.distantPast
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(2))
                do { dropped += try await cwmp.attempts.flush(to: store, now: Int64(Date().timeIntervalSince1970)) } catch {
                    log.error("onboarding attempts: \(error)")
                }
                if dropped > 0, Date().timeIntervalSince(lastNotice) >= 60 {
                    log.info("onboarding attempts: \(dropped) refused contacts counted but not recorded one by one (rate limit)")
                    dropped = 0; lastNotice = Date()
                }
            }
        }
        // Several nodes on one PostgreSQL database: the periodic work runs on the elected leader only.
        if case .postgres(let url) = storeKind {
            let log = self.log
            leadership = try Leadership.postgres(url: url, onChange: { log.info($0 ? "this node now leads (campaigns, rollouts, automations, webhooks, retention)" : "this node no longer leads") })
        }
        retention = HistoryRetention(store: store, policy: .init(informDays: config.informRetentionDays, kpiDays: config.kpiRetentionDays)).start(leader: leadership)
        campaigns.start(leader: leadership)
        rollouts.start(leader: leadership)
        automations.start(leader: leadership)
        webhooks.start(leader: leadership)
        if case .postgres(let url) = storeKind, let node = cwmp.leaseNode.withLockedValue({ $0 }) {
            // The cluster's newest profiles and automations win over this node's files at start; from then on, what
            // any node accepts reaches the others (NOTIFY), and each (re)started LISTEN resyncs what it may have missed.
            reloader.clusterNode = node
            await reloader.followCluster(by: "start (cluster)")
            let reloader = self.reloader
            scriptListener = try PostgresListener(url: url, channel: SQLStore.scriptsChannel, onNotification: { from in
                guard from != node else { return }
                Task { await reloader.followCluster(by: "cluster (\(from))") }
            }, onListening: { Task { await reloader.followCluster(by: "cluster (listening)") } })
        }
        await reloader.recordVersions(by: "start")
        if config.watchScripts { watcher = reloader.watch(every: .seconds(5)) }
        let scheme = tls == nil ? "" : "https "
        log.info("CWMP on \(scheme)\(config.host):\(cwmpPort)\(cwmpPlainPort > 0 ? " (plain http on \(cwmpPlainPort))" : ""), \(tls == nil ? "HTTP" : "HTTPS") on \(config.host):\(httpPort), STUN on \(stun == nil ? "(off)" : "udp \(config.host):\(stunPort)"), TR-143 test server on \(speedTest.http == nil ? "(off)" : "tcp \(config.host):\(speedTest.httpPort)"), UDP echo on \(speedTest.echo == nil ? "(off)" : "udp \(config.host):\(speedTest.echoPort)"), data in \(config.dataDirectory)")
    }

    /// The request as the client sent it through a trusted proxy: its address and whether it came over HTTPS.
    static func forwarded(_ request: HTTPRequest, _ proxies: TrustedProxies) -> HTTPRequest {
        guard !proxies.isEmpty, let peer = request.remoteAddress else { return request }
        let client = proxies.client(peer: peer, forwardedFor: request.headers.all("X-Forwarded-For"),
                                    forwardedProto: request.headers.first("X-Forwarded-Proto"))
        var r = request
        r.remoteAddress = client.address
        if let tls = client.forwardedTLS { r.isTLS = request.isTLS || tls }
        return r
    }

    /// SIGHUP: re-reads the certificate and key; new connections use them, open ones keep theirs. On an error the
    /// old certificate stays and the error is returned (and logged).
    @discardableResult
    public func reloadTLS() -> String? {
        guard let tls else { return nil }
        do {
            try tls.reload()
            log.info("TLS certificate reloaded from \(tls.certificatePath)")
            return nil
        } catch {
            log.error("TLS reload failed, keeping the previous certificate: \(error)")
            return "\(error)"
        }
    }

    public func stop() async {
        watcher?.cancel()
        await scriptListener?.stop()
        sweeper?.cancel()
        retention?.cancel()
        textIndexer?.cancel()
        attemptWriter?.cancel()
        _ = await attemptWriter?.value
        _ = try? await cwmp.attempts.flush(to: store, now: Int64(Date().timeIntervalSince1970))
        await campaigns.stop()
        await rollouts.stop()
        await automations.stop()
        await webhooks.stop()
        leadership.stop()
        try? await cwmpServer?.shutdown()
        try? await cwmpPlainServer?.shutdown()
        try? await httpServer?.shutdown()
        try? await metricsServer?.shutdown()
        await stun?.stop()
        await speedTest.stop()
        await xmpp?.stop()
        store.close()
        lock.release()
    }
}

extension OperatorEndpoint {
    /// What the operator port answers when NetHTTP refuses a request before the API sees it: RFC 9457 problem+json,
    /// as the API's own errors.
    @Sendable static func problem(_ status: Int) -> HTTPResponse {
        let (slug, title, detail): (String, String, String) = switch status {
        case 413: ("too-large", "Request too large", "the request body is larger than this route accepts (login 16 KiB, JSON 1 MiB, uploads need credentials)")
        case 503: ("busy", "Service unavailable", "too many request bodies are being received at once; retry shortly")
        case 431: ("headers-too-large", "Request header fields too large", "the request head is too large")
        case 417: ("expectation-failed", "Expectation failed", "only Expect: 100-continue is supported")
        default: ("bad-request", "Bad request", "the request is not valid HTTP/1.1")
        }
        let json = "{\"type\":\"https://corral.invalid/problems/\(slug)\",\"title\":\"\(title)\",\"status\":\(status),\"detail\":\"\(detail)\"}"
        var headers = HTTPFields()
        headers.set("Content-Type", "application/problem+json")
        if status == 503 { headers.set("Retry-After", "2") }
        return HTTPResponse(status: status, headers: headers, body: Array(json.utf8))
    }

    static func automationMetrics(store: SQLStore, automations: AutomationRunner) -> String {
        let active = (try? store.activeAlertCounts()) ?? [:]
        var out = """
            # HELP corral_alerts_active Active alerts, by severity.
            # TYPE corral_alerts_active gauge

            """
        for s in AlertSeverity.allCases { out += "corral_alerts_active{severity=\"\(s.rawValue)\"} \(active[s] ?? 0)\n" }
        let runs = automations.runCounts
        out += """
            # HELP corral_automation_runs_total Automation handler runs, by outcome.
            # TYPE corral_automation_runs_total counter
            corral_automation_runs_total{outcome="ok"} \(runs.ok)
            corral_automation_runs_total{outcome="error"} \(runs.failed)
            # HELP corral_alerts_raised_total Alerts raised by alert{} rules since start.
            # TYPE corral_alerts_raised_total counter
            corral_alerts_raised_total \(runs.alertsRaised)
            # HELP corral_alerts_cleared_total Alerts cleared by alert{} rules since start.
            # TYPE corral_alerts_cleared_total counter
            corral_alerts_cleared_total \(runs.alertsCleared)

            """
        return out
    }

    static func reachabilityMetrics(stun: STUNServer?, waker: Waker, xmpp: XMPPService?) -> String {
        var out = ""
        if let xmpp {
            let counts = xmpp.outcomeCounts
            out += """
                # HELP corral_xmpp_connected 1 while Corral is logged in to its XMPP server.
                # TYPE corral_xmpp_connected gauge
                corral_xmpp_connected \(xmpp.status.connected ? 1 : 0)
                # HELP corral_xmpp_connection_requests_total Annex K connection requests, by the device's answer.
                # TYPE corral_xmpp_connection_requests_total counter

                """
            for k in ["accepted", "not_authorized", "refused", "failed"] {
                out += "corral_xmpp_connection_requests_total{outcome=\"\(k)\"} \(counts[k] ?? 0)\n"
            }
        }
        if let stun {
            let c = stun.stats.counts
            out += """
                # HELP corral_stun_requests_total STUN datagrams received, by what became of them.
                # TYPE corral_stun_requests_total counter
                corral_stun_requests_total{result="answered"} \(c.answered)
                corral_stun_requests_total{result="error"} \(c.errors)
                corral_stun_requests_total{result="dropped"} \(c.dropped)
                corral_stun_requests_total{result="rate_limited"} \(c.rateLimited)
                # HELP corral_stun_bindings NAT bindings the STUN server has seen.
                # TYPE corral_stun_bindings gauge
                corral_stun_bindings \(stun.bindings.count)
                # HELP corral_udp_connection_requests_total UDP connection requests sent (each as several copies).
                # TYPE corral_udp_connection_requests_total counter
                corral_udp_connection_requests_total \(c.connectionRequestsSent)

                """
        }
        let w = waker.log.counts
        out += """
            # HELP corral_wakeups_total Wake-ups of devices, by the method that woke them ("none": nothing did).
            # TYPE corral_wakeups_total counter

            """
        for m in WakeMethod.allCases { out += "corral_wakeups_total{method=\"\(m.rawValue)\"} \(w.woken[m] ?? 0)\n" }
        out += "corral_wakeups_total{method=\"none\"} \(w.failed)\n"
        return out
    }
}

/// Maps HTTP to the CWMP engine and back; no protocol logic here.
enum CWMPEndpoint {
    static func handle(_ request: HTTPRequest, service: CWMPService) async -> HTTPResponse {
        guard request.method == "POST" else {
            return HTTPResponse(status: 405, headers: ["Allow": "POST"], text: "CWMP endpoint: CPEs POST here\n")
        }
        if let encoding = request.headers.first("Content-Encoding"), encoding.lowercased() != "identity" {
            return HTTPResponse(status: 415, text: "Content-Encoding \(encoding) is not supported; send the body uncompressed\n")
        }
        var exchange = CWMPExchange(body: request.body, cookieHeader: request.headers.all("Cookie").joined(separator: "; "),
                                    authorization: request.headers.first("Authorization"),
                                    remoteAddress: request.remoteAddress ?? "", connectionID: request.connectionID, isTLS: request.isTLS,
                                    uri: request.uri)
        exchange.clientCertificateNames = request.clientCertificate?.names
        let reply = await service.handle(exchange)
        return HTTPResponse(status: reply.status, headers: HTTPFields(reply.headers), body: reply.body)
    }
}

/// The operator HTTP port: health and metrics here; the REST API comes in through `operatorRoutes`.
enum OperatorEndpoint {
    /// Who may read /metrics and where.
    struct Metrics: Sendable {
        var token: String?
        var onOperatorPort: Bool
        /// nil when allowed; else the refusal.
        func refusal(_ request: HTTPRequest) -> HTTPResponse? {
            guard onOperatorPort else { return HTTPResponse(status: 404, text: "Not found: /metrics is on the metrics port (metrics_port).\n") }
            guard let token else { return nil }
            let sent = request.headers.first("Authorization").flatMap { a -> String? in
                a.lowercased().hasPrefix("bearer ") ? String(a.dropFirst(7)).trimmingCharacters(in: .whitespaces) : nil
            }
            if let sent, constantTimeEquals(sent, token) { return nil }
            return HTTPResponse(status: 401, headers: ["WWW-Authenticate": "Bearer realm=\"corral-metrics\""],
                                text: "/metrics needs Authorization: Bearer <metrics_token>\n")
        }
    }

    static func handle(_ request: HTTPRequest, store: SQLStore, cwmp: CWMPService, stun: STUNServer?, waker: Waker, xmpp: XMPPService?,
                       automations: AutomationRunner, metrics: Metrics) -> HTTPResponse {
        switch (request.method, request.path) {
        case ("GET", "/healthz"):
            return HTTPResponse(status: 200, text: "ok\n")
        case ("GET", "/metrics"):
            if let refusal = metrics.refusal(request) { return refusal }
            // Gauges are read now; counters and histograms were counted as things happened (swift-metrics).
            let m = cwmp.metrics
            let now = Int64(Date().timeIntervalSince1970)
            m.gauge("corral_active_sessions", Double(cwmp.activeSessions), help: "CWMP sessions in progress.")
            m.gauge("corral_devices", Double((try? store.deviceCount()) ?? -1), help: "Devices in the store.")
            var online = DeviceQuery()
            online.status = .online
            m.gauge("corral_devices_online", Double((try? store.countDevices(online, now: now)) ?? -1), help: "Devices whose last Inform is within 1.5 inform intervals.")
            for (queue, depth) in (try? store.queueDepths()) ?? [] {
                m.gauge("corral_queue_depth", Double(depth), labels: [("queue", queue)], help: "Work waiting in the store's queues.")
            }
            let text = m.text() + "\n" + Self.reachabilityMetrics(stun: stun, waker: waker, xmpp: xmpp) + (cwmp.speedTest.withLockedValue { $0 }?.metrics ?? "") + Self.automationMetrics(store: store, automations: automations)
            return HTTPResponse(status: 200, headers: ["Content-Type": "text/plain; version=0.0.4"], body: Array(text.utf8))
        default:
            return HTTPResponse(status: 404, text: "Not found. The REST API is under /api/v1 (see /api/v1/openapi.json).\n")
        }
    }
}
