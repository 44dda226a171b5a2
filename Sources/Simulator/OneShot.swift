import Foundation

/// A value delivered once, from any thread, to one awaiting task: the bridge from event-loop handlers to async code
/// (an EventLoopPromise would trip NIO's leak check when a channel never comes up).
final class OneShot<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var delivered = false
    private var value: T?
    private var waiter: CheckedContinuation<T, Never>?

    /// The first call wins; later ones are ignored. Returns whether this call delivered.
    @discardableResult
    func deliver(_ v: T) -> Bool {
        let (won, w) = lock.withLock { () -> (Bool, CheckedContinuation<T, Never>?) in
            guard !delivered else { return (false, nil) }
            delivered = true
            value = v
            let w = waiter
            waiter = nil
            return (true, w)
        }
        w?.resume(returning: v)
        return won
    }

    var isDelivered: Bool { lock.withLock { delivered } }

    /// Waits for the value. One waiter at most.
    func wait() async -> T {
        await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
            let ready: T? = lock.withLock {
                if delivered { return value }
                waiter = c
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }
}

/// `op`'s result, or nil when `timeout` passes first. After the timeout `op` is cancelled but not awaited: it ends in
/// the background and its result is dropped (blocking work such as getaddrinfo cannot be interrupted; callers that
/// hold sockets close them to make `op` end).
func withDeadline<T: Sendable>(_ timeout: Duration, _ op: @escaping @Sendable () async -> T) async -> T? {
    let box = OneShot<T?>()
    let work = Task { box.deliver(await op()) }
    let timer = Task {
        try? await Task.sleep(for: timeout)
        box.deliver(nil)
    }
    let r = await box.wait()
    timer.cancel()
    if r == nil { work.cancel() }
    return r
}
