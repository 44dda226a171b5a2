import Dispatch
import Foundation

/// Runs Lua (reports, campaign dry runs and starts) on threads of its own, never on the cooperative pool or an NIO
/// event loop: a report may run for seconds, and the API keeps answering meanwhile. At most `concurrent` scripts run
/// at once; beyond `maxPending` waiting or running, callers get 429.
final class ScriptWorker: @unchecked Sendable {
    private let queue = DispatchQueue(label: "corral-scripts", attributes: .concurrent)
    private let slots: DispatchSemaphore
    private let lock = NSLock()
    private var pending = 0
    let maxPending: Int

    init(concurrent: Int = 2, maxPending: Int = 8) {
        slots = DispatchSemaphore(value: concurrent)
        self.maxPending = maxPending
    }

    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let admitted = lock.withLock { () -> Bool in
            if pending >= maxPending { return false }
            pending += 1
            return true
        }
        guard admitted else { throw APIError.tooManyRequests("too many scripts running; try again shortly", retryAfter: 2) }
        return try await withCheckedThrowingContinuation { cont in
            queue.async {
                self.slots.wait()
                let r = Result { try work() }
                self.slots.signal()
                self.lock.withLock { self.pending -= 1 }
                cont.resume(with: r)
            }
        }
    }
}
