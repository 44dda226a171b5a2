/// Salted slow password hashes: "pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>". The iteration count travels
/// with the hash, so it can be raised later without invalidating stored passwords.
public enum PasswordHash {
    /// OWASP (2023) suggests 600k for PBKDF2-SHA256 with native code; our SHA-256 is plain Swift, so 150k keeps a
    /// login near 0.1 s of one core in release builds while making offline guessing expensive.
    public static let defaultIterations = 150_000
    public static let scheme = "pbkdf2-sha256"

    public static func make(password: String, iterations: Int = defaultIterations) -> String {
        let salt = randomBytes(16)
        let hash = PBKDF2.sha256(password: Array(password.utf8), salt: salt, iterations: iterations)
        return "\(scheme)$\(iterations)$\(hex(salt))$\(hex(hash))"
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
