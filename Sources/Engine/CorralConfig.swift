import ACSCore
import Foundation
import NetHTTP
import Scripting

/// Server settings: defaults < config file (`<data>/corral.json` or --config) < environment < command line.
public struct CorralConfig: Sendable, Codable, Equatable {
    public var dataDirectory: String = "./data"
    /// The store: nil (or `sqlite:<dir>`) = SQLite in the data directory; `postgresql://user:password@host:port/db` =
    /// a PostgreSQL database shared by several nodes (config `database_url`, env CORRAL_DATABASE_URL, `--database`).
    public var databaseURL: String?
    /// This node's name among several on one database (config `node_name`, env CORRAL_NODE_NAME): it signs the
    /// device session leases it holds. Default: host name and CWMP port, so a restarted node takes its own back.
    public var nodeName: String?
    public var host: String = "0.0.0.0"
    public var cwmpPort: Int = 7547
    public var httpPort: Int = 8080
    /// UDP port of Corral's STUN server (TR-111), which UDP connection requests also leave from; 0 = off.
    public var stunPort: Int = 3478
    /// TCP port of the TR-143 HTTP test server (GET /download/<bytes>, PUT /upload/<name>); 0 = off.
    public var speedtestPort: Int = 8081
    /// UDP port of the TR-143 echo server (RFC 862 and UDP Echo Plus); 0 = off.
    public var udpEchoPort: Int = 8862
    /// The URL devices reach the HTTP test server at (default http://<host>:<speedtest port>); a profile's
    /// `speedtest_base_url` or an organisation's overrides it.
    public var speedtestBaseURL: String?
    /// Networks (CIDRs) whose addresses the echo server answers besides known devices' addresses and loopback.
    public var udpEchoNetworks: [String] = []
    /// Echo packets answered per second per client IP address (many CPEs behind one CGNAT address share it).
    public var udpEchoRate: Double = 2000
    /// Largest test download or upload, in bytes.
    public var speedtestMaxBytes: Int64 = 1 << 34
    public var sessionIdleTimeout: Double = 30
    public var maxSessions: Int = 20_000
    public var maxBodyBytes: Int = 4 << 20
    /// Overrides of profiles' onboarding credentials and inform interval, by profile name.
    public var profiles: [String: ProfileOverride] = [:]
    /// Base URL CPEs download uploaded files from (the operator port serves /files/…); default http://<host>:<http port>.
    public var fileBaseURL: String?
    /// Largest file upload through the API.
    public var maxUploadBytes: Int = 4 << 30
    /// Who may fetch stored files from `/files/…`: "device" (default) = a CPE with its per-device transfer
    /// credentials (sent in the Download RPC) or an operator with API credentials; "key" = anyone with the URL.
    public var fileDownloadAuth = "device"
    /// Seconds between two passes of the rollout runner (not in corral.json: tests shorten it).
    public var rolloutTick: Double = 5
    /// Hosts webhook URLs may point at ("hooks.example.net", "*.example.net", "10.0.0.5"); empty = any public host.
    /// Sub-organisation admins create webhooks: loopback, private and link-local destinations are refused unless
    /// their host is listed here (also CORRAL_WEBHOOK_HOSTS, comma-separated).
    public var webhookHosts: [String] = []
    /// Seconds between two passes of the webhook dispatcher (not in corral.json).
    public var webhookTick: Double = 1
    /// Directory of profile files (*.lua); the built-in generic profiles are always there unless a file replaces them.
    public var profilesDirectory: String?
    /// Secrets profiles refer to with `secret "name"` (also CORRAL_SECRET_<NAME>).
    public var secrets: [String: String] = [:]
    /// The script library the API and WebGUI offer: `<dir>/reports/*.lua` and `<dir>/campaigns/*.lua`
    /// (default `scripts`, relative to the working directory; a missing directory is an empty library).
    public var scriptsDirectory: String?
    /// Informs (the per-device contact history) older than this many days are deleted; 0 keeps them forever.
    public var informRetentionDays: Int = 30
    /// KPI samples (written by profiles' KPIs) older than this many days are deleted; 0 keeps them forever.
    public var kpiRetentionDays: Int = 90
    /// Corral's XMPP account for Annex K connection requests; nil = no XMPP.
    public var xmpp: XMPPSettings?
    /// PEM certificate chain and key: with both, the CWMP and operator ports speak HTTPS only.
    public var tlsCert: String?
    public var tlsKey: String?
    /// With TLS on, an extra plain-HTTP CWMP port for legacy devices (Digest only there); nil = none.
    public var cwmpPlainPort: Int?
    /// CA (PEM) that CPE client certificates must chain to, for profiles that require mutual TLS.
    public var clientCA: String?

    /// Reverse proxies (CIDRs) whose X-Forwarded-For / X-Forwarded-Proto are believed, on both ports.
    public var trustedProxies: [String] = []
    /// With it, /metrics answers only `Authorization: Bearer <metrics_token>`.
    public var metricsToken: String?
    /// A separate listener for /metrics and /healthz (on `metrics_host`, default 127.0.0.1); the operator port then
    /// no longer serves /metrics. nil = /metrics on the operator port.
    public var metricsPort: Int?
    public var metricsHost: String = "127.0.0.1"
    /// Automation files (*.lua); default `<scripts_dir>/automations`. A missing directory is no automations.
    public var automationsDirectory: String?
    /// `serve` runs SQLite's quick_check at start and refuses a corrupt database.
    public var startupCheck = true
    /// `serve` polls the profile and automation directories every 5 s and reloads what changed (SIGHUP always does).
    public var watchScripts = true

    /// True when the CWMP and operator ports speak HTTPS.
    public var tlsEnabled: Bool { tlsCert != nil && tlsKey != nil }

    public struct ProfileOverride: Sendable, Codable, Equatable {
        public var onboardingUsername: String?
        public var onboardingPassword: String?
        public var informInterval: Int?
        public init(onboardingUsername: String? = nil, onboardingPassword: String? = nil, informInterval: Int? = nil) {
            self.onboardingUsername = onboardingUsername; self.onboardingPassword = onboardingPassword; self.informInterval = informInterval
        }
    }

    public init() {}

    enum CodingKeys: String, CodingKey {
        case dataDirectory = "data", databaseURL = "database_url", nodeName = "node_name", host, cwmpPort = "cwmp_port", httpPort = "http_port", stunPort = "stun_port"
        case sessionIdleTimeout = "session_idle_timeout", maxSessions = "max_sessions", maxBodyBytes = "max_body_bytes", profiles
        case fileBaseURL = "file_base_url", maxUploadBytes = "max_upload_bytes", fileDownloadAuth = "file_download_auth", webhookHosts = "webhook_hosts"
        case profilesDirectory = "profiles_dir", secrets, scriptsDirectory = "scripts_dir"
        case informRetentionDays = "inform_retention_days", kpiRetentionDays = "kpi_retention_days", xmpp
        case tlsCert = "tls_cert", tlsKey = "tls_key", cwmpPlainPort = "cwmp_plain_port", clientCA = "client_ca"
        case trustedProxies = "trusted_proxies", metricsToken = "metrics_token", metricsPort = "metrics_port", metricsHost = "metrics_host"
        case startupCheck = "startup_check", automationsDirectory = "automations_dir", watchScripts = "watch_scripts"
        case speedtestPort = "speedtest_port", udpEchoPort = "udp_echo_port", speedtestBaseURL = "speedtest_base_url"
        case udpEchoNetworks = "udp_echo_networks", speedtestMaxBytes = "speedtest_max_bytes", udpEchoRate = "udp_echo_rate"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = CorralConfig()
        dataDirectory = try c.decodeIfPresent(String.self, forKey: .dataDirectory) ?? d.dataDirectory
        databaseURL = try c.decodeIfPresent(String.self, forKey: .databaseURL)
        nodeName = try c.decodeIfPresent(String.self, forKey: .nodeName)
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? d.host
        cwmpPort = try c.decodeIfPresent(Int.self, forKey: .cwmpPort) ?? d.cwmpPort
        httpPort = try c.decodeIfPresent(Int.self, forKey: .httpPort) ?? d.httpPort
        stunPort = try c.decodeIfPresent(Int.self, forKey: .stunPort) ?? d.stunPort
        sessionIdleTimeout = try c.decodeIfPresent(Double.self, forKey: .sessionIdleTimeout) ?? d.sessionIdleTimeout
        maxSessions = try c.decodeIfPresent(Int.self, forKey: .maxSessions) ?? d.maxSessions
        maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? d.maxBodyBytes
        profiles = try c.decodeIfPresent([String: ProfileOverride].self, forKey: .profiles) ?? [:]
        fileBaseURL = try c.decodeIfPresent(String.self, forKey: .fileBaseURL)
        maxUploadBytes = try c.decodeIfPresent(Int.self, forKey: .maxUploadBytes) ?? d.maxUploadBytes
        fileDownloadAuth = try c.decodeIfPresent(String.self, forKey: .fileDownloadAuth) ?? d.fileDownloadAuth
        guard ["device", "key"].contains(fileDownloadAuth) else {
            throw DecodingError.dataCorruptedError(forKey: .fileDownloadAuth, in: c, debugDescription: "file_download_auth must be \"device\" or \"key\"")
        }
        webhookHosts = try c.decodeIfPresent([String].self, forKey: .webhookHosts) ?? []
        profilesDirectory = try c.decodeIfPresent(String.self, forKey: .profilesDirectory)
        secrets = try c.decodeIfPresent([String: String].self, forKey: .secrets) ?? [:]
        scriptsDirectory = try c.decodeIfPresent(String.self, forKey: .scriptsDirectory)
        informRetentionDays = try c.decodeIfPresent(Int.self, forKey: .informRetentionDays) ?? d.informRetentionDays
        kpiRetentionDays = try c.decodeIfPresent(Int.self, forKey: .kpiRetentionDays) ?? d.kpiRetentionDays
        xmpp = try c.decodeIfPresent(XMPPSettings.self, forKey: .xmpp)
        tlsCert = try c.decodeIfPresent(String.self, forKey: .tlsCert)
        tlsKey = try c.decodeIfPresent(String.self, forKey: .tlsKey)
        cwmpPlainPort = try c.decodeIfPresent(Int.self, forKey: .cwmpPlainPort)
        clientCA = try c.decodeIfPresent(String.self, forKey: .clientCA)
        trustedProxies = try c.decodeIfPresent([String].self, forKey: .trustedProxies) ?? []
        metricsToken = try c.decodeIfPresent(String.self, forKey: .metricsToken)
        metricsPort = try c.decodeIfPresent(Int.self, forKey: .metricsPort)
        metricsHost = try c.decodeIfPresent(String.self, forKey: .metricsHost) ?? d.metricsHost
        startupCheck = try c.decodeIfPresent(Bool.self, forKey: .startupCheck) ?? d.startupCheck
        watchScripts = try c.decodeIfPresent(Bool.self, forKey: .watchScripts) ?? d.watchScripts
        automationsDirectory = try c.decodeIfPresent(String.self, forKey: .automationsDirectory)
        speedtestPort = try c.decodeIfPresent(Int.self, forKey: .speedtestPort) ?? d.speedtestPort
        udpEchoPort = try c.decodeIfPresent(Int.self, forKey: .udpEchoPort) ?? d.udpEchoPort
        speedtestBaseURL = try c.decodeIfPresent(String.self, forKey: .speedtestBaseURL)
        udpEchoNetworks = try c.decodeIfPresent([String].self, forKey: .udpEchoNetworks) ?? []
        speedtestMaxBytes = try c.decodeIfPresent(Int64.self, forKey: .speedtestMaxBytes) ?? d.speedtestMaxBytes
        udpEchoRate = try c.decodeIfPresent(Double.self, forKey: .udpEchoRate) ?? d.udpEchoRate
    }

    /// Reads a JSON config file; a missing file is not an error when `required` is false.
    public mutating func merge(file path: String, required: Bool) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            if required { throw ConfigError("config file \(path) does not exist") }
            return
        }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let dataDir = dataDirectory
            self = try JSONDecoder().decode(CorralConfig.self, from: data)
            if !(String(decoding: data, as: UTF8.self).contains("\"data\"")) { dataDirectory = dataDir }
        } catch let e as DecodingError {
            throw ConfigError("config file \(path) is invalid: \(e)")
        }
    }

    /// CORRAL_DATA, CORRAL_DATABASE_URL, CORRAL_NODE_NAME, CORRAL_HOST, CORRAL_CWMP_PORT, CORRAL_HTTP_PORT, CORRAL_STUN_PORT, CORRAL_SPEEDTEST_PORT,
    /// CORRAL_UDP_ECHO_PORT, CORRAL_SPEEDTEST_BASE_URL, CORRAL_PROFILES (profile directory), CORRAL_SCRIPTS,
    /// CORRAL_TLS_CERT, CORRAL_TLS_KEY, CORRAL_CWMP_PLAIN_PORT, CORRAL_CLIENT_CA, CORRAL_TRUSTED_PROXIES (comma-separated),
    /// CORRAL_METRICS_TOKEN, CORRAL_METRICS_PORT, CORRAL_METRICS_HOST,
    /// CORRAL_SECRET_<NAME> (secret "name", upper-cased, other characters as '_'), and per profile
    /// CORRAL_ONBOARDING_<PROFILE>_USERNAME / _PASSWORD (profile name upper-cased, '-' as '_').
    public mutating func merge(environment env: [String: String]) throws {
        if let v = env["CORRAL_DATA"] { dataDirectory = v }
        if let v = env["CORRAL_DATABASE_URL"], !v.isEmpty { databaseURL = v }
        if let v = env["CORRAL_NODE_NAME"], !v.isEmpty { nodeName = v }
        if let v = env["CORRAL_HOST"] { host = v }
        if let v = env["CORRAL_CWMP_PORT"] { cwmpPort = try Self.port(v, "CORRAL_CWMP_PORT") }
        if let v = env["CORRAL_HTTP_PORT"] { httpPort = try Self.port(v, "CORRAL_HTTP_PORT") }
        if let v = env["CORRAL_STUN_PORT"] { stunPort = try Self.port(v, "CORRAL_STUN_PORT") }
        if let v = env["CORRAL_FILE_BASE_URL"] { fileBaseURL = v }
        if let v = env["CORRAL_SPEEDTEST_PORT"] { speedtestPort = try Self.port(v, "CORRAL_SPEEDTEST_PORT") }
        if let v = env["CORRAL_UDP_ECHO_PORT"] { udpEchoPort = try Self.port(v, "CORRAL_UDP_ECHO_PORT") }
        if let v = env["CORRAL_SPEEDTEST_BASE_URL"] { speedtestBaseURL = v }
        if let v = env["CORRAL_TLS_CERT"] { tlsCert = v }
        if let v = env["CORRAL_TLS_KEY"] { tlsKey = v }
        if let v = env["CORRAL_CWMP_PLAIN_PORT"] { cwmpPlainPort = try Self.port(v, "CORRAL_CWMP_PLAIN_PORT") }
        if let v = env["CORRAL_CLIENT_CA"] { clientCA = v }
        if let v = env["CORRAL_TRUSTED_PROXIES"] { trustedProxies = v.split(separator: ",").map(String.init) }
        if let v = env["CORRAL_WEBHOOK_HOSTS"] { webhookHosts = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        if let v = env["CORRAL_METRICS_TOKEN"] { metricsToken = v }
        if let v = env["CORRAL_METRICS_PORT"] { metricsPort = try Self.port(v, "CORRAL_METRICS_PORT") }
        if let v = env["CORRAL_METRICS_HOST"] { metricsHost = v }
        if let v = env["CORRAL_AUTOMATIONS"] { automationsDirectory = v }
        if let v = env["CORRAL_STARTUP_CHECK"] { startupCheck = !["0", "false", "no", "off"].contains(v.lowercased()) }
        if let v = env["CORRAL_WATCH_SCRIPTS"] { watchScripts = !["0", "false", "no", "off"].contains(v.lowercased()) }
        if let v = env["CORRAL_PROFILES"] { profilesDirectory = v }
        if let v = env["CORRAL_SCRIPTS"] { scriptsDirectory = v }
        try mergeXMPP(server: env["CORRAL_XMPP_SERVER"], jid: env["CORRAL_XMPP_JID"], password: env["CORRAL_XMPP_PASSWORD"], source: "the environment")
        for (key, value) in env.sorted(by: { $0.key < $1.key }) {
            if key.hasPrefix("CORRAL_SECRET_") {
                environmentSecrets[String(key.dropFirst("CORRAL_SECRET_".count))] = value
            } else if key.hasPrefix("CORRAL_ONBOARDING_"), let field = ["_USERNAME", "_PASSWORD"].first(where: { key.hasSuffix($0) }) {
                let profileKey = String(key.dropFirst("CORRAL_ONBOARDING_".count).dropLast(field.count))
                var o = environmentOverrides[profileKey] ?? ProfileOverride()
                if field == "_USERNAME" { o.onboardingUsername = value } else { o.onboardingPassword = value }
                environmentOverrides[profileKey] = o
            }
        }
    }

    /// Environment values keyed by the upper-cased form of a name (matched when profiles are loaded).
    public var environmentSecrets: [String: String] = [:]
    public var environmentOverrides: [String: ProfileOverride] = [:]

    static func envKey(_ name: String) -> String { SecretResolver.envKey(name) }

    /// Loads the profiles (built-ins + profilesDirectory) with secrets and overrides applied. Problems (a broken
    /// profile file, a missing secret) are returned so that `serve` can log them and `profile check` can fail.
    public func profileLibrary() -> (ProfileLibrary, [ScriptError]) {
        let resolver = SecretResolver(values: secrets, environment: environmentSecrets)
        var (library, problems) = ProfileLibrary.load(directory: profilesDirectory, secrets: resolver)
        library.update { p in
            for o in [profiles[p.name], environmentOverrides[Self.envKey(p.name)]].compactMap({ $0 }) {
                if let u = o.onboardingUsername { p.onboardingUsername = u }
                if let pw = o.onboardingPassword { p.onboardingPassword = pw }
                if let i = o.informInterval, i > 0 { p.informInterval = i }
            }
        }
        return (library, problems)
    }

    /// The TLS identity of the CWMP and operator ports; nil without tls_cert/tls_key. Half a pair, or a plain CWMP port
    /// without TLS, is a start-up error naming the setting.
    public func tlsIdentity() throws -> TLSServerIdentity? {
        switch (tlsCert, tlsKey) {
        case (nil, nil):
            if cwmpPlainPort != nil { throw ConfigError("cwmp_plain_port needs TLS (tls_cert and tls_key): without TLS the CWMP port is plain already") }
            if clientCA != nil { throw ConfigError("client_ca needs TLS (tls_cert and tls_key)") }
            return nil
        case (.some, nil): throw ConfigError("tls_cert is set but tls_key is not (--tls-key, CORRAL_TLS_KEY)")
        case (nil, .some): throw ConfigError("tls_key is set but tls_cert is not (--tls-cert, CORRAL_TLS_CERT)")
        case (.some(let cert), .some(let key)):
            do { return try TLSServerIdentity(certificatePath: cert, keyPath: key, clientCAPath: clientCA) } catch {
                throw ConfigError("\(error)")
            }
        }
    }

    /// Applies XMPP settings from the environment or the command line; a server without a JID (or the reverse) is an
    /// error only when no config file gave the other.
    public mutating func mergeXMPP(server: String?, jid: String?, password: String?, source: String) throws {
        guard server != nil || jid != nil || password != nil else { return }
        if xmpp == nil, server == nil, jid == nil {
            // A password alone (CORRAL_XMPP_PASSWORD) waits for the server and JID from the command line.
            pendingXMPPPassword = password
            return
        }
        var x = xmpp ?? XMPPSettings(server: "", jid: "", password: pendingXMPPPassword)
        if let server { x.server = server }
        if let jid { x.jid = jid }
        if let password { x.password = password; x.passwordSecret = nil }
        guard !x.server.isEmpty, !x.jid.isEmpty else {
            throw ConfigError("XMPP needs both a server and a JID (from \(source): --xmpp-server and --xmpp-jid, CORRAL_XMPP_SERVER and CORRAL_XMPP_JID, or \"xmpp\" in corral.json)")
        }
        xmpp = x
    }

    var pendingXMPPPassword: String?

    /// Corral's XMPP client for this configuration (nil without one); the error names the wrong setting.
    public func xmppService(resource: String? = nil) throws -> XMPPService? {
        guard let xmpp else { return nil }
        return try XMPPService(settings: xmpp, secrets: secrets, environmentSecrets: environmentSecrets, resource: resource)
    }

    static func port(_ s: String, _ name: String) throws -> Int {
        guard let p = Int(s), (0...65535).contains(p) else { throw ConfigError("\(name)=\(s) is not a port number") }
        return p
    }

}

public struct ConfigError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
