/// Brute-force throttling (operator logins, CPE Digest/Basic answers), per key: a username, a device, an address.
/// Pure: time is passed in.
/// After `freeFailures` failures, each further attempt waits 2^(n - freeFailures) × `baseDelay` after the last
/// failure (capped at `maxDelay`); a success clears the key. Failures older than `window` are forgotten.
public struct FailureThrottle: Sendable {
    public var freeFailures = 5
    public var baseDelay: Int64 = 15
    public var maxDelay: Int64 = 900
    public var window: Int64 = 3600
    /// Bounded memory: the oldest keys go first.
    public var maxKeys = 10_000

    private var entries: [String: (failures: Int, last: Int64)] = [:]

    public init() {}

    /// Seconds to wait before `key` may try again; 0 = may try now.
    public func wait(_ key: String, now: Int64) -> Int64 {
        guard let e = entries[key], now - e.last < window, e.failures >= freeFailures else { return 0 }
        let delay = min(maxDelay, baseDelay << Int64(min(e.failures - freeFailures, 20)))
        return max(0, e.last + delay - now)
    }

    public mutating func failed(_ key: String, now: Int64) {
        var e = entries[key] ?? (0, now)
        if now - e.last >= window { e.failures = 0 }
        e.failures += 1
        e.last = now
        entries[key] = e
        if entries.count > maxKeys, let oldest = entries.min(by: { $0.value.last < $1.value.last })?.key {
            entries.removeValue(forKey: oldest)
        }
    }

    public mutating func succeeded(_ key: String) { entries.removeValue(forKey: key) }
}

/// Operator logins use the same rules.
public typealias LoginThrottle = FailureThrottle
