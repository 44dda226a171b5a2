import ACSCore
import Foundation
import Scripting
import Storage

/// A live CWMP session: the state machine plus what the driver knows about the device.
/// A CPE sends one message at a time; `busy` catches one that does not.
final class SessionContext: @unchecked Sendable {
    let token: String
    /// The TCP connection it runs on; a `no_cookies` CPE may move it to another (SessionTable.rebind).
    var connectionID: UInt64
    /// Where its messages come from (a `no_cookies` CPE on onboarding credentials is found by it).
    let remoteAddress: String
    /// The device profile's quirk switches.
    let quirks: ProfileQuirks
    /// The shared onboarding username the session opened with ("" on the device's own credentials).
    var onboardingUsername = ""
    /// The Digest nonce its Inform was authenticated with on those shared credentials: a `no_cookies` CPE goes on
    /// with its session only by answering with it (another CPE behind the same address has its own nonce).
    var onboardingNonce = ""
    var machine: CWMPSession
    var device: Device
    var lastActivity: Double
    /// When the session opened (admission control measures session durations).
    let openedAt: Double
    /// Tasks already queued in this session, so a re-check for new tasks does not send them twice.
    var queuedTaskIDs: Set<Int64> = []
    /// First session after a re-bootstrap, or a device under a credential conflict: tasks carrying secrets stay queued.
    var withholdSecrets = false
    /// This session's profile provisioning (ProvisioningRunner), until it is done.
    var provisioning: ProvisioningSession?
    /// The device's provision retry state when the session opened.
    var provisionStates: [ProvisionState] = []
    var busy = false
    /// When its device's session lease expires (nil: no lease, one node, or released).
    var leaseExpiresAt: Int64?
    /// Out of the table (ended, expired, superseded): no further message may touch it.
    var removed = false

    init(token: String, connectionID: UInt64, remoteAddress: String = "", quirks: ProfileQuirks = ProfileQuirks(),
         machine: CWMPSession, device: Device, now: Double) {
        self.token = token; self.connectionID = connectionID; self.machine = machine; self.device = device
        self.remoteAddress = remoteAddress; self.quirks = quirks
        self.lastActivity = now
        self.openedAt = now
    }

    static func newToken() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<2).map { _ in String(g.next() as UInt64, radix: 16) }.joined()
    }
}

/// Sessions by cookie, by TCP connection (fallback) and by device (one session per device).
final class SessionTable: @unchecked Sendable {
    private let lock = NSLock()
    private var byToken: [String: SessionContext] = [:]
    private var byConnection: [UInt64: String] = [:]
    private var byDevice: [Int64: String] = [:]

    var count: Int { lock.withLock { byToken.count } }

    func hasSession(deviceID: Int64) -> Bool { lock.withLock { byDevice[deviceID] != nil } }

    func find(token: String?, connectionID: UInt64) -> SessionContext? {
        lock.withLock {
            if let token, let s = byToken[token] { return s }
            if let t = byConnection[connectionID] { return byToken[t] }
            return nil
        }
    }

    /// The live session a cookie-less message of a `no_cookies` CPE belongs to: the device's own when it
    /// authenticated as the device, else the session opened on the same onboarding credentials from `address` whose
    /// Inform used this Digest nonce (shared credentials prove nothing more; Basic never continues one).
    func findWithoutCookie(deviceID: Int64?, onboardingUsername: String, nonce: String, address: String) -> SessionContext? {
        lock.withLock {
            if let deviceID {
                guard let t = byDevice[deviceID], let s = byToken[t], s.quirks.noCookies else { return nil }
                return s
            }
            guard !onboardingUsername.isEmpty, !nonce.isEmpty else { return nil }
            let candidates = byToken.values.filter {
                $0.quirks.noCookies && $0.remoteAddress == address && $0.onboardingUsername == onboardingUsername && $0.onboardingNonce == nonce
            }
            return candidates.count == 1 ? candidates[0] : nil
        }
    }

    /// Moves a session to the TCP connection its CPE now uses.
    func rebind(_ s: SessionContext, connectionID: UInt64) {
        lock.withLock {
            guard !s.removed, byToken[s.token] === s else { return }
            if byConnection[s.connectionID] == s.token { byConnection[s.connectionID] = nil }
            s.connectionID = connectionID
            byConnection[connectionID] = s.token
        }
    }

    /// Registers a session; returns the device's previous session for the caller to abandon, unless a message of
    /// it is being processed right now (then its handler abandons it when done, see `markIdle`).
    func insert(_ s: SessionContext) -> SessionContext? {
        lock.withLock {
            var previous: SessionContext?
            if let old = byDevice[s.device.id], let o = byToken[old] {
                o.removed = true
                if !o.busy {
                    o.busy = true
                    previous = o
                }
                byToken[old] = nil
                byConnection[o.connectionID] = nil
            }
            byToken[s.token] = s
            byConnection[s.connectionID] = s.token
            byDevice[s.device.id] = s.token
            return previous
        }
    }

    func remove(_ s: SessionContext) {
        lock.withLock {
            s.removed = true
            if byToken[s.token] === s { byToken[s.token] = nil }
            if byConnection[s.connectionID] == s.token { byConnection[s.connectionID] = nil }
            if byDevice[s.device.id] == s.token { byDevice[s.device.id] = nil }
        }
    }

    /// Removes and returns sessions idle since before `cutoff`.
    func expire(before cutoff: Double) -> [SessionContext] {
        lock.withLock {
            let old = byToken.values.filter { $0.lastActivity < cutoff && !$0.busy }
            for s in old {
                s.removed = true
                s.busy = true
                byToken[s.token] = nil
                if byConnection[s.connectionID] == s.token { byConnection[s.connectionID] = nil }
                if byDevice[s.device.id] == s.token { byDevice[s.device.id] = nil }
            }
            return old
        }
    }

    func tryMarkBusy(_ s: SessionContext) -> Bool {
        lock.withLock {
            if s.busy || s.removed { return false }
            s.busy = true
            return true
        }
    }

    /// Returns true if the session was taken out of the table while busy: the caller must abandon it.
    func markIdle(_ s: SessionContext, now: Double) -> Bool {
        lock.withLock {
            s.busy = false
            s.lastActivity = now
            return s.removed
        }
    }
}
