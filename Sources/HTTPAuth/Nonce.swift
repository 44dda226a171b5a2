import Foundation

/// Stateless Digest nonces: `hex(timestamp) + hex(random) + hex(HMAC-SHA1(secret, timestamp|random))`.
/// Any server holding the same secret can check a nonce, so it survives new TCP connections
/// (AVM CPEs reconnect after the 401) and server restarts if the secret is persisted.
public struct NonceSource: Sendable {
    public enum Status: Sendable, Equatable {
        case valid
        /// Authentic but older than `lifetime`: re-challenge with `stale=true`.
        case stale
        /// Not made by this secret, malformed, or from the future.
        case invalid
    }

    public let secret: [UInt8]
    public let lifetime: Double
    /// Tolerated clock skew for timestamps in the future (e.g. between cluster nodes), seconds.
    public let futureSkew: Double

    public init(secret: [UInt8], lifetime: Double = 300, futureSkew: Double = 60) {
        self.secret = secret
        self.lifetime = lifetime
        self.futureSkew = futureSkew
    }

    /// Creates a source with a random 32-byte secret (nonces then die with the process).
    public static func random(lifetime: Double = 300) -> NonceSource {
        var g = SystemRandomNumberGenerator()
        return NonceSource(secret: (0..<32).map { _ in UInt8.random(in: 0...255, using: &g) }, lifetime: lifetime)
    }

    public static func now() -> Double { Date().timeIntervalSince1970 }

    private func mac(_ payload: [UInt8]) -> [UInt8] {
        HMAC.sha1(key: secret, message: payload)
    }

    public func make(now: Double = NonceSource.now()) -> String {
        let ts = UInt64(max(0, now))
        var payload = (0..<8).map { UInt8(truncatingIfNeeded: ts >> UInt64(56 - 8 * $0)) }
        var g = SystemRandomNumberGenerator()
        payload += (0..<4).map { _ in UInt8.random(in: 0...255, using: &g) }
        return hex(payload) + hex(mac(payload))
    }

    public func check(_ nonce: String, now: Double = NonceSource.now()) -> Status {
        guard nonce.utf8.count == 64, let bytes = unhex(nonce) else { return .invalid }
        let payload = Array(bytes[0..<12])
        guard constantTimeEquals(Array(bytes[12...]), mac(payload)) else { return .invalid }
        var ts: UInt64 = 0
        for b in payload[0..<8] { ts = ts << 8 | UInt64(b) }
        let t = Double(ts)
        if t > now + futureSkew { return .invalid }
        if now - t > lifetime { return .stale }
        return .valid
    }
}
