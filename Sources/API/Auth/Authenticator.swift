import ACSCore
import Foundation
import HTTPAuth
import NetHTTP
import Storage

/// Turns a request's credentials (bearer token, or the login-session cookie) into a `Caller`.
struct Authenticator: Sendable {
    static let cookieName = "corral_api_session"
    let store: APIStore

    func authenticate(_ request: HTTPRequest, now: Int64) throws -> Caller {
        if let auth = request.headers.first("Authorization") {
            let parts = auth.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                throw APIError.unauthorized("use Authorization: Bearer <token>")
            }
            return try bearer(String(parts[1]).trimmingCharacters(in: .whitespaces), now: now)
        }
        if let secret = Self.cookie(Self.cookieName, in: request.headers.all("Cookie")) {
            return try session(secret, now: now)
        }
        throw APIError.unauthorized("send a bearer token, or log in at POST /api/v1/auth/login")
    }

    private func bearer(_ secret: String, now: Int64) throws -> Caller {
        guard secret.hasPrefix(Secrets.tokenPrefix), secret.count < 200, let token = try store.token(hash: Secrets.hash(secret)),
              token.isUsable(now: now), let user = try store.user(id: token.userID), !user.disabled,
              let org = try store.organisation(id: token.organisationID),
              let userOrg = try store.organisation(id: user.organisationID), org.path.hasPrefix(userOrg.path) else {
            throw APIError.unauthorized("the token is unknown, expired or revoked")
        }
        // A token never reaches further than its owner does today.
        return Caller(user: user, token: token, organisation: org, role: min(token.role, user.role))
    }

    private func session(_ secret: String, now: Int64) throws -> Caller {
        let hash = Secrets.hash(secret)
        guard let s = try store.session(hash: hash), s.expiresAt > now, let user = try store.user(id: s.userID), !user.disabled,
              let org = try store.organisation(id: user.organisationID) else {
            throw APIError.unauthorized("the session has expired; log in again")
        }
        var caller = Caller(user: user, organisation: org, role: user.role, csrf: s.csrf, sessionHash: hash)
        if try TwoFactorHandlers.required(for: user, organisation: org, store: store), try store.twoFactor(userID: user.id)?.isEnabled != true {
            caller.mustEnrolTwoFactor = true
        }
        return caller
    }

    static func cookie(_ name: String, in headers: [String]) -> String? {
        for header in headers {
            for part in header.split(separator: ";") {
                let kv = part.split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces) == name {
                    return kv[1].trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return nil
    }
}
