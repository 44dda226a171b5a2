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

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    static func base64url(_ data: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < data.count {
            let b0 = data[i], b1 = i + 1 < data.count ? data[i + 1] : 0, b2 = i + 2 < data.count ? data[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 3) << 4 | b1 >> 4)])
            if i + 1 < data.count { out.append(alphabet[Int((b1 & 15) << 2 | b2 >> 6)]) }
            if i + 2 < data.count { out.append(alphabet[Int(b2 & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
