import ACSCore
import GUI
import NetHTTP

/// Login (the form posts to POST /api/v1/auth/login) and the account page (password change via /api/v1/me/password).
enum AccountPages {
    static func login(_ ctx: RequestContext) async throws -> HTTPResponse {
        let next = PageKit.safeNext(ctx.query["next"])
        let body: Markup = """
            <div class="login card"><h1>Sign in to Corral</h1>
            \(PageKit.apiForm("/api/v1/auth/login", then: next, label: "Sign in", """
                <label for="username">Username<input id="username" name="username" autocomplete="username" required maxlength="64" autofocus></label>
                <label for="password">Password<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="256"></label>
                <label for="totp">Two-factor code <span class="muted">(if you set one up; or a recovery code)</span><input id="totp" name="totp_code" \
                inputmode="numeric" autocomplete="one-time-code" maxlength="16"></label>
                <button type="submit" id="signin">Sign in</button>
                """))
            <p class="muted">The first start of <code>corral serve</code> prints the password of the user <code>admin</code>;
            <code>corral user add</code> creates more.</p></div>
            """
        var r = PageKit.html(Layout.page(title: "Sign in", nav: [], user: nil, csrf: nil, body: body))
        r.headers.set("X-Frame-Options", "DENY")
        return r
    }

    static func account(_ ctx: RequestContext) async throws -> HTTPResponse {
        let me = ctx.me
        let form: Markup = me.token == nil ? PageKit.apiForm("/api/v1/me/password", then: "/login", label: "Change password", """
            <label for="cur">Current password<input id="cur" name="current_password" type="password" autocomplete="current-password" required></label>
            <label for="new">New password (10 or more characters)<input id="new" name="new_password" type="password" autocomplete="new-password" minlength="10" required></label>
            <button type="submit">Change password</button>
            <p class="muted">Changing the password signs out every session of this user.</p>
            """) : "<p>Signed in with an API token.</p>"
        return PageKit.page(ctx, "Account", section: "", """
            <h1>Account</h1><div class="grid">
            <section class="card"><h2>You</h2><dl class="kv"><dt>User</dt><dd>\(me.user.username)</dd><dt>Role</dt><dd>\(me.role.rawValue)</dd>
            <dt>Organisation</dt><dd>\(me.organisation.name)</dd></dl></section>
            <section class="card"><h2>Password</h2>\(form)</section>
            <section class="card" id="two-factor"><h2>Two-factor authentication</h2>\(try twoFactor(ctx))</section></div>
            """)
    }

    /// Off: a button to start. Pending: the QR code, the secret to type instead, the recovery codes, and the form
    /// that confirms with a first code. On: the codes left and a form to turn it off.
    static func twoFactor(_ ctx: RequestContext) throws -> Markup {
        guard ctx.me.token == nil else { return "<p>Signed in with an API token.</p>" }
        let status = try TwoFactorHandlers.status(of: ctx)
        let notice: Markup = status.required && !status.enabled
            ? "<p class=\"error\" id=\"two-factor-required\">Your organisation requires two-factor authentication for admins: set it up to continue.</p>" : .empty
        if status.enabled {
            return """
                <p id="two-factor-on">On. \(status.recoveryCodesLeft) recovery codes left.</p>
                \(PageKit.apiForm("/api/v1/me/2fa/disable", then: "/account", label: "Turn off two-factor", """
                    <label for="tf-cur">Current password<input id="tf-cur" name="current_password" type="password" autocomplete="current-password" required></label>
                    <button type="submit" class="danger">Turn off</button>
                    """))
                """
        }
        if status.pending, let record = try ctx.store.twoFactor(userID: ctx.me.user.id) {
            let e = TwoFactorHandlers.enrolment(record, user: ctx.me.user)
            return """
                \(notice)<p>Scan this with an authenticator app (or type the key), then enter the code it shows.</p>
                <div class="qr">\(Markup(raw: e.qrSvg))</div>
                <p>Key: <code id="totp-secret">\(e.secret)</code></p>
                <p>Recovery codes, each usable once if the phone is lost. Keep them somewhere safe: they are not shown again.</p>
                <ol id="recovery-codes">\(e.recoveryCodes.map { (c: String) -> Markup in "<li><code>\(c)</code></li>" })</ol>
                \(PageKit.apiForm("/api/v1/me/2fa/confirm", then: "/account", label: "Confirm two-factor", """
                    <label for="tf-code">Code from the app<input id="tf-code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="8" required></label>
                    <button type="submit" id="tf-confirm">Turn on</button>
                    """))
                """
        }
        return """
            \(notice)<p>Off. With it on, signing in also asks for a code from an authenticator app (TOTP).</p>
            \(PageKit.apiForm("/api/v1/me/2fa/enrol", then: "/account", label: "Set up two-factor", """
                <button type="submit" id="tf-start">Set up two-factor authentication</button>
                """))
            """
    }
}
