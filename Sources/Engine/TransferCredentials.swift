import ACSCore
import CWMP
import HTTPAuth

/// The credentials a CPE presents to Corral's file server (downloads, and uploads of backups): one per device and
/// generation of its CWMP credentials (`generation` = its password HA1, so a re-bootstrap or a credential swap makes
/// the old one useless), derived from the server's secret (nothing stored), sent in the Download/Upload RPC's
/// Username/Password. A leaked one opens the files of that device's organisation and that device's own backups and
/// expected uploads, until its CWMP credentials change.
public struct TransferCredentials: Sendable {
    public static let realm = "corral-files"
    private let key: [UInt8]
    private let nonces: NonceSource

    public init(secret: [UInt8]) {
        key = HMAC.sha256(key: secret, message: Array("corral transfer credentials".utf8))
        nonces = NonceSource(secret: HMAC.sha256(key: secret, message: Array("corral transfer nonces".utf8)))
    }

    public func username(_ deviceID: Int64) -> String { "cpe-\(deviceID)" }

    public func password(_ deviceID: Int64, generation: String) -> String {
        Base64URL.encode(Array(HMAC.sha256(key: key, message: Array("device \(deviceID) \(generation)".utf8)).prefix(18)))
    }

    /// Digest first (what CPEs should use), Basic for those that can do nothing else.
    public func challenges() -> [String] {
        [DigestChallenge(realm: Self.realm, nonce: nonces.make(), qop: "auth", algorithm: "MD5").headerValue, basicChallenge(realm: Self.realm)]
    }

    /// The device an Authorization header proves to be, or nil. `uri`: the request target (a Digest answer is
    /// good for the URI it names only); `generation`: the device's current generation (nil: no such device).
    public func device(authorization: String?, method: String, uri: String, generation: (Int64) -> String?) -> Int64? {
        guard let header = authorization.flatMap(AuthorizationHeader.parse) else { return nil }
        switch header {
        case .basic(let user, let password):
            guard let id = Self.deviceID(user), let g = generation(id) else { return nil }
            return constantTimeEquals(password, self.password(id, generation: g)) ? id : nil
        case .digest(let c):
            guard let id = Self.deviceID(c.username), c.realm == Self.realm, nonces.check(c.nonce) == .valid,
                  CPEAuthenticator.sameURI(c.uri, uri), let g = generation(id),
                  Digest.verify(credentials: c, password: password(id, generation: g), method: method) else { return nil }
            return id
        }
    }

    /// Whether this request would carry the device's transfer credentials (withheld with other secrets).
    public static func pointsHere(_ request: ACSRequest, ownPrefixes: [String]) -> Bool {
        func ours(_ url: String) -> Bool { ownPrefixes.contains { !$0.isEmpty && url.hasPrefix($0) } }
        switch request {
        case .download(let d): return ours(d.url)
        case .upload(let u): return u.url.isEmpty || ours(u.url)
        case .scheduleDownload(let s): return ours(s.url)
        default: return false
        }
    }

    static func deviceID(_ user: String) -> Int64? {
        guard user.hasPrefix("cpe-") else { return nil }
        return Int64(user.dropFirst(4))
    }

    /// The request as this device must get it: a Download or Upload pointed at one of Corral's own transfer URLs
    /// carries the device's credentials (unless the task named its own).
    public func outgoing(_ request: ACSRequest, deviceID: Int64, generation: String, ownPrefixes: [String]) -> ACSRequest {
        func ours(_ url: String) -> Bool { ownPrefixes.contains { !$0.isEmpty && url.hasPrefix($0) } }
        switch request {
        case .download(var d) where d.username.isEmpty && ours(d.url):
            d.username = username(deviceID); d.password = password(deviceID, generation: generation)
            return .download(d)
        case .upload(var u) where u.username.isEmpty && ours(u.url):
            u.username = username(deviceID); u.password = password(deviceID, generation: generation)
            return .upload(u)
        case .scheduleDownload(var s) where s.username.isEmpty && ours(s.url):
            s.username = username(deviceID); s.password = password(deviceID, generation: generation)
            return .scheduleDownload(s)
        default:
            return request
        }
    }
}
