import ACSCore
import Engine
import Foundation
import NetHTTP
import Scripting
import Storage

/// Campaigns over the API. A campaign belongs to the organisation of the caller who started it: its script sees
/// only that subtree (every `devices{}`/`count{}` is confined to it), and only that subtree sees and steers it.
/// Lua runs on the API's script worker, off the event loop.
enum CampaignHandlers {
    static let previewLimit = 200
    static let maxScriptBytes = 256 << 10

    // MARK: views

    struct ProgressView: Encodable {
        var total, pending, running, done, failed, skipped, finished, percent: Int
        init(_ p: CampaignProgress) {
            total = p.total
            pending = p.count(.pending); running = p.count(.running); done = p.count(.done); failed = p.count(.failed); skipped = p.count(.skipped)
            finished = done + failed + skipped
            percent = total == 0 ? 100 : 100 * finished / total
        }
    }

    struct WaveView: Encodable {
        var wave: Int
        var total: Int
        var counts: [String: Int]
    }

    struct CampaignView: Encodable {
        var id: Int64
        var name: String
        var scriptName: String
        var state: String
        var stopReason: String
        var organisationId: Int64
        var createdBy: String
        var createdAt: String?
        var updatedAt: String?
        var perMinute: Int
        var concurrent: Int
        var failureRate: Double
        var minDevices: Int
        var connectionRequest: Bool
        var progress: ProgressView
        /// Detail only.
        var waves: [WaveView]?
        var script: String?

        init(_ c: CampaignRecord, _ p: CampaignProgress, detail: Bool = false) {
            id = c.id; name = c.name; scriptName = c.scriptName; state = c.state.rawValue; stopReason = c.stopReason
            organisationId = c.organisationID; createdBy = c.createdBy; createdAt = Time.iso(c.createdAt); updatedAt = Time.iso(c.updatedAt)
            perMinute = c.perMinute; concurrent = c.concurrent; failureRate = c.failureRate; minDevices = c.minDevices
            connectionRequest = c.connectionRequest
            progress = ProgressView(p)
            if detail {
                script = c.script
                waves = p.waves.keys.sorted().map { w in
                    let counts = p.waves[w] ?? [:]
                    return WaveView(wave: w, total: counts.values.reduce(0, +),
                                    counts: Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) }))
                }
            }
        }
    }

    static func view(_ ctx: RequestContext, _ c: CampaignRecord, detail: Bool = false) throws -> CampaignView {
        CampaignView(c, try ctx.store.campaignProgress(campaignID: c.id), detail: detail)
    }

    // MARK: reading

    struct ListView: Encodable { var campaigns: [CampaignView] }

    static func list(_ ctx: RequestContext) async throws -> HTTPResponse {
        JSON.response(ListView(campaigns: try campaigns(ctx).map { try view(ctx, $0) }))
    }

    /// The caller's campaigns (newest first), `state` filter (repeatable or comma-separated), `limit`.
    static func campaigns(_ ctx: RequestContext) throws -> [CampaignRecord] {
        var states: [CampaignState] = []
        for s in ctx.query.all("state").flatMap({ $0.split(separator: ",").map(String.init) }) {
            guard let st = CampaignState(rawValue: s) else {
                throw APIError.badRequest("state must be one of \(CampaignState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            states.append(st)
        }
        let limit = try ctx.query.int("limit", default: 100, range: 1...1000)
        return try ctx.store.campaigns(states: states, under: ctx.me.organisation.path, limit: limit)
    }

    static func show(_ ctx: RequestContext) async throws -> HTTPResponse {
        JSON.response(try view(ctx, try ctx.campaign(try ctx.pathID()), detail: true))
    }

    struct TaskBrief: Encodable {
        var id: Int64
        var action: String
        var state: String
        var fault: String?
    }

    struct DeviceEntry: Encodable {
        var deviceId: Int64
        var name: String
        var serial: String
        var position: Int
        var wave: Int
        var state: String
        var error: String
        var updatedAt: String?
        var tasks: [TaskBrief]
    }

    struct DevicePageView: Encodable {
        var devices: [DeviceEntry]
        var nextCursor: String?
    }

    static func devices(_ ctx: RequestContext) async throws -> HTTPResponse {
        let c = try ctx.campaign(try ctx.pathID())
        var states: [CampaignDeviceState] = []
        if let s = ctx.query["state"] {
            for part in s.split(separator: ",") {
                guard let st = CampaignDeviceState(rawValue: String(part)) else {
                    throw APIError.badRequest("state must be one of \(CampaignDeviceState.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                states.append(st)
            }
        }
        let limit = try ctx.query.int("limit", default: 100, range: 1...1000)
        var after = -1
        if let cur = ctx.query["cursor"] {
            guard let p = Int(cur), p >= 0 else { throw APIError.badRequest("invalid cursor") }
            after = p
        }
        let rows = try ctx.store.campaignDevices(campaignID: c.id, states: states, afterPosition: after, limit: limit)
        let entries: [DeviceEntry] = try rows.map { cd in
            let d = try ctx.store.device(id: cd.deviceID)
            let tasks: [TaskBrief] = try cd.taskIDs.compactMap { try ctx.store.task(id: $0) }.map { t in
                TaskBrief(id: t.id, action: TaskView.action(t.kind), state: t.state.rawValue,
                          fault: t.fault.map { "\($0.code) \($0.string)" })
            }
            return DeviceEntry(deviceId: cd.deviceID, name: d?.name ?? "", serial: d?.serialNumber ?? "", position: cd.position, wave: cd.wave,
                               state: cd.state.rawValue, error: cd.error, updatedAt: Time.iso(cd.updatedAt), tasks: tasks)
        }
        return JSON.response(DevicePageView(devices: entries, nextCursor: rows.count == limit ? rows.last.map { String($0.position) } : nil))
    }

    // MARK: scripts

    struct ScriptBody: Decodable {
        var name: String?
        var script: String?
        var library: String?
    }

    /// The script text and its file name from `{script}` or `{library}`.
    static func source(_ ctx: RequestContext, _ b: ScriptBody, kind: ScriptLibrary.Kind) throws -> (source: String, name: String) {
        switch (b.script, b.library) {
        case (let s?, nil):
            guard s.utf8.count <= maxScriptBytes else { throw APIError.tooLarge("scripts are limited to \(maxScriptBytes) bytes") }
            guard !s.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw APIError.invalid("script is empty") }
            var name = (b.name ?? "api").trimmingCharacters(in: .whitespaces)
            guard name.count <= 100, !name.contains(where: { $0.isNewline }) else { throw APIError.invalid("name: at most 100 characters on one line") }
            if name.isEmpty { name = "api" }
            return (s, name.hasSuffix(".lua") ? name : name + ".lua")
        case (nil, let lib?):
            guard let e = ScriptLibrary(directory: ctx.api.config.scriptsDirectory).entry(kind, lib) else {
                throw APIError.notFound("library script \(lib.prefix(64))")
            }
            return (e.source, e.name + ".lua")
        default:
            throw APIError.invalid("send either script (Lua text) or library (a name from the library)")
        }
    }

    /// Script failures are the caller's: 400 with Lua's message (file and line).
    static func scriptProblem(_ e: Error) -> Error {
        switch e {
        case let s as ScriptError: return APIError(400, "script-error", "Script error", s.message)
        case let q as QueryError: return APIError(400, "script-error", "Script error", q.description)
        default: return e
        }
    }

    struct Library: Encodable { var scripts: [ScriptLibrary.Entry] }

    static func library(_ ctx: RequestContext) async throws -> HTTPResponse {
        JSON.response(Library(scripts: ScriptLibrary(directory: ctx.api.config.scriptsDirectory).list(.campaigns)))
    }

    // MARK: dry run, start, control

    struct Definition: Encodable {
        var name: String
        var perMinute: Int
        var concurrent: Int
        var waves: [Int]
        var failureRate: Double
        var minDevices: Int
        var connectionRequest: Bool
        var deviceTimeout: Int
    }

    struct PreviewEntry: Encodable {
        var deviceId: Int64
        var name: String
        var serial: String
        var actions: [String]
        var error: String?
    }

    struct DryRunView: Encodable {
        var campaign: Definition
        var scriptName: String
        var count: Int
        var preview: [PreviewEntry]
        var previewLimit: Int
        var truncated: Bool
    }

    static func dryRun(_ ctx: RequestContext) async throws -> HTTPResponse {
        let b = try ctx.body(ScriptBody.self)
        let (source, name) = try source(ctx, b, kind: .campaigns)
        let service = CampaignService(store: ctx.store, registry: ctx.api.config.profiles)
        let scope = ctx.me.organisation.path
        ctx.touching("campaign", "dry-run", organisation: ctx.me.organisation.id)
        let limit = previewLimit
        let view: DryRunView
        do {
            view = try await ctx.api.scripts.run {
                var def: CampaignDefinition?
                var preview: [PreviewEntry] = []
                let n = try service.dryRun(source: source, name: name, now: Time.now, scope: scope, preview: limit, definition: { def = $0 }) { d, r in
                    switch r {
                    case .success(let actions):
                        preview.append(PreviewEntry(deviceId: d.id, name: d.name, serial: d.serialNumber, actions: actions.map(\.description)))
                    case .failure(let e):
                        preview.append(PreviewEntry(deviceId: d.id, name: d.name, serial: d.serialNumber, actions: [], error: e.message))
                    }
                }
                let d = def!
                return DryRunView(campaign: Definition(name: d.name, perMinute: d.perMinute, concurrent: d.concurrent, waves: d.waves,
                                                       failureRate: d.failureRate, minDevices: d.minDevices, connectionRequest: d.connectionRequest,
                                                       deviceTimeout: d.deviceTimeout),
                                  scriptName: name, count: n, preview: preview, previewLimit: limit, truncated: n > preview.count)
            }
        } catch { throw scriptProblem(error) }
        ctx.audit.after = JSON.text(["script_name": name, "campaign": view.campaign.name, "devices": String(view.count)])
        return JSON.response(view)
    }

    static func start(_ ctx: RequestContext) async throws -> HTTPResponse {
        let b = try ctx.body(ScriptBody.self)
        let (source, name) = try source(ctx, b, kind: .campaigns)
        let service = CampaignService(store: ctx.store, registry: ctx.api.config.profiles)
        let me = ctx.me
        ctx.touching("campaign", "", organisation: me.organisation.id)
        let prepared: CampaignService.Prepared
        do {
            prepared = try await ctx.api.scripts.run {
                try service.prepare(source: source, name: name, now: Time.now, scope: me.organisation.path,
                                    organisationID: me.organisation.id, createdBy: me.actor)
            }
        } catch { throw scriptProblem(error) }
        let c = try await ctx.store.createCampaign(prepared.record, targets: prepared.targets)
        try await ctx.store.apply([EngineEvents.campaign("started", c, now: Time.now)])
        ctx.audit.objectID = String(c.id)
        ctx.audit.after = JSON.text(["name": c.name, "script_name": name, "devices": String(prepared.targets.count)])
        return JSON.response(try view(ctx, c, detail: true), status: 201)
    }

    static func pause(_ ctx: RequestContext) async throws -> HTTPResponse { try await control(ctx, .pause) }
    static func resume(_ ctx: RequestContext) async throws -> HTTPResponse { try await control(ctx, .resume) }
    static func cancel(_ ctx: RequestContext) async throws -> HTTPResponse { try await control(ctx, .cancel) }

    static func control(_ ctx: RequestContext, _ action: CampaignService.Control) async throws -> HTTPResponse {
        let c = try ctx.campaign(try ctx.pathID())
        ctx.touching("campaign", String(c.id), organisation: c.organisationID)
        ctx.audit.before = JSON.text(["state": c.state.rawValue])
        guard CampaignService.allows(action, in: c.state) else {
            throw APIError.conflict("cannot \(action.rawValue) campaign \(c.id): it is \(c.state.rawValue)")
        }
        let updated: CampaignRecord
        do {
            updated = try await CampaignService(store: ctx.store, registry: ctx.api.config.profiles).control(c.id, action, now: Time.now)
        } catch let e as ScriptError {
            throw APIError.conflict(e.message)   // the state changed in between
        }
        ctx.audit.after = JSON.text(["state": updated.state.rawValue])
        return JSON.response(try view(ctx, updated))
    }
}
