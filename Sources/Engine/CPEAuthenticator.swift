import ACSCore
import Foundation
import HTTPAuth
import Storage

/// Authenticates CPE requests: a device's own credentials or a profile's onboarding credentials,
/// Digest (MD5, qop=auth) over HTTP and Basic over TLS.
struct CPEAuthenticator: Sendable {
    let nonces: NonceSource
    /// Read at each use: profiles reload while serving.
    let currentProfiles: @Sendable () -> ProfileRegistry
    var profiles: ProfileRegistry { currentProfiles() }
    let replays = ReplayCache()

    enum Result {
        /// `device`: the device record read for the username, when it is a device's (the session reuses it).
        case ok(Principal, device: Device?)
        /// 401 with these WWW-Authenticate values; `failure` when credentials were tried and refused (not for a first
        /// request without them, nor an expired nonce).
        case challenge([String], reason: String, failure: OnboardingAttempt.Reason? = nil)
    }

    /// Digest always (first: CPEs take the first scheme they support); Basic too over TLS, or over plain HTTP when a
    /// profile opts in (`auth = { basic_over_http = true }`).
    func challenge(stale: Bool = false, tls: Bool) -> [String] {
        let digest = DigestChallenge(realm: Onboarding.realm, nonce: nonces.make(), qop: "auth", algorithm: "MD5", stale: stale).headerValue
        return tls || profiles.anyBasicOverHTTP ? [digest, basicChallenge(realm: Onboarding.realm)] : [digest]
    }

    /// `parsed`: the request's Authorization header, parsed once by the caller (nil: none, or unreadable).
    func authenticate(_ parsed: AuthorizationHeader?, uri: String, tls: Bool, store: CorralStore) throws -> Result {
        guard let parsed else { return .challenge(challenge(tls: tls), reason: "no credentials") }
        switch parsed {
        case .basic(let user, let password):
            // Basic over TLS; over plain HTTP it hands the password to anyone on the path, so only for the devices of
            // profiles that opt in.
            let ha1 = Digest.ha1(username: user, realm: Onboarding.realm, password: password)
            let (known, device) = try candidates(user, store: store)
            guard let principal = known.first(where: { constantTimeEquals(ha1, $0.ha1) })?.principal else {
                return .challenge(challenge(tls: tls), reason: "wrong credentials for \(user)\(known.isEmpty ? " (unknown username)" : "")",
                                  failure: known.isEmpty ? .unknownUsername : .wrongPassword)
            }
            guard try tls || profile(of: principal, store: store)?.basicOverHTTP == true else {
                return .challenge(challenge(tls: false), reason: "Basic refused without TLS (profile without auth.basic_over_http)", failure: .basicRefused)
            }
            return .ok(principal, device: device)
        case .digest(let creds):
            switch nonces.check(creds.nonce) {
            case .valid: break
            case .stale: return .challenge(challenge(stale: true, tls: tls), reason: "stale nonce")
            case .invalid: return .challenge(challenge(tls: tls), reason: "unknown nonce")
            }
            guard Self.sameURI(creds.uri, uri) else { return .challenge(challenge(tls: tls), reason: "Digest answer for another URI") }
            let (known, device) = try candidates(creds.username, store: store)
            guard creds.realm == Onboarding.realm,
                  let principal = known.first(where: { Digest.verify(credentials: creds, ha1: $0.ha1, method: "POST") })?.principal else {
                return .challenge(challenge(tls: tls), reason: "wrong credentials for \(creds.username)\(known.isEmpty ? " (unknown username)" : "")",
                                  failure: known.isEmpty ? .unknownUsername : .wrongPassword)
            }
            // A captured Authorization header must not open a second session.
            guard replays.firstUse(creds.nonce + "|" + (creds.nc ?? "") + "|" + (creds.cnonce ?? ""), lifetime: nonces.lifetime) else {
                return .challenge(challenge(tls: tls), reason: "replayed Digest answer from \(creds.username)")
            }
            return .ok(principal, device: device)
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

    private func profile(of principal: Principal, store: CorralStore) throws -> DeviceProfile? {
        switch principal {
        case .onboarding(let name): return profiles.profile(named: name)
        case .device(let id), .devicePreviousCredentials(let id), .supersededCredentials(let id):
            return try store.device(id: id).flatMap { profiles.profile(named: $0.profile) }
        }
    }

    /// Who a username can be, with the HA1 to check: the device's current credentials, its previous ones while
    /// new ones are unconfirmed, then a profile's onboarding credentials.
    private func candidates(_ username: String, store: CorralStore) throws -> ([(principal: Principal, ha1: String)], Device?) {
        var out: [(Principal, String)] = []
        let device = try store.device(username: username)
        if let device {
            if !device.passwordHA1.isEmpty { out.append((.device(device.id), device.passwordHA1)) }
            if !device.credentialsConfirmed && !device.previousPasswordHA1.isEmpty {
                out.append((.devicePreviousCredentials(device.id), device.previousPasswordHA1))
            }
            // Last: the credentials from before a re-bootstrap (a match is a conflict, decided by the admission rules).
            if !device.supersededPasswordHA1.isEmpty { out.append((.supersededCredentials(device.id), device.supersededPasswordHA1)) }
        }
        if let profile = profiles.profile(onboardingUsername: username) {
            out.append((.onboarding(profile: profile.name),
                        Digest.ha1(username: username, realm: Onboarding.realm, password: profile.onboardingPassword)))
        }
        return (out, device)
    }
}

/// Digest answers seen within their nonce lifetime. Bounded: when full, the oldest half is dropped.
final class ReplayCache: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [String: Double] = [:]
    private let capacity = 200_000

    /// True the first time `key` is presented within `lifetime` seconds.
    func firstUse(_ key: String, lifetime: Double, now: Double = Date().timeIntervalSince1970) -> Bool {
        lock.withLock {
            if let expiry = seen[key], expiry > now { return false }
            if seen.count >= capacity {
                seen = seen.filter { $0.value > now }
                if seen.count >= capacity {
                    let cutoff = seen.values.sorted()[seen.count / 2]
                    seen = seen.filter { $0.value > cutoff }
                }
            }
            seen[key] = now + lifetime
            return true
        }
    }
}
