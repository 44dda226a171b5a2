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
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.count > 6, trimmed.prefix(6).lowercased() == "basic " else { return nil }
        return decode(token: String(trimmed.dropFirst(6)).trimmingCharacters(in: .whitespaces))
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
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return nil }
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
