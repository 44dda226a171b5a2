import Foundation

/// HTTP Basic credentials (RFC 7617).
public struct BasicCredentials: Sendable, Equatable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// `Basic base64(user:pass)`, the value of an Authorization header.
    public var headerValue: String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }

    /// Parses `Basic <base64>`; the password may contain ':' (split at the first one).
    public static func parse(_ header: String) -> BasicCredentials? {
        let trimmed = asciiTrimmed(header)
        guard trimmed.count > 6, trimmed.prefix(6).lowercased() == "basic " else { return nil }
        return decode(token: String(asciiTrimmed(trimmed.dropFirst(6))))
    }

    static func decode(token: String) -> BasicCredentials? {
        guard let data = Data(base64Encoded: token, options: .ignoreUnknownCharacters) else { return nil }
        let bytes = [UInt8](data)
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        return BasicCredentials(
            username: String(decoding: bytes[..<colon], as: UTF8.self),
            password: String(decoding: bytes[(colon + 1)...], as: UTF8.self))
    }

    /// Constant-time check of the credentials against expected ones.
    public func matches(username: String, password: String) -> Bool {
        // Evaluate both comparisons to avoid a timing difference between a wrong user and a wrong password.
        let u = constantTimeEquals(self.username, username)
        let p = constantTimeEquals(self.password, password)
        return u && p
    }
}

/// `WWW-Authenticate` value for a Basic challenge.
public func basicChallenge(realm: String) -> String {
    "Basic realm=" + AuthParams.quote(realm)
}

/// A parsed `Authorization` header.
public enum AuthorizationHeader: Sendable, Equatable {
    case basic(username: String, password: String)
    case digest(DigestCredentials)

    public static func parse(_ value: String) -> AuthorizationHeader? {
        // ASCII trimming: Foundation's trimmingCharacters(in:) bridges through NSString on Linux and cost
        // ~25 µs per call here, most of the header's parse time.
        let trimmed = String(asciiTrimmed(value))
        guard let space = trimmed.utf8.firstIndex(where: { $0 == 0x20 || $0 == 0x09 }) else { return nil }
        let scheme = trimmed[..<space].lowercased()
        switch scheme {
        case "basic":
            guard let c = BasicCredentials.parse(trimmed) else { return nil }
            return .basic(username: c.username, password: c.password)
        case "digest":
            guard let c = DigestCredentials.parse(trimmed) else { return nil }
            return .digest(c)
        default:
            return nil
        }
    }
}

/// Drops leading and trailing spaces and tabs (the only whitespace HTTP allows around header values).
func asciiTrimmed(_ s: Substring) -> Substring {
    var s = s
    while let f = s.utf8.first, f == 0x20 || f == 0x09 { s = s.dropFirst() }
    while let l = s.utf8.last, l == 0x20 || l == 0x09 { s = s.dropLast() }
    return s
}

func asciiTrimmed(_ s: String) -> Substring { asciiTrimmed(Substring(s)) }
