import ACSCore
import Foundation
import GUI
import NetHTTP
import Storage

/// /admin/profiles: the loaded device profiles, one profile's rules, aliases, desired values and KPIs, and (for
/// admins) its Lua source with a form that validates an edited or new file through the API. Validation never
/// installs: profiles are read from the profiles directory when `corral serve` starts.
enum ProfilePages {
    static func list(_ ctx: RequestContext) async throws -> HTTPResponse {
        let counts = Dictionary(try ctx.store.deviceCounts(by: .profile, under: ctx.me.organisation.path).map { ($0.key, $0.count) }, uniquingKeysWith: +)
        let rows: [Markup] = ctx.api.config.profiles.profiles.map { p in
            """
            <tr><td><a href="/admin/profiles/\(URLText.component(p.name))">\(p.name)</a></td><td>\(p.dataModel?.rawValue ?? "any")</td>\
            <td>\(p.source)</td><td>\(p.onboardingUsername)</td><td>\(p.informInterval) s</td><td>\(p.aliases.count)</td><td>\(p.kpis.count)</td>\
            <td><a href="/devices?profile=\(URLText.component(p.name))">\(counts[p.name] ?? 0)</a></td></tr>
            """
        }
        let template = """
            return profile {
              name = "my-router",
              extends = "generic-tr181",
              match = { oui = "001122", product_class = "R2" },
              aliases = { ["lte.sinr"] = "Device.Cellular.Interface.1.X_VENDOR_SINR" },
              kpis = { "lte.rssi", "lte.sinr" },
            }
            """
        return PageKit.page(ctx, "Profiles", section: "admin", """
            <h1>Profiles</h1><div class="tablewrap"><table id="profiles"><thead><tr><th>Name</th><th>Data model</th><th>File</th>\
            <th>Onboarding user</th><th>Inform interval</th><th>Aliases</th><th>KPIs</th><th>Devices</th></tr></thead>\
            <tbody>\(rows)</tbody></table></div>
            <p class="muted">Profiles are Lua files in the server's profiles directory (built-ins: generic-tr181, generic-tr098), loaded when \
            <code>corral serve</code> starts; <code>corral profile check</code> and <code>corral profile test</code> check them offline.</p>
            \(validateForm(ctx, file: "my-router.lua", script: template, heading: "Validate a new profile"))
            """)
    }

    static func show(_ ctx: RequestContext) async throws -> HTTPResponse {
        let p = try ProfileHandlers.profile(ctx)
        let count = try ctx.store.deviceCounts(by: .profile, under: ctx.me.organisation.path).first { $0.key == p.name }?.count ?? 0
        let m = p.match
        let rules: [Markup] = [("Manufacturer", m.manufacturer), ("OUI", m.oui), ("Product class", m.productClass), ("Model", m.model)]
            .filter { !$0.1.isEmpty }.map { "<dt>\($0.0)</dt><dd>\($0.1.joined(separator: ", "))</dd>" }
        let aliasRows: [Markup] = p.aliases.keys.sorted().map { a in
            "<tr><td><code>\(a)</code></td><td><code>\(p.path(for: a, kind: p.dataModel) ?? p.aliases[a] ?? "")</code></td><td>\(Markup.when(p.kpis.contains(a), "KPI"))</td></tr>"
        }
        let desiredRows: [Markup] = p.desired.map { d in
            "<tr><td><code>\(d.name)</code></td><td>\(ManagementPaths.isSecret(p.path(for: d.name, kind: p.dataModel) ?? d.name) ? "(hidden)" : d.value)</td><td>\(d.type?.rawValue ?? "")</td></tr>"
        }
        let source: Markup
        if ctx.me.has(.admin), let text = ctx.api.config.profileLibrary?.sourceText(of: p) {
            let file = p.source.hasPrefix("builtin:") ? String(p.source.dropFirst(8)) : p.source
            source = """
                <section class="card" aria-labelledby="h-source"><h2 id="h-source">Lua source (\(p.source))</h2>\
                <pre class="source" id="profile-source"><code>\(text)</code></pre></section>
                \(validateForm(ctx, file: file, script: text, heading: "Edit and validate"))
                """
        } else {
            source = .empty
        }
        return PageKit.page(ctx, "Profile \(p.name)", section: "admin", """
            <p><a href="/admin/profiles">« Profiles</a></p>
            <h1>Profile \(p.name)</h1>
            \(Markup.when(p.basicOverHTTP, "<p class=\"error\" id=\"basic-over-http\">This profile accepts Basic authentication over plain HTTP: its devices' passwords cross the network readable by anyone on the path. Serve CWMP over TLS and drop <code>basic_over_http</code> when the devices allow it.</p>"))
            <div class="grid">
            <section class="card" aria-labelledby="h-rules"><h2 id="h-rules">Matching and onboarding</h2><dl class="kv" id="profile-rules">
            <dt>Description</dt><dd>\(p.description)</dd><dt>File</dt><dd>\(p.source)</dd>
            <dt>Data model</dt><dd>\(p.dataModel?.rawValue ?? "any")</dd>\(rules)<dt>Priority</dt><dd>\(p.priority)</dd>
            <dt>Onboarding user</dt><dd>\(p.onboardingUsername.isEmpty ? "(none: onboarding off)" : p.onboardingUsername)</dd>
            <dt>Inform interval</dt><dd>\(p.informInterval) s</dd><dt>Re-read desired values after</dt><dd>\(p.verifyAfter) s</dd>
            <dt>CPE authentication</dt><dd>\(p.requireClientCertificate ? "client certificate required, then " : "")\(p.basicOverHTTP ? "Digest; Basic also over plain HTTP" : "Digest; Basic over TLS only")</dd>
            <dt>Re-bootstrap</dt><dd>\(p.rebootstrap.rawValue)</dd>
            <dt>Quirks</dt><dd id="profile-quirks">\(p.quirks.enabled.isEmpty ? "none" : p.quirks.enabled.joined(separator: ", "))</dd>
            <dt>Hooks</dt><dd>\(p.hooks.isEmpty ? "none" : p.hooks.joined(separator: ", "))</dd>
            <dt>Devices</dt><dd><a href="/devices?profile=\(URLText.component(p.name))">\(count)</a></dd></dl></section>
            <section class="card" aria-labelledby="h-desired"><h2 id="h-desired">Desired values</h2>\
            \(desiredRows.isEmpty ? Markup("<p class=\"muted\">None.</p>") : """
            <div class="tablewrap"><table id="profile-desired"><thead><tr><th>Name</th><th>Value</th><th>Type</th></tr></thead><tbody>\(desiredRows)</tbody></table></div>
            """)</section>
            </div>
            <section class="card" aria-labelledby="h-aliases"><h2 id="h-aliases">Aliases</h2>\
            <div class="tablewrap"><table id="profile-aliases"><thead><tr><th>Alias</th><th>Path</th><th>Sampled</th></tr></thead><tbody>\
            \(aliasRows.isEmpty ? [Markup("<tr><td colspan=\"3\" class=\"muted\">No aliases.</td></tr>")] : aliasRows)</tbody></table></div></section>
            \(source)
            """)
    }

    /// A form that sends a candidate file to POST /api/v1/profiles/validate (admins only; nothing is installed).
    static func validateForm(_ ctx: RequestContext, file: String, script: String, heading: String) -> Markup {
        guard ctx.can("profile.validate") else { return .empty }
        return """
            <section class="card" aria-labelledby="h-validate"><h2 id="h-validate">\(heading)</h2>
            \(PageKit.apiForm("/api/v1/profiles/validate", cls: "stack", label: heading, """
            <label for="v-file">File name<input id="v-file" name="file" value="\(file)" maxlength="64" required pattern="[A-Za-z0-9._-]+\\.lua"></label>
            <label for="v-script">Lua<textarea id="v-script" name="script" rows="16" spellcheck="false" class="code">\(script)</textarea></label>
            <div class="row"><button type="submit" id="validate-profile">Validate</button>\
            \(Markup.when(ctx.can("script.profile_put"), "<button type=\"submit\" class=\"secondary\" id=\"save-profile\" data-api=\"/api/v1/scripts/profiles/{file}\" data-method=\"PUT\">Save and load</button>"))</div>
            """))
            <p class="muted">Validate checks it in the sandbox next to the loaded profiles (so <code>extends</code> works) and installs nothing. \
            Save and load (superadmins) validates it the same way, writes it to the profiles directory and loads it: the next sessions
            run it; every saved version is kept (Admin → Automations → History).</p></section>
            """
    }
}
