import Foundation
import XMPP

/// Corral's XMPP account for Annex K connection requests (`"xmpp"` in corral.json, `--xmpp-server`, `--xmpp-jid`,
/// CORRAL_XMPP_SERVER / _JID / _PASSWORD).
public struct XMPPSettings: Sendable, Codable, Equatable {
    /// `host:port` of the XMPP server (port 5222 when omitted).
    public var server: String
    /// Corral's own JID, `acs@example.net` (a resource may follow; default `corral`).
    public var jid: String
    public var password: String?
    /// Name of an entry of `secrets` (or CORRAL_SECRET_<NAME>) holding the password.
    public var passwordSecret: String?
    /// PEM file of CA certificates the server's certificate must chain to (default: the system's roots).
    public var ca: String?
    /// Log in only over TLS (STARTTLS). Default true; false allows SCRAM-SHA-1 on a plain stream (never PLAIN).
    public var requireTLS: Bool?
    /// Seconds between XEP-0199 pings that keep the session and notice a dead path (default 60).
    public var keepAlive: Double?
    /// How long a device has to answer a connection request (default 5 s).
    public var requestTimeout: Double?

    public init(server: String, jid: String, password: String? = nil) {
        self.server = server; self.jid = jid; self.password = password
    }

    enum CodingKeys: String, CodingKey {
        case server, jid, password, passwordSecret = "password_secret", ca, requireTLS = "require_tls", keepAlive = "keep_alive"
        case requestTimeout = "request_timeout"
    }

    /// host and port of `server`.
    public var endpoint: (host: String, port: Int)? {
        var s = Substring(server)
        if s.hasPrefix("[") , let close = s.firstIndex(of: "]") {
            let host = String(s[s.index(after: s.startIndex)..<close])
            s = s[s.index(after: close)...]
            guard s.isEmpty || s.hasPrefix(":") else { return nil }
            let port = s.isEmpty ? 5222 : Int(s.dropFirst()) ?? -1
            return (1...65535).contains(port) ? (host, port) : nil
        }
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty else { return nil }
        let port = parts.count == 2 ? Int(parts[1]) ?? -1 : 5222
        return (1...65535).contains(port) ? (String(parts[0]), port) : nil
    }

    /// Checks the settings and resolves the password; the error says which setting is wrong.
    public func resolved(secrets: [String: String], environmentSecrets: [String: String]) throws -> (host: String, port: Int, account: XMPPAccount) {
        guard let endpoint else { throw ConfigError("xmpp.server '\(server)' is not host:port") }
        var pw = password
        if let name = passwordSecret {
            pw = secrets[name] ?? environmentSecrets[CorralConfig.envKey(name)]
            guard pw != nil else { throw ConfigError("xmpp.password_secret names '\(name)', which is neither in \"secrets\" nor CORRAL_SECRET_\(CorralConfig.envKey(name))") }
        }
        guard let pw, !pw.isEmpty else { throw ConfigError("xmpp: no password (set xmpp.password, xmpp.password_secret or CORRAL_XMPP_PASSWORD)") }
        guard let account = XMPPAccount(jid: jid, password: pw, defaultResource: "corral") else {
            throw ConfigError("xmpp.jid '\(jid)' is not user@domain[/resource]")
        }
        return (endpoint.host, endpoint.port, account)
    }
}

/// Corral's XMPP client session: kept open (keep-alive, reconnect with backoff) in `serve`, opened on demand in the
/// CLI. Sends Annex K connection requests and maps the answers to outcomes.
public final class XMPPService: @unchecked Sendable {
    public let host: String
    public let port: Int
    public let account: XMPPAccount
    let options: XMPPClientMachine.Options
    let trust: XMPPTrust
    let keepAlive: Duration
    public let requestTimeout: Duration
    private let log = Log(label: "xmpp")
    private let lock = NSLock()
    private var connection: XMPPConnection?
    private var loop: Task<Void, Never>?
    private var lastError = ""
    private var counts: [String: Int] = [:]
    /// Backoff after a failed login or a lost session: doubles from 1 s to this.
    public var maxBackoff: Double = 60

    public init(settings: XMPPSettings, secrets: [String: String] = [:], environmentSecrets: [String: String] = [:], resource: String? = nil) throws {
        let r = try settings.resolved(secrets: secrets, environmentSecrets: environmentSecrets)
        host = r.host; port = r.port
        var account = r.account
        if let resource { account.resource = resource }
        self.account = account
        options = .init(tlsAvailable: true, requireTLS: settings.requireTLS ?? true)
        trust = settings.ca.map { .caFile($0) } ?? .system
        keepAlive = .milliseconds(Int64((settings.keepAlive ?? 60) * 1000))
        requestTimeout = .milliseconds(Int64((settings.requestTimeout ?? 5) * 1000))
    }

    /// Keeps a session open until `stop()`, reconnecting with backoff; failures are logged, never thrown.
    public func start() {
        let task = Task { [weak self] in
            var backoff = 1.0
            while !Task.isCancelled {
                guard let self else { return }
                do {
                    let c = try await self.connect()
                    self.log.info("logged in to \(self.host):\(self.port) as \(c.jid)")
                    backoff = 1
                    let why = await withCheckedContinuation { (cont: CheckedContinuation<XMPPError, Never>) in c.onClose { cont.resume(returning: $0) } }
                    self.lock.withLock { if self.connection === c { self.connection = nil }; self.lastError = "\(why)" }
                    if Task.isCancelled { return }
                    self.log.error("session lost: \(why); reconnecting")
                } catch {
                    self.lock.withLock { self.lastError = "\(error)" }
                    self.log.error("\(error); retrying in \(Int(backoff)) s")
                    try? await Task.sleep(for: .milliseconds(Int(backoff * 1000 * Double.random(in: 0.8...1.2))))
                    backoff = min(self.maxBackoff, backoff * 2)
                }
            }
        }
        lock.withLock { loop = task }
    }

    public func stop() async {
        let (task, c) = lock.withLock { () -> (Task<Void, Never>?, XMPPConnection?) in
            defer { loop = nil; connection = nil }
            return (loop, connection)
        }
        task?.cancel()
        await c?.close()
        _ = await task?.value
    }

    private func connect() async throws -> XMPPConnection {
        let c = try await XMPPConnection.connect(host: host, port: port, account: account, options: options, trust: trust)
        c.keepAlive(every: keepAlive)
        lock.withLock { connection = c; lastError = "" }
        return c
    }

    /// Connected now, and as whom; else the last error.
    public var status: (connected: Bool, jid: String, lastError: String) {
        lock.withLock { (connection?.isOpen ?? false, connection?.jid ?? "", lastError) }
    }

    /// Connection requests by outcome ("accepted", "not_authorized", "refused", "failed"), for /metrics.
    public var outcomeCounts: [String: Int] { lock.withLock { counts } }

    /// Sends the Annex K connection request to `jid` and waits for the device's answer.
    public func connectionRequest(to jid: String, username: String, password: String) async -> ConnectionRequestIQ.Outcome {
        let outcome = await send(to: jid, username: username, password: password)
        let key: String
        switch outcome {
        case .accepted: key = "accepted"
        case .notAuthorized: key = "not_authorized"
        case .refused: key = "refused"
        case .failed: key = "failed"
        }
        lock.withLock { counts[key, default: 0] += 1 }
        return outcome
    }

    private func send(to jid: String, username: String, password: String) async -> ConnectionRequestIQ.Outcome {
        let (current, running, last) = lock.withLock { (connection, loop != nil, lastError) }
        var c = current
        if c == nil || c?.isOpen == false {
            // serve keeps one session and reconnects on its own; the CLI opens one for this request.
            guard !running else { return .failed("Corral is not logged in to the XMPP server" + (last.isEmpty ? "" : " (\(last))")) }
            do { c = try await connect() } catch { return .failed("\(error)") }
        }
        guard let c else { return .failed("no XMPP session") }
        do {
            let reply = try await c.request(timeout: requestTimeout) {
                ConnectionRequestIQ.request(id: $0, to: jid, username: username, password: password)
            }
            return ConnectionRequestIQ.outcome(of: reply)
        } catch {
            return .failed("\(error)")
        }
    }
}
