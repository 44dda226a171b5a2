import ACSCore
import Foundation
import GUI
import HTTPAuth
import NetHTTP
import Storage

/// Two-factor login for WebGUI users (TOTP, RFC 6238) with one-time recovery codes; organisations can require it of
/// their admins. API tokens are not affected: they are secrets of their own, made by a signed-in user.
enum TwoFactorHandlers {
    static let issuer = "Corral"
    static let recoveryCodeCount = 10

    // MARK: rules

    /// True when the user's role is admin or above and its organisation, or one above it, requires two-factor for admins.
    static func required(for user: UserAccount, organisation: Organisation, store: TwoFactorStore) throws -> Bool {
        guard user.role >= .admin else { return false }
        let requiring = try store.organisationsRequiringAdminTwoFactor()
        guard !requiring.isEmpty else { return false }
        return organisation.path.split(separator: "/").contains { Int64($0).map(requiring.contains) ?? false }
    }

    /// What login checks after the password: nothing without enrolment; else a fresh TOTP code or an unspent recovery code.
    static func checkLogin(user: UserAccount, code: String?, recoveryCode: String?, store: TwoFactorStore, now: Int64) async throws {
        guard let record = try store.twoFactor(userID: user.id), record.isEnabled else { return }
        if let code, !code.isEmpty {
            guard let secret = Base32.decode(record.secret), let step = TOTP.verify(code, secret: secret, now: now, after: record.lastStep),
                  try await store.useTOTPStep(userID: user.id, step: step) else {
                throw APIError(401, "two-factor-invalid", "Wrong two-factor code", "the code is wrong, expired or was used already")
            }
        } else if let recoveryCode, !recoveryCode.isEmpty {
            guard try await store.useRecoveryCode(userID: user.id, hash: recoveryHash(recoveryCode), at: now) else {
                throw APIError(401, "two-factor-invalid", "Wrong recovery code", "the recovery code is unknown or was used already")
            }
        } else {
            throw APIError(401, "two-factor-required", "Two-factor code required",
                           "enter the 6-digit code from your authenticator app, or one of your recovery codes")
        }
    }

    /// "abcde-fghij": 50 random bits each, typed by hand only when the phone is lost.
    static func newRecoveryCodes() -> [String] {
        (0..<recoveryCodeCount).map { _ in
            let s = Base32.encode(randomBytes(7)).lowercased().prefix(10)
            return "\(s.prefix(5))-\(s.suffix(5))"
        }
    }

    static func recoveryHash(_ code: String) -> String {
        Secrets.hash(code.lowercased().filter { $0.isLetter || $0.isNumber })
    }

    // MARK: the caller's own

    struct Status: Encodable {
        var enabled: Bool
        var pending: Bool
        var recoveryCodesLeft: Int
        var required: Bool
    }

    static func status(of ctx: RequestContext) throws -> Status {
        let record = try ctx.store.twoFactor(userID: ctx.me.user.id)
        return Status(enabled: record?.isEnabled == true, pending: record.map { !$0.isEnabled } ?? false,
                      recoveryCodesLeft: try ctx.store.recoveryCodesLeft(userID: ctx.me.user.id),
                      required: try required(for: ctx.me.user, organisation: ctx.me.organisation, store: ctx.store))
    }

    static func show(_ ctx: RequestContext) async throws -> HTTPResponse { JSON.response(try status(of: ctx)) }

    struct Enrolment: Encodable {
        var secret: String
        var otpauthUri: String
        var qrSvg: String
        var recoveryCodes: [String]
    }

    static func enrolment(_ record: TwoFactorRecord, user: UserAccount) -> Enrolment {
        let uri = TOTP.uri(secret: Base32.decode(record.secret) ?? [], account: user.username, issuer: issuer)
        let svg = (try? QRCode.encode(uri, correction: .medium))?.svg(title: "Two-factor QR code for \(user.username)") ?? ""
        return Enrolment(secret: record.secret, otpauthUri: uri, qrSvg: svg, recoveryCodes: record.pendingCodes)
    }

    static func signedInUser(_ ctx: RequestContext) throws -> UserAccount {
        guard ctx.me.token == nil else { throw APIError.forbidden("two-factor settings belong to the user; log in as the user, not with an API token") }
        return ctx.me.user
    }

    static func enrol(_ ctx: RequestContext) async throws -> HTTPResponse {
        let user = try signedInUser(ctx)
        ctx.touching("user", String(user.id), organisation: user.organisationID)
        let secret = Base32.encode(randomBytes(20))   // 160 bits, RFC 4226's recommendation
        try await ctx.store.beginTwoFactor(userID: user.id, secret: secret, recoveryCodes: newRecoveryCodes())
        guard let record = try ctx.store.twoFactor(userID: user.id) else { throw APIError.conflict("the enrolment disappeared; try again") }
        ctx.audit.after = "{\"two_factor\":\"pending\"}"
        return JSON.response(enrolment(record, user: user), status: 201)
    }

    struct Confirm: Decodable { var code: String }

    static func confirm(_ ctx: RequestContext) async throws -> HTTPResponse {
        let user = try signedInUser(ctx)
        ctx.touching("user", String(user.id), organisation: user.organisationID)
        let body = try ctx.body(Confirm.self)
        guard let record = try ctx.store.twoFactor(userID: user.id), !record.isEnabled, let secret = Base32.decode(record.secret) else {
            throw APIError.conflict("no two-factor enrolment is pending: start one with POST /api/v1/me/2fa/enrol")
        }
        guard let step = TOTP.verify(body.code, secret: secret, now: Time.now, after: 0) else {
            throw APIError.invalid("the code does not match: check the authenticator app's clock and enter the current code")
        }
        try await ctx.store.confirmTwoFactor(userID: user.id, step: step, recoveryCodeHashes: record.pendingCodes.map(recoveryHash), at: Time.now)
        ctx.audit.after = "{\"two_factor\":\"on\"}"
        return JSON.response(try status(of: ctx))
    }

    struct Disable: Decodable { var currentPassword: String }

    static func disable(_ ctx: RequestContext) async throws -> HTTPResponse {
        let user = try signedInUser(ctx)
        ctx.touching("user", String(user.id), organisation: user.organisationID)
        let body = try ctx.body(Disable.self)
        guard body.currentPassword.count <= 256, try await ctx.api.passwords.verify(body.currentPassword, user.passwordHash) else {
            throw APIError.forbidden("the current password is wrong")
        }
        try await ctx.store.removeTwoFactor(userID: user.id)
        ctx.audit.after = "{\"two_factor\":\"off\"}"
        return HTTPResponse(status: 204)
    }

    // MARK: admins

    /// For a user who lost the phone and the recovery codes: removes the enrolment and signs the user out everywhere.
    static func reset(_ ctx: RequestContext) async throws -> HTTPResponse {
        let u = try AccountHandlers.changeableUser(ctx)
        ctx.touching("user", String(u.id), organisation: u.organisationID)
        try await ctx.store.removeTwoFactor(userID: u.id)
        try await ctx.store.deleteSessions(userID: u.id)
        ctx.audit.after = "{\"two_factor\":\"reset\"}"
        return HTTPResponse(status: 204)
    }

    struct Requirement: Codable { var requiredForAdmins: Bool }

    static func setRequirement(_ ctx: RequestContext) async throws -> HTTPResponse {
        let o = try OrganisationHandlers.changeable(ctx, try ctx.pathID())
        ctx.touching("organisation", String(o.id), organisation: o.id)
        let body = try ctx.body(Requirement.self)
        ctx.audit.before = JSON.text(Requirement(requiredForAdmins: try ctx.store.organisationsRequiringAdminTwoFactor().contains(o.id)))
        try await ctx.store.setAdminTwoFactorRequired(organisationID: o.id, body.requiredForAdmins)
        ctx.audit.after = JSON.text(body)
        return JSON.response(body)
    }

    static func requirement(_ ctx: RequestContext) async throws -> HTTPResponse {
        let o = try ctx.organisation(try ctx.pathID())
        return JSON.response(Requirement(requiredForAdmins: try ctx.store.organisationsRequiringAdminTwoFactor().contains(o.id)))
    }
}
