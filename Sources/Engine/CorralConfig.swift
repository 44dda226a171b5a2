import ACSCore
import Foundation

/// Server settings: defaults < config file (`<data>/corral.json` or --config) < environment < command line.
public struct CorralConfig: Sendable, Codable, Equatable {
    public var dataDirectory: String = "./data"
    public var host: String = "0.0.0.0"
    public var cwmpPort: Int = 7547
    public var httpPort: Int = 8080
    public var sessionIdleTimeout: Double = 30
    public var maxSessions: Int = 20_000
    public var maxBodyBytes: Int = 4 << 20
    /// Overrides of the built-in profiles' onboarding credentials and inform interval, by profile name.
    public var profiles: [String: ProfileOverride] = [:]
    /// Base URL CPEs download uploaded files from (the operator port serves /files/…); default http://<host>:<http port>.
    public var fileBaseURL: String?
    /// Largest file upload through the API.
    public var maxUploadBytes: Int = 256 << 20

    public struct ProfileOverride: Sendable, Codable, Equatable {
        public var onboardingUsername: String?
        public var onboardingPassword: String?
        public var informInterval: Int?
    }

    public init() {}

    enum CodingKeys: String, CodingKey {
        case dataDirectory = "data", host, cwmpPort = "cwmp_port", httpPort = "http_port"
        case sessionIdleTimeout = "session_idle_timeout", maxSessions = "max_sessions", maxBodyBytes = "max_body_bytes", profiles
        case fileBaseURL = "file_base_url", maxUploadBytes = "max_upload_bytes"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = CorralConfig()
        dataDirectory = try c.decodeIfPresent(String.self, forKey: .dataDirectory) ?? d.dataDirectory
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? d.host
        cwmpPort = try c.decodeIfPresent(Int.self, forKey: .cwmpPort) ?? d.cwmpPort
        httpPort = try c.decodeIfPresent(Int.self, forKey: .httpPort) ?? d.httpPort
        sessionIdleTimeout = try c.decodeIfPresent(Double.self, forKey: .sessionIdleTimeout) ?? d.sessionIdleTimeout
        maxSessions = try c.decodeIfPresent(Int.self, forKey: .maxSessions) ?? d.maxSessions
        maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? d.maxBodyBytes
        profiles = try c.decodeIfPresent([String: ProfileOverride].self, forKey: .profiles) ?? [:]
        fileBaseURL = try c.decodeIfPresent(String.self, forKey: .fileBaseURL)
        maxUploadBytes = try c.decodeIfPresent(Int.self, forKey: .maxUploadBytes) ?? d.maxUploadBytes
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

    /// CORRAL_DATA, CORRAL_HOST, CORRAL_CWMP_PORT, CORRAL_HTTP_PORT, and per profile
    /// CORRAL_ONBOARDING_<PROFILE>_USERNAME / _PASSWORD (profile name upper-cased, '-' as '_').
    public mutating func merge(environment env: [String: String], profiles registry: ProfileRegistry = ProfileRegistry()) throws {
        if let v = env["CORRAL_DATA"] { dataDirectory = v }
        if let v = env["CORRAL_HOST"] { host = v }
        if let v = env["CORRAL_CWMP_PORT"] { cwmpPort = try Self.port(v, "CORRAL_CWMP_PORT") }
        if let v = env["CORRAL_HTTP_PORT"] { httpPort = try Self.port(v, "CORRAL_HTTP_PORT") }
        if let v = env["CORRAL_FILE_BASE_URL"] { fileBaseURL = v }
        for p in registry.profiles {
            let key = "CORRAL_ONBOARDING_" + p.name.uppercased().replacingOccurrences(of: "-", with: "_")
            var o = profiles[p.name] ?? ProfileOverride()
            if let u = env[key + "_USERNAME"] { o.onboardingUsername = u }
            if let pw = env[key + "_PASSWORD"] { o.onboardingPassword = pw }
            if o != ProfileOverride() { profiles[p.name] = o }
        }
    }

    static func port(_ s: String, _ name: String) throws -> Int {
        guard let p = Int(s), (0...65535).contains(p) else { throw ConfigError("\(name)=\(s) is not a port number") }
        return p
    }

    /// The profile registry with overrides applied.
    public func profileRegistry() -> ProfileRegistry {
        ProfileRegistry(ProfileRegistry().profiles.map { base in
            var p = base
            if let o = profiles[p.name] {
                if let u = o.onboardingUsername { p.onboardingUsername = u }
                if let pw = o.onboardingPassword { p.onboardingPassword = pw }
                if let i = o.informInterval, i > 0 { p.informInterval = i }
            }
            return p
        })
    }
}

public struct ConfigError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
