import ACSCore
import HTTPAuth
import Storage

/// Authenticates CPE requests: a device's own credentials or a profile's onboarding credentials,
/// Digest (MD5, qop=auth) over HTTP and Basic over TLS.
struct CPEAuthenticator: Sendable {
    let nonces: NonceSource
    let profiles: ProfileRegistry

    enum Result {
        case ok(Principal)
        /// 401 with these WWW-Authenticate values.
        case challenge([String], reason: String)
    }

    func challenge(stale: Bool = false, tls: Bool) -> [String] {
        if tls { return [basicChallenge(realm: Onboarding.realm)] }
        return [DigestChallenge(realm: Onboarding.realm, nonce: nonces.make(), qop: "auth", algorithm: "MD5", stale: stale).headerValue]
    }

    func authenticate(_ authorization: String?, uri: String, tls: Bool, store: CorralStore) throws -> Result {
        guard let authorization, let parsed = AuthorizationHeader.parse(authorization) else {
            return .challenge(challenge(tls: tls), reason: "no credentials")
        }
        switch parsed {
        case .basic(let user, let password):
            // Basic only over TLS: in clear text it would hand the password to anyone on the path.
            guard tls else { return .challenge(challenge(tls: false), reason: "Basic refused without TLS") }
            guard let (principal, ha1) = try lookup(user, store: store),
                  constantTimeEquals(Digest.ha1(username: user, realm: Onboarding.realm, password: password), ha1) else {
                return .challenge(challenge(tls: true), reason: "wrong credentials for \(user)")
            }
            return .ok(principal)
        case .digest(let creds):
            switch nonces.check(creds.nonce) {
            case .valid: break
            case .stale: return .challenge(challenge(stale: true, tls: tls), reason: "stale nonce")
            case .invalid: return .challenge(challenge(tls: tls), reason: "unknown nonce")
            }
            guard Self.sameURI(creds.uri, uri) else { return .challenge(challenge(tls: tls), reason: "Digest answer for another URI") }
            guard creds.realm == Onboarding.realm, let (principal, ha1) = try lookup(creds.username, store: store),
                  Digest.verify(credentials: creds, ha1: ha1, method: "POST") else {
                return .challenge(challenge(tls: tls), reason: "wrong credentials for \(creds.username)")
            }
            return .ok(principal)
        }
    }

    /// Some CPEs put the absolute URL in the Digest `uri`; compare path and query only.
    static func sameURI(_ digestURI: String, _ requestURI: String) -> Bool {
        var d = Substring(digestURI)
        if let scheme = d.range(of: "://") {
            d = d[scheme.upperBound...]
            d = d.firstIndex(of: "/").map { d[$0...] } ?? "/"
        }
        return d == requestURI
    }

    /// A device's own username wins over a profile's onboarding username.
    private func lookup(_ username: String, store: CorralStore) throws -> (Principal, String)? {
        if let device = try store.device(username: username), !device.passwordHA1.isEmpty {
            return (.device(device.id), device.passwordHA1)
        }
        if let profile = profiles.profile(onboardingUsername: username) {
            return (.onboarding(profile: profile.name),
                    Digest.ha1(username: username, realm: Onboarding.realm, password: profile.onboardingPassword))
        }
        return nil
    }
}
