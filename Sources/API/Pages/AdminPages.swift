import ACSCore
import Foundation
import GUI
import NetHTTP
import Storage

/// Admin: organisations, users, tokens, files, audit log (profiles: ProfilePages). Lists come from the store through the
/// caller's subtree; every form goes to the matching API route.
enum AdminPages {
    static func index(_ ctx: RequestContext) async throws -> HTTPResponse {
        let links: [(String, String, String, String)] = [
            ("Organisations", "/admin/organisations", "gui.organisations", "The organisation tree; create, rename, delete."),
            ("Users and roles", "/admin/users", "gui.users", "Accounts, roles, disabling."),
            ("API tokens", "/admin/tokens", "gui.tokens", "Tokens for automation; shown once at creation."),
            ("Files", "/admin/files", "gui.files", "Firmware and configuration files CPEs download."),
            ("Profiles", "/admin/profiles", "gui.profiles", "Device profiles and their onboarding settings."),
            ("Campaigns", "/admin/campaigns", "gui.campaigns", "Fleet-wide changes in waves: dry run, start, pause, cancel."),
            ("Reports", "/admin/reports", "gui.reports", "Library and ad-hoc Lua reports, as a table or CSV."),
            ("Automations", "/admin/automations", "gui.automations", "Lua handlers of events, schedules and alert rules."),
            ("Audit log", "/admin/audit", "gui.audit", "Every change, who made it, before and after."),
        ]
        let items: [Markup] = links.filter { ctx.can($0.2) }.map { t, href, _, text in
            "<li><a href=\"\(href)\">\(t)</a> — <span class=\"muted\">\(text)</span></li>"
        }
        return PageKit.page(ctx, "Admin", section: "admin", "<h1>Admin</h1><section class=\"card\"><ul class=\"stack\">\(items)</ul></section>")
    }

    // MARK: automations

    static func automations(_ ctx: RequestContext) async throws -> HTTPResponse {
        let all = ctx.api.config.automations?.statuses ?? []
        let rows: [Markup] = all.map { a in
            """
            <tr><td><code>\(a.file)</code></td><td>\(a.handlers.isEmpty ? Markup("<span class=\"muted\">none</span>") : Markup("\(a.handlers.joined(separator: "; "))"))</td>\
            <td>\(a.alerts.isEmpty ? Markup("<span class=\"muted\">none</span>") : Markup("\(a.alerts.joined(separator: "; "))"))</td>\
            <td>\(a.problems.isEmpty ? Markup("running") : Markup("<span class=\"error\">\(a.problems.joined(separator: "; "))</span>"))</td></tr>
            """
        }
        return PageKit.page(ctx, "Automations", section: "admin", """
            <h1>Automations</h1>
            <p class="muted">Files in the automations directory (<code>scripts/automations</code>, or <code>automations_dir</code>), loaded when
            <code>corral serve</code> starts: <code>on(event, [filter], function(dev, event))</code>, <code>every(interval or cron, function())</code>
            and <code>alert{name, when or offline, for, severity}</code> (their alerts: <a href="/alerts">Alerts</a>).</p>
            <div class="tablewrap"><table id="automations"><thead><tr><th>File</th><th>Handlers</th><th>Alert rules</th><th>State</th></tr></thead><tbody>\
            \(rows.isEmpty ? [Markup("<tr><td colspan=\"4\" class=\"muted\">No automation files.</td></tr>")] : rows)</tbody></table></div>
            \(reloadCard(ctx))
            """)
    }

    /// Reload and history, for superadmins: files are reloaded when they change (and on SIGHUP); this does it now.
    static func reloadCard(_ ctx: RequestContext) -> Markup {
        guard ctx.can("script.reload"), let r = ctx.api.config.reloader else { return .empty }
        let last: Markup = r.lastReload.map { l in
            """
            <p id="last-reload">Last reload \(Layout.ago(l.at, now: Time.now, iso: Time.iso(l.at))) by \(l.by): \
            \(l.outcome.accepted ? (l.outcome.changed.isEmpty ? "nothing changed" : "loaded \(l.outcome.changed.joined(separator: ", "))") : "refused")\
            \(l.outcome.problems.isEmpty ? "" : " (\(l.outcome.problems.joined(separator: "; ")))")</p>
            """
        } ?? "<p class=\"muted\" id=\"last-reload\">No reload since the start.</p>"
        return """
            <section class="card" aria-labelledby="h-reload"><h2 id="h-reload">Reload</h2>
            <p class="muted">Profiles (<code>\(r.profilesDirectory ?? "built-in only")</code>) and automation files (<code>\(r.automationsDirectory ?? "none")</code>)
            are reloaded when they change and on SIGHUP; nothing is installed unless it validates. Every accepted version is kept:
            <a href="/admin/script-versions">History</a>.</p>
            \(last)
            \(PageKit.apiForm("/api/v1/scripts/reload", then: "reload", cls: "inline", "<button type=\"submit\" id=\"reload-scripts\">Reload now</button>"))
            </section>
            """
    }

    // MARK: script versions

    static func scriptVersions(_ ctx: RequestContext) async throws -> HTTPResponse {
        let rows: [Markup] = try ctx.store.scriptVersions(kind: nil, name: ctx.query["name"], beforeID: nil, limit: 200).map { v in
            """
            <tr><td>\(v.kind.rawValue)</td><td><a href="/admin/script-versions/\(v.id)"><code>\(v.name)</code></a></td>\
            <td>\(Layout.ago(v.createdAt, now: Time.now, iso: Time.iso(v.createdAt)))</td><td>\(v.createdBy)</td>\
            <td>\(v.text.isEmpty ? "removed" : "\(v.text.utf8.count) bytes")</td></tr>
            """
        }
        return PageKit.page(ctx, "Script history", section: "admin", """
            <p><a href="/admin/automations">« Automations</a></p>
            <h1>Script history</h1>
            <p class="muted">Every accepted version of the profile and automation files, newest first.</p>
            <div class="tablewrap"><table id="script-versions"><thead><tr><th>Kind</th><th>File</th><th>When</th><th>By</th><th>Size</th></tr></thead><tbody>\
            \(rows.isEmpty ? [Markup("<tr><td colspan=\"5\" class=\"muted\">No versions yet.</td></tr>")] : rows)</tbody></table></div>
            """)
    }

    static func scriptVersion(_ ctx: RequestContext) async throws -> HTTPResponse {
        let v = try ScriptHandlers.version(ctx, try ctx.pathID())
        let previous = try ctx.store.previousScriptVersion(of: v)
        let lines: [Markup] = LineDiff.unified(previous?.text ?? "", v.text).split(separator: "\n", omittingEmptySubsequences: false).map { l in
            let cls = l.hasPrefix("+") ? "add" : l.hasPrefix("-") ? "del" : l.hasPrefix("@@") ? "hunk" : ""
            return "<span class=\"\(cls)\">\(l)</span>\n"
        }
        return PageKit.page(ctx, "\(v.name) version \(v.id)", section: "admin", """
            <p><a href="/admin/script-versions?name=\(URLText.component(v.name))">« History of \(v.name)</a></p>
            <h1>\(v.kind.rawValue) <code>\(v.name)</code></h1>
            <p>\(Layout.ago(v.createdAt, now: Time.now, iso: Time.iso(v.createdAt))) by \(v.createdBy)\
            \(previous.map { Markup(" — changes since the version of \(Time.iso($0.createdAt) ?? "")") } ?? " — the first version")</p>
            <section class="card" aria-labelledby="h-diff"><h2 id="h-diff">Changes</h2><pre class="source diff" id="script-diff"><code>\(lines)</code></pre></section>
            <section class="card" aria-labelledby="h-text"><h2 id="h-text">Text</h2><pre class="source"><code>\(v.text)</code></pre></section>
            """)
    }

    // MARK: organisations

    static func organisations(_ ctx: RequestContext) async throws -> HTTPResponse {
        let orgs = try ctx.store.organisations(under: ctx.me.organisation.path)
        let counts = Dictionary(try ctx.store.deviceCounts(by: .organisation, under: ctx.me.organisation.path).map { (Int64($0.key) ?? 0, $0.count) },
                                uniquingKeysWith: +)
        let children = Dictionary(grouping: orgs, by: { $0.parentID ?? 0 })
        let canChange = ctx.can("organisation.update")
        let requiring = try ctx.store.organisationsRequiringAdminTwoFactor()
        func render(_ o: Organisation, depth: Int) -> Markup {
            let kids = (children[o.id] ?? []).sorted { $0.name < $1.name }
            let changeable = canChange && (o.id != ctx.me.organisation.id || ctx.me.role == .superadmin) && o.id != Organisation.rootID
            let forms: Markup = changeable ? """
                \(PageKit.apiForm("/api/v1/organisations/\(o.id)", method: "PATCH", then: "reload", cls: "inline", label: "Rename \(o.name)", """
                <input name="name" value="\(o.name)" aria-label="New name of \(o.name)" size="12" required><button type="submit" class="secondary">Rename</button>
                """))\(PageKit.apiForm("/api/v1/organisations/\(o.id)", method: "DELETE", confirm: "Delete \(o.name)? Only empty organisations can be deleted.",
                                      then: "reload", cls: "inline", "<button type=\"submit\" class=\"link\">Delete</button>"))
                """ : .empty
            let required = requiring.contains(o.id)
            let twoFactor: Markup = canChange && (o.id != ctx.me.organisation.id || ctx.me.role == .superadmin)
                ? PageKit.apiForm("/api/v1/organisations/\(o.id)/two-factor", method: "PUT", body: required ? #"{"required_for_admins":false}"# : #"{"required_for_admins":true}"#,
                                  then: "reload", cls: "inline", "<button type=\"submit\" class=\"link\">\(required ? "Stop requiring two-factor" : "Require two-factor for admins")</button>")
                : .empty
            return """
                <li><a href="/devices?organisation_id=\(o.id)">\(o.name)</a> <span class="muted">\(counts[o.id] ?? 0) devices\(required ? " · admins need two-factor" : "")</span> \(forms)\(twoFactor)\
                \(kids.isEmpty ? Markup.empty : "<ul>\(kids.map { render($0, depth: depth + 1) })</ul>")</li>
                """
        }
        let top = orgs.filter { $0.id == ctx.me.organisation.id }
        let create: Markup = ctx.can("organisation.create") ? """
            <section class="card"><h2>New organisation</h2>\(PageKit.apiForm("/api/v1/organisations", then: "reload", cls: "row", label: "New organisation", """
            <label for="o-name">Name<input id="o-name" name="name" required maxlength="100"></label>
            <label for="o-parent">Parent\(try PageKit.organisationSelect(ctx, name: "parent_id", id: "o-parent", selected: ctx.me.organisation.id, any: false))</label>
            <button type="submit">Create</button>
            """))</section>
            """ : .empty
        return PageKit.page(ctx, "Organisations", section: "admin", """
            <h1>Organisations</h1><div class="grid"><section class="card"><h2>Tree</h2><ul id="org-tree">\(top.map { render($0, depth: 0) })</ul></section>\(create)</div>
            """)
    }

    static func roleSelect(_ name: String, id: String, selected: Role, upTo: Role, label: String? = nil) -> Markup {
        let opts: [Markup] = Role.allCases.filter { $0 <= upTo }.map { r in
            "<option\(Markup.when(r == selected, " selected"))>\(r.rawValue)</option>"
        }
        return "<select name=\"\(name)\" id=\"\(id)\"\(Markup.when(label != nil, " aria-label=\"\(label ?? "")\""))>\(opts)</select>"
    }

    // MARK: users and tokens

    static func users(_ ctx: RequestContext) async throws -> HTTPResponse {
        let users = try ctx.store.users(under: ctx.me.organisation.path)
        let names = try PageKit.organisationNames(ctx)
        let withTwoFactor = try ctx.store.usersWithTwoFactor()
        let rows: [Markup] = users.map { u in
            let mine = u.id == ctx.me.user.id
            let manage: Markup = mine ? "<span class=\"muted\">you</span>" : """
                \(PageKit.apiForm("/api/v1/users/\(u.id)", method: "PATCH", cls: "inline", label: "Role of \(u.username)", """
                \(roleSelect("role", id: "role-\(u.id)", selected: u.role, upTo: ctx.me.role, label: "Role of \(u.username)"))<button type="submit" class="secondary">Set role</button>
                """))\(PageKit.apiForm("/api/v1/users/\(u.id)", method: "PATCH", body: u.disabled ? #"{"disabled":false}"# : #"{"disabled":true}"#, then: "reload",
                                      cls: "inline", "<button type=\"submit\" class=\"secondary\">\(u.disabled ? "Enable" : "Disable")</button>"))\
                \(PageKit.apiForm("/api/v1/users/\(u.id)", method: "DELETE", confirm: "Delete user \(u.username)?", then: "reload", cls: "inline",
                                  "<button type=\"submit\" class=\"link\">Delete</button>"))\
                \(Markup.when(withTwoFactor.contains(u.id), PageKit.apiForm("/api/v1/users/\(u.id)/reset-2fa", confirm: "Turn off two-factor of \(u.username) and sign it out?",
                                  then: "reload", cls: "inline", "<button type=\"submit\" class=\"link\">Reset two-factor</button>")))
                """
            return """
                <tr><td>\(u.username)</td><td>\(u.role.rawValue)</td><td>\(names[u.organisationID] ?? "")</td><td>\(u.disabled ? "disabled" : "active")</td>\
                <td>\(withTwoFactor.contains(u.id) ? "on" : "off")</td><td>\(manage)</td></tr>
                """
        }
        return PageKit.page(ctx, "Users", section: "admin", """
            <h1>Users and roles</h1>
            <div class="tablewrap"><table id="users"><thead><tr><th>User</th><th>Role</th><th>Organisation</th><th>State</th><th>Two-factor</th><th>Manage</th></tr></thead><tbody>\(rows)</tbody></table></div>
            <section class="card"><h2>New user</h2>\(PageKit.apiForm("/api/v1/users", then: "reload", cls: "row", label: "New user", """
            <label for="u-name">Username<input id="u-name" name="username" required maxlength="64" autocomplete="off"></label>
            <label for="u-pass">Password (10+ characters)<input id="u-pass" name="password" type="password" minlength="10" required autocomplete="new-password"></label>
            <label for="u-role">Role\(roleSelect("role", id: "u-role", selected: .viewer, upTo: ctx.me.role))</label>
            <label for="u-org">Organisation\(try PageKit.organisationSelect(ctx, name: "organisation_id", id: "u-org", selected: ctx.me.organisation.id, any: false))</label>
            <button type="submit">Create user</button>
            """))</section>
            """)
    }

    static func tokens(_ ctx: RequestContext) async throws -> HTTPResponse {
        let tokens = try ctx.store.tokens(under: ctx.me.organisation.path)
        let now = Time.now
        let rows: [Markup] = tokens.map { t in
            let state = t.revokedAt > 0 ? "revoked" : t.isUsable(now: now) ? "active" : "expired"
            let revoke: Markup = t.revokedAt == 0 ? PageKit.apiForm("/api/v1/tokens/\(t.id)", method: "DELETE", confirm: "Revoke token \(t.name)?", then: "reload",
                                                                    cls: "inline", "<button type=\"submit\" class=\"link\">Revoke</button>") : .empty
            return """
                <tr><td>\(t.name)</td><td><code>\(t.prefix)…</code></td><td>\(t.role.rawValue)</td><td>\(state)</td>\
                <td>\(Time.iso(t.expiresAt) ?? "never")</td><td>\(Time.iso(t.lastUsedAt) ?? "never")</td><td>\(revoke)</td></tr>
                """
        }
        return PageKit.page(ctx, "API tokens", section: "admin", """
            <h1>API tokens</h1>
            <div class="tablewrap"><table id="tokens"><thead><tr><th>Name</th><th>Prefix</th><th>Role</th><th>State</th><th>Expires</th><th>Last used</th><th></th></tr></thead>\
            <tbody>\(rows)</tbody></table></div>
            <section class="card"><h2>New token</h2>\(PageKit.apiForm("/api/v1/tokens", cls: "row", label: "New token", """
            <label for="t-name">Name<input id="t-name" name="name" required maxlength="64"></label>
            <label for="t-role">Role\(roleSelect("role", id: "t-role", selected: .viewer, upTo: ctx.me.role))</label>
            <label for="t-days">Expires in days<input id="t-days" name="expires_in_days" type="number" min="1" max="365" value="90" data-kind="int"></label>
            <button type="submit">Create token</button>
            """))<p class="muted">The token is shown once, below the button; only its hash is stored.</p></section>
            """)
    }

    // MARK: files

    static func files(_ ctx: RequestContext) async throws -> HTTPResponse {
        let files = try ctx.store.files(under: ctx.me.organisation.path)
        let canDelete = ctx.can("file.delete")
        let rows: [Markup] = files.map { f in
            let del: Markup = canDelete ? PageKit.apiForm("/api/v1/files/\(f.id)", method: "DELETE", confirm: "Delete \(f.name)?", then: "reload", cls: "inline",
                                                          "<button type=\"submit\" class=\"link\">Delete</button>") : .empty
            return """
                <tr><td>\(f.name)</td><td>\(f.fileType)</td><td>\(PageKit.bytes(f.size))</td><td><code>\(String(f.sha256.prefix(16)))…</code></td>\
                <td>\(f.uploadedBy)</td><td>\(Time.iso(f.createdAt) ?? "")</td><td>\(del)</td></tr>
                """
        }
        let upload: Markup = ctx.can("file.upload") ? """
            <section class="card"><h2>Upload</h2><form data-upload class="row" aria-label="Upload a file">
            <label for="f-file">File<input id="f-file" type="file" required></label>
            <label for="f-name">Name CPEs see (optional)<input id="f-name" name="name" maxlength="128" pattern="[A-Za-z0-9._-]+"></label>
            <label for="f-type">Type<select id="f-type" name="file_type"><option>firmware</option><option>config</option><option>web-content</option></select></label>
            <button type="submit">Upload</button><output></output></form>
            <p class="muted">The browser sends the file's SHA-256; the server checks it.</p></section>
            """ : .empty
        return PageKit.page(ctx, "Files", section: "admin", """
            <h1>Files</h1><div class="tablewrap"><table id="files"><thead><tr><th>Name</th><th>Type</th><th>Size</th><th>SHA-256</th><th>By</th><th>Uploaded</th><th></th></tr></thead>\
            <tbody>\(rows.isEmpty ? "<tr><td colspan=\"7\" class=\"muted\">No files.</td></tr>" : rows.joined())</tbody></table></div>\(upload)
            """)
    }

    static func campaigns(_ ctx: RequestContext) async throws -> HTTPResponse { try await CampaignPages.campaigns(ctx) }
    static func reports(_ ctx: RequestContext) async throws -> HTTPResponse { try await CampaignPages.reports(ctx) }

    // MARK: audit

    static func audit(_ ctx: RequestContext) async throws -> HTTPResponse {
        if let clean = PageKit.withoutEmptyFilters(ctx) { return clean }
        let limit = 50
        let rows = try ctx.store.audit(try AuditHandlers.query(ctx, limit: limit))
        let q = ctx.query
        let body: [Markup] = rows.map { e in
            """
            <tr><td>\(Time.iso(e.at) ?? "")</td><td>\(e.actor)</td><td>\(e.action)</td><td>\(e.objectType) \(e.objectID)</td><td>\(e.status)</td>\
            <td>\(e.remote)</td><td class="wrap"><code>\(String((e.after ?? e.before ?? "").prefix(160)))</code></td></tr>
            """
        }
        let filters = [("actor", q["actor"] ?? ""), ("action", q["action"] ?? "")]
        let older: Markup = rows.count == limit ? "<a class=\"button secondary\" href=\"/admin/audit?\(URLText.query(filters + [("cursor", String(rows.last!.id))]))\">Older »</a>" : .empty
        return PageKit.page(ctx, "Audit log", section: "admin", """
            <h1>Audit log</h1>
            <form class="filters" method="get" action="/admin/audit" role="search" aria-label="Filter the audit log">
            <label for="a-actor">Actor<input id="a-actor" name="actor" value="\(q["actor"] ?? "")"></label>
            <label for="a-action">Action<input id="a-action" name="action" value="\(q["action"] ?? "")" placeholder="task.create"></label>
            <button type="submit">Apply</button> <a class="button secondary" href="/api/v1/audit/export?\(URLText.query(filters))">Export CSV</a></form>
            <div class="tablewrap"><table id="audit"><thead><tr><th>When (UTC)</th><th>Actor</th><th>Action</th><th>Object</th><th>Status</th><th>From</th><th>Change</th></tr></thead>\
            <tbody>\(body)</tbody></table></div><div class="pager">\(Markup.when(q["cursor"] != nil, "<a class=\"button secondary\" href=\"/admin/audit\">« Newest</a>"))\(older)</div>
            """)
    }
}
