import ACSCore
import Foundation
import GUI
import NetHTTP
import Storage

/// /alerts: the NOC's alert list (the API's `GET /alerts` with the same filters), refreshed live; acknowledging is
/// the API's `POST /alerts/{id}/acknowledge`. The device page shows the device's own alerts with `table`.
enum AlertsPage {
    static func show(_ ctx: RequestContext) async throws -> HTTPResponse {
        if let clean = PageKit.withoutEmptyFilters(ctx) { return clean }
        let q = try AlertHandlers.query(ctx, deviceID: nil)
        let rows = try ctx.store.alerts(q)
        let table = self.table(ctx, rows, showDevice: true)
        if PageKit.part(ctx) == "table" { return PageKit.html(table) }
        let state = ctx.query["state"] ?? "active"
        let states: [Markup] = ["active", "pending", "open", "cleared", "all"].map { s in
            "<option\(Markup.when(state == s, " selected"))>\(s)</option>"
        }
        let severities: [Markup] = AlertSeverity.allCases.map { s in
            "<option\(Markup.when(ctx.query["severity"] == s.rawValue, " selected"))>\(s.rawValue)</option>"
        }
        let query = ctx.request.query.map { "&" + $0 } ?? ""
        return PageKit.page(ctx, "Alerts", section: "alerts", """
            <h1>Alerts</h1>
            <p class="muted">Raised by the <code>alert{}</code> rules and handlers of the automation files (Admin → Automations); a rule's
            alert clears by itself when its condition stops holding.</p>
            <form class="row" method="get" action="/alerts" role="search" aria-label="Filter alerts">
            <label for="f-state">State<select id="f-state" name="state">\(states)</select></label>
            <label for="f-severity">Severity<select id="f-severity" name="severity"><option value="">any</option>\(severities)</select></label>
            <label for="f-name">Alert<input id="f-name" name="name" size="16" value="\(ctx.query["name"] ?? "")"></label>
            <button type="submit" class="secondary">Filter</button></form>
            <div id="alerts" data-poll="/alerts?part=table\(query)" data-every="10" data-live="alert.*">\(table)</div>
            """)
    }

    static func table(_ ctx: RequestContext, _ rows: [AlertRow], showDevice: Bool) -> Markup {
        let now = Time.now
        let canAck = ctx.can("alert.acknowledge")
        let body: [Markup] = rows.map { r in
            let a = r.alert
            let ack: Markup
            if a.acknowledgedAt > 0 {
                ack = "\(a.acknowledgedBy) \(Layout.ago(a.acknowledgedAt, now: now, iso: Time.iso(a.acknowledgedAt)))"
            } else if canAck && a.state != .cleared {
                ack = PageKit.apiForm("/api/v1/alerts/\(a.id)/acknowledge", cls: "inline", "<button type=\"submit\" class=\"link\">Acknowledge</button>")
            } else {
                ack = .empty
            }
            let device: Markup = showDevice ? "<td><a href=\"/devices/\(a.deviceID)\">\(r.deviceName)</a></td>" : .empty
            let when = a.state == .cleared ? a.clearedAt : a.state == .active ? a.raisedAt : a.since
            return """
                <tr data-alert="\(a.id)"><td>\(Layout.status(a.severity.rawValue))</td><td><code>\(a.name)</code></td>\(device)\
                <td>\(Layout.status(a.state.rawValue))</td><td>\(Layout.ago(when, now: now, iso: Time.iso(when)))</td>\
                <td class="wrap">\(a.value)</td><td class="wrap">\(a.message)</td><td>\(ack)</td></tr>
                """
        }
        let columns = showDevice ? 8 : 7
        return """
            <div class="tablewrap"><table id="alert-table"><thead><tr><th>Severity</th><th>Alert</th>\(Markup.when(showDevice, "<th>Device</th>"))\
            <th>State</th><th>Since</th><th>Value</th><th>Message</th><th>Acknowledged</th></tr></thead>
            <tbody>\(body.isEmpty ? "<tr><td colspan=\"\(columns)\" class=\"muted\">No alerts.</td></tr>" : body.joined())</tbody></table></div>
            """
    }
}
