import ACSCore
import Engine
import Foundation
import NetHTTP
import Storage

/// Firmware rollouts over the API (issue 14). A rollout belongs to the organisation it was started in; only that
/// subtree sees and steers it. `RolloutRunner` does the work; these start, read and steer.
enum RolloutHandlers {
    struct WaveView: Encodable {
        var wave: Int
        var percent: Int
        var total: Int
        var pending, sent, upgraded, failed, skipped, cancelled: Int
    }

    struct FailureView: Encodable {
        var deviceId: Int64
        var device: String
        var reason: String
        var previousVersion: String
    }

    struct RolloutView: Encodable {
        var id: Int64
        var organisationId: Int64
        var fileId: Int64
        var version: String
        var target: String
        var waves: [Int]
        var window: String?
        var timezone: String
        var maxFailureRate: Double
        var concurrency: Int
        var state: String
        var reason: String
        /// 1-based, as people count waves.
        var currentWave: Int
        var rollbackOf: Int64?
        var createdAt: String?
        var updatedAt: String?
        var createdBy: String
        var total: Int
        var pending, sent, upgraded, failed, skipped, cancelled: Int
        /// Devices with an outcome (upgraded, failed, skipped, cancelled) of all.
        var percent: Int
        var failureRate: Double
        var byWave: [WaveView]
        var failures: [FailureView]?

        init(_ r: Rollout, counts: [Int: RolloutRules.Tally], failures: [FailureView]? = nil) {
            id = r.id; organisationId = r.organisationID; fileId = r.fileID; version = r.version; target = r.target; waves = r.waves
            window = r.window?.text; timezone = r.timeZone; maxFailureRate = r.maxFailureRate; concurrency = r.concurrency
            state = r.state.rawValue; reason = r.reason; currentWave = r.wave + 1; rollbackOf = r.rollbackOf
            createdAt = Time.iso(r.createdAt); updatedAt = Time.iso(r.updatedAt); createdBy = r.createdBy
            var all = RolloutRules.Tally()
            for t in counts.values { for (s, n) in t.byState { all.byState[s, default: 0] += n } }
            pending = all[.pending]; sent = all[.sent]; upgraded = all[.upgraded]; failed = all[.failed]; skipped = all[.skipped]
            cancelled = all[.cancelled]
            total = pending + sent + upgraded + failed + skipped + cancelled
            percent = total == 0 ? 100 : 100 * (upgraded + failed + skipped + cancelled) / total
            failureRate = all.failureRate
            byWave = r.waves.indices.map { i in
                let t = counts[i] ?? RolloutRules.Tally()
                return WaveView(wave: i + 1, percent: r.waves[i], total: t.byState.values.reduce(0, +), pending: t[.pending], sent: t[.sent],
                                upgraded: t[.upgraded], failed: t[.failed], skipped: t[.skipped], cancelled: t[.cancelled])
            }
            self.failures = failures
        }
    }

    struct RolloutList: Encodable { var rollouts: [RolloutView] }

    struct CreateRollout: Decodable {
        var version: String
        var target: String?
        var waves: String?
        var window: String?
        var timezone: String?
        var maxFailureRate: Double?
        var concurrency: Int?
        var organisationId: Int64?
    }

    static func view(_ r: Rollout, _ ctx: RequestContext, failures: Bool = false) throws -> RolloutView {
        var list: [FailureView]?
        if failures {
            list = try ctx.store.rolloutDevices(rolloutID: r.id, states: [.failed], maxWave: .max, dueBy: nil, limit: 100).map { d in
                FailureView(deviceId: d.deviceID, device: try ctx.store.device(id: d.deviceID)?.name ?? "", reason: d.reason, previousVersion: d.previousVersion)
            }
        }
        return RolloutView(r, counts: try ctx.store.rolloutCounts(rolloutID: r.id), failures: list)
    }

    static func rollout(_ ctx: RequestContext) throws -> Rollout {
        let id = try ctx.pathID()
        guard let r = try ctx.store.rollout(id: id), ctx.me.sees(try ctx.organisationPath(r.organisationID)) else { throw APIError.notFound("rollout \(id)") }
        return r
    }

    static func list(_ ctx: RequestContext) async throws -> HTTPResponse {
        let rollouts = try ctx.store.rollouts(under: ctx.me.organisation.path, limit: 200)
        return JSON.response(RolloutList(rollouts: try rollouts.map { try view($0, ctx) }))
    }

    static func show(_ ctx: RequestContext) async throws -> HTTPResponse {
        JSON.response(try view(try rollout(ctx), ctx, failures: true))
    }

    static func create(_ ctx: RequestContext) async throws -> HTTPResponse {
        let body = try ctx.body(CreateRollout.self)
        let org = try ctx.organisation(body.organisationId ?? ctx.me.organisation.id)
        var req = RolloutService.Request(version: body.version, organisationID: org.id, organisationPath: org.path, actor: ctx.me.actor)
        req.target = try Validate.text(body.target ?? "", "target", max: 1000)
        if let w = body.waves { req.waves = w }
        req.window = body.window
        if let tz = body.timezone { req.timeZone = tz }
        if let m = body.maxFailureRate { req.maxFailureRate = m }
        if let c = body.concurrency { req.concurrency = c }
        let service = RolloutService(store: ctx.store, profiles: ctx.api.config.profiles)
        let r: Rollout
        do {
            (r, _) = try await service.start(req)
        } catch let e as RolloutService.Failure {
            throw APIError.invalid(e.description)
        }
        ctx.touching("rollout", String(r.id), organisation: org.id)
        let v = try view(r, ctx)
        ctx.audit.after = JSON.text(v)
        return JSON.response(v, status: 201)
    }

    static func control(_ action: String) -> @Sendable (RequestContext) async throws -> HTTPResponse {
        { ctx in
            let r = try rollout(ctx)
            ctx.touching("rollout", String(r.id), organisation: r.organisationID)
            let service = RolloutService(store: ctx.store, profiles: ctx.api.config.profiles)
            do {
                if action == "rollback" {
                    let org = try ctx.organisation(r.organisationID)
                    let (back, _) = try await service.rollback(r.id, actor: ctx.me.actor, organisationPath: org.path)
                    return JSON.response(try view(back, ctx), status: 201)
                }
                return JSON.response(try view(try await service.control(r.id, action), ctx))
            } catch let e as RolloutService.Failure {
                throw APIError.conflict(e.description)
            }
        }
    }
}
