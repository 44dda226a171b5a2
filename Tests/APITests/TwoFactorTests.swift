import Foundation
import Testing
import ACSCore
@testable import API
import HTTPAuth
import Storage

/// TOTP two-factor login over the real API: enrolment, login with a code, replay, recovery codes, an organisation
/// that requires it of its admins, and an admin's reset.
@Suite(.serialized, .stopsLiveServers) struct TwoFactorTests {
    /// Logs in on a fresh client; on success the client carries the cookie and the CSRF token.
    static func login(_ live: LiveServer, _ user: String, code: String? = nil, recovery: String? = nil) async throws -> (APIClient, APIClient.Reply) {
        let c = APIClient(port: live.server.httpPort)
        var body: [String: Any] = ["username": user, "password": "correct-horse-battery"]
        if let code { body["totp_code"] = code }
        if let recovery { body["recovery_code"] = recovery }
        let r = try await c.send("POST", "/auth/login", json: body)
        if r.status == 200, let cookie = r.headers.first("Set-Cookie"), let csrf = r.json["csrf_token"] as? String {
            c.headers.set("Cookie", String(cookie.split(separator: ";")[0]))
            c.headers.set("X-CSRF-Token", csrf)
        }
        return (c, r)
    }

    static func slug(_ r: APIClient.Reply) -> String { String((r.json["type"] as? String ?? "").split(separator: "/").last ?? "") }

    @Test func enrolLoginWithCodesAndRecovery() async throws {
        let live = try await LiveServer()
        _ = try await live.user("tina", role: .admin, org: 1)
        let (c, first) = try await Self.login(live, "tina")
        #expect(first.status == 200 && first.json["two_factor_enrolment_required"] as? Bool == false)

        let enrol = try await c.send("POST", "/me/2fa/enrol")
        #expect(enrol.status == 201, "\(enrol.text)")
        let secretText = try #require(enrol.json["secret"] as? String)
        let secret = try #require(Base32.decode(secretText))
        #expect(secret.count == 20)
        #expect((enrol.json["otpauth_uri"] as? String)?.hasPrefix("otpauth://totp/Corral:tina?secret=\(secretText)") == true)
        #expect((enrol.json["qr_svg"] as? String)?.hasPrefix("<svg") == true)
        let codes = try #require(enrol.json["recovery_codes"] as? [String])
        #expect(codes.count == 10 && Set(codes).count == 10)
        // Pending: logging in still needs no code.
        #expect(try await Self.login(live, "tina").1.status == 200)

        #expect(try await c.send("POST", "/me/2fa/confirm", json: ["code": "000000"]).status == 422 || TOTP.code(secret: secret, step: TOTP.step(at: Time.now)) == "000000")
        let now = Time.now
        let code = TOTP.code(secret: secret, step: TOTP.step(at: now))
        let on = try await c.send("POST", "/me/2fa/confirm", json: ["code": code])
        #expect(on.status == 200 && on.json["enabled"] as? Bool == true && on.json["recovery_codes_left"] as? Int == 10, "\(on.text)")
        #expect(try await c.send("POST", "/me/2fa/enrol").status == 409, "a second enrolment while on")
        let tina = try #require(try live.store.user(username: "tina"))
        #expect(try live.store.twoFactor(userID: tina.id)?.pendingCodes == [], "recovery codes are kept only as hashes once on")

        let (_, noCode) = try await Self.login(live, "tina")
        #expect(noCode.status == 401 && Self.slug(noCode) == "two-factor-required", "\(noCode.text)")
        // The confirming code was used: it does not log in (replay).
        let (_, replay) = try await Self.login(live, "tina", code: code)
        #expect(replay.status == 401 && Self.slug(replay) == "two-factor-invalid", "\(replay.text)")
        // A code of the next step (an app a little ahead) works once.
        let next = TOTP.code(secret: secret, step: TOTP.step(at: now) + 1)
        #expect(try await Self.login(live, "tina", code: next).1.status == 200)
        #expect(try await Self.login(live, "tina", code: next).1.status == 401)

        let (rc, viaRecovery) = try await Self.login(live, "tina", recovery: codes[3].uppercased())
        #expect(viaRecovery.status == 200, "\(viaRecovery.text)")
        #expect(try await rc.get("/me/2fa").json["recovery_codes_left"] as? Int == 9)
        #expect(try await Self.login(live, "tina", recovery: codes[3]).1.status == 401, "a recovery code works once")

        // Off again with the password.
        #expect(try await rc.send("POST", "/me/2fa/disable", json: ["current_password": "wrong-password-9"]).status == 403)
        #expect(try await rc.send("POST", "/me/2fa/disable", json: ["current_password": "correct-horse-battery"]).status == 204)
        #expect(try await Self.login(live, "tina").1.status == 200)
    }

    @Test func anOrganisationCanRequireItOfItsAdmins() async throws {
        let live = try await LiveServer()
        let org = try await live.store.createOrganisation(name: "Strict", parentID: 1, now: 1)
        let below = try await live.store.createOrganisation(name: "Below", parentID: org.id, now: 1)
        _ = try await live.user("uma", role: .admin, org: below.id)
        _ = try await live.user("otto", role: .operator, org: below.id)
        let root = APIClient(port: live.server.httpPort, token: try await live.token(role: .superadmin, org: 1))
        let set = try await root.send("PUT", "/organisations/\(org.id)/two-factor", json: ["required_for_admins": true])
        #expect(set.status == 200 && set.json["required_for_admins"] as? Bool == true)
        #expect(try await root.get("/organisations/\(org.id)/two-factor").json["required_for_admins"] as? Bool == true)

        let (uma, answer) = try await Self.login(live, "uma")
        #expect(answer.status == 200 && answer.json["two_factor_enrolment_required"] as? Bool == true)
        let blocked = try await uma.get("/devices")
        #expect(blocked.status == 403 && Self.slug(blocked) == "two-factor-enrolment-required", "\(blocked.text)")
        #expect(try await uma.get("/me").status == 200)
        let page = try await uma.send("GET", "//devices")
        #expect(page.status == 303 && page.headers.first("Location") == "/account")
        let account = try await uma.send("GET", "//account")
        #expect(account.status == 200 && account.text.contains("id=\"two-factor-required\""))
        // Enrolling lifts the block.
        let enrolled = try await uma.send("POST", "/me/2fa/enrol").json["secret"] as? String
        let secret = try #require(Base32.decode(enrolled ?? "!"))
        #expect(try await uma.send("POST", "/me/2fa/confirm", json: ["code": TOTP.code(secret: secret, step: TOTP.step(at: Time.now))]).status == 200)
        #expect(try await uma.get("/devices").status == 200)
        // Operators are not concerned; API tokens are unchanged.
        let (otto, _) = try await Self.login(live, "otto")
        #expect(try await otto.get("/devices").status == 200)

        // Lost phone: an admin resets it, the user's sessions end, and the next login needs no code (then enrolment).
        let umaID = try #require(try live.store.user(username: "uma")).id
        #expect(try await root.send("GET", "//admin/users").text.contains("/api/v1/users/\(umaID)/reset-2fa"))
        #expect(try await root.send("GET", "//admin/organisations").text.contains("admins need two-factor"))
        #expect(try await root.send("POST", "/users/\(umaID)/reset-2fa").status == 204)
        #expect(try await uma.get("/me").status == 401)
        let (again, reply) = try await Self.login(live, "uma")
        #expect(reply.status == 200 && reply.json["two_factor_enrolment_required"] as? Bool == true)
        #expect(try await again.get("/devices").status == 403)
        let audit = try live.store.audit(AuditQuery())
        #expect(audit.contains { $0.action == "user.reset_2fa" } && audit.contains { $0.action == "organisation.two_factor" })
    }
}
