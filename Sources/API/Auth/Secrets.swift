import HTTPAuth

/// Bearer tokens and session cookies: 32 random bytes, base64url, shown once; only SHA-256(secret) is stored.
public enum Secrets {
    static let tokenPrefix = "crl_"

    /// A random password for generated accounts (20 characters).
    public static func generatedPassword() -> String { base64url(randomBytes(15)) }

    static func newToken() -> String { tokenPrefix + base64url(randomBytes(32)) }
    static func newSessionSecret() -> String { base64url(randomBytes(32)) }
    static func newCSRF() -> String { base64url(randomBytes(24)) }
    static func hash(_ secret: String) -> String { SHA256.hex(secret) }

    static func base64url(_ data: [UInt8]) -> String { Base64URL.encode(data) }
}
