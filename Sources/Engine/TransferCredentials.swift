import ACSCore
import CWMP
import HTTPAuth

/// The credentials a CPE presents to Corral's file server (downloads, and uploads of backups): one per device,
/// derived from the server's secret (nothing stored, the same on every restart), sent in the Download/Upload RPC's
/// Username/Password. A leaked one opens the files of that device's organisation, nothing else.
public struct TransferCredentials: Sendable {
    public static let realm = "corral-files"
    private let key: [UInt8]
    private let nonces: NonceSource

    public init(secret: [UInt8]) {
        key = HMAC.sha256(key: secret, message: Array("corral transfer credentials".utf8))
        nonces = NonceSource(secret: HMAC.sha256(key: secret, message: Array("corral transfer nonces".utf8)))
    }

    public func username(_ deviceID: Int64) -> String { "cpe-\(deviceID)" }

    public func password(_ deviceID: Int64) -> String {
        Base64URL.encode(Array(HMAC.sha256(key: key, message: Array("device \(deviceID)".utf8)).prefix(18)))
    }

    /// Digest first (what CPEs should use), Basic for those that can do nothing else.
    public func challenges() -> [String] {
        [DigestChallenge(realm: Self.realm, nonce: nonces.make(), qop: "auth", algorithm: "MD5").headerValue, basicChallenge(realm: Self.realm)]
    }

    /// The device an Authorization header proves to be, or nil.
    public func device(authorization: String?, method: String) -> Int64? {
        guard let header = authorization.flatMap(AuthorizationHeader.parse) else { return nil }
        switch header {
        case .basic(let user, let password):
            guard let id = Self.deviceID(user) else { return nil }
            return constantTimeEquals(password, self.password(id)) ? id : nil
        case .digest(let c):
            guard let id = Self.deviceID(c.username), c.realm == Self.realm, nonces.check(c.nonce) == .valid,
                  Digest.verify(credentials: c, password: password(id), method: method) else { return nil }
            return id
        }
    }

    static func deviceID(_ user: String) -> Int64? {
        guard user.hasPrefix("cpe-") else { return nil }
        return Int64(user.dropFirst(4))
    }

    /// The request as this device must get it: a Download or Upload pointed at one of Corral's own transfer URLs
    /// carries the device's credentials (unless the task named its own).
    public func outgoing(_ request: ACSRequest, deviceID: Int64, ownPrefixes: [String]) -> ACSRequest {
        func ours(_ url: String) -> Bool { ownPrefixes.contains { !$0.isEmpty && url.hasPrefix($0) } }
        switch request {
        case .download(var d) where d.username.isEmpty && ours(d.url):
            d.username = username(deviceID); d.password = password(deviceID)
            return .download(d)
        case .upload(var u) where u.username.isEmpty && ours(u.url):
            u.username = username(deviceID); u.password = password(deviceID)
            return .upload(u)
        case .scheduleDownload(var s) where s.username.isEmpty && ours(s.url):
            s.username = username(deviceID); s.password = password(deviceID)
            return .scheduleDownload(s)
        default:
            return request
        }
    }
}
