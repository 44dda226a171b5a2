import ACSCore
import Foundation
import Scripting
import NetHTTP
import Storage

/// `corral serve`: the store, the CWMP endpoint and the operator HTTP port in one process.
public final class CorralServer: @unchecked Sendable {
    public let config: CorralConfig
    public let store: SQLiteStore
    public let cwmp: CWMPService
    public let campaigns: CampaignRunner
    private var cwmpServer: HTTPServer?
    private var httpServer: HTTPServer?
    private var sweeper: Task<Void, Never>?
    private var retention: Task<Void, Never>?
    private var textIndexer: Task<Void, Never>?
    /// The device profiles this server loaded (built-ins + profiles directory).
    public let profiles: ProfileRegistry
    /// Their sources and secrets (the API shows sources and validates candidate files against them).
    public let profileLibrary: ProfileLibrary
    public private(set) var cwmpPort = 0
    public private(set) var httpPort = 0
    /// Extra handler on the operator port (the REST API), set before `start()`; nil answers fall through.
    public var operatorRoutes: (@Sendable (HTTPRequest) async -> HTTPResponse?)?
    /// Largest request body on the operator port (file uploads).
    public var operatorMaxBodyBytes = 1 << 20
    let log = Log(label: "serve")

    public init(config: CorralConfig) throws {
        self.config = config
        store = try SQLiteStore(directory: config.dataDirectory)
        var engine = EngineConfig()
        engine.sessionIdleTimeout = config.sessionIdleTimeout
        engine.maxSessions = config.maxSessions
        engine.maxBodyBytes = config.maxBodyBytes
        let (library, problems) = config.profileLibrary()
        for p in problems {
            if p.kind == .warning { log.info("profile warning: \(p.message)") } else { log.error("profile: \(p.message)") }
        }
        engine.profiles = library.registry
        profiles = library.registry
        profileLibrary = library
        engine.scripting = ScriptEngine(library: library)
        engine.nonceSecret = try Self.loadSecret(directory: config.dataDirectory)
        cwmp = CWMPService(store: store, config: engine)
        campaigns = CampaignRunner(store: store, registry: library.registry)
    }

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
        let limits = ServerLimits(maxBodyBytes: config.maxBodyBytes)
        let cwmpServer = HTTPServer(host: config.host, port: config.cwmpPort, limits: limits) { request in
            await CWMPEndpoint.handle(request, service: cwmp)
        }
        cwmpPort = try await cwmpServer.start()
        self.cwmpServer = cwmpServer

        let store = self.store
        let routes = operatorRoutes
        let httpServer = HTTPServer(host: config.host, port: config.httpPort, limits: ServerLimits(maxBodyBytes: operatorMaxBodyBytes)) { request in
            if let routes, let response = await routes(request) { return response }
            return OperatorEndpoint.handle(request, store: store, cwmp: cwmp)
        }
        httpPort = try await httpServer.start()
        self.httpServer = httpServer

        let timeout = config.sessionIdleTimeout
        sweeper = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(max(1, min(5, timeout / 3))))
                await cwmp.sweep()
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
        retention = HistoryRetention(store: store, policy: .init(informDays: config.informRetentionDays, kpiDays: config.kpiRetentionDays)).start()
        campaigns.start()
        log.info("CWMP on \(config.host):\(cwmpPort), HTTP on \(config.host):\(httpPort), data in \(config.dataDirectory)")
    }

    public func stop() async {
        sweeper?.cancel()
        retention?.cancel()
        textIndexer?.cancel()
        await campaigns.stop()
        try? await cwmpServer?.shutdown()
        try? await httpServer?.shutdown()
        store.close()
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
        let exchange = CWMPExchange(body: request.body, cookieHeader: request.headers.all("Cookie").joined(separator: "; "),
                                    authorization: request.headers.first("Authorization"),
                                    remoteAddress: request.remoteAddress ?? "", connectionID: request.connectionID, isTLS: request.isTLS,
                                    uri: request.uri)
        let reply = await service.handle(exchange)
        return HTTPResponse(status: reply.status, headers: HTTPFields(reply.headers), body: reply.body)
    }
}

/// The operator HTTP port: health and metrics here; the REST API comes in through `operatorRoutes`.
enum OperatorEndpoint {
    static func handle(_ request: HTTPRequest, store: SQLiteStore, cwmp: CWMPService) -> HTTPResponse {
        switch (request.method, request.path) {
        case ("GET", "/healthz"):
            return HTTPResponse(status: 200, text: "ok\n")
        case ("GET", "/metrics"):
            let devices = (try? store.deviceCount()) ?? -1
            let text = """
                # HELP corral_active_sessions CWMP sessions in progress.
                # TYPE corral_active_sessions gauge
                corral_active_sessions \(cwmp.activeSessions)
                # HELP corral_devices Devices in the store.
                # TYPE corral_devices gauge
                corral_devices \(devices)

                """
            return HTTPResponse(status: 200, headers: ["Content-Type": "text/plain; version=0.0.4"], body: Array(text.utf8))
        default:
            return HTTPResponse(status: 404, text: "Not found. The REST API is under /api/v1 (see /api/v1/openapi.json).\n")
        }
    }
}
