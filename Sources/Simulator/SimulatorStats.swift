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
    /// The latest session durations (ms), for percentiles; a ring of 20,000.
    private var recent: [Double] = []
    private var recentNext = 0

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
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            totalSeconds += seconds
            if recent.count < 20_000 { recent.append(seconds * 1000) } else { recent[recentNext] = seconds * 1000 }
            recentNext = (recentNext + 1) % 20_000
        }
    }

    /// Forgets the recorded durations (a test's baseline ends, its measured window begins).
    public func resetDurations() { lock.withLock { recent.removeAll(); recentNext = 0 } }

    /// The q-quantile (0...1) of the recent successful sessions' durations in ms; nil without any.
    public func sessionMilliseconds(quantile q: Double) -> Double? {
        let sorted = lock.withLock { recent.sorted() }
        guard !sorted.isEmpty else { return nil }
        let rank = max(1, Int((Double(sorted.count) * q).rounded(.up)))   // nearest-rank
        return sorted[min(sorted.count, rank) - 1]
    }

    public var recordedSessions: Int { lock.withLock { recent.count } }

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
