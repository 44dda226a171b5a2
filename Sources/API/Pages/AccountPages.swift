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
            <section class="card"><h2>Password</h2>\(form)</section></div>
            """)
    }
}
