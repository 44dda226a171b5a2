import ACSCore
import DataModel
import Engine
import Foundation
import HTTPAuth
import NetHTTP
import Scripting
import Storage

/// Settings of the REST API.
public struct APIConfig: Sendable {
    /// Where uploaded files are kept (`<data>/files`).
    public var filesDirectory: String
    /// Base URL CPEs use to download files, e.g. "http://acs.example.net:8080" (the operator port serves /files/…).
    public var fileBaseURL: String
    public var maxUploadBytes = 4 << 30
    /// "device": CPEs fetch files with their transfer credentials (or operators with API credentials); "key": the URL is enough.
    public var fileDownloadAuth = "device"
    /// Hosts webhook URLs may name (webhook_hosts); empty = any.
    public var webhookHosts: [String] = []
    /// The CWMP side's per-device transfer credentials (nil: an API without a CWMP server; downloads need API credentials).
    public var transfers: TransferCredentials?
    public var passwordIterations = PasswordHashDefaults.iterations
    /// Login session lifetime.
    public var sessionSeconds: Int64 = 12 * 3600
    /// The profiles as loaded now (a reload replaces them); without it, `profiles` and `profileLibrary` as set.
    public var catalog: ProfileCatalog?
    private var fixedProfiles = ProfileRegistry()
    private var fixedLibrary: ProfileLibrary?
    public var profiles: ProfileRegistry {
        get { catalog?.registry ?? fixedProfiles }
        set { fixedProfiles = newValue }
    }
    /// The loaded profile files (sources for admins, validation of candidates); nil when the API runs without one.
    public var profileLibrary: ProfileLibrary? {
        get { catalog?.current.library ?? fixedLibrary }
        set { fixedLibrary = newValue }
    }
    /// Reloads profiles and automations (nil: the API runs without a server that can).
    public var reloader: ScriptReloader?
    /// The BBF data-model XML files (writability and value checks of parameters).
    public var dataModelDirectory = "datamodels"
    /// The script library (`reports/`, `campaigns/` below it); missing = empty.
    public var scriptsDirectory = "scripts"
    /// Wakes devices for `connection_request` and summon (nil: HTTP connection requests only).
    public var waker: Waker?
    /// The automation runner, for its status (nil: no automations).
    public var automations: AutomationRunner?
    /// The TR-143 test servers, for the URLs devices test against (nil: the defaults).
    public var speedTest: SpeedTestService?

    public init(filesDirectory: String, fileBaseURL: String) {
        self.filesDirectory = filesDirectory
        self.fileBaseURL = fileBaseURL
    }
}

public enum PasswordHashDefaults { public static let iterations = PasswordHash.defaultIterations }

/// What the API needs of the store: accounts and organisations, plus campaigns and report queries.
public typealias APIStore = OperatorStore & AutomationStore & TwoFactorStore & DiagnosticStore & WebhookStore & OnboardingStore & ValidationStore

/// Shared state of the API: store, password worker, login throttle, the Lua worker.
final class APIServices: Sendable {
    let store: APIStore
    let scripts = ScriptWorker()
    let config: APIConfig
    var fileStore: FileStore { FileStore(directory: config.filesDirectory) }
    let passwords: PasswordWorker
    let throttle = LockedThrottle()
    private let baseURL: LockedThrottle.Box<String>
    let log = Log(label: "api")
    let schemas: ModelSchemas
    let dashboards = DashboardCache()

    init(store: APIStore, config: APIConfig) {
        self.store = store
        self.config = config
        passwords = PasswordWorker(iterations: config.passwordIterations)
        baseURL = .init(config.fileBaseURL)
        schemas = ModelSchemas(directory: config.dataModelDirectory)
    }

    /// Known only once the operator port is bound when it was configured as port 0.
    var fileBaseURL: String {
        get { baseURL.value }
        set { baseURL.value = newValue }
    }
}

/// Login guessing is slowed down three ways: per username from one address (5 free failures), so someone guessing
/// from elsewhere cannot lock the real user out; per username from everywhere (50, a distributed guess); per client
/// address (20, since many users may share a NAT).
final class LockedThrottle: @unchecked Sendable {
    private let lock = NSLock()
    private var pairs = LoginThrottle()
    private var users: LoginThrottle = { var t = LoginThrottle(); t.freeFailures = 50; return t }()
    private var addresses: LoginThrottle = { var t = LoginThrottle(); t.freeFailures = 20; return t }()

    func wait(user: String, address: String, now: Int64) -> Int64 {
        lock.withLock { max(pairs.wait(user + "\u{0}" + address, now: now), users.wait(user, now: now), addresses.wait(address, now: now)) }
    }
    func failed(user: String, address: String, now: Int64) {
        lock.withLock { pairs.failed(user + "\u{0}" + address, now: now); users.failed(user, now: now); addresses.failed(address, now: now) }
    }
    func succeeded(user: String, address: String) {
        lock.withLock { pairs.succeeded(user + "\u{0}" + address); users.succeeded(user) }
    }

    final class Box<T: Sendable>: @unchecked Sendable {
        private let lock = NSLock()
        private var v: T
        init(_ v: T) { self.v = v }
        var value: T {
            get { lock.withLock { v } }
            set { lock.withLock { v = newValue } }
        }
    }
}

/// Corral's file server (`/files/`, `/uploads/`, `/backups/`): who a CPE's transfer credentials say it is, and the
/// refusal that asks for them.
extension APIServices {
    func transferDevice(authorization: String?, method: String, uri: String) -> Int64? {
        config.transfers?.device(authorization: authorization, method: method, uri: uri, generation: { [store] in try? store.device(id: $0)?.passwordHA1 })
    }

    func transferRefusal(_ status: Int, _ text: String) -> HTTPResponse {
        var h = HTTPFields()
        for c in config.transfers?.challenges() ?? [] { h.add("WWW-Authenticate", c) }
        return HTTPResponse(status: status, headers: h, text: text + "\n")
    }
}

