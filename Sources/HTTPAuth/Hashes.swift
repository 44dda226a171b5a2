// The hash primitives Corral's protocols need (Digest MD5, SHA-1 for nonces and UDP connection-request signatures,
// SHA-256, HMAC, PBKDF2), under stable names, implemented by swift-crypto (BoringSSL on Linux).
import Crypto
import CryptoExtras

public enum MD5 {
    public static func hash(_ bytes: [UInt8]) -> [UInt8] { Array(Insecure.MD5.hash(data: bytes)) }
    /// Lower-case hex MD5 of the UTF-8 bytes of `string`.
    public static func hex(_ string: String) -> String { HTTPAuth.hex(hash(Array(string.utf8))) }
}

public enum SHA1 {
    public static func hash(_ bytes: [UInt8]) -> [UInt8] { Array(Insecure.SHA1.hash(data: bytes)) }
    public static func hex(_ string: String) -> String { HTTPAuth.hex(hash(Array(string.utf8))) }
}

/// SHA-256, one-shot or streaming (files are hashed chunk by chunk).
public struct SHA256: Sendable {
    private var state = Crypto.SHA256()
    public init() {}
    public static func hash(_ bytes: [UInt8]) -> [UInt8] { Array(Crypto.SHA256.hash(data: bytes)) }
    public static func hex(_ string: String) -> String { HTTPAuth.hex(hash(Array(string.utf8))) }
    public mutating func update(_ bytes: [UInt8]) { state.update(data: bytes) }
    public mutating func finish() -> [UInt8] { Array(state.finalize()) }
}

public enum HMAC {
    /// HMAC-SHA1 (RFC 2104).
    public static func sha1(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Array(Crypto.HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    public static func sha1(key: String, message: String) -> [UInt8] {
        sha1(key: Array(key.utf8), message: Array(message.utf8))
    }

    /// HMAC-SHA256 (RFC 2104 / RFC 4231).
    public static func sha256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Array(Crypto.HMAC<Crypto.SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }
}

/// PBKDF2 (RFC 8018) with HMAC-SHA256.
public enum PBKDF2 {
    /// Iterations are the caller's choice (PasswordHash bounds them); swift-crypto's own floor is for new designs,
    /// while stored hashes must verify at whatever count they were made with.
    public static func sha256(password: [UInt8], salt: [UInt8], iterations: Int, length: Int = 32) -> [UInt8] {
        let key = try? KDF.Insecure.PBKDF2.deriveKey(from: password, salt: salt, using: .sha256,
                                                     outputByteCount: max(length, 1), unsafeUncheckedRounds: max(iterations, 1))
        // BoringSSL fails only on allocation failure; an empty result never verifies.
        return key.map { k in k.withUnsafeBytes { Array($0) } } ?? []
    }
}

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

/// Lower-case hex encoding.
public func hex(_ bytes: [UInt8]) -> String {
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.append(hexDigits[Int(b >> 4)])
        out.append(hexDigits[Int(b & 0x0f)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// Decodes hex (either case); nil on odd length or a non-hex character.
public func unhex(_ string: String) -> [UInt8]? {
    let u = Array(string.utf8)
    guard u.count % 2 == 0 else { return nil }
    func nib(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: return nil
        }
    }
    var out = [UInt8]()
    out.reserveCapacity(u.count / 2)
    var i = 0
    while i < u.count {
        guard let h = nib(u[i]), let l = nib(u[i + 1]) else { return nil }
        out.append(h << 4 | l)
        i += 2
    }
    return out
}

/// Constant-time comparison (time depends only on the lengths).
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var diff = UInt8(a.count == b.count ? 0 : 1)
    let n = min(a.count, b.count)
    for i in 0..<n { diff |= a[i] ^ b[i] }
    return diff == 0
}

public func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    constantTimeEquals(Array(a.utf8), Array(b.utf8))
}
