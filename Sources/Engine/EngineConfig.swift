import ACSCore
import Scripting

public struct EngineConfig: Sendable {
    /// A session with no message for this long is dropped; its in-flight task is retried later.
    public var sessionIdleTimeout: Double = 30
    /// New sessions beyond this many get 503 + Retry-After (load shedding).
    public var maxSessions: Int = 20_000
    public var retryAfterSeconds: Int = 60
    /// Largest CWMP body accepted.
    public var maxBodyBytes: Int = 4 << 20
    public var profiles = ProfileRegistry()
    /// Profile hooks, desired values and KPIs run on each session when set (needs an AutomationStore).
    public var scripting: ScriptEngine?
    /// Persisted so that Digest nonces stay valid across restarts.
    public var nonceSecret: [UInt8] = []
    public init() {}
}
