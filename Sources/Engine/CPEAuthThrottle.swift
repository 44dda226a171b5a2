import ACSCore
import Foundation
import HTTPAuth

/// Digest/Basic brute force against the CWMP port (an attack run made 2,100 guesses/s, each logged): failed answers
/// are counted per username and per source address, with backoff after a few free failures. Addresses get far more
/// room than usernames: thousands of CPEs can share one carrier-grade NAT address.
final class CPEAuthThrottle: @unchecked Sendable {
    private let lock = NSLock()
    private var users: FailureThrottle = { var t = FailureThrottle(); t.freeFailures = 10; t.baseDelay = 5; t.maxDelay = 300; return t }()
    private var addresses: FailureThrottle = { var t = FailureThrottle(); t.freeFailures = 300; t.baseDelay = 1; t.maxDelay = 60; t.window = 600; return t }()
    /// Keys whose throttling was already logged in this window: one line per key, not one per guess.
    private var announced: Set<String> = []

    /// Seconds before this username/address may try again (0 = now), and whether this is the first refusal to log.
    func wait(user: String?, address: String, now: Int64) -> (seconds: Int64, announce: Bool) {
        lock.withLock {
            let w = max(user.map { users.wait("u:" + $0, now: now) } ?? 0, addresses.wait("a:" + address, now: now))
            guard w > 0 else { return (0, false) }
            let key = (user ?? "") + "|" + address
            if announced.count > 10_000 { announced.removeAll() }
            return (w, announced.insert(key).inserted)
        }
    }

    func failed(user: String?, address: String, now: Int64) {
        lock.withLock {
            if let user { users.failed("u:" + user, now: now) }
            addresses.failed("a:" + address, now: now)
        }
    }

    func succeeded(user: String) {
        lock.withLock {
            users.succeeded("u:" + user)
            announced = announced.filter { !$0.hasPrefix(user + "|") }
        }
    }
}

extension AuthorizationHeader {
    /// The username an Authorization header claims (not yet verified).
    var username: String {
        switch self {
        case .basic(let user, _): user
        case .digest(let c): c.username
        }
    }
}
