import Foundation
import NetHTTP

/// An error answered as RFC 9457 `application/problem+json`.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    /// Short slug; the problem `type` is "https://corral.invalid/problems/<slug>".
    public var slug: String
    public var title: String
    public var detail: String
    public var headers: [(String, String)] = []

    public init(_ status: Int, _ slug: String, _ title: String, _ detail: String, headers: [(String, String)] = []) {
        self.status = status; self.slug = slug; self.title = title; self.detail = detail; self.headers = headers
    }

    public var description: String { "\(status) \(title): \(detail)" }

    static func badRequest(_ detail: String) -> APIError { APIError(400, "bad-request", "Bad request", detail) }
    static func invalid(_ detail: String) -> APIError { APIError(422, "invalid", "Invalid input", detail) }
    static func unauthorized(_ detail: String) -> APIError {
        APIError(401, "unauthorized", "Authentication required", detail, headers: [("WWW-Authenticate", "Bearer realm=\"corral\"")])
    }
    static func forbidden(_ detail: String) -> APIError { APIError(403, "forbidden", "Forbidden", detail) }
    /// Also what callers get for objects outside their organisation subtree: they cannot tell it exists.
    static func notFound(_ what: String) -> APIError { APIError(404, "not-found", "Not found", "\(what) does not exist") }
    static func conflict(_ detail: String) -> APIError { APIError(409, "conflict", "Conflict", detail) }
    static func tooLarge(_ detail: String) -> APIError { APIError(413, "too-large", "Request too large", detail) }
    static func unsupportedMediaType(_ detail: String) -> APIError { APIError(415, "unsupported-media-type", "Unsupported media type", detail) }
    static func tooManyRequests(_ detail: String, retryAfter: Int) -> APIError {
        APIError(429, "too-many-requests", "Too many requests", detail, headers: [("Retry-After", String(max(1, retryAfter)))])
    }

    var response: HTTPResponse {
        let body: [String: Any] = ["type": "https://corral.invalid/problems/\(slug)", "title": title, "status": status, "detail": detail]
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data("{}".utf8)
        var h = HTTPFields(headers)
        h.set("Content-Type", "application/problem+json")
        return HTTPResponse(status: status, headers: h, body: Array(data))
    }
}
