import ACSCore
import Engine
import Foundation
import HTTPAuth
import NetHTTP
import Storage

/// The REST API: `/api/v1/...` plus the file downloads CPEs fetch (`/files/<id>/<key>/<name>`).
/// This type is the one authorisation boundary: it matches the route, authenticates, checks the route's declared
/// permission and the CSRF token, runs the handler, and writes the audit entry of every mutating call.
public final class APIHandler: Sendable {
    public static let prefix = "/api/v1"
    let services: APIServices
    let router: Router
    /// The WebGUI's pages (`PageRoutes`), checked by the same `authorise`.
    let pageRouter: Router

    public init(store: APIStore, config: APIConfig) {
        services = APIServices(store: store, config: config)
        router = Router(routes: Routes.all)
        pageRouter = Router(routes: PageRoutes.all)
    }

    /// nil when the path is not the API's (the operator endpoint then answers it).
    public func handle(_ request: HTTPRequest) async -> HTTPResponse? {
        if request.path == Self.prefix || request.path.hasPrefix(Self.prefix + "/") {
            return await api(request)
        }
        if request.path.hasPrefix("/files/") && (request.method == "GET" || request.method == "HEAD") {
            return FileHandlers.download(request, services: services)
        }
        if request.path.hasPrefix("/uploads/") && (request.method == "PUT" || request.method == "POST") {
            return await BackupHandlers.receive(request, services: services)
        }
        if request.path.hasPrefix("/backups/") && (request.method == "GET" || request.method == "HEAD") {
            return BackupHandlers.serve(request, services: services)
        }
        return await page(request)
    }

    /// A WebGUI page: same boundary (credentials, role; subtree through `RequestContext`), HTML answers, and a
    /// strict Content-Security-Policy (the GUI's own script and stylesheet only). nil for paths that are not pages.
    private func page(_ request: HTTPRequest) async -> HTTPResponse? {
        guard case .found(let route, let params) = pageRouter.match(method: request.method, path: request.path) else { return nil }
        let ctx = RequestContext(request: request, params: params, api: services)
        var response: HTTPResponse
        do {
            try authorise(route, ctx)
            response = try await ReadDeadline.$seconds.withValue(Self.readLimit(route)) { try await route.handler(ctx) }
        } catch {
            response = PageKit.errorPage(error, ctx, log: services.log)
        }
        if request.method == "HEAD" { response.body = [] }
        if response.headers.first("Cache-Control") == nil { response.headers.set("Cache-Control", "no-store") }
        response.headers.set("Content-Security-Policy",
                             "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
        response.headers.set("X-Content-Type-Options", "nosniff")
        response.headers.set("Referrer-Policy", "same-origin")
        return response
    }

    private func api(_ request: HTTPRequest) async -> HTTPResponse {
        let path = String(request.path.dropFirst(Self.prefix.count))
        switch router.match(method: request.method, path: path) {
        case .none:
            return APIError.notFound("\(request.path)").response
        case .wrongMethod(let allowed):
            var e = APIError(405, "method-not-allowed", "Method not allowed", "\(request.method) is not allowed on \(request.path)")
            e.headers = [("Allow", allowed.joined(separator: ", "))]
            return e.response
        case .found(let route, let params):
            let ctx = RequestContext(request: request, params: params, api: services)
            var response: HTTPResponse
            do {
                try authorise(route, ctx)
                response = try await ReadDeadline.$seconds.withValue(Self.readLimit(route)) { try await route.handler(ctx) }
            } catch {
                response = Self.problem(for: error, log: services.log).response
            }
            if request.method != "GET" && request.method != "HEAD" && (ctx.caller != nil || ctx.audit.actor != nil) {
                await record(route, ctx, status: response.status)
            }
            if request.method == "HEAD" { response.body = [] }
            response.headers.set("Cache-Control", "no-store")
            return response
        }
    }

    /// The boundary check: credentials, role, CSRF. Object visibility (404 outside the subtree) is then applied by
    /// every lookup through `RequestContext`.
    private func authorise(_ route: Route, _ ctx: RequestContext) throws {
        if !["GET", "HEAD"].contains(ctx.request.method), let origin = ctx.request.headers.first("Origin"),
           !Self.sameOrigin(origin, host: ctx.request.headers.first("Host")) {
            // Browsers name the page that made a request; a page elsewhere may not log in or change anything here.
            throw APIError.forbidden("cross-origin request refused (Origin \(origin.prefix(100)) is not this server)")
        }
        guard route.permission != .anyone else { return }
        let caller = try Authenticator(store: services.store).authenticate(ctx.request, now: Time.now)
        ctx.caller = caller
        if let csrf = caller.csrf, !["GET", "HEAD"].contains(ctx.request.method) {
            // Cookie sessions ride along on cross-site requests; the CSRF token cannot.
            guard let sent = ctx.request.headers.first("X-CSRF-Token"), constantTimeEquals(sent, csrf) else {
                throw APIError.forbidden("state-changing requests with a session cookie need the X-CSRF-Token header from the login answer")
            }
        }
        if caller.mustEnrolTwoFactor && !Self.allowedBeforeEnrolment.contains(route.action) {
            throw APIError(403, Self.enrolmentRequired, "Two-factor enrolment required",
                           "your organisation requires two-factor authentication for admins: set it up on /account (POST /api/v1/me/2fa/enrol) first")
        }
        if case .role(let needed) = route.permission, caller.role < needed {
            throw APIError.forbidden("\(route.action) needs the \(needed.rawValue) role; this caller has \(caller.role.rawValue)")
        }
    }

    private func record(_ route: Route, _ ctx: RequestContext, status: Int) async {
        let c = ctx.caller
        let note = ctx.audit
        let entry = AuditEntry(at: Time.now, actor: c?.actor ?? note.actor ?? "", userID: c?.user.id, tokenID: c?.token?.id,
                               remote: ctx.request.remoteAddress ?? "", organisationID: note.organisationID ?? c?.organisation.id ?? Organisation.rootID,
                               action: route.action, objectType: note.objectType, objectID: note.objectID,
                               before: note.before, after: note.after, status: status)
        do { try await services.store.appendAudit(entry) } catch { services.log.error("audit write failed: \(error)") }
    }

    /// Time limit of each store read an API call or page makes; CSV exports read more.
    static let readSeconds = 10.0
    static let exportReadSeconds = 60.0

    static func readLimit(_ route: Route) -> Double { route.action.hasSuffix(".export") ? exportReadSeconds : readSeconds }

    static let enrolmentRequired = "two-factor-enrolment-required"
    static let allowedBeforeEnrolment: Set<String> = ["auth.logout", "me.read", "me.password", "me.two_factor", "me.two_factor_enrol",
                                                      "me.two_factor_confirm", "gui.account"]

    /// True when `Origin` names the host (and port) the request was sent to. Reverse proxies must pass Host through.
    static func sameOrigin(_ origin: String, host: String?) -> Bool {
        guard let host, let range = origin.range(of: "://") else { return false }
        let authority = origin[range.upperBound...]
        guard !authority.contains("/") else { return false }
        return authority.lowercased() == host.trimmingCharacters(in: .whitespaces).lowercased()
    }

    static func problem(for error: Error, log: Log) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as StoreConflict: return .conflict(e.description)
        case let e as QueryError: return .badRequest(e.description)
        case let e as any DatabaseFault where e.isUnavailable:
            log.error("API request failed, database unavailable: \(e)")
            return APIError(503, "database-unavailable", "Database unavailable",
                            "the database cannot be reached right now (restarting or failing over); nothing was changed: retry shortly",
                            headers: [("Retry-After", "5")])
        case let e as any DatabaseFault where e.isTimeLimit:
            return APIError(503, "query-time-limit", "Query took too long",
                            "the query ran longer than this server allows (\(Int(APIHandler.readSeconds)) s; exports \(Int(APIHandler.exportReadSeconds)) s): narrow the filter",
                            headers: [("Retry-After", "5")])
        case let e as any DatabaseFault where e.isConstraintViolation:
            log.info("API write refused by a constraint: \(e)")
            return .conflict("a record this change refers to was changed or removed meanwhile; reload and try again")
        default:
            log.error("API handler failed: \(error)")
            return APIError(500, "internal", "Internal error", "the server could not complete the request; it has been logged")
        }
    }
}
