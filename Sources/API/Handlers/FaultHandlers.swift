import ACSCore
import Engine
import Foundation
import NetHTTP
import Storage

enum FaultHandlers {
    struct Page: Encodable {
        var faults: [FaultView]
        var nextCursor: String?
    }

    static func list(_ ctx: RequestContext) async throws -> HTTPResponse {
        var q = FaultQuery()
        q.organisationPath = ctx.me.organisation.path
        if let d = try ctx.query.id("device_id") { q.deviceID = try ctx.device(d).id }
        if let c = ctx.query["code"] {
            guard let code = Int(c) else { throw APIError.badRequest("code must be an integer") }
            q.code = code
        }
        if let c = ctx.query["cursor"] {
            guard let id = Int64(c) else { throw APIError.badRequest("invalid cursor") }
            q.beforeID = id
        }
        q.limit = try ctx.query.int("limit", default: 100, range: 1...1000)
        let rows = try ctx.store.faults(q)
        return JSON.response(Page(faults: rows.map(FaultView.init), nextCursor: rows.count == q.limit ? rows.last.map { String($0.id) } : nil))
    }

    /// Queues the faulted task again (as a new task) and removes the fault.
    static func retry(_ ctx: RequestContext) async throws -> HTTPResponse {
        let (f, d) = try ctx.fault(try ctx.pathID())
        ctx.touching("fault", String(f.id), organisation: d.organisationID)
        guard let taskID = f.taskID, let old = try ctx.store.task(id: taskID) else {
            throw APIError.conflict("fault \(f.id) (\(f.source)) has no task to retry")
        }
        if Role.required(for: old.kind) > ctx.me.role { throw APIError.forbidden("retrying a \(old.kind.label) task needs the admin role") }
        let task = try await TaskService(store: ctx.store).queue(old.kind, on: d)
        try await ctx.store.deleteFault(id: f.id)
        ctx.audit.before = JSON.text(FaultView(f))
        ctx.audit.after = JSON.text(TaskView(task))
        return JSON.response(TaskView(task), status: 201)
    }

    static func delete(_ ctx: RequestContext) async throws -> HTTPResponse {
        let (f, d) = try ctx.fault(try ctx.pathID())
        ctx.touching("fault", String(f.id), organisation: d.organisationID)
        ctx.audit.before = JSON.text(FaultView(f))
        try await ctx.store.deleteFault(id: f.id)
        return HTTPResponse(status: 204)
    }
}
