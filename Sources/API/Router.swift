import ACSCore
import NetHTTP

/// Who may call a route. Every route declares one; the boundary (`APIHandler`) enforces it before the handler runs.
public enum Permission: Sendable, Equatable, CustomStringConvertible {
    /// No credentials (login, the OpenAPI document).
    case anyone
    /// Any signed-in caller (who am I, log out, change own password).
    case signedIn
    /// At least this role in the caller's organisation subtree.
    case role(Role)

    public var description: String {
        switch self {
        case .anyone: "anyone"
        case .signedIn: "signed-in"
        case .role(let r): r.rawValue
        }
    }
}



typealias RouteHandler = @Sendable (RequestContext) async throws -> HTTPResponse

struct Route: Sendable {
    let method: String
    /// Path below /api/v1 with `{name}` segments, as in the OpenAPI document.
    let pattern: String
    let permission: Permission
    /// Audit action / operation name, e.g. "device.update".
    let action: String
    let handler: RouteHandler

    var segments: [Substring] { pattern.split(separator: "/") }
}

/// Matches a path against the route table. Pure.
struct Router: Sendable {
    let routes: [Route]

    enum Match {
        case found(Route, [String: String])
        case wrongMethod(allowed: [String])
        case none
    }

    func match(method: String, path: String) -> Match {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        var allowed: [String] = []
        for route in routes {
            guard let params = Self.bind(route.segments, parts) else { continue }
            if route.method == method || (method == "HEAD" && route.method == "GET") { return .found(route, params) }
            allowed.append(route.method)
        }
        return allowed.isEmpty ? .none : .wrongMethod(allowed: allowed)
    }

    static func bind(_ pattern: [Substring], _ parts: [Substring]) -> [String: String]? {
        guard pattern.count == parts.count else { return nil }
        var params: [String: String] = [:]
        for (p, v) in zip(pattern, parts) {
            if p.hasPrefix("{") && p.hasSuffix("}") {
                params[String(p.dropFirst().dropLast())] = QueryString.decode(v)
            } else if p != v {
                return nil
            }
        }
        return params
    }
}
