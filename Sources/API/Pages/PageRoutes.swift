import GUI
import NetHTTP

/// The WebGUI's route table. Pages are read-only views (GET) checked by the same boundary as the API
/// (`APIHandler.authorise`: session cookie, role, organisation subtree through `RequestContext`); every change a
/// page offers is a form the browser sends to the REST API itself, so it meets the API route's permission, CSRF
/// check and audit entry. A page shows an action only if `ctx.can(<API action>)` — the same table decides.
enum PageRoutes {
    static let all: [Route] = [
        Route(method: "GET", pattern: "/static/{asset}", permission: .anyone, action: "gui.asset", handler: AssetPage.serve),
        Route(method: "GET", pattern: "/login", permission: .anyone, action: "gui.login", handler: AccountPages.login),
        Route(method: "GET", pattern: "/account", permission: .signedIn, action: "gui.account", handler: AccountPages.account),
        Route(method: "GET", pattern: "/", permission: .role(.viewer), action: "gui.dashboard", handler: DashboardPage.show),
        Route(method: "GET", pattern: "/devices", permission: .role(.viewer), action: "gui.inventory", handler: InventoryPage.show),
        Route(method: "GET", pattern: "/devices/{id}", permission: .role(.viewer), action: "gui.device", handler: DevicePage.show),
        Route(method: "GET", pattern: "/onboarding", permission: .role(.viewer), action: "gui.onboarding", handler: OnboardingPage.show),
        Route(method: "GET", pattern: "/alerts", permission: .role(.viewer), action: "gui.alerts", handler: AlertsPage.show),
        Route(method: "GET", pattern: "/devices/{id}/tree", permission: .role(.viewer), action: "gui.device.tree", handler: DevicePage.tree),
        Route(method: "GET", pattern: "/firmware", permission: .role(.viewer), action: "gui.firmware", handler: FirmwarePages.list),
        Route(method: "GET", pattern: "/firmware/rollouts/{id}", permission: .role(.viewer), action: "gui.rollout", handler: FirmwarePages.rollout),
        Route(method: "GET", pattern: "/webhooks", permission: .role(.admin), action: "gui.webhooks", handler: WebhookPages.list),
        Route(method: "GET", pattern: "/webhooks/{id}", permission: .role(.admin), action: "gui.webhook", handler: WebhookPages.show),
        Route(method: "GET", pattern: "/admin", permission: .role(.viewer), action: "gui.admin", handler: AdminPages.index),
        Route(method: "GET", pattern: "/admin/organisations", permission: .role(.viewer), action: "gui.organisations", handler: AdminPages.organisations),
        Route(method: "GET", pattern: "/admin/users", permission: .role(.admin), action: "gui.users", handler: AdminPages.users),
        Route(method: "GET", pattern: "/admin/tokens", permission: .role(.admin), action: "gui.tokens", handler: AdminPages.tokens),
        Route(method: "GET", pattern: "/admin/files", permission: .role(.viewer), action: "gui.files", handler: AdminPages.files),
        Route(method: "GET", pattern: "/admin/profiles", permission: .role(.viewer), action: "gui.profiles", handler: ProfilePages.list),
        Route(method: "GET", pattern: "/admin/profiles/{name}", permission: .role(.viewer), action: "gui.profile", handler: ProfilePages.show),
        Route(method: "GET", pattern: "/admin/campaigns", permission: .role(.viewer), action: "gui.campaigns", handler: AdminPages.campaigns),
        Route(method: "GET", pattern: "/admin/automations", permission: .role(.viewer), action: "gui.automations", handler: AdminPages.automations),
        Route(method: "GET", pattern: "/admin/script-versions", permission: .role(.superadmin), action: "gui.script_versions", handler: AdminPages.scriptVersions),
        Route(method: "GET", pattern: "/admin/script-versions/{id}", permission: .role(.superadmin), action: "gui.script_version", handler: AdminPages.scriptVersion),
        Route(method: "GET", pattern: "/admin/campaigns/{id}", permission: .role(.viewer), action: "gui.campaign", handler: CampaignPages.campaign),
        Route(method: "GET", pattern: "/admin/reports", permission: .role(.viewer), action: "gui.reports", handler: AdminPages.reports),
        Route(method: "GET", pattern: "/admin/audit", permission: .role(.admin), action: "gui.audit", handler: AdminPages.audit),
    ]

    /// Permission of every API and page action, by action name.
    static let permissions: [String: Permission] = {
        var p: [String: Permission] = [:]
        for r in Routes.all + all { p[r.action] = r.permission }
        return p
    }()
}

extension RequestContext {
    /// Whether the caller passes the permission of the API route (or page) with this action name. Pages use it to
    /// decide which buttons to show; the API refuses the call anyway when it does not hold.
    func can(_ action: String) -> Bool {
        guard let c = caller, let p = PageRoutes.permissions[action] else { return false }
        switch p {
        case .anyone, .signedIn: return true
        case .role(let r): return c.role >= r
        }
    }
}

enum AssetPage {
    static func serve(_ ctx: RequestContext) async throws -> HTTPResponse {
        let name = ctx.params["asset"] ?? ""
        let (body, type): (String, String)
        switch name {
        case "corral-\(Assets.version).css": (body, type) = (Assets.css, "text/css; charset=utf-8")
        case "corral-\(Assets.version).js": (body, type) = (Assets.js, "text/javascript; charset=utf-8")
        default: throw APIError.notFound("asset \(name.prefix(60))")
        }
        return HTTPResponse(status: 200, headers: ["Content-Type": type, "Cache-Control": "public, max-age=86400"], body: Array(body.utf8))
    }
}
