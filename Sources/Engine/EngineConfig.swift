import ACSCore
import Scripting

public struct EngineConfig: Sendable {
    /// A session with no message for this long is dropped; its in-flight task is retried later.
    public var sessionIdleTimeout: Double = 30
    /// New sessions beyond this many get 503 + Retry-After (load shedding).
    public var maxSessions: Int = 20_000
    /// Upper bound of the Retry-After of a 503 (the actual value spreads refused CPEs over the expected backlog).
    public var retryAfterSeconds: Int = 60
    /// Adaptive admission: when sessions take longer than this on average, at most (sessions completed per second ×
    /// this) sessions in progress, so that a saturated ACS sheds new sessions instead of stretching every session
    /// towards the CPEs' timeouts (typically 30 s or more).
    public var sessionTargetSeconds: Double = 10
    /// Sessions always admitted, whatever the measured rate (an idle ACS has a rate of zero).
    public var minSessionLimit: Int = 256
    /// Largest CWMP body accepted.
    public var maxBodyBytes: Int = 4 << 20
    /// The profiles as loaded now (`serve` replaces them on reload); when nil, `profiles` and `scripting` as set.
    public var catalog: ProfileCatalog?
    private var fixedProfiles = ProfileRegistry()
    private var fixedScripting: ScriptEngine?
    public var profiles: ProfileRegistry {
        get { catalog?.registry ?? fixedProfiles }
        set { fixedProfiles = newValue }
    }
    /// Profile hooks, desired values and KPIs run on each session when set (needs an AutomationStore).
    public var scripting: ScriptEngine? {
        get { catalog.map { $0.current.engine } ?? fixedScripting }
        set { fixedScripting = newValue }
    }
    /// Persisted so that Digest nonces stay valid across restarts.
    public var nonceSecret: [UInt8] = []
    /// Corral has an XMPP account: onboarding reads every TR-181 device's ConnReqJabberID.
    public var xmppConfigured = false
    /// Event kinds the automations listen to now: sessions write high-volume ones (`kpi`) only when one does.
    public var eventInterest = EventInterest()
    public init() {}
}
