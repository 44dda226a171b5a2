import Foundation

/// Counters a run prints and tests read.
public final class SimulatorStats: @unchecked Sendable {
    private let lock = NSLock()
    public private(set) var sessions = 0
    public private(set) var failures = 0
    public private(set) var requestsAnswered = 0
    public private(set) var connectionRequests = 0
    public private(set) var connectionRequestsRefused = 0
    public private(set) var recentErrors: [String] = []
    /// HTTP requests sent by successful sessions (Digest challenges included).
    public private(set) var httpRequests = 0
    /// Devices that finished their first successful session (onboarded, for factory-fresh devices).
    public private(set) var firstSessions = 0
    /// Unix time the last first session finished.
    public private(set) var lastFirstSessionAt = 0.0
    /// Sessions the ACS refused with 503, and how many of those carried Retry-After.
    public private(set) var busyRefusals = 0
    public private(set) var retryAfterHonoured = 0
    private var totalSeconds = 0.0

    public struct Snapshot: Sendable {
        public var sessions: Int
        public var failures: Int
        public var meanSessionMs: Double
        public var httpRequests: Int
        public var firstSessions: Int
        public var lastFirstSessionAt: Double
        public var busyRefusals: Int
        public var retryAfterHonoured: Int
    }

    func recordSuccess(duration: Duration, requests: Int, httpRequests http: Int, first: Bool) {
        lock.withLock {
            sessions += 1
            requestsAnswered += requests
            httpRequests += http
            if first {
                firstSessions += 1
                lastFirstSessionAt = Date().timeIntervalSince1970
            }
            totalSeconds += Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
    }

    func recordFailure(_ message: String) {
        lock.withLock {
            failures += 1
            recentErrors.append(message)
            if recentErrors.count > 20 { recentErrors.removeFirst() }
        }
    }

    /// A 503: not counted as a failure (the ACS shed load as it should), but as a refusal.
    func recordBusy(retryAfter: Bool) {
        lock.withLock {
            busyRefusals += 1
            if retryAfter { retryAfterHonoured += 1 }
        }
    }

    func recordConnectionRequest(accepted: Bool) {
        lock.withLock { if accepted { connectionRequests += 1 } else { connectionRequestsRefused += 1 } }
    }

    public var snapshot: Snapshot {
        lock.withLock {
            Snapshot(sessions: sessions, failures: failures, meanSessionMs: sessions > 0 ? totalSeconds / Double(sessions) * 1000 : 0,
                     httpRequests: httpRequests, firstSessions: firstSessions, lastFirstSessionAt: lastFirstSessionAt,
                     busyRefusals: busyRefusals, retryAfterHonoured: retryAfterHonoured)
        }
    }

    public var errors: [String] { lock.withLock { recentErrors } }
}
