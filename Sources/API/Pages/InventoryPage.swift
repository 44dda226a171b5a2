import ACSCore
import Foundation
import GUI
import NetHTTP
import Storage

/// /devices: the inventory. Filters are the API's (same query parameters, same `DeviceQuery`, pushed down to SQL
/// with keyset pagination, so a page costs the same at 1M devices); CSV export is the API's export with the same
/// filters. Bulk actions call the API per selected device.
enum InventoryPage {
    static let filterKeys = ["q", "status", "profile", "manufacturer", "model", "software_version", "group", "tag", "location",
                             "organisation_id", "created_from", "created_before", "sort", "order", "limit"]

    static func query(_ ctx: RequestContext) throws -> DeviceQuery {
        var q = try DeviceHandlers.query(ctx)
        if ctx.query["limit"] == nil { q.limit = 50 }
        if let s = ctx.query["created_from"] { q.createdFrom = Int64(s) }
        if let s = ctx.query["created_before"] { q.createdBefore = Int64(s) }
        return q
    }

    /// The current filters as query pairs (params repeated), optionally overriding some.
    static func pairs(_ ctx: RequestContext, dropping: Set<String> = [], _ extra: [(String, String)] = []) -> [(String, String)] {
        var out: [(String, String)] = []
        for k in filterKeys where !dropping.contains(k) && !extra.contains(where: { $0.0 == k }) {
            if let v = ctx.query[k], !v.isEmpty { out.append((k, v)) }
        }
        if !dropping.contains("param") { out += ctx.query.all("param").filter { !$0.isEmpty }.map { ("param", $0) } }
        return out + extra
    }

    static func show(_ ctx: RequestContext) async throws -> HTTPResponse {
        if let clean = PageKit.withoutEmptyFilters(ctx) { return clean }
        let started = DispatchTime.now().uptimeNanoseconds
        let q = try query(ctx)
        let now = Time.now
        let page = try ctx.store.devices(q, now: now)
        let names = try PageKit.organisationNames(ctx)
        let rows = self.rows(ctx, page.devices, names: names, now: now)
        if PageKit.part(ctx) == "rows" { return PageKit.html(rows) }

        let sortable: [(String, DeviceQuery.Sort?)] = [("Name", .name), ("ID", .id), ("Status", nil), ("Profile", .profile), ("Serial", .serial),
                                                      ("Groups", nil), ("Location", nil), ("Description", nil), ("Model", .model),
                                                      ("Software", .softwareVersion), ("Last inform", .lastInform), ("Organisation", nil)]
        let headers: [Markup] = sortable.map { title, sort in
            guard let sort else { return "<th scope=\"col\">\(title)</th>" }
            let active = q.sort == sort
            let order = active && !q.descending ? "desc" : "asc"
            let href = "/devices?" + URLText.query(pairs(ctx, dropping: ["sort", "order"], [("sort", sort.rawValue), ("order", order)]))
            let mark = active ? (q.descending ? " ▼" : " ▲") : ""
            return "<th scope=\"col\"\(Markup.when(active, " aria-sort=\"\(q.descending ? "descending" : "ascending")\""))><a href=\"\(href)\">\(title)\(mark)</a></th>"
        }
        let current = URLText.query(pairs(ctx))
        let pollURL = "/devices?" + URLText.query(pairs(ctx) + (q.cursor.map { [("cursor", $0)] } ?? []) + [("part", "rows")])
        var pager: [Markup] = []
        if q.cursor != nil { pager.append("<a class=\"button secondary\" href=\"/devices?\(current)\">« First page</a>") }
        if let next = page.nextCursor {
            pager.append("<a class=\"button secondary\" id=\"next-page\" rel=\"next\" href=\"/devices?\(URLText.query(pairs(ctx) + [("cursor", next)]))\">Next page »</a>")
        }
        let exportURL = "/api/v1/devices/export?" + URLText.query(pairs(ctx, dropping: ["limit", "created_from", "created_before"]))
        let ms = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
        return PageKit.page(ctx, "Devices", section: "devices", """
            <h1>Devices</h1>
            \(try filters(ctx))
            \(try bulkBar(ctx))
            <div class="tablewrap"><table id="inventory"><caption class="skip">Devices</caption><thead><tr>
            \(Markup.when(selectable(ctx), "<th scope=\"col\"><input type=\"checkbox\" data-select-all aria-label=\"Select all devices on this page\"></th>"))\(headers)</tr></thead>
            <tbody id="rows" data-poll="\(pollURL)" data-every="5" data-live="device.*,firmware.*">\(rows)</tbody></table></div>
            <div class="pager">\(pager)<span class="muted">\(page.devices.count) shown · page built in \(String(format: "%.1f", ms)) ms</span>
            <a href="\(exportURL)" class="button secondary" id="export" download>Export CSV</a></div>
            """)
    }

    /// Rows have a selection box when the caller may run a bulk action.
    static func selectable(_ ctx: RequestContext) -> Bool { ctx.can("task.create") || ctx.can("device.update") || ctx.can("device.move") }

    static func rows(_ ctx: RequestContext, _ devices: [Device], names: [Int64: String], now: Int64) -> Markup {
        let selectable = self.selectable(ctx)
        guard !devices.isEmpty else { return "<tr><td colspan=\"13\" class=\"muted\">No devices match.</td></tr>" }
        return devices.map { d in
            let status = d.status(now: now).rawValue
            let groups: Markup = d.groups.map { g in "<a class=\"chip\" href=\"/devices?group=\(URLText.component(g))\">\(g)</a>" }.joined()
            let select: Markup = selectable
                ? "<td><input type=\"checkbox\" name=\"sel\" value=\"\(d.id)\" data-groups=\"\(JSON.text(d.groups))\" aria-label=\"Select \(d.name)\"></td>" : .empty
            return """
                <tr data-id="\(d.id)">\(select)\
                <td><a href="/devices/\(d.id)">\(d.name)</a></td><td>\(d.id)</td><td>\(Layout.status(status))</td><td>\(d.profile)</td>\
                <td>\(d.serialNumber)</td><td>\(groups)</td><td>\(d.location)</td><td class="wrap">\(d.description)</td>\
                <td>\(d.modelName)</td><td>\(d.softwareVersion)</td><td>\(Layout.ago(d.lastInform, now: now, iso: Time.iso(d.lastInform)))</td>\
                <td>\(names[d.organisationID] ?? "")</td></tr>
                """
        }.joined()
    }

    static func filters(_ ctx: RequestContext) throws -> Markup {
        let q = ctx.query
        func text(_ key: String, _ label: String, _ hint: String = "", size: Int = 14) -> Markup {
            "<label for=\"f-\(key)\">\(label)<input id=\"f-\(key)\" name=\"\(key)\" value=\"\(q[key] ?? "")\" size=\"\(size)\" placeholder=\"\(hint)\"></label>"
        }
        func select(_ key: String, _ label: String, _ options: [String]) -> Markup {
            let opts: [Markup] = options.map { o in "<option\(Markup.when(q[key] == o, " selected"))>\(o)</option>" }
            return "<label for=\"f-\(key)\">\(label)<select id=\"f-\(key)\" name=\"\(key)\"><option value=\"\">any</option>\(opts)</select></label>"
        }
        let profiles = ctx.api.config.profiles.profiles.map(\.name)
        let param = q.all("param").first ?? ""
        let hidden: Markup = q.all("param").dropFirst().map { p in "<input type=\"hidden\" name=\"param\" value=\"\(p)\">" }.joined()
            + ["created_from", "created_before", "sort", "order", "manufacturer", "tag"].compactMap { k in
                q[k].map { v in "<input type=\"hidden\" name=\"\(k)\" value=\"\(v)\">" }
            }.joined()
        return """
            <form class="filters" method="get" action="/devices" role="search" aria-label="Filter devices">
            \(text("q", "Search", "name, serial, description", size: 22))
            \(select("status", "Status", ["online", "offline", "never"]))
            \(select("profile", "Profile", profiles))
            \(text("model", "Model"))\(text("software_version", "Software"))\(text("group", "Group", "", size: 10))\(text("location", "Location", "", size: 10))
            <label for="f-org">Organisation\(try PageKit.organisationSelect(ctx, name: "organisation_id", id: "f-org", selected: try q.id("organisation_id"), any: true))</label>
            <label for="f-param">Parameter<input id="f-param" name="param" value="\(param)" size="30" placeholder="Device.WiFi.SSID.1.SSID~guest"></label>
            \(perPage(q["limit"]))\(hidden)
            <button type="submit" id="apply">Apply</button> <a class="button secondary" href="/devices">Reset</a></form>
            """
    }

    static func perPage(_ current: String?) -> Markup {
        let opts: [Markup] = ["25", "50", "100", "250"].map { n in "<option\(Markup.when((current ?? "50") == n, " selected"))>\(n)</option>" }
        return "<label for=\"f-limit\">Per page<select id=\"f-limit\" name=\"limit\">\(opts)</select></label>"
    }

    static func bulkBar(_ ctx: RequestContext) throws -> Markup {
        var parts: [Markup] = ["<span id=\"selcount\" class=\"muted\">0 selected</span>"]
        if ctx.can("task.create") {
            parts.append("""
                <form data-bulk="reboot" data-confirm="Reboot the selected devices?" class="row"><button type="submit" id="bulk-reboot">Reboot</button><output></output></form>
                """)
        }
        if ctx.can("device.update") {
            parts.append("""
                <form data-bulk="group" class="row"><label for="bulk-group">Add to group<input id="bulk-group" name="group" required maxlength="64" size="12"></label>\
                <button type="submit">Add</button><output></output></form>
                """)
        }
        if ctx.can("device.move") {
            parts.append("""
                <form data-bulk="move" class="row" data-confirm="Move the selected devices?"><label for="bulk-org">Move to\
                \(try PageKit.organisationSelect(ctx, name: "organisation_id", id: "bulk-org", selected: nil, any: false))</label>\
                <button type="submit">Move</button><output></output></form>
                """)
        }
        if ctx.can("campaign.start") {
            // Opens the new-campaign form with `target = { ids = {...} }` for the selection (at most 10,000 devices).
            parts.append("""
                <form data-bulk="campaign" class="row"><button type="submit" id="bulk-campaign" class="secondary">Start a campaign…</button><output></output></form>
                """)
        }
        return parts.count > 1 ? "<div class=\"bulk\" aria-label=\"Actions on selected devices\">\(parts)</div>" : .empty
    }
}
