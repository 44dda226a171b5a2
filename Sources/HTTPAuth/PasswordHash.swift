/// Salted slow password hashes: "pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>". The iteration count travels
/// with the hash, so it can be raised later without invalidating stored passwords.
public enum PasswordHash {
    /// OWASP's figure for PBKDF2-HMAC-SHA256 (600k). Hashes made with fewer (Corral before swift-crypto used 150k)
    /// still verify and are re-hashed at this count on the next successful login (`needsRehash`).
    public static let defaultIterations = 600_000
    public static let scheme = "pbkdf2-sha256"

    public static func make(password: String, iterations: Int = defaultIterations) -> String {
        let salt = randomBytes(16)
        let hash = PBKDF2.sha256(password: Array(password.utf8), salt: salt, iterations: iterations)
        return "\(scheme)$\(iterations)$\(hex(salt))$\(hex(hash))"
    }

    /// The iteration count a stored hash was made with; nil if it is not one of ours.
    public static func iterations(of stored: String) -> Int? {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == scheme else { return nil }
        return Int(parts[1])
    }

    /// True when a stored hash is weaker than `iterations` and should be replaced once the password is known.
    public static func needsRehash(_ stored: String, iterations: Int = defaultIterations) -> Bool {
        (Self.iterations(of: stored) ?? 0) < iterations
    }

    /// Constant-time check; false for any malformed stored value.
    public static func verify(password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == scheme, let iterations = Int(parts[1]), iterations >= 1, iterations <= 10_000_000,
              let salt = unhex(String(parts[2])), let expected = unhex(String(parts[3])), !expected.isEmpty else { return false }
        let actual = PBKDF2.sha256(password: Array(password.utf8), salt: salt, iterations: iterations, length: expected.count)
        return constantTimeEquals(actual, expected)
    }
}

/// Cryptographically secure random bytes (the system generator reads the kernel CSPRNG).
public func randomBytes(_ count: Int) -> [UInt8] {
    var g = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &g) }
}
