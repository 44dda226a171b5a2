import ACSCore
import Foundation
import NetHTTP
import Storage

/// The automation files `serve` runs, and the events they react to.
enum AutomationHandlers {
    struct Automation: Encodable { var file: String; var handlers: [String]; var alerts: [String]; var problems: [String] }
    struct List: Encodable { var automations: [Automation] }

    static func list(_ ctx: RequestContext) async throws -> HTTPResponse {
        let all = ctx.api.config.automations?.statuses ?? []
        return JSON.response(List(automations: all.map { Automation(file: $0.file, handlers: $0.handlers, alerts: $0.alerts, problems: $0.problems) }))
    }

    struct Event: Encodable { var id: Int64; var kind: String; var at: String; var data: String; var handled: Bool }
    struct Events: Encodable { var events: [Event] }

    static func deviceEvents(_ ctx: RequestContext) async throws -> HTTPResponse {
        let d = try ctx.device(try ctx.pathID())
        let limit = try ctx.query.int("limit", default: 100, range: 1...1000)
        let events = try ctx.store.events(deviceID: d.id, limit: limit).map {
            Event(id: $0.id, kind: $0.kind, at: Time.iso($0.at) ?? "", data: $0.data, handled: $0.handledAt > 0)
        }
        return JSON.response(Events(events: events))
    }
}

/// Alerts raised by automation rules and handlers: the NOC's list, one alert, acknowledgement.
enum AlertHandlers {
    struct AlertView: Encodable {
        var id: Int64
        var name: String
        var deviceId: Int64
        var deviceName: String
        var severity: String
        var state: String
        var since: String
        var raisedAt: String?
        var clearedAt: String?
        var message: String
        var value: String
        var source: String
        var acknowledgedBy: String?
        var acknowledgedAt: String?

        init(_ r: AlertRow) {
            let a = r.alert
            id = a.id; name = a.name; deviceId = a.deviceID; deviceName = r.deviceName; severity = a.severity.rawValue
            state = a.state.rawValue; since = Time.iso(a.since) ?? ""; raisedAt = a.raisedAt > 0 ? Time.iso(a.raisedAt) : nil
            clearedAt = a.clearedAt > 0 ? Time.iso(a.clearedAt) : nil; message = a.message; value = a.value; source = a.source
            acknowledgedBy = a.acknowledgedAt > 0 ? a.acknowledgedBy : nil; acknowledgedAt = a.acknowledgedAt > 0 ? Time.iso(a.acknowledgedAt) : nil
        }
    }
    struct Page: Encodable { var alerts: [AlertView]; var nextCursor: String? }

    /// `state`: active (default), pending, cleared, open (pending and active) or all.
    static func query(_ ctx: RequestContext, deviceID: Int64?) throws -> AlertQuery {
        var q = AlertQuery()
        q.organisationPath = ctx.me.organisation.path
        q.deviceID = deviceID
        switch ctx.query["state"] ?? "active" {
        case "all": q.states = []
        case "open": q.states = [.pending, .active]
        case let s:
            guard let state = AlertState(rawValue: s) else { throw APIError.badRequest("state is active, pending, cleared, open or all") }
            q.states = [state]
        }
        if let s = ctx.query["severity"] {
            guard let v = AlertSeverity(rawValue: s) else {
                throw APIError.badRequest("severity is \(AlertSeverity.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            q.severity = v
        }
        if let n = ctx.query["name"] {
            guard AlertRecord.validName(n) else { throw APIError.badRequest("name is an alert name (letters, digits, '.', '-', '_')") }
            q.name = n
        }
        if let c = ctx.query["cursor"] {
            guard let id = Int64(c) else { throw APIError.badRequest("invalid cursor") }
            q.beforeID = id
        }
        q.limit = try ctx.query.int("limit", default: 100, range: 1...1000)
        return q
    }

    static func list(_ ctx: RequestContext) async throws -> HTTPResponse {
        let deviceID = try ctx.query.id("device_id").map { try ctx.device($0).id }
        let q = try query(ctx, deviceID: deviceID)
        let rows = try ctx.store.alerts(q)
        return JSON.response(Page(alerts: rows.map(AlertView.init), nextCursor: rows.count == q.limit ? rows.last.map { String($0.alert.id) } : nil))
    }

    static func forDevice(_ ctx: RequestContext) async throws -> HTTPResponse {
        let d = try ctx.device(try ctx.pathID())
        let q = try query(ctx, deviceID: d.id)
        let rows = try ctx.store.alerts(q)
        return JSON.response(Page(alerts: rows.map(AlertView.init), nextCursor: rows.count == q.limit ? rows.last.map { String($0.alert.id) } : nil))
    }

    static func alert(_ ctx: RequestContext, _ id: Int64) throws -> AlertRow {
        guard let r = try ctx.store.alert(id: id), (try? ctx.device(r.alert.deviceID)) != nil else { throw APIError.notFound("alert \(id)") }
        return r
    }

    static func show(_ ctx: RequestContext) async throws -> HTTPResponse {
        JSON.response(AlertView(try alert(ctx, try ctx.pathID())))
    }

    /// Marks an open alert as seen by the caller; it stays open until its condition clears.
    static func acknowledge(_ ctx: RequestContext) async throws -> HTTPResponse {
        let r = try alert(ctx, try ctx.pathID())
        let d = try ctx.device(r.alert.deviceID)
        ctx.touching("alert", String(r.alert.id), organisation: d.organisationID)
        guard r.alert.state != .cleared else { throw APIError.conflict("alert \(r.alert.id) is cleared") }
        try await ctx.store.apply([.automation(.acknowledgeAlert(id: r.alert.id, by: ctx.me.actor, at: Int64(Date().timeIntervalSince1970)))])
        ctx.audit.before = JSON.text(AlertView(r))
        let after = try alert(ctx, r.alert.id)
        ctx.audit.after = JSON.text(AlertView(after))
        return JSON.response(AlertView(after))
    }
}
