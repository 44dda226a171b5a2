import ACSCore
import Engine
import Foundation
import GUI
import NetHTTP
import Storage

/// What every page shares: the shell with navigation for the caller's role, HTML responses, error pages.
enum PageKit {
    static func html(_ m: Markup, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "text/html; charset=utf-8"], body: Array(m.html.utf8))
    }

    /// A whole page, or just `fragment` when the request asks for one part (`?part=…`, used by live polling).
    static func page(_ ctx: RequestContext, _ title: String, section: String, _ body: Markup) -> HTTPResponse {
        var nav = [NavLink("Dashboard", "/", current: section == "dashboard"), NavLink("Devices", "/devices", current: section == "devices")]
        // Why devices do not onboard: for callers the API lets list refused attempts (viewers and up).
        if ctx.can("onboarding.attempts") { nav.append(NavLink("Onboarding", "/onboarding", current: section == "onboarding")) }
        nav += [NavLink("Alerts", "/alerts", current: section == "alerts"), NavLink("Firmware", "/firmware", current: section == "firmware")]
        // Only for callers the API lets list webhooks (admins): others would get a refusal.
        if ctx.can("webhook.list") { nav.append(NavLink("Webhooks", "/webhooks", current: section == "webhooks")) }
        nav.append(NavLink("Admin", "/admin", current: section == "admin"))
        let user = ctx.caller.map { PageUser(name: $0.user.username, role: $0.role.rawValue, organisation: $0.organisation.name) }
        return html(Layout.page(title: title, nav: nav, user: user, csrf: ctx.caller?.csrf, body: body))
    }

    static var part: (RequestContext) -> String? { { $0.query["part"] } }

    /// Organisation names as seen by the caller: "Acme / North" relative to the root.
    static func organisationNames(_ ctx: RequestContext) throws -> [Int64: String] {
        let orgs = try ctx.store.organisations(under: ctx.me.organisation.path)
        var byID: [Int64: Organisation] = [:]
        for o in orgs { byID[o.id] = o }
        var names: [Int64: String] = [:]
        for o in orgs {
            var chain: [String] = []
            var cur: Organisation? = o
            while let c = cur { chain.insert(c.name, at: 0); cur = c.parentID.flatMap { byID[$0] } }
            names[o.id] = chain.joined(separator: " / ")
        }
        return names
    }

    /// `<select>` of the caller's organisations.
    static func organisationSelect(_ ctx: RequestContext, name: String, id: String, selected: Int64?, any: Bool) throws -> Markup {
        let names = try organisationNames(ctx).sorted { $0.value.localizedStandardCompare($1.value) == .orderedAscending }
        let opts: [Markup] = names.map { (oid, n) in
            "<option value=\"\(oid)\"\(Markup.when(selected == oid, " selected"))>\(n)</option>"
        }
        return "<select name=\"\(name)\" id=\"\(id)\"\(Markup.when(!any, " data-kind=\"int\""))>\(Markup.when(any, "<option value=\"\">any</option>"))\(opts)</select>"
    }

    /// A form the browser sends to the REST API (see corral.js). `body` is fixed JSON merged with the fields; `id` is
    /// for pages whose tests (and links) need to find the form. `typed`: the confirmation asks to type this text
    /// (`confirm` is the question); `done`: the message shown on success instead of corral.js's description of the answer.
    static func apiForm(_ url: String, method: String = "POST", body: String? = nil, confirm: String? = nil, typed: String? = nil,
                        done: String? = nil, then: String? = nil, cls: String = "stack", label: String? = nil, id: String? = nil,
                        _ fields: Markup) -> Markup {
        """
        <form class="\(cls)" data-api="\(url)"\(Markup.when(id != nil, " id=\"\(id ?? "")\""))\(Markup.when(method != "POST", " data-method=\"\(method)\""))\
        \(Markup.when(body != nil, " data-body=\"\(body ?? "")\""))\(Markup.when(confirm != nil, " data-confirm=\"\(confirm ?? "")\""))\
        \(Markup.when(typed != nil, " data-confirm-type=\"\(typed ?? "")\""))\(Markup.when(done != nil, " data-done=\"\(done ?? "")\""))\
        \(Markup.when(then != nil, " data-then=\"\(then ?? "")\""))\(Markup.when(label != nil, " aria-label=\"\(label ?? "")\""))>\(fields)<output></output></form>
        """
    }

    static func errorPage(_ error: Error, _ ctx: RequestContext, log: Log) -> HTTPResponse {
        let e = APIHandler.problem(for: error, log: log)
        if e.slug == APIHandler.enrolmentRequired { return HTTPResponse(status: 303, headers: ["Location": "/account"]) }
        if e.status == 401 {
            if ctx.query["part"] != nil || ctx.request.path.hasSuffix("/tree") { return html("<p>Signed out.</p>", status: 401) }
            let next = ctx.request.uri
            return HTTPResponse(status: 303, headers: ["Location": "/login?next=" + URLText.component(next)])
        }
        let body: Markup = """
            <h1>\(e.title)</h1><p class="error">\(e.detail)</p><p><a href="/">Back to the dashboard</a></p>
            """
        var r = page(ctx, e.title, section: "", body)
        r.status = e.status
        return r
    }

    /// Filter forms send every field; a request with empty ones is redirected to the same URL without them
    /// (short, shareable URLs, and "any" means "no condition").
    static func withoutEmptyFilters(_ ctx: RequestContext) -> HTTPResponse? {
        guard let raw = ctx.request.query else { return nil }
        let pairs = QueryString(raw).pairs
        guard pairs.contains(where: { $0.1.isEmpty }) else { return nil }
        let kept = pairs.filter { !$0.1.isEmpty }
        return HTTPResponse(status: 303, headers: ["Location": ctx.request.path + (kept.isEmpty ? "" : "?" + URLText.query(kept))])
    }

    static func bytes(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB"]
        var v = Double(n), i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[i])
    }

    /// Only same-site paths are followed after login. Browsers drop tabs and newlines from URLs and treat `\\` as `/`,
    /// so `/\t/evil.example` would become `//evil.example`: anything but visible ASCII is refused outright.
    static func safeNext(_ s: String?) -> String {
        guard let s, s.count <= 2048, s.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f }),
              s.hasPrefix("/"), !s.hasPrefix("//"), !s.contains("\\"), !s.hasPrefix("/login") else { return "/" }
        return s
    }
}
