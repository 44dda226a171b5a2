import ACSCore
import Foundation
import NetHTTP
import Storage

enum AuditHandlers {
    static func query(_ ctx: RequestContext, limit: Int) throws -> AuditQuery {
        var q = AuditQuery()
        q.organisationPath = ctx.me.organisation.path
        q.actor = ctx.query["actor"]
        q.action = ctx.query["action"]
        q.objectType = ctx.query["object_type"]
        q.objectID = ctx.query["object_id"]
        q.since = try time(ctx, "since")
        q.until = try time(ctx, "until")
        if let c = ctx.query["cursor"] {
            guard let id = Int64(c) else { throw APIError.badRequest("invalid cursor") }
            q.beforeID = id
        }
        q.limit = limit
        return q
    }

    static func time(_ ctx: RequestContext, _ key: String) throws -> Int64? {
        guard let s = ctx.query[key] else { return nil }
        guard let t = Time.parse(s) else { throw APIError.badRequest("\(key) must be RFC 3339 or Unix seconds") }
        return t
    }

    struct Page: Encodable { var entries: [AuditView]; var nextCursor: String? }

    static func list(_ ctx: RequestContext) async throws -> HTTPResponse {
        let limit = try ctx.query.int("limit", default: 100, range: 1...1000)
        let rows = try ctx.store.audit(try query(ctx, limit: limit))
        return JSON.response(Page(entries: rows.map(AuditView.init), nextCursor: rows.count == limit ? rows.last.map { String($0.id) } : nil))
    }

    static func export(_ ctx: RequestContext) async throws -> HTTPResponse {
        let rows = try ctx.store.audit(try query(ctx, limit: 100_000))
        var out = CSV.line(["id", "at", "actor", "user_id", "token_id", "remote", "organisation_id", "action", "object_type", "object_id",
                            "status", "before", "after"])
        for e in rows {
            out += CSV.line([String(e.id), Time.iso(e.at) ?? "", e.actor, e.userID.map(String.init) ?? "", e.tokenID.map(String.init) ?? "",
                             e.remote, String(e.organisationID), e.action, e.objectType, e.objectID, String(e.status), e.before ?? "", e.after ?? ""])
        }
        return DeviceHandlers.csv(out, filename: "audit.csv")
    }
}
