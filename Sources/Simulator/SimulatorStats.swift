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
    private var totalSeconds = 0.0

    func recordSuccess(duration: Duration, requests: Int) {
        lock.withLock {
            sessions += 1
            requestsAnswered += requests
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

    func recordConnectionRequest(accepted: Bool) {
        lock.withLock { if accepted { connectionRequests += 1 } else { connectionRequestsRefused += 1 } }
    }

    public var snapshot: (sessions: Int, failures: Int, meanSessionMs: Double) {
        lock.withLock { (sessions, failures, sessions > 0 ? totalSeconds / Double(sessions) * 1000 : 0) }
    }

    public var errors: [String] { lock.withLock { recentErrors } }
}
