import Foundation

/// Decides whether a new CWMP session may start, so that an overloaded ACS answers 503 + Retry-After at once
/// instead of letting every session slow down until CPEs time out (a bootstrap storm, a fleet reboot).
///
/// While sessions finish within `targetSeconds` on average, only the configured maximum applies. When they take
/// longer (the ACS is saturated and every session slows down), the limit follows Little's law: sessions in progress
/// ≤ completion rate × `targetSeconds`, never below `floor`.
/// Retry-After books each refused CPE into the earliest coming second that still has room, room being twice the
/// completion rate: refused CPEs come back spread out, a little faster than sessions finish, instead of as one wave
/// (all after the same delay) or long after the backlog has drained (a fixed large delay).
final class AdmissionControl: @unchecked Sendable {
    private let lock = NSLock()
    private let targetSeconds: Double
    private let floor: Int
    private let maxRetryAfter: Int
    /// Completions and refusals per second, exponentially smoothed over ~`window` seconds.
    private var completionRate = 0.0
    private var refusalRate = 0.0
    private var completedInSlot = 0
    private var refusedInSlot = 0
    /// Mean session duration (open to end), exponentially smoothed over about 100 sessions.
    private var meanDuration = 0.0
    /// Refused CPEs booked to come back in each of the next seconds (ring, by absolute second).
    private var booked = [Int](repeating: 0, count: 128)
    private var bookedSecond = [Int](repeating: -1, count: 128)
    private var slotStart: Double
    private let slot = 0.25
    private let window = 2.0

    init(targetSeconds: Double, floor: Int, maxRetryAfter: Int, now: Double = Date().timeIntervalSince1970) {
        self.targetSeconds = targetSeconds
        self.floor = floor
        self.maxRetryAfter = max(1, maxRetryAfter)
        slotStart = now
    }

    private func roll(_ now: Double) {
        guard now - slotStart >= slot else { return }
        let elapsed = now - slotStart
        // Each elapsed slot decays the averages; idle time pulls the rates towards zero.
        let alpha = min(1, elapsed / window)
        completionRate += alpha * (Double(completedInSlot) / elapsed - completionRate)
        refusalRate += alpha * (Double(refusedInSlot) / elapsed - refusalRate)
        completedInSlot = 0
        refusedInSlot = 0
        slotStart = now
    }

    private func currentLimit(_ max: Int) -> Int {
        guard meanDuration > targetSeconds else { return max }
        return Swift.min(max, Swift.max(floor, Int(completionRate * targetSeconds)))
    }

    /// The current limit on sessions in progress.
    func limit(max: Int, now: Double = Date().timeIntervalSince1970) -> Int {
        lock.withLock {
            roll(now)
            return currentLimit(max)
        }
    }

    /// nil: admit. Otherwise the Retry-After seconds for a 503.
    func check(active: Int, max: Int, now: Double = Date().timeIntervalSince1970) -> Int? {
        lock.withLock {
            roll(now)
            let limit = currentLimit(max)
            guard active >= limit else { return nil }
            refusedInSlot += 1
            // Room per second: twice what completes per second, so that the returning CPEs can push the rate (and with
            // it the limit) up until the limit binds; some will be refused again, which costs little. While the rate
            // is still being measured (the first seconds of a storm), a quarter of the rate the configured maximum
            // implies (max / targetSeconds): optimistic, so nobody is sent far away before the capacity is known.
            let optimistic = Double(max) / targetSeconds / 4
            let room = Swift.max(16, Int(Swift.max(2 * completionRate, optimistic).rounded(.up)))
            let second = Int(now)
            for delay in 1...Swift.min(maxRetryAfter, booked.count - 1) {
                let s = second + delay, i = s % booked.count
                if bookedSecond[i] != s { bookedSecond[i] = s; booked[i] = 0 }
                if booked[i] < room {
                    booked[i] += 1
                    return delay
                }
            }
            return Int.random(in: 1...maxRetryAfter)
        }
    }

    /// A session ended normally after `duration` seconds.
    func completed(duration: Double, now: Double = Date().timeIntervalSince1970) {
        lock.withLock {
            roll(now)
            completedInSlot += 1
            meanDuration += (duration - meanDuration) / 100
        }
    }
}
