import ACSCore
import Engine
import Foundation
import HTTPAuth
import NetHTTP
import Storage

/// Webhooks over the API (issue 16): an organisation's admins register URLs that receive its subtree's events,
/// signed with their secret. `WebhookDispatcher` delivers; these create, read, change, test and remove.
enum WebhookHandlers {
    struct WebhookView: Encodable {
        var id: Int64
        var organisationId: Int64
        var url: String
        var events: [String]
        var enabled: Bool
        var description: String
        var createdAt: String?
        var createdBy: String
        /// Shown once, in the answer that created or replaced it.
        var secret: String?
        var pending, delivered, failed: Int
        init(_ h: Webhook, counts: [WebhookDelivery.State: Int], secret: String? = nil) {
            id = h.id; organisationId = h.organisationID; url = h.url; events = h.events; enabled = h.enabled
            description = h.description; createdAt = Time.iso(h.createdAt); createdBy = h.createdBy; self.secret = secret
            pending = counts[.pending] ?? 0; delivered = counts[.delivered] ?? 0; failed = counts[.failed] ?? 0
        }
    }

    struct WebhookList: Encodable { var webhooks: [WebhookView]; var events: [String] }

    struct DeliveryView: Encodable {
        var id: Int64
        var eventId: Int64
        var event: String
        var state: String
        var attempts: Int
        var lastStatus: Int
        var lastError: String
        var createdAt: String?
        var nextAttemptAt: String?
        var finishedAt: String?
        var body: String
        init(_ d: WebhookDelivery) {
            id = d.id; eventId = d.eventID; event = d.event; state = d.state.rawValue; attempts = d.attempts; lastStatus = d.lastStatus
            lastError = d.lastError; createdAt = Time.iso(d.createdAt); nextAttemptAt = d.state == .pending ? Time.iso(d.nextAt) : nil
            finishedAt = d.finishedAt > 0 ? Time.iso(d.finishedAt) : nil; body = d.body
        }
    }

    struct DeliveryList: Encodable { var deliveries: [DeliveryView] }

    struct CreateWebhook: Decodable {
        var url: String
        var events: [String]
        var secret: String?
        var description: String?
        var enabled: Bool?
        var organisationId: Int64?
    }

    struct UpdateWebhook: Decodable {
        var url: String?
        var events: [String]?
        var secret: String?
        var description: String?
        var enabled: Bool?
    }

    static func view(_ h: Webhook, _ ctx: RequestContext, secret: String? = nil) throws -> WebhookView {
        WebhookView(h, counts: try ctx.store.webhookDeliveryCounts(webhookID: h.id), secret: secret)
    }

    static func webhook(_ ctx: RequestContext) throws -> Webhook {
        let id = try ctx.pathID()
        guard let h = try ctx.store.webhook(id: id), ctx.me.sees(try ctx.organisationPath(h.organisationID)) else { throw APIError.notFound("webhook \(id)") }
        return h
    }

    static func check(_ h: Webhook, _ ctx: RequestContext) throws {
        do { try WebhookRules.validate(url: h.url, events: h.events, secret: h.secret) } catch let e as WebhookRules.Invalid {
            throw APIError.invalid(e.description)
        }
        let allowed = ctx.api.config.webhookHosts
        guard WebhookRules.hostAllowed(h.url, allowed) else {
            throw APIError.invalid("webhooks may only point at \(allowed.joined(separator: ", ")) (webhook_hosts in corral.json)")
        }
    }

    static func list(_ ctx: RequestContext) async throws -> HTTPResponse {
        let hooks = try ctx.store.webhooks(under: ctx.me.organisation.path)
        return JSON.response(WebhookList(webhooks: try hooks.map { try view($0, ctx) }, events: WebhookRules.knownEvents))
    }

    static func show(_ ctx: RequestContext) async throws -> HTTPResponse {
        JSON.response(try view(try webhook(ctx), ctx))
    }

    static func create(_ ctx: RequestContext) async throws -> HTTPResponse {
        let body = try ctx.body(CreateWebhook.self)
        let org = try ctx.organisation(body.organisationId ?? ctx.me.organisation.id)
        let secret = body.secret ?? Base64URL.encode(randomBytes(24))
        var h = Webhook(organisationID: org.id, url: body.url, events: body.events, secret: secret, createdAt: Time.now)
        h.description = try Validate.text(body.description ?? "", "description", max: 500)
        h.enabled = body.enabled ?? true
        h.createdBy = ctx.me.actor
        try check(h, ctx)
        let created = try await ctx.store.createWebhook(h)
        ctx.touching("webhook", String(created.id), organisation: org.id)
        ctx.audit.after = JSON.text(try view(created, ctx))
        return JSON.response(try view(created, ctx, secret: secret), status: 201)
    }

    static func update(_ ctx: RequestContext) async throws -> HTTPResponse {
        var h = try webhook(ctx)
        let body = try ctx.body(UpdateWebhook.self)
        ctx.touching("webhook", String(h.id), organisation: h.organisationID)
        ctx.audit.before = JSON.text(try view(h, ctx))
        if let u = body.url { h.url = u }
        if let e = body.events { h.events = e }
        if let s = body.secret { h.secret = s }
        if let d = body.description { h.description = try Validate.text(d, "description", max: 500) }
        if let e = body.enabled { h.enabled = e }
        try check(h, ctx)
        try await ctx.store.updateWebhook(h)
        let v = try view(h, ctx)
        ctx.audit.after = JSON.text(v)
        return JSON.response(try view(h, ctx, secret: body.secret))
    }

    static func delete(_ ctx: RequestContext) async throws -> HTTPResponse {
        let h = try webhook(ctx)
        ctx.touching("webhook", String(h.id), organisation: h.organisationID)
        ctx.audit.before = JSON.text(try view(h, ctx))
        try await ctx.store.deleteWebhook(id: h.id)
        return HTTPResponse(status: 204)
    }

    static func deliveries(_ ctx: RequestContext) async throws -> HTTPResponse {
        let h = try webhook(ctx)
        let limit = try ctx.query.int("limit", default: 100, range: 1...500)
        return JSON.response(DeliveryList(deliveries: try ctx.store.webhookDeliveries(webhookID: h.id, limit: limit).map(DeliveryView.init)))
    }

    /// POST /webhooks/{id}/test: a `webhook.test` event for this webhook only (whatever its patterns), delivered like
    /// any other; its outcome shows in the delivery log.
    static func test(_ ctx: RequestContext) async throws -> HTTPResponse {
        let h = try webhook(ctx)
        ctx.touching("webhook", String(h.id), organisation: h.organisationID)
        let data = EventRecord.data(["webhook_id": h.id, "organisation_id": h.organisationID, "by": ctx.me.actor])
        try await ctx.store.apply([.automation(.event(EventRecord(at: Time.now, kind: "webhook.test", deviceID: nil, data: data)))])
        return JSON.response(["queued": true], status: 202)
    }
}
