import ACSCore
import CWMP
import DataModel
import Engine
import Foundation
import NetHTTP
import Storage

enum TaskHandlers {
    /// Options every task-creating call accepts.
    struct RunOptions: Decodable {
        /// Wake the CPE now (HTTP connection request) and wait for the result.
        var connectionRequest: Bool?
        /// Seconds to wait for the result with connection_request (1-120, default 30).
        var timeout: Int?
    }

    struct CreateTask: Decodable {
        var action: String
        var paths: [String]?
        var parameters: [ParameterValueView]?
        var path: String?
        var commandKey: String?
        var connectionRequest: Bool?
        var timeout: Int?
    }

    /// Operator-level tasks. Factory reset and downloads have their own admin routes.
    static func create(_ ctx: RequestContext) async throws -> HTTPResponse {
        let device = try ctx.device(try ctx.pathID())
        ctx.touching("device", String(device.id), organisation: device.organisationID)
        let body = try ctx.body(CreateTask.self)
        let kind: TaskKind
        switch body.action {
        case "get":
            let paths = try (body.paths ?? []).map { try resolve($0, device: device, ctx) }
            guard !paths.isEmpty, paths.count <= 100 else { throw APIError.invalid("get needs 1-100 paths") }
            kind = .getParameterValues(paths)
        case "set":
            let ps = body.parameters ?? []
            guard !ps.isEmpty, ps.count <= 100 else { throw APIError.invalid("set needs 1-100 parameters") }
            kind = .setParameterValues(try ps.map { p in
                var p = p
                p.path = try resolve(p.path, device: device, ctx, object: false)
                let v = try parameterValue(p, device: device, store: ctx.store, schemaType: ctx.api.schemas.definition(device.dataModel, p.path)?.type)
                let def = ctx.api.schemas.definition(device.dataModel, v.name)
                if def?.isObject == false && def?.writable == false { throw APIError.invalid("\(v.name) is read-only in the data model") }
                if let why = ModelSchemas.problem(v.value, type: v.type, definition: def) {
                    throw APIError.invalid("the value of \(v.name) \(why)")
                }
                return v
            })
        case "refresh":
            kind = .refresh(try resolve(body.path ?? "", device: device, ctx))
        case "add_object":
            kind = .addObject(try Validate.path(body.path ?? "", object: true))
        case "delete_object":
            kind = .deleteObject(try Validate.path(body.path ?? "", object: true))
        case "reboot":
            kind = .reboot
        case "queued_transfers":
            kind = .queuedTransfers
        case "cancel_transfer":
            let key = try Validate.text(body.commandKey ?? "", "command_key", max: 32)
            guard !key.isEmpty else { throw APIError.invalid("cancel_transfer needs command_key (the transfer's, e.g. corral-42)") }
            kind = .cancelTransfer(commandKey: key)
        case "factory_reset", "download":
            throw APIError.invalid("\(body.action) has its own endpoint (POST /devices/{id}/\(body.action == "download" ? "download" : "factory-reset"))")
        default:
            throw APIError.invalid("action must be one of get, set, refresh, add_object, delete_object, reboot, queued_transfers, cancel_transfer")
        }
        return try await run(kind, on: device, options: RunOptions(connectionRequest: body.connectionRequest, timeout: body.timeout), ctx)
    }

    /// A parameter path as given, or an alias of the device's profile ("wifi.ssid") turned into its path.
    static func resolve(_ name: String, device: Device, _ ctx: RequestContext, object: Bool? = nil) throws -> String {
        if name.hasPrefix("Device.") || name.hasPrefix("InternetGatewayDevice.") || name.isEmpty { return try Validate.path(name, object: object) }
        guard let profile = ctx.api.config.profiles.profile(named: device.profile), !profile.aliases.isEmpty else {
            throw APIError.invalid("\(name.prefix(80)) is neither a parameter path nor an alias (device \(device.id) has no profile with aliases)")
        }
        guard profile.aliases[name] != nil, let path = profile.path(for: name, kind: device.dataModel) else {
            let known = profile.aliases.keys.sorted().prefix(40).joined(separator: ", ")
            throw APIError.invalid("\(name.prefix(80)) is neither a parameter path nor an alias of profile \(profile.name) (aliases: \(known))")
        }
        return try Validate.path(path, object: object)
    }

    /// `schemaType`: the BBF data model's type, used when the CPE never reported one (a parameter Corral has not read
    /// yet would otherwise go out as xsd:string, and real CPEs answer 9006).
    static func parameterValue(_ v: ParameterValueView, device: Device, store: OperatorStore, schemaType: XSDType? = nil) throws -> ParameterValue {
        let path = try Validate.path(v.path, object: false)
        guard v.value.utf8.count <= 16_384 else { throw APIError.invalid("the value of \(path) is longer than 16384 bytes") }
        let type: XSDType
        if let t = v.type {
            guard let parsed = XSDType(rawValue: t.hasPrefix("xsd:") ? String(t.dropFirst(4)) : t) else {
                throw APIError.invalid("unknown type \(t) for \(path); one of \(XSDType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            type = parsed
        } else {
            // The type the CPE reported for the parameter, else the data model's, else string.
            type = (try store.parameters(deviceID: device.id, prefix: path).first { $0.path == path })?.type ?? schemaType ?? .string
        }
        return ParameterValue(name: path, value: v.value, type: type)
    }

    static func factoryReset(_ ctx: RequestContext) async throws -> HTTPResponse {
        let device = try ctx.device(try ctx.pathID())
        ctx.touching("device", String(device.id), organisation: device.organisationID)
        let options = ctx.request.body.isEmpty ? RunOptions() : try ctx.body(RunOptions.self)
        return try await run(.factoryReset, on: device, options: options, ctx)
    }

    struct CreateDownload: Decodable {
        var fileId: Int64?
        var url: String?
        var fileType: String?
        var fileSize: UInt32?
        var targetFileName: String?
        /// A ScheduleDownload inside this window (seconds from when the CPE gets it) instead of a Download.
        var windowStart: UInt32?
        var windowEnd: UInt32?
        var connectionRequest: Bool?
        var timeout: Int?
    }

    static let fileTypes = ["firmware": "1 Firmware Upgrade Image", "web-content": "2 Web Content", "config": "3 Vendor Configuration File"]

    static func download(_ ctx: RequestContext) async throws -> HTTPResponse {
        let device = try ctx.device(try ctx.pathID())
        ctx.touching("device", String(device.id), organisation: device.organisationID)
        let body = try ctx.body(CreateDownload.self)
        let target = try Validate.text(body.targetFileName ?? "", "target_file_name", max: 256)
        var kind: TaskKind
        if let id = body.fileId {
            let f = try ctx.file(id)
            // An image for another profile or model is refused here as a rollout would skip it.
            if f.isFirmware && !FirmwareRelease.fits(f, profile: device.profile, model: device.modelName) {
                throw APIError.invalid("image \(f.id) (\(f.version)) is for \([f.targetProfile.isEmpty ? nil : "profile " + f.targetProfile, f.targetModel.isEmpty ? nil : "model " + f.targetModel].compactMap { $0 }.joined(separator: ", ")), not \(device.name) (profile \(device.profile), model \(device.modelName.isEmpty ? "unknown" : device.modelName))")
            }
            kind = .download(url: FileHandlers.downloadURL(f, baseURL: ctx.api.fileBaseURL), fileType: f.fileType,
                             fileSize: UInt32(clamping: f.size), targetFileName: target)
        } else if let url = body.url {
            guard url.count <= 1024, let parts = URLParts.parse(url), ["http", "https"].contains(parts.scheme) else {
                throw APIError.invalid("url must be an http(s) URL of at most 1024 characters")
            }
            let t = body.fileType ?? "firmware"
            let type = fileTypes[t] ?? t
            guard type.count <= 64, type.first?.isNumber == true else {
                throw APIError.invalid("file_type must be firmware, web-content, config or a TR-069 FileType such as \"1 Firmware Upgrade Image\"")
            }
            kind = .download(url: url, fileType: type, fileSize: body.fileSize ?? 0, targetFileName: target)
        } else {
            throw APIError.invalid("give file_id (an uploaded file) or url")
        }
        if body.windowStart != nil || body.windowEnd != nil {
            let start = body.windowStart ?? 0, end = body.windowEnd ?? 0
            guard end > start, end - start >= 60 else { throw APIError.invalid("window_end must be at least 60 s after window_start (seconds from when the CPE gets it)") }
            guard case .download(let url, let type, let size, let target) = kind else { throw APIError.invalid("no download to schedule") }
            kind = .scheduleDownload(url: url, fileType: type, fileSize: size, targetFileName: target, windowStart: start, windowEnd: end)
        }
        return try await run(kind, on: device, options: RunOptions(connectionRequest: body.connectionRequest, timeout: body.timeout), ctx)
    }

    /// Queues the task; with connection_request, wakes the CPE and waits (bounded) for the outcome.
    /// 201: queued. 200: finished (done, fault, or accepted and waiting for a later event). 202: not finished in time.
    static func run(_ kind: TaskKind, on device: Device, options: RunOptions, _ ctx: RequestContext) async throws -> HTTPResponse {
        let timeout = options.timeout ?? 30
        guard (1...120).contains(timeout) else { throw APIError.invalid("timeout must be 1-120 seconds") }
        let service = TaskService(store: ctx.store)
        let task = try await service.queue(kind, on: device)
        ctx.audit.after = JSON.text(TaskView(task))
        ctx.audit.objectType = "task"
        ctx.audit.objectID = String(task.id)
        guard options.connectionRequest == true else { return JSON.response(TaskView(task), status: 201) }
        do {
            try await ctx.wake(device)
        } catch {
            var view = TaskView(task)
            view.connectionRequestError = "\(error)"
            return JSON.response(view, status: 202)
        }
        let final = try await service.wait(for: task.id, timeout: .seconds(timeout), untilAccepted: true) ?? task
        let finished = final.state.isFinal || final.state == .waiting
        return JSON.response(TaskView(final), status: finished ? 200 : 202)
    }

    struct TaskList: Encodable { var tasks: [TaskView] }

    static func listForDevice(_ ctx: RequestContext) async throws -> HTTPResponse {
        let d = try ctx.device(try ctx.pathID())
        var states: [TaskState] = []
        if let s = ctx.query["state"] {
            guard let st = TaskState(rawValue: s) else { throw APIError.badRequest("state must be pending, sent, waiting, done, fault or cancelled") }
            states = [st]
        }
        let limit = try ctx.query.int("limit", default: 100, range: 1...1000)
        let tasks = try ctx.store.tasks(deviceID: d.id, states: states).suffix(limit)
        return JSON.response(TaskList(tasks: tasks.reversed().map { TaskView($0) }))
    }

    static func show(_ ctx: RequestContext) async throws -> HTTPResponse {
        JSON.response(TaskView(try ctx.task(try ctx.pathID()).0))
    }

    /// Cancels a task that has not been sent yet.
    static func cancel(_ ctx: RequestContext) async throws -> HTTPResponse {
        var (t, d) = try ctx.task(try ctx.pathID())
        ctx.touching("task", String(t.id), organisation: d.organisationID)
        guard t.state == .pending else { throw APIError.conflict("task \(t.id) is \(t.state.rawValue); only pending tasks can be cancelled") }
        if Role.required(for: t.kind) > ctx.me.role { throw APIError.forbidden("cancelling a \(t.kind.label) task needs the admin role") }
        ctx.audit.before = JSON.text(TaskView(t))
        t.state = .cancelled
        t.updatedAt = Time.now
        try await ctx.store.apply([.updateTask(t)])
        return JSON.response(TaskView(t))
    }

    static func summon(_ ctx: RequestContext) async throws -> HTTPResponse {
        let d = try ctx.device(try ctx.pathID())
        ctx.touching("device", String(d.id), organisation: d.organisationID)
        do {
            try await ctx.wake(d)
        } catch {
            throw APIError(409, "device-unreachable", "Connection request failed", "\(error)")
        }
        struct Out: Encodable { var sent: Bool }
        return JSON.response(Out(sent: true))
    }
}

extension Role {
    /// The least role that may start a task of this kind (factory resets and downloads are advanced management).
    static func required(for kind: TaskKind) -> Role {
        switch kind {
        case .factoryReset, .download: .admin
        default: .operator
        }
    }
}
