import Dispatch
import Foundation
import HTTPAuth

/// Runs the slow password hashes off the cooperative pool, one at a time, so logins can take at most one core
/// and never stall the request handlers. A bounded queue: when full, callers are told to retry.
final class PasswordWorker: @unchecked Sendable {
    private let queue = DispatchQueue(label: "corral-password-hash")
    private let lock = NSLock()
    private var pending = 0
    let maxPending: Int
    let iterations: Int

    /// A well-formed hash of nothing, verified when the username is unknown so both cases take the same time.
    let decoy: String

    init(iterations: Int = PasswordHash.defaultIterations, maxPending: Int = 16) {
        self.iterations = iterations
        self.maxPending = maxPending
        decoy = PasswordHash.make(password: UUID().uuidString, iterations: iterations)
    }

    private func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws -> T {
        let admitted = lock.withLock { () -> Bool in
            if pending >= maxPending { return false }
            pending += 1
            return true
        }
        guard admitted else { throw APIError.tooManyRequests("too many logins in progress", retryAfter: 2) }
        return await withCheckedContinuation { cont in
            queue.async {
                let r = work()
                self.lock.withLock { self.pending -= 1 }
                cont.resume(returning: r)
            }
        }
    }

    func verify(_ password: String, _ stored: String) async throws -> Bool {
        try await run { PasswordHash.verify(password: password, against: stored) }
    }

    func hash(_ password: String) async throws -> String {
        let n = iterations
        return try await run { PasswordHash.make(password: password, iterations: n) }
    }
}
