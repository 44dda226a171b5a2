import ACSCore
import Engine
import Foundation
import GUI
import NetHTTP
import Storage

/// Campaigns and reports. The lists come from the store through the caller's subtree; dry runs, starts, pause /
/// resume / cancel and report runs are sent by corral.js to the API routes (same permission, CSRF and audit).
enum CampaignPages {
    // MARK: campaigns

    static func campaigns(_ ctx: RequestContext) async throws -> HTTPResponse {
        if PageKit.part(ctx) == "rows" { return PageKit.html(try rows(ctx)) }
        let canStart = ctx.can("campaign.start")
        let form: Markup = canStart ? try newCampaignForm(ctx) : .empty
        return PageKit.page(ctx, "Campaigns", section: "admin", """
            <h1>Campaigns</h1>
            <div class="tablewrap"><table id="campaigns"><thead><tr><th>#</th><th>Name</th><th>State</th><th>Progress</th>\
            <th>Done</th><th>Failed</th><th>Running</th><th>Pending</th><th>Skipped</th><th>Started by</th><th>Started (UTC)</th><th>Actions</th></tr></thead>\
            <tbody data-poll="/admin/campaigns?part=rows" data-every="2" data-live="campaign.*,task.*" data-live-every="10">\(try rows(ctx))</tbody></table></div>
            \(form)
            """)
    }

    static func rows(_ ctx: RequestContext) throws -> Markup {
        let list = try ctx.store.campaigns(states: [], under: ctx.me.organisation.path, limit: 100)
        guard !list.isEmpty else { return "<tr><td colspan=\"12\" class=\"muted\">No campaigns yet.</td></tr>" }
        return list.map { c -> Markup in
            let p = (try? ctx.store.campaignProgress(campaignID: c.id)) ?? CampaignProgress()
            let v = CampaignHandlers.ProgressView(p)
            let reason: Markup = c.stopReason.isEmpty ? .empty : "<br><span class=\"muted\">\(c.stopReason)</span>"
            return """
                <tr data-campaign="\(c.id)"><td>\(c.id)</td><td class="wrap"><a href="/admin/campaigns/\(c.id)">\(c.name)</a><br><span class="muted">\(c.scriptName)</span></td>\
                <td><span class="badge st-\(c.state.rawValue)">\(c.state.rawValue)</span>\(reason)</td>\
                <td>\(progressBar(c, v))</td>\
                <td>\(v.done)</td><td>\(v.failed)</td><td>\(v.running)</td><td>\(v.pending)</td><td>\(v.skipped)</td>\
                <td>\(c.createdBy)</td><td>\(Time.iso(c.createdAt) ?? "")</td><td class="actions">\(controls(ctx, c))</td></tr>
                """
        }.joined()
    }

    static func progressBar(_ c: CampaignRecord, _ v: CampaignHandlers.ProgressView) -> Markup {
        """
        <progress max="100" value="\(v.percent)" aria-label="Progress of \(c.name)">\(v.percent) %</progress> \
        <span class="pct">\(v.percent) %</span> <span class="muted">\(v.finished)/\(v.total)</span>
        """
    }

    /// Pause / resume / cancel, as the state allows, for callers who may (the API checks both anyway).
    static func controls(_ ctx: RequestContext, _ c: CampaignRecord) -> Markup {
        guard ctx.can("campaign.pause") else { return .empty }
        return CampaignService.Control.allCases.filter { CampaignService.allows($0, in: c.state) }.map { action -> Markup in
            PageKit.apiForm("/api/v1/campaigns/\(c.id)/\(action.rawValue)",
                            confirm: action == .cancel ? "Cancel campaign \(c.name)? Devices not started are skipped." : nil,
                            cls: "inline", label: "\(action.rawValue.capitalized) \(c.name)",
                            "<button type=\"submit\" class=\"\(action == .cancel ? "danger" : "secondary")\">\(action.rawValue.capitalized)</button>")
        }.joined()
    }

    // MARK: one campaign

    static func campaign(_ ctx: RequestContext) async throws -> HTTPResponse {
        let c = try ctx.campaign(try ctx.pathID())
        let p = try ctx.store.campaignProgress(campaignID: c.id)
        let v = CampaignHandlers.ProgressView(p)
        let summary: Markup = """
            <dl class="kv"><dt>State</dt><dd><span class="badge st-\(c.state.rawValue)">\(c.state.rawValue)</span> \(c.stopReason)</dd>\
            <dt>Progress</dt><dd>\(progressBar(c, v))</dd>\
            <dt>Devices</dt><dd>done \(v.done) · failed \(v.failed) · running \(v.running) · pending \(v.pending) · skipped \(v.skipped)</dd>\
            <dt>Waves</dt><dd>\(p.waves.keys.sorted().map { w -> Markup in
                let counts = p.waves[w] ?? [:]
                return "<span class=\"chip\">wave \(w + 1): \(counts.values.reduce(0, +)) devices, \(counts[.done] ?? 0) done</span>"
            })</dd>\
            \(Markup.when(ctx.can("campaign.pause") && !c.state.isFinal, "<dt>Actions</dt><dd class=\"actions\">\(controls(ctx, c))</dd>"))</dl>
            """
        if PageKit.part(ctx) == "summary" { return PageKit.html(summary) }
        var filter: CampaignDeviceState?
        if let s = ctx.query["state"] {
            guard let st = CampaignDeviceState(rawValue: s) else { throw APIError.badRequest("state must be one of \(CampaignDeviceState.allCases.map(\.rawValue).joined(separator: ", "))") }
            filter = st
        }
        let limit = 200
        var after = -1
        if let cur = ctx.query["cursor"] {
            guard let n = Int(cur), n >= 0 else { throw APIError.badRequest("invalid cursor") }
            after = n
        }
        let rows = try ctx.store.campaignDevices(campaignID: c.id, states: filter.map { [$0] } ?? [], afterPosition: after, limit: limit)
        let body: [Markup] = try rows.map { cd in
            let d = try ctx.store.device(id: cd.deviceID)
            let tasks: [Markup] = try cd.taskIDs.compactMap { try ctx.store.task(id: $0) }.map { t in
                "<span class=\"chip\">#\(t.id) \(TaskView.action(t.kind)) \(t.state.rawValue)\(t.fault.map { " — \($0.code) \($0.string)" } ?? "")</span>"
            }
            let name: Markup = d.map { "<a href=\"/devices/\($0.id)\">\($0.name)</a>" } ?? "device \(cd.deviceID) (deleted)"
            return """
                <tr><td>\(cd.position + 1)</td><td>\(name)</td><td>\(d?.serialNumber ?? "")</td><td>\(cd.wave + 1)</td>\
                <td><span class="badge st-\(cd.state.rawValue)">\(cd.state.rawValue)</span></td><td class="wrap">\(cd.error)</td><td class="wrap">\(tasks)</td></tr>
                """
        }
        let tabs: [Markup] = ([nil] + CampaignDeviceState.allCases.map { Optional($0) }).map { st in
            let label = st?.rawValue ?? "all"
            let href = "/admin/campaigns/\(c.id)" + (st.map { "?state=\($0.rawValue)" } ?? "")
            return "<a class=\"button secondary\" href=\"\(href)\"\(Markup.when(st == filter, " aria-current=\"page\""))>\(label)</a>"
        }
        let next: Markup = rows.count == limit ? """
            <a class="button secondary" href="/admin/campaigns/\(c.id)?\(URLText.query([("state", filter?.rawValue ?? ""), ("cursor", String(rows.last!.position))]))">Next »</a>
            """ : .empty
        return PageKit.page(ctx, "Campaign \(c.name)", section: "admin", """
            <p><a href="/admin/campaigns">« Campaigns</a></p>
            <h1>Campaign #\(c.id): \(c.name)</h1>
            <div class="grid"><section class="card"><h2>Status</h2><div id="campaign-summary" data-poll="/admin/campaigns/\(c.id)?part=summary" data-every="2" data-live="campaign.*,task.*" data-live-every="10">\(summary)</div></section>
            <section class="card"><h2>Settings</h2><dl class="kv"><dt>Script</dt><dd>\(c.scriptName)</dd><dt>Started by</dt><dd>\(c.createdBy)</dd>\
            <dt>Started</dt><dd>\(Time.iso(c.createdAt) ?? "")</dd><dt>Rate</dt><dd>\(c.perMinute)/min, \(c.concurrent) at once</dd>\
            <dt>Stop rule</dt><dd>\(c.failureRate >= 1 ? "none" : "more than \(Int((c.failureRate * 100).rounded())) % failed after \(c.minDevices) devices")</dd>\
            <dt>Connection requests</dt><dd>\(c.connectionRequest ? "yes" : "no")</dd></dl></section></div>
            <h2>Devices</h2><nav class="actions" aria-label="Filter the devices by state">\(tabs)</nav>
            <div class="tablewrap"><table id="campaign-devices"><thead><tr><th>#</th><th>Device</th><th>Serial</th><th>Wave</th><th>State</th><th>Error</th><th>Tasks</th></tr></thead>\
            <tbody>\(body.isEmpty ? "<tr><td colspan=\"7\" class=\"muted\">No devices in this state.</td></tr>" : body.joined())</tbody></table></div>
            <div class="pager">\(next)</div>
            <details><summary>Script</summary><pre class="wrap"><code>\(c.script)</code></pre></details>
            """)
    }

    static func newCampaignForm(_ ctx: RequestContext) throws -> Markup {
        let library = ScriptLibrary(directory: ctx.api.config.scriptsDirectory).list(.campaigns)
        let options: [Markup] = library.map { e in "<option value=\"\(e.name)\" data-source=\"\(e.source)\">\(e.name)</option>" }
        return """
            <section class="card" id="new-campaign"><h2>New campaign</h2>
            <form data-campaign class="stack" aria-label="New campaign">
            <div class="row">
            <label for="c-library">Start from a library script<select id="c-library" data-fill="c-script">\
            <option value="">(blank)</option>\(options)</select></label>
            <label for="c-name">File name (for messages)<input id="c-name" name="name" maxlength="100" placeholder="campaign.lua"></label>
            </div>
            <label for="c-script">Campaign script (Lua; the target is chosen inside your organisation)\
            <textarea id="c-script" name="script" rows="14" cols="90" spellcheck="false" required></textarea></label>
            <div class="row"><button type="submit" name="op" value="dry-run" id="c-dry">Dry run</button>\
            <button type="submit" name="op" value="start" id="c-start" class="danger">Start</button></div>
            <output id="c-output"></output>
            </form>
            <div id="c-preview" aria-live="polite"></div>
            <p class="muted">Dry run: how many devices the target matches and what <code>apply(dev)</code> would do to the first
            \(CampaignHandlers.previewLimit); nothing is written. Start: the target is snapshotted and the server works through it in waves.</p>
            </section>
            """
    }

    // MARK: reports

    static func reports(_ ctx: RequestContext) async throws -> HTTPResponse {
        let library = ScriptLibrary(directory: ctx.api.config.scriptsDirectory).list(.reports)
        let adhoc = ctx.me.has(.admin)   // as ReportHandlers.run requires for an ad-hoc script
        var options: [Markup] = library.map { e in "<option value=\"\(e.name)\">\(e.name)</option>" }
        if adhoc { options.append("<option value=\"\">Ad-hoc script…</option>") }
        let argSets: [Markup] = library.map { e in
            let fields: [Markup] = e.args.map { a in
                """
                <label for="r-\(e.name)-\(a.name)">\(a.name)<input id="r-\(e.name)-\(a.name)" name="args.\(a.name)" \
                placeholder="\(a.default ?? "")" data-kind="optional" size="12"></label>
                """
            }
            return """
                <fieldset class="row" data-args-for="\(e.name)"\(Markup.when(e.name != library.first?.name, " hidden disabled"))>\
                <legend>\(e.description.split(separator: "\n").first.map(String.init) ?? e.name)</legend>\
                \(fields.isEmpty ? "<span class=\"muted\">No arguments.</span>" : fields.joined())</fieldset>
                """
        }
        let editor: Markup = adhoc ? """
            <label for="r-script" data-adhoc\(Markup.when(!library.isEmpty, " hidden"))>Report script (Lua)\
            <textarea id="r-script" name="script" rows="10" cols="90" spellcheck="false"\(Markup.when(!library.isEmpty, " disabled"))>\
            report { title = "Devices", columns = { "name", "serial", "model", "software_version", "status" } }
            for dev in devices { order = "serial", limit = 100 } do emit(dev) end</textarea></label>
            """ : .empty
        let body: Markup = library.isEmpty && !adhoc ? "<p class=\"notice\">The report library is empty (scripts_dir/reports).</p>" : """
            <section class="card"><form data-report class="stack" aria-label="Run a report">
            <label for="r-library">Report<select id="r-library" name="library">\(options)</select></label>
            \(argSets)\(editor)
            <div class="row"><button type="submit" name="format" value="json" id="r-run">Run</button>\
            <button type="submit" name="format" value="csv" id="r-csv" class="secondary">Download CSV</button></div>
            <output id="r-output"></output></form></section>
            <div id="r-result" aria-live="polite"></div>
            <p class="muted">Reports see your organisation's devices only. The table shows at most \(ReportHandlers.maxJSONRows) rows; CSV at most \(ReportHandlers.maxCSVRows).</p>
            """
        return PageKit.page(ctx, "Reports", section: "admin", "<h1>Reports</h1>\(body)")
    }
}
