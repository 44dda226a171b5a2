import ACSCore
import Foundation
import GUI
import NetHTTP
import Storage

/// /webhooks (issue 16): the webhooks of the caller's subtree with their delivery counts and a form that adds one;
/// /webhooks/{id}: one webhook's settings, enable / disable, test, delete, and its delivery log, refreshed live.
/// Admins only, as the API. Every change is a form corral.js sends to /api/v1/webhooks (same permission, CSRF and
/// audit). A webhook's secret is never rendered: the API returns it once, in the answer that created the webhook,
/// and corral.js shows that answer below the form's button (as it does a new API token).
enum WebhookPages {
    /// Deliveries shown on a webhook's page, newest first.
    static let logLimit = 100

    // MARK: the list

    static func list(_ ctx: RequestContext) async throws -> HTTPResponse {
        if PageKit.part(ctx) == "rows" { return PageKit.html(try rows(ctx)) }
        return PageKit.page(ctx, "Webhooks", section: "webhooks", """
            <h1>Webhooks</h1>
            <p class="muted">Each webhook receives the events of its organisation's subtree that match its patterns, as JSON
            POSTed to its URL and signed with its secret (<code>X-Corral-Signature</code>). Deliveries are retried with backoff
            for about 3.4 hours; the README's Webhooks section describes the body and how to check the signature.</p>
            <div class="tablewrap"><table id="webhooks"><thead><tr><th>URL</th><th>Events</th><th>State</th><th>Description</th>\
            <th>Organisation</th><th>Created (UTC)</th><th>Pending</th><th>Delivered</th><th>Failed</th></tr></thead>\
            <tbody data-poll="/webhooks?part=rows" data-every="10">\(try rows(ctx))</tbody></table></div>
            \(try createForm(ctx))
            """)
    }

    static func rows(_ ctx: RequestContext) throws -> Markup {
        let hooks = try ctx.store.webhooks(under: ctx.me.organisation.path)
        guard !hooks.isEmpty else { return "<tr><td colspan=\"9\" class=\"muted\">No webhooks yet.</td></tr>" }
        let names = try PageKit.organisationNames(ctx)
        return try hooks.map { h -> Markup in
            let counts = try ctx.store.webhookDeliveryCounts(webhookID: h.id)
            return """
                <tr data-webhook="\(h.id)"><td class="wrap url"><a href="/webhooks/\(h.id)">\(h.url)</a></td><td class="wrap">\(events(h))</td>\
                <td>\(state(h))</td><td class="wrap">\(h.description)</td><td>\(names[h.organisationID] ?? "")</td>\
                <td>\(h.createdBy)<br><span class="muted">\(Time.iso(h.createdAt) ?? "")</span></td>\
                <td>\(counts[.pending] ?? 0)</td><td>\(counts[.delivered] ?? 0)</td><td>\(counts[.failed] ?? 0)</td></tr>
                """
        }.joined()
    }

    /// No `data-then`: the answer (with the secret, once) stays below the button and the list refreshes in place.
    static func createForm(_ ctx: RequestContext) throws -> Markup {
        guard ctx.can("webhook.create") else { return .empty }
        let known: [Markup] = WebhookRules.knownEvents.map { k in "<code>\(k)</code>" }
        let hosts = ctx.api.config.webhookHosts
        let hostList: [Markup] = hosts.map { h in "<code>\(h)</code>" }
        var allowed: Markup = .empty
        if !hosts.isEmpty {
            allowed = "<p class=\"muted\" id=\"webhook-hosts\">Webhooks may only point at \(hostList.joined(", ")) (<code>webhook_hosts</code> in corral.json).</p>"
        }
        return """
            <section class="card"><h2>Add a webhook</h2>\(PageKit.apiForm("/api/v1/webhooks", cls: "row", label: "Add a webhook", id: "webhook-create", """
            <label for="wh-url">URL (http:// or https://)<input id="wh-url" name="url" type="url" required maxlength="\(WebhookRules.maxURLLength)" size="40" \
            placeholder="https://hooks.example.net/corral" autocomplete="off"></label>
            <label for="wh-events">Events (comma or space separated)<input id="wh-events" name="events" required data-kind="words" size="28" \
            placeholder="device.* task.fault" autocomplete="off"></label>
            <label for="wh-secret">Secret (optional; empty: generated)<input id="wh-secret" name="secret" data-kind="optional" minlength="\(WebhookRules.minSecretLength)" \
            maxlength="256" size="22" autocomplete="off" spellcheck="false"></label>
            <label for="wh-description">Description (optional)<input id="wh-description" name="description" data-kind="optional" maxlength="500" size="24"></label>
            <label for="wh-org">Organisation\(try PageKit.organisationSelect(ctx, name: "organisation_id", id: "wh-org", selected: ctx.me.organisation.id, any: false))</label>
            <button type="submit">Add</button>
            """))<p class="notice" id="webhook-secret-note">The secret keys the HMAC-SHA256 signature of every delivery. It is shown once, below the
            Add button, when the webhook is created: copy it then, it will not be shown again (to change it, delete the webhook and add it again,
            or set a new one through <code>PATCH /api/v1/webhooks/{id}</code>).</p>
            <p class="muted" id="webhook-kinds">Patterns: an event kind, <code>kind.*</code> for a family (<code>device.*</code>, <code>task.*</code>) or
            <code>*</code> for every event. Kinds: \(known.joined(", ")).</p>\(allowed)</section>
            """
    }

    static func events(_ h: Webhook) -> Markup {
        h.events.map { e -> Markup in "<span class=\"chip\"><code>\(e)</code></span>" }.joined()
    }

    static func state(_ h: Webhook) -> Markup { Layout.status(h.enabled ? "enabled" : "disabled") }

    // MARK: one webhook

    static func show(_ ctx: RequestContext) async throws -> HTTPResponse {
        let h = try WebhookHandlers.webhook(ctx)
        if PageKit.part(ctx) == "deliveries" { return PageKit.html(try deliveries(ctx, h)) }
        let names = try PageKit.organisationNames(ctx)
        let actions = controls(ctx, h)
        let description: Markup = h.description.isEmpty ? "<span class=\"muted\">none</span>" : "\(h.description)"
        return PageKit.page(ctx, "Webhook #\(h.id)", section: "webhooks", """
            <p><a href="/webhooks">« Webhooks</a></p>
            <h1>Webhook #\(h.id)</h1>
            <section class="card"><h2>Settings</h2><dl class="kv" id="webhook-settings"><dt>URL</dt><dd class="url"><code>\(h.url)</code></dd>\
            <dt>Events</dt><dd>\(events(h))</dd><dt>State</dt><dd>\(state(h))</dd><dt>Description</dt><dd>\(description)</dd>\
            <dt>Organisation</dt><dd>\(names[h.organisationID] ?? "")</dd><dt>Created</dt><dd>\(Time.iso(h.createdAt) ?? "") by \(h.createdBy)</dd>\
            <dt>Secret</dt><dd class="muted">set; shown only when the webhook was created</dd>\
            \(Markup.when(actions != .empty, "<dt>Actions</dt><dd class=\"actions\">\(actions)</dd>"))</dl></section>
            <section class="card"><h2>Deliveries</h2><div id="webhook-live" data-poll="/webhooks/\(h.id)?part=deliveries" data-every="5">\
            \(try deliveries(ctx, h))</div></section>
            """)
    }

    /// Enable or disable, send a test event, delete: for callers who may (the API checks anyway).
    static func controls(_ ctx: RequestContext, _ h: Webhook) -> Markup {
        var out: [Markup] = []
        if ctx.can("webhook.update") {
            out.append(PageKit.apiForm("/api/v1/webhooks/\(h.id)", method: "PATCH", body: h.enabled ? #"{"enabled":false}"# : #"{"enabled":true}"#,
                                       then: "reload", cls: "inline", label: "\(h.enabled ? "Disable" : "Enable") webhook #\(h.id)",
                                       id: h.enabled ? "webhook-disable" : "webhook-enable",
                                       "<button type=\"submit\" class=\"secondary\">\(h.enabled ? "Disable" : "Enable")</button>"))
        }
        if ctx.can("webhook.test") {
            // No data-then: the delivery log below refreshes in place.
            out.append(PageKit.apiForm("/api/v1/webhooks/\(h.id)/test", cls: "inline", label: "Send a test event to webhook #\(h.id)", id: "webhook-test",
                                       "<button type=\"submit\" class=\"secondary\">Send test event</button>"))
        }
        if ctx.can("webhook.delete") {
            out.append(PageKit.apiForm("/api/v1/webhooks/\(h.id)", method: "DELETE",
                                       confirm: "Delete webhook #\(h.id) (\(h.url))? Its delivery log is deleted with it.", then: "/webhooks",
                                       cls: "inline", label: "Delete webhook #\(h.id)", id: "webhook-delete",
                                       "<button type=\"submit\" class=\"danger\">Delete</button>"))
        }
        return out.joined()
    }

    /// The counts and the newest deliveries, each with its body (the exact bytes that were signed).
    static func deliveries(_ ctx: RequestContext, _ h: Webhook) throws -> Markup {
        let counts = try ctx.store.webhookDeliveryCounts(webhookID: h.id)
        let log = try ctx.store.webhookDeliveries(webhookID: h.id, limit: logLimit)
        let total = counts.values.reduce(0, +)
        let rows: [Markup] = log.map { d -> Markup in
            var status = ""
            if d.attempts > 0 { status = d.lastStatus == 0 ? "no answer" : String(d.lastStatus) }
            var when: Markup = .empty
            if d.state == .pending {
                when = "next \(Time.iso(d.nextAt) ?? "")"
            } else if d.finishedAt > 0 {
                when = "\(Time.iso(d.finishedAt) ?? "")"
            }
            return """
                <tr data-delivery="\(d.id)"><td><code>\(d.event)</code></td><td>\(d.eventID)</td><td>\(Layout.status(d.state.rawValue))</td>\
                <td>\(d.attempts)</td><td>\(status)</td><td class="wrap">\(d.lastError)</td><td>\(Time.iso(d.createdAt) ?? "")</td><td>\(when)</td>\
                <td class="wrap"><details><summary>\(d.body.utf8.count) bytes</summary><pre>\(d.body)</pre></details></td></tr>
                """
        }
        let shown: Markup = total > log.count ? " The newest \(log.count) of \(total) are listed." : .empty
        return """
            <p id="webhook-counts">Pending \(counts[.pending] ?? 0) · delivered \(counts[.delivered] ?? 0) · failed \(counts[.failed] ?? 0).\(shown)
            <span class="muted">Finished deliveries are kept for a week; each event is sent at least once, so receivers dedupe by its <code>id</code>.</span></p>
            <div class="tablewrap"><table id="webhook-deliveries"><thead><tr><th>Event</th><th>Event id</th><th>State</th><th>Attempts</th>\
            <th>Last status</th><th>Last error</th><th>Created (UTC)</th><th>Next attempt / finished (UTC)</th><th>Body</th></tr></thead>\
            <tbody>\(rows.isEmpty ? "<tr><td colspan=\"9\" class=\"muted\">No deliveries yet.</td></tr>" : rows.joined())</tbody></table></div>
            """
    }
}
