/// Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP, HMAC-SHA1, 6 digits, 30 s steps): what every
/// authenticator app speaks. Pure: time is passed in.
public enum TOTP {
    public static let period: Int64 = 30
    public static let digits = 6

    public static func step(at unixTime: Int64) -> Int64 { unixTime / period }

    /// The code for one time step (RFC 4226 §5.3 dynamic truncation).
    public static func code(secret: [UInt8], step: Int64, digits: Int = digits) -> String {
        var counter = UInt64(bitPattern: step).bigEndian
        let message = withUnsafeBytes(of: &counter) { Array($0) }
        let mac = HMAC.sha1(key: secret, message: message)
        let offset = Int(mac[mac.count - 1] & 0x0f)
        let binary = (UInt32(mac[offset] & 0x7f) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let value = String(binary % modulus)
        return String(repeating: "0", count: digits - value.count) + value
    }

    /// The time step `code` belongs to, if it is valid now (one step of clock drift either way) and newer than
    /// `usedStep`, the last step accepted for this secret: a code works once.
    public static func verify(_ code: String, secret: [UInt8], now: Int64, after usedStep: Int64) -> Int64? {
        let typed = code.filter { !$0.isWhitespace && $0 != "-" }
        guard typed.count == digits, typed.allSatisfy(\.isASCII), typed.allSatisfy(\.isNumber) else { return nil }
        let current = step(at: now)
        var found: Int64?
        for s in (current - 1)...(current + 1) where constantTimeEquals(TOTP.code(secret: secret, step: s), typed) {
            found = s
        }
        guard let found, found > usedStep else { return nil }
        return found
    }

    /// otpauth://totp/Issuer:account?secret=…&issuer=… (the Key Uri Format authenticator apps scan).
    public static func uri(secret: [UInt8], account: String, issuer: String) -> String {
        func component(_ s: String) -> String {
            var out = ""
            for b in s.utf8 {
                if (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || "-._~@".utf8.contains(b) {
                    out.append(Character(UnicodeScalar(b)))
                } else {
                    let hex = Array("0123456789ABCDEF")
                    out += "%" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 15)])
                }
            }
            return out
        }
        return "otpauth://totp/\(component(issuer)):\(component(account))?secret=\(Base32.encode(secret))&issuer=\(component(issuer))&algorithm=SHA1&digits=\(digits)&period=\(period)"
    }
}

/// RFC 4648 base32 without padding (the alphabet authenticator apps expect for secrets).
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for b in bytes {
            buffer = (buffer << 8) | UInt32(b)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Case, spaces and padding are ignored; nil for any other character.
    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for c in text.uppercased().utf8 where c != UInt8(ascii: " ") && c != UInt8(ascii: "=") {
            guard let v = alphabet.firstIndex(of: c) else { return nil }
            buffer = (buffer << 5) | UInt32(v)
            bits += 5
            if bits >= 8 {
                out.append(UInt8((buffer >> UInt32(bits - 8)) & 0xff))
                bits -= 8
            }
        }
        return out
    }
}
