/// Repeated log notices about one subject (a CPE that tries Basic before Digest every session, one that keeps using
/// a wrong password) logged once per interval with a count, instead of one line per session. Pure: the caller gives
/// the time. Bounded: at most `capacity` subjects are remembered.
public struct NoticeAggregator: Sendable {
    public let interval: Int64
    public let capacity: Int
    private var subjects: [String: (loggedAt: Int64, suppressed: Int)] = [:]

    public init(interval: Int64 = 600, capacity: Int = 10_000) {
        self.interval = interval; self.capacity = capacity
    }

    /// Whether to log this occurrence now, and how many of the same were left out since the last line.
    public mutating func note(_ subject: String, now: Int64) -> (log: Bool, suppressed: Int) {
        if var s = subjects[subject], now - s.loggedAt < interval {
            s.suppressed += 1
            subjects[subject] = s
            return (false, 0)
        }
        let suppressed = subjects[subject]?.suppressed ?? 0
        if subjects.count >= capacity { subjects = subjects.filter { now - $0.value.loggedAt < interval } }
        if subjects.count < capacity { subjects[subject] = (now, 0) }
        return (true, suppressed)
    }
}
