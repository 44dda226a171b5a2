import ACSCore
import Engine
import Foundation
import NetHTTP
import SpeedTest
import Storage

/// TR-143 tests: start one on a device, list results (device, fleet), summarise the fleet by a device field.
enum DiagnosticHandlers {
    struct Create: Decodable {
        var test: String
        var size: Int?
        var seconds: Int?
        var connections: Int?
        var host: String?
        var count: Int?
        /// Seconds the device has to report completion (default: the test's duration + 600).
        var deadline: Int?
        var connectionRequest: Bool?
        var timeout: Int?
    }

    static func create(_ ctx: RequestContext) async throws -> HTTPResponse {
        let device = try ctx.device(try ctx.pathID())
        ctx.touching("device", String(device.id), organisation: device.organisationID)
        let body = try ctx.body(Create.self)
        guard let test = DiagnosticTest(rawValue: body.test) else {
            throw APIError.invalid("test must be one of \(DiagnosticTest.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let options = DiagnosticOptions(size: body.size, seconds: body.seconds, connections: body.connections, host: body.host,
                                        count: body.count, timeout: body.deadline)
        let profile = ctx.api.config.profiles.profile(named: device.profile)
        let orgURL = try ctx.store.effectiveSpeedtestBaseURL(organisationID: device.organisationID)
        let servers = ctx.api.config.speedTest?.servers(for: profile, organisationURL: orgURL)
            ?? SpeedTestService.servers(config: CorralConfig(), profile: profile, organisationURL: orgURL)
        let kind: TaskKind
        do {
            kind = try TaskService.diagnostics(test, options: options, on: device, profile: profile, servers: servers)
        } catch {
            throw APIError.invalid(error.description)
        }
        return try await TaskHandlers.run(kind, on: device,
                                          options: TaskHandlers.RunOptions(connectionRequest: body.connectionRequest, timeout: body.timeout), ctx)
    }

    struct View: Encodable {
        var id: Int64
        var deviceID: Int64
        var taskID: Int64?
        var test: String
        var state: String
        var ok: Bool
        var at: String
        var throughputBps: Double?
        var avgRttUs: Int64?
        var jitterUs: Double?
        var loss: Double?
        var summary: [String]
        var result: DiagnosticResult?
        enum CodingKeys: String, CodingKey {
            case id, deviceID = "device_id", taskID = "task_id", test, state, ok, at, throughputBps = "throughput_bps"
            case avgRttUs = "avg_rtt_us", jitterUs = "jitter_us", loss, summary, result
        }
        init(_ r: DiagnosticRecord, full: Bool) {
            id = r.id; deviceID = r.deviceID; taskID = r.taskID; test = r.test; state = r.state; ok = r.ok; at = Time.iso(r.at) ?? ""
            throughputBps = r.throughputBps; avgRttUs = r.avgRttUs; jitterUs = r.jitterUs; loss = r.loss
            let decoded = try? JSONDecoder().decode(DiagnosticResult.self, from: Data(r.result.utf8))
            summary = decoded?.summaryLines ?? []
            result = full ? decoded : nil
        }
    }

    struct Page: Encodable {
        var results: [View]
        var nextCursor: String?
        enum CodingKeys: String, CodingKey { case results, nextCursor = "next_cursor" }
    }

    static func query(_ ctx: RequestContext) throws -> DiagnosticQuery {
        var q = DiagnosticQuery(organisationPath: ctx.me.organisation.path)
        if let t = ctx.query["test"] {
            guard DiagnosticTest(rawValue: t) != nil else { throw APIError.badRequest("test must be one of \(DiagnosticTest.allCases.map(\.rawValue).joined(separator: ", "))") }
            q.test = t
        }
        if let s = ctx.query["since"] {
            guard let v = Time.parse(s) else { throw APIError.badRequest("since must be Unix seconds or an ISO 8601 time") }
            q.since = v
        }
        if let c = ctx.query["cursor"] {
            guard let id = Int64(c) else { throw APIError.badRequest("invalid cursor") }
            q.beforeID = id
        }
        q.limit = try ctx.query.int("limit", default: 100, range: 1...1000)
        return q
    }

    static func page(_ rows: [DiagnosticRecord], _ q: DiagnosticQuery, full: Bool) -> HTTPResponse {
        JSON.response(Page(results: rows.map { View($0, full: full) }, nextCursor: rows.count == q.limit ? rows.last.map { String($0.id) } : nil),
                      keysAsIs: true)
    }

    static func forDevice(_ ctx: RequestContext) async throws -> HTTPResponse {
        let d = try ctx.device(try ctx.pathID())
        var q = try query(ctx)
        q.deviceID = d.id
        return page(try ctx.store.diagnosticResults(q), q, full: ctx.query["full"] == "true")
    }

    static func list(_ ctx: RequestContext) async throws -> HTTPResponse {
        var q = try query(ctx)
        if let d = try ctx.query.id("device_id") { q.deviceID = try ctx.device(d).id }
        if let t = try ctx.query.id("task_id") {
            _ = try ctx.task(t)
            return page(try ctx.store.diagnosticResult(taskID: t).map { [$0] } ?? [], q, full: true)
        }
        return page(try ctx.store.diagnosticResults(q), q, full: ctx.query["full"] == "true")
    }

    static func show(_ ctx: RequestContext) async throws -> HTTPResponse {
        guard let r = try ctx.store.diagnosticResult(id: try ctx.pathID()), (try? ctx.device(r.deviceID)) != nil else {
            throw APIError.notFound("diagnostic result \(ctx.params["id"] ?? "")")
        }
        return JSON.response(View(r, full: true), keysAsIs: true)
    }

    struct SpeedtestSetting: Codable {
        /// This organisation's test server ("" or null = inherit from the parent, then the profile, then corral.json).
        var speedtestBaseUrl: String?
        /// What its devices use now (without a profile's own setting).
        var effectiveBaseUrl: String?
    }

    static func speedtestSetting(_ ctx: RequestContext) async throws -> HTTPResponse {
        let o = try ctx.organisation(try ctx.pathID())
        return JSON.response(try setting(ctx, o.id))
    }

    static func setting(_ ctx: RequestContext, _ id: Int64) throws -> SpeedtestSetting {
        let own = try ctx.store.speedtestBaseURL(organisationID: id)
        let effective = try ctx.store.effectiveSpeedtestBaseURL(organisationID: id) ?? ctx.api.config.speedTest?.servers(for: nil).baseURL
        return SpeedtestSetting(speedtestBaseUrl: own.isEmpty ? nil : own, effectiveBaseUrl: effective)
    }

    static func setSpeedtestSetting(_ ctx: RequestContext) async throws -> HTTPResponse {
        let o = try OrganisationHandlers.changeable(ctx, try ctx.pathID())
        ctx.touching("organisation", String(o.id), organisation: o.id)
        let body = try ctx.body(SpeedtestSetting.self)
        let url = body.speedtestBaseUrl ?? ""
        if !url.isEmpty {
            guard url.count <= 512, let parts = URLParts.parse(url), ["http", "https"].contains(parts.scheme), !url.contains(where: { $0.isWhitespace }) else {
                throw APIError.invalid("speedtest_base_url must be an http(s) URL of at most 512 characters (where devices reach the test server), or empty to inherit")
            }
        }
        ctx.audit.before = JSON.text(try setting(ctx, o.id))
        try await ctx.store.setSpeedtestBaseURL(organisationID: o.id, url.hasSuffix("/") ? String(url.dropLast()) : url)
        let after = try setting(ctx, o.id)
        ctx.audit.after = JSON.text(after)
        return JSON.response(after)
    }

    struct Group: Encodable {
        var key: String
        var results: Int
        var devices: Int
        var failed: Int
        var avgThroughputBps: Double?
        var medianThroughputBps: Double?
        var minThroughputBps: Double?
        var avgRttUs: Double?
        var avgJitterUs: Double?
        var avgLoss: Double?
        enum CodingKeys: String, CodingKey {
            case key, results, devices, failed, avgThroughputBps = "avg_throughput_bps", medianThroughputBps = "median_throughput_bps"
            case minThroughputBps = "min_throughput_bps", avgRttUs = "avg_rtt_us", avgJitterUs = "avg_jitter_us", avgLoss = "avg_loss"
        }
        init(_ g: DiagnosticGroup) {
            key = g.key; results = g.results; devices = g.devices; failed = g.failed; avgThroughputBps = g.avgThroughputBps
            medianThroughputBps = g.medianThroughputBps; minThroughputBps = g.minThroughputBps; avgRttUs = g.avgRttUs
            avgJitterUs = g.avgJitterUs; avgLoss = g.avgLoss
        }
    }

    struct Summary: Encodable {
        var by: String
        var test: String?
        var groups: [Group]
    }

    /// "Which cells are slow tonight": results since `since` (default 24 h) grouped by model, software_version,
    /// organisation, location or profile.
    static func summary(_ ctx: RequestContext) async throws -> HTTPResponse {
        var q = try query(ctx)
        if q.since == nil { q.since = Time.now - 86_400 }
        let byName = ctx.query["by"] ?? "model"
        guard let by = DiagnosticGrouping(rawValue: byName) else {
            throw APIError.badRequest("by must be one of \(DiagnosticGrouping.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let groups = try ctx.store.diagnosticSummary(q, by: by, maxGroups: 100)
        return JSON.response(Summary(by: by.rawValue, test: q.test, groups: groups.map(Group.init)), keysAsIs: true)
    }
}
