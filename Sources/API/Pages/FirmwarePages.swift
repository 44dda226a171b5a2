import ACSCore
import Foundation
import GUI
import NetHTTP
import Storage

/// /firmware (issue 14): the images and rollouts of the caller's subtree, and one rollout's waves and failures,
/// refreshed live while it runs. Uploads, starts and pause / resume / cancel / roll back are sent by corral.js to the
/// API routes (same permission, CSRF and audit); a rollout outside the subtree is "not found", as in the API.
enum FirmwarePages {
    // MARK: images and rollouts

    static func list(_ ctx: RequestContext) async throws -> HTTPResponse {
        if PageKit.part(ctx) == "rollouts" { return PageKit.html(try rolloutRows(ctx)) }
        // The store lists oldest first; newest first here, as GET /api/v1/firmware does.
        let images = Array(try ctx.store.files(under: ctx.me.organisation.path).filter(\.isFirmware).reversed())
        let rows: [Markup] = images.map { f in
            let parts: [String] = [f.targetProfile.isEmpty ? "" : "profile " + f.targetProfile, f.targetModel.isEmpty ? "" : "model " + f.targetModel]
            let target = parts.filter { !$0.isEmpty }.joined(separator: ", ")
            let notes: Markup = f.notes.isEmpty ? .empty : "<br><span class=\"muted\">\(f.notes)</span>"
            return """
                <tr><td class="wrap">\(f.version)\(notes)</td><td>\(f.name)</td><td>\(PageKit.bytes(f.size))</td><td>\(target.isEmpty ? "any" : target)</td>\
                <td><code>\(String(f.sha256.prefix(16)))…</code></td><td>\(f.uploadedBy)<br><span class="muted">\(Time.iso(f.createdAt) ?? "")</span></td></tr>
                """
        }
        var versions: [String] = []
        for f in images where !versions.contains(f.version) { versions.append(f.version) }
        return PageKit.page(ctx, "Firmware", section: "firmware", """
            <h1>Firmware</h1>
            <section class="card"><h2>Images</h2><div class="tablewrap"><table id="firmware-images"><thead><tr><th>Version</th><th>File</th>\
            <th>Size</th><th>For</th><th>SHA-256</th><th>Uploaded (UTC)</th></tr></thead>\
            <tbody>\(rows.isEmpty ? "<tr><td colspan=\"6\" class=\"muted\">No firmware images yet.</td></tr>" : rows.joined())</tbody></table></div>\
            \(uploadForm(ctx))</section>
            <section class="card"><h2>Rollouts</h2><div class="tablewrap"><table id="firmware-rollouts"><thead><tr><th>#</th><th>Version</th>\
            <th>Target</th><th>State</th><th>Progress</th><th>Upgraded / failed / total</th><th>Wave</th><th>Started (UTC)</th></tr></thead>\
            <tbody data-poll="/firmware?part=rollouts" data-every="5" data-live="rollout.*,firmware.*" data-live-every="10">\(try rolloutRows(ctx))</tbody></table></div></section>
            \(try startForm(ctx, versions: versions))
            """)
    }

    /// The files page's upload mechanism (corral.js `form[data-upload]`: raw body, SHA-256 header), sent to the
    /// URL in the attribute with the form's named fields as the query.
    static func uploadForm(_ ctx: RequestContext) -> Markup {
        guard ctx.can("firmware.add") else { return .empty }
        let profiles: [Markup] = ctx.api.config.profiles.profiles.map { p in "<option value=\"\(p.name)\">\(p.name)</option>" }
        return """
            <h3>Add an image</h3><form data-upload="/api/v1/firmware" data-then="reload" id="firmware-upload" class="row" aria-label="Add a firmware image">
            <label for="fw-file">Image<input id="fw-file" type="file" required></label>
            <label for="fw-version">Version (as devices report it)<input id="fw-version" name="version" required maxlength="\(FirmwareRelease.maxVersion)"></label>
            <label for="fw-name">Name CPEs see (optional)<input id="fw-name" name="name" maxlength="128" pattern="[A-Za-z0-9._-]+"></label>
            <label for="fw-profile">For profile<select id="fw-profile" name="profile"><option value="">any</option>\(profiles)</select></label>
            <label for="fw-model">For model (optional, * allowed)<input id="fw-model" name="model" maxlength="64" placeholder="R1*"></label>
            <label for="fw-notes">Notes<input id="fw-notes" name="notes" maxlength="\(FirmwareRelease.maxNotes)"></label>
            <button type="submit">Upload</button><output></output></form>
            <p class="muted">The browser sends the file's SHA-256; the server checks it. The same file is stored once.</p>
            """
    }

    static func rolloutRows(_ ctx: RequestContext) throws -> Markup {
        let list = try ctx.store.rollouts(under: ctx.me.organisation.path, limit: 100)
        guard !list.isEmpty else { return "<tr><td colspan=\"8\" class=\"muted\">No rollouts yet.</td></tr>" }
        return try list.map { r -> Markup in
            let v = try RolloutHandlers.view(r, ctx)
            return """
                <tr data-rollout="\(r.id)"><td><a href="/firmware/rollouts/\(r.id)">#\(r.id)</a></td><td>\(r.version)</td>\
                <td class="wrap">\(r.target.isEmpty ? "every device" : r.target)</td><td>\(state(r))</td><td>\(bar(v))</td>\
                <td>\(v.upgraded) / \(v.failed) / \(v.total)</td><td>\(min(v.currentWave, r.waves.count)) of \(r.waves.count)</td>\
                <td>\(r.createdBy)<br><span class="muted">\(Time.iso(r.createdAt) ?? "")</span></td></tr>
                """
        }.joined()
    }

    /// Numbers go through `data-kind="int"` (corral.js sends `Number(value)`, so 0.05 stays a fraction).
    static func startForm(_ ctx: RequestContext, versions: [String]) throws -> Markup {
        guard ctx.can("rollout.create") else { return .empty }
        guard !versions.isEmpty else { return "<p class=\"muted\">Add an image to start a rollout.</p>" }
        let options: [Markup] = versions.map { v in "<option value=\"\(v)\">\(v)</option>" }
        return """
            <section class="card"><h2>Start a rollout</h2>\(PageKit.apiForm("/api/v1/rollouts", confirm: "Start this rollout on every device the target matches?",
                                                                             cls: "row", label: "Start a rollout", id: "rollout-start", """
            <label for="ro-version">Version<select id="ro-version" name="version">\(options)</select></label>
            <label for="ro-target">Target (empty: every device)<input id="ro-target" name="target" maxlength="1000" size="26" placeholder="model=R1 group=pilot"></label>
            <label for="ro-org">Organisation\(try PageKit.organisationSelect(ctx, name: "organisation_id", id: "ro-org", selected: ctx.me.organisation.id, any: false))</label>
            <label for="ro-waves">Waves<input id="ro-waves" name="waves" value="10%,50%,100%" required size="14"></label>
            <label for="ro-window">Daily window (optional)<input id="ro-window" name="window" placeholder="01:00-05:00" size="11" data-kind="optional"></label>
            <label for="ro-tz">Time zone<input id="ro-tz" name="timezone" value="UTC" required size="16"></label>
            <label for="ro-rate">Stop above failure rate<input id="ro-rate" name="max_failure_rate" type="number" min="0" max="1" step="any" value="0.05" required data-kind="int"></label>
            <label for="ro-concurrency">Downloading at once<input id="ro-concurrency" name="concurrency" type="number" min="1" max="10000" step="1" value="50" required data-kind="int"></label>
            <button type="submit" class="danger">Start</button>
            """))<p class="muted">Target: <code>key=value</code> terms, all of which must hold (profile, model, software_version, manufacturer, group,
            tag, location, status, text); the image's profile and model narrow it further. Devices already on the version are skipped.
            Waves are cumulative percentages; the window is daily, in the time zone (an IANA name such as Europe/Paris).</p></section>
            """
    }

    static func state(_ r: Rollout) -> Markup {
        let reason: Markup = r.reason.isEmpty ? .empty : "<br><span class=\"muted\">\(r.reason)</span>"
        return "\(Layout.status(r.state.rawValue))\(reason)"
    }

    static func bar(_ v: RolloutHandlers.RolloutView) -> Markup {
        """
        <progress max="100" value="\(v.percent)" aria-label="Progress of rollout \(v.id)">\(v.percent) %</progress> <span class="pct">\(v.percent) %</span>
        """
    }

    // MARK: one rollout

    static func rollout(_ ctx: RequestContext) async throws -> HTTPResponse {
        let r = try RolloutHandlers.rollout(ctx)
        let body = try summary(ctx, r)
        if PageKit.part(ctx) == "live" { return PageKit.html(body) }
        // Only a running or paused rollout changes by itself (sent devices still resolve while paused).
        let poll: Markup = r.state == .running || r.state == .paused ? " data-poll=\"/firmware/rollouts/\(r.id)?part=live\" data-every=\"3\" data-live=\"rollout.*,firmware.*\" data-live-every=\"10\"" : .empty
        let waves: String = r.waves.map { String($0) + " %" }.joined(separator: ", ")
        let window: String = r.window.map { $0.text + " (" + r.timeZone + ")" } ?? "any time"
        let stop: String = r.maxFailureRate >= 1 ? "none" : "more than \(String(format: "%g", r.maxFailureRate * 100)) % of the attempted devices failed"
        var back: Markup = .empty
        if let id = r.rollbackOf { back = "<dt>Rollback of</dt><dd><a href=\"/firmware/rollouts/\(id)\">#\(id)</a></dd>" }
        return PageKit.page(ctx, "Rollout #\(r.id)", section: "firmware", """
            <p><a href="/firmware">« Firmware</a></p>
            <h1>Rollout #\(r.id): \(r.version)</h1>
            <div id="rollout-live"\(poll)>\(body)</div>
            <section class="card"><h2>Settings</h2><dl class="kv"><dt>Target</dt><dd>\(r.target.isEmpty ? "every device" : r.target)</dd>\
            <dt>Waves</dt><dd>\(waves)</dd><dt>Window</dt><dd>\(window)</dd><dt>Stop rule</dt><dd>\(stop)</dd>\
            <dt>Concurrency</dt><dd>\(r.concurrency) downloading at once</dd><dt>Started</dt><dd>\(Time.iso(r.createdAt) ?? "") by \(r.createdBy)</dd>\(back)</dl></section>
            """)
    }

    /// What changes while the rollout runs: state, progress, the controls the state allows, waves, failures.
    static func summary(_ ctx: RequestContext, _ r: Rollout) throws -> Markup {
        let v = try RolloutHandlers.view(r, ctx, failures: true)
        let actions = controls(ctx, r, upgraded: v.upgraded)
        let waves: [Markup] = v.byWave.map { w in
            """
            <tr><td>\(w.wave)</td><td>\(w.percent) %</td><td>\(w.total)</td><td>\(w.upgraded)</td><td>\(w.failed)</td><td>\(w.sent)</td>\
            <td>\(w.pending)</td><td>\(w.skipped)</td><td>\(w.cancelled)</td></tr>
            """
        }
        let failed = v.failures ?? []
        let failures: [Markup] = failed.map { f in
            let device: Markup = f.device.isEmpty ? "device \(f.deviceId) (deleted)" : "<a href=\"/devices/\(f.deviceId)\">\(f.device)</a>"
            return "<tr><td>\(device)</td><td class=\"wrap\">\(f.reason)</td><td>\(f.previousVersion)</td></tr>"
        }
        let rate = String(format: "%.1f %%", v.failureRate * 100)
        return """
            <section class="card"><h2>Progress</h2><dl class="kv" id="rollout-progress"><dt>State</dt><dd>\(state(r))</dd><dt>Progress</dt><dd>\(bar(v))</dd>\
            <dt>Devices</dt><dd>\(v.total): upgraded \(v.upgraded) · failed \(v.failed) · downloading \(v.sent) · pending \(v.pending) · skipped \(v.skipped) · cancelled \(v.cancelled)</dd>\
            <dt>Wave</dt><dd>\(min(v.currentWave, r.waves.count)) of \(r.waves.count)</dd><dt>Failure rate</dt><dd>\(rate)</dd>\
            \(Markup.when(actions != .empty, "<dt>Actions</dt><dd class=\"actions\">\(actions)</dd>"))</dl></section>
            <h2>Waves</h2><div class="tablewrap"><table id="rollout-waves"><thead><tr><th>Wave</th><th>Up to</th><th>Devices</th><th>Upgraded</th>\
            <th>Failed</th><th>Downloading</th><th>Pending</th><th>Skipped</th><th>Cancelled</th></tr></thead><tbody>\(waves)</tbody></table></div>
            <h2>Failures</h2>\(Markup.when(failed.count < v.failed, "<p class=\"muted\">The first \(failed.count) of \(v.failed).</p>"))\
            <div class="tablewrap"><table id="rollout-failures"><thead><tr><th>Device</th><th>Reason</th><th>Previous version</th></tr></thead>\
            <tbody>\(failures.isEmpty ? "<tr><td colspan=\"3\" class=\"muted\">No failures.</td></tr>" : failures.joined())</tbody></table></div>
            """
    }

    /// Pause / resume / cancel / roll back, as the state allows, for callers who may (the API checks both anyway).
    static func controls(_ ctx: RequestContext, _ r: Rollout, upgraded: Int) -> Markup {
        let offered: [(action: String, title: String, allowed: Bool, confirm: String?, then: String)] = [
            ("pause", "Pause", r.state == .running, nil, "reload"),
            ("resume", "Resume", r.state == .paused || r.state == .stopped, nil, "reload"),
            ("cancel", "Cancel", !r.state.isFinal, "Cancel rollout #\(r.id)? Devices not sent yet stay on their version.", "reload"),
            // The new rollout back is listed on /firmware (its id is not known here).
            ("rollback", "Roll back", upgraded > 0,
             "Roll back rollout #\(r.id)? It is cancelled and a new rollout sends the previous version to its upgraded devices.", "/firmware"),
        ]
        return offered.filter { $0.allowed && ctx.can("rollout.\($0.action)") }.map { o -> Markup in
            PageKit.apiForm("/api/v1/rollouts/\(r.id)/\(o.action)", confirm: o.confirm, then: o.then, cls: "inline", label: "\(o.title) rollout #\(r.id)",
                            id: "rollout-\(o.action)",
                            "<button type=\"submit\" class=\"\(o.action == "cancel" || o.action == "rollback" ? "danger" : "secondary")\">\(o.title)</button>")
        }.joined()
    }
}
