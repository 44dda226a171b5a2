import ACSCore
import Foundation
import HTTPAuth
import NetHTTP
import Storage

/// Users, API tokens, login sessions.
enum AccountHandlers {
    // MARK: login

    struct Login: Decodable { var username: String; var password: String; var totpCode: String?; var recoveryCode: String? }
    struct LoginAnswer: Encodable { var user: UserView; var csrfToken: String; var expiresAt: String?; var twoFactorEnrolmentRequired: Bool }

    static func login(_ ctx: RequestContext) async throws -> HTTPResponse {
        let body = try ctx.body(Login.self)
        guard body.username.count <= 64, body.password.count <= 256, (body.totpCode?.count ?? 0) <= 16, (body.recoveryCode?.count ?? 0) <= 32 else {
            throw APIError.invalid("username, password or code too long")
        }
        ctx.audit.actor = body.username
        ctx.audit.objectType = "user"
        ctx.audit.objectID = body.username
        let now = Time.now
        let userKey = body.username.lowercased(), address = ctx.request.remoteAddress ?? ""
        let wait = ctx.api.throttle.wait(user: userKey, address: address, now: now)
        if wait > 0 { throw APIError.tooManyRequests("too many failed logins; try again in \(wait) s", retryAfter: Int(wait)) }

        let user = try ctx.store.user(username: body.username)
        let ok = try await ctx.api.passwords.verify(body.password, user?.passwordHash ?? ctx.api.passwords.decoy)
        guard ok, let user, !user.disabled else {
            ctx.api.throttle.failed(user: userKey, address: address, now: now)
            throw APIError.unauthorized("wrong username or password")
        }
        do {
            try await TwoFactorHandlers.checkLogin(user: user, code: body.totpCode, recoveryCode: body.recoveryCode, store: ctx.store, now: now)
        } catch {
            ctx.api.throttle.failed(user: userKey, address: address, now: now)
            throw error
        }
        ctx.api.throttle.succeeded(user: userKey, address: address)
        ctx.audit.organisationID = user.organisationID
        if PasswordHash.needsRehash(user.passwordHash, iterations: ctx.api.passwords.iterations) {
            // The password is known only now: bring an older, cheaper hash up to today's cost.
            var upgraded = user
            upgraded.passwordHash = try await ctx.api.passwords.hash(body.password)
            try await ctx.store.updateUser(upgraded)
        }
        let secret = Secrets.newSessionSecret()
        let csrf = Secrets.newCSRF()
        let expires = now + ctx.api.config.sessionSeconds
        try await ctx.store.createSession(LoginSession(tokenHash: Secrets.hash(secret), userID: user.id, csrf: csrf, createdAt: now, expiresAt: expires))
        // Not a caller yet: the user's organisation is looked up directly.
        let mustEnrol = try ctx.store.organisation(id: user.organisationID).map {
            try TwoFactorHandlers.required(for: user, organisation: $0, store: ctx.store) && ctx.store.twoFactor(userID: user.id)?.isEnabled != true
        } ?? false
        var response = JSON.response(LoginAnswer(user: UserView(user), csrfToken: csrf, expiresAt: Time.iso(expires), twoFactorEnrolmentRequired: mustEnrol))
        let secure = ctx.request.isTLS ? "; Secure" : ""
        response.headers.add("Set-Cookie", "\(Authenticator.cookieName)=\(secret); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(ctx.api.config.sessionSeconds)\(secure)")
        return response
    }

    static func logout(_ ctx: RequestContext) async throws -> HTTPResponse {
        ctx.touching("user", String(ctx.me.user.id), organisation: ctx.me.user.organisationID)
        if let h = ctx.me.sessionHash { try await ctx.store.deleteSession(hash: h) }
        var r = HTTPResponse(status: 204)
        r.headers.add("Set-Cookie", "\(Authenticator.cookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
        return r
    }

    struct Me: Encodable {
        var user: UserView
        var organisation: OrganisationView
        var role: String
        var token: TokenView?
    }

    static func me(_ ctx: RequestContext) async throws -> HTTPResponse {
        JSON.response(Me(user: UserView(ctx.me.user), organisation: OrganisationView(ctx.me.organisation), role: ctx.me.role.rawValue,
                         token: ctx.me.token.map { TokenView($0) }))
    }

    struct ChangePassword: Decodable { var currentPassword: String; var newPassword: String }

    static func changeOwnPassword(_ ctx: RequestContext) async throws -> HTTPResponse {
        guard ctx.me.token == nil else { throw APIError.forbidden("API tokens cannot change passwords; log in as the user") }
        var u = ctx.me.user
        ctx.touching("user", String(u.id), organisation: u.organisationID)
        let body = try ctx.body(ChangePassword.self)
        guard body.currentPassword.count <= 256, try await ctx.api.passwords.verify(body.currentPassword, u.passwordHash) else {
            throw APIError.forbidden("the current password is wrong")
        }
        u.passwordHash = try await ctx.api.passwords.hash(try password(body.newPassword, username: u.username))
        try await ctx.store.updateUser(u)
        try await ctx.store.deleteSessions(userID: u.id)
        ctx.audit.after = "{\"password\":\"changed\"}"
        return HTTPResponse(status: 204)
    }

    // MARK: users

    static func password(_ s: String, username: String) throws -> String {
        if let problem = AccountPolicy.passwordProblem(s, username: username) { throw APIError.invalid(problem) }
        return s
    }

    static func username(_ s: String) throws -> String {
        guard !s.isEmpty, s.count <= 64, s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._@-".contains($0)) }) else {
            throw APIError.invalid("usernames are 1-64 characters: letters, digits, . _ @ -")
        }
        return s
    }

    static func role(_ s: String, _ ctx: RequestContext, organisation: Organisation) throws -> Role {
        guard let r = Role(rawValue: s) else { throw APIError.invalid("role must be viewer, operator, admin or superadmin") }
        guard r <= ctx.me.role else { throw APIError.forbidden("cannot grant \(r.rawValue), above the caller's own role") }
        if r == .superadmin && organisation.id != Organisation.rootID { throw APIError.invalid("superadmins belong to the root organisation") }
        return r
    }

    struct UserList: Encodable { var users: [UserView] }

    static func listUsers(_ ctx: RequestContext) async throws -> HTTPResponse {
        JSON.response(UserList(users: try ctx.store.users(under: ctx.me.organisation.path).map(UserView.init)))
    }

    static func showUser(_ ctx: RequestContext) async throws -> HTTPResponse {
        JSON.response(UserView(try ctx.user(try ctx.pathID())))
    }

    struct CreateUser: Decodable { var username: String; var password: String; var role: String; var organisationId: Int64? }

    static func createUser(_ ctx: RequestContext) async throws -> HTTPResponse {
        let body = try ctx.body(CreateUser.self)
        let org = try ctx.organisation(body.organisationId ?? ctx.me.organisation.id)
        let role = try role(body.role, ctx, organisation: org)
        let name = try username(body.username)
        let hash = try await ctx.api.passwords.hash(try password(body.password, username: name))
        let u = try await ctx.store.createUser(UserAccount(username: name, passwordHash: hash, organisationID: org.id, role: role, createdAt: Time.now))
        ctx.touching("user", String(u.id), organisation: org.id)
        ctx.audit.after = JSON.text(UserView(u))
        return JSON.response(UserView(u), status: 201)
    }

    /// A user the caller may change: in its subtree, not above its role.
    static func changeableUser(_ ctx: RequestContext) throws -> UserAccount {
        let u = try ctx.user(try ctx.pathID())
        guard u.role <= ctx.me.role else { throw APIError.forbidden("cannot change a user with a higher role") }
        return u
    }

    struct UpdateUser: Decodable { var role: String?; var organisationId: Int64?; var password: String?; var disabled: Bool? }

    static func updateUser(_ ctx: RequestContext) async throws -> HTTPResponse {
        var u = try changeableUser(ctx)
        ctx.touching("user", String(u.id), organisation: u.organisationID)
        let body = try ctx.body(UpdateUser.self)
        let before = UserView(u)
        let isSelf = u.id == ctx.me.user.id
        if isSelf && (body.role != nil || body.organisationId != nil || body.disabled == true) {
            throw APIError.conflict("you cannot change your own role, organisation or disable yourself")
        }
        if let o = body.organisationId { u.organisationID = try ctx.organisation(o).id }
        let org = try ctx.organisation(u.organisationID)
        if let r = body.role { u.role = try role(r, ctx, organisation: org) }
        if u.role == .superadmin && org.id != Organisation.rootID { throw APIError.invalid("superadmins belong to the root organisation") }
        if let d = body.disabled { u.disabled = d }
        var changedPassword = false
        if let p = body.password {
            u.passwordHash = try await ctx.api.passwords.hash(try password(p, username: u.username))
            changedPassword = true
        }
        try await ctx.store.updateUser(u)
        if changedPassword || u.disabled { try await ctx.store.deleteSessions(userID: u.id) }
        ctx.audit.before = JSON.text(before)
        ctx.audit.after = JSON.text(UserView(u)).replacingOccurrences(of: "}", with: changedPassword ? ",\"password\":\"changed\"}" : "}")
        return JSON.response(UserView(u))
    }

    static func deleteUser(_ ctx: RequestContext) async throws -> HTTPResponse {
        let u = try changeableUser(ctx)
        ctx.touching("user", String(u.id), organisation: u.organisationID)
        guard u.id != ctx.me.user.id else { throw APIError.conflict("you cannot delete yourself") }
        ctx.audit.before = JSON.text(UserView(u))
        try await ctx.store.deleteUser(id: u.id)
        return HTTPResponse(status: 204)
    }

    // MARK: tokens

    struct TokenList: Encodable { var tokens: [TokenView] }

    static func listTokens(_ ctx: RequestContext) async throws -> HTTPResponse {
        JSON.response(TokenList(tokens: try ctx.store.tokens(under: ctx.me.organisation.path).map { TokenView($0) }))
    }

    struct CreateToken: Decodable { var name: String; var role: String; var organisationId: Int64?; var expiresInDays: Int? }

    static func createToken(_ ctx: RequestContext) async throws -> HTTPResponse {
        let body = try ctx.body(CreateToken.self)
        let org = try ctx.organisation(body.organisationId ?? ctx.me.organisation.id)
        let role = try role(body.role, ctx, organisation: org)
        let name = try Validate.name(body.name, "name")
        let maxDays = AccountPolicy.maxTokenDays(role)
        let days = body.expiresInDays ?? min(90, maxDays)
        guard (1...maxDays).contains(days) else { throw APIError.invalid("expires_in_days must be 1 to \(maxDays) for a \(role.rawValue) token") }
        let now = Time.now
        let secret = Secrets.newToken()
        let t = try await ctx.store.createToken(APIToken(userID: ctx.me.user.id, name: name, tokenHash: Secrets.hash(secret),
                                                         prefix: String(secret.prefix(10)), organisationID: org.id, role: role,
                                                         createdAt: now, expiresAt: now + Int64(days) * 86400))
        ctx.touching("token", String(t.id), organisation: org.id)
        ctx.audit.after = JSON.text(TokenView(t))
        return JSON.response(TokenView(t, secret: secret), status: 201)
    }

    static func revokeToken(_ ctx: RequestContext) async throws -> HTTPResponse {
        let t = try ctx.token(try ctx.pathID())
        ctx.touching("token", String(t.id), organisation: t.organisationID)
        guard t.role <= ctx.me.role else { throw APIError.forbidden("cannot revoke a token with a higher role") }
        guard t.id != ctx.me.token?.id else { throw APIError.conflict("a token cannot revoke itself") }
        ctx.audit.before = JSON.text(TokenView(t))
        try await ctx.store.revokeToken(id: t.id, at: Time.now)
        return HTTPResponse(status: 204)
    }
}
