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
            <th>Done</th><th>Failed</th><th>Running</th><th>Pending</th><th>Skipped</th><th>Started by</th><th>Started (UTC)</th><th></th></tr></thead>\
            <tbody data-poll="/admin/campaigns?part=rows" data-every="2">\(try rows(ctx))</tbody></table></div>
            \(form)
            """)
    }

    static func rows(_ ctx: RequestContext) throws -> Markup {
        let list = try ctx.store.campaigns(states: [], under: ctx.me.organisation.path, limit: 100)
        guard !list.isEmpty else { return "<tr><td colspan=\"12\" class=\"muted\">No campaigns yet.</td></tr>" }
        let canControl = ctx.can("campaign.pause")
        return list.map { c -> Markup in
            let p = (try? ctx.store.campaignProgress(campaignID: c.id)) ?? CampaignProgress()
            let v = CampaignHandlers.ProgressView(p)
            var buttons: [Markup] = []
            if canControl {
                for action in CampaignService.Control.allCases where CampaignService.allows(action, in: c.state) {
                    buttons.append(PageKit.apiForm("/api/v1/campaigns/\(c.id)/\(action.rawValue)",
                                                   confirm: action == .cancel ? "Cancel campaign \(c.name)? Devices not started are skipped." : nil,
                                                   cls: "inline", label: "\(action.rawValue.capitalized) \(c.name)",
                                                   "<button type=\"submit\" class=\"\(action == .cancel ? "danger" : "secondary")\">\(action.rawValue.capitalized)</button>"))
                }
            }
            let reason: Markup = c.stopReason.isEmpty ? .empty : "<br><span class=\"muted\">\(c.stopReason)</span>"
            return """
                <tr data-campaign="\(c.id)"><td>\(c.id)</td><td class="wrap">\(c.name)<br><span class="muted">\(c.scriptName)</span></td>\
                <td><span class="badge st-\(c.state.rawValue)">\(c.state.rawValue)</span>\(reason)</td>\
                <td><progress max="100" value="\(v.percent)" aria-label="Progress of \(c.name)">\(v.percent) %</progress> \
                <span class="pct">\(v.percent) %</span> <span class="muted">\(v.finished)/\(v.total)</span></td>\
                <td>\(v.done)</td><td>\(v.failed)</td><td>\(v.running)</td><td>\(v.pending)</td><td>\(v.skipped)</td>\
                <td>\(c.createdBy)</td><td>\(Time.iso(c.createdAt) ?? "")</td><td class="actions">\(buttons)</td></tr>
                """
        }.joined()
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
        let adhoc = ctx.can("campaign.start")   // admins: the API requires admin for an ad-hoc script
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
