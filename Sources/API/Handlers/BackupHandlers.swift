import ACSCore
import Engine
import Foundation
import HTTPAuth
import NetHTTP
import Storage

/// Configuration backups and logs (issue 14): an `upload` task makes the CPE PUT the file to `/uploads/<task>` with
/// its transfer credentials; the file is kept per device (the newest 50), listed, read, compared and restored (a
/// Download of "3 Vendor Configuration File" from `/backups/<id>/<name>`, for that device only).
enum BackupHandlers {
    struct BackupView: Encodable {
        var id: Int64
        var deviceId: Int64
        var taskId: Int64
        var fileType: String
        var size: Int64
        var sha256: String
        var createdAt: String?
        var restorable: Bool
        init(_ b: Backup) {
            id = b.id; deviceId = b.deviceID; taskId = b.taskID; fileType = b.fileType; size = b.size; sha256 = b.sha256
            createdAt = Time.iso(b.createdAt); restorable = b.isConfiguration
        }
    }

    struct BackupList: Encodable { var backups: [BackupView] }

    struct DiffView: Encodable {
        var from: Int64
        var to: Int64
        /// Both are UTF-8 text; otherwise `diff` is empty and only `same` tells.
        var text: Bool
        var same: Bool
        var diff: String
    }

    static func directory(_ services: APIServices) -> String {
        ((services.config.filesDirectory as NSString).deletingLastPathComponent as NSString).appendingPathComponent("backups")
    }

    static func path(_ id: Int64, _ services: APIServices) -> String { (directory(services) as NSString).appendingPathComponent("\(id).bin") }

    // MARK: the CPE side (outside /api/v1)

    /// PUT or POST /uploads/<task>: the file of an Upload task, once.
    static func receive(_ request: HTTPRequest, services: APIServices) async -> HTTPResponse {
        let parts = request.path.split(separator: "/")
        guard parts.count == 2, let taskID = Int64(parts[1]) else { return HTTPResponse(status: 404, text: "no such upload\n") }
        guard let deviceID = services.transferDevice(authorization: request.headers.first("Authorization"), method: request.method, uri: request.uri) else {
            return services.transferRefusal(401, "credentials required: the device's transfer credentials from its Upload request")
        }
        do {
            guard let task = try services.store.task(id: taskID), task.deviceID == deviceID, case .upload(let fileType) = task.kind,
                  [.sent, .waiting].contains(task.state) else {
                return HTTPResponse(status: 403, text: "no upload of this device is expected here\n")
            }
            guard try services.store.backup(taskID: taskID) == nil else { return HTTPResponse(status: 409, text: "this upload was received already\n") }
            let dir = directory(services)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let temp = (dir as NSString).appendingPathComponent("task-\(taskID).part")
            let size: Int64, digest: [UInt8]
            if let spooled = request.spooled {
                try? FileManager.default.removeItem(atPath: temp)
                try FileManager.default.moveItem(atPath: spooled.path, toPath: temp)
                size = spooled.size; digest = spooled.sha256
            } else {
                guard FileManager.default.createFile(atPath: temp, contents: Data(request.body)) else {
                    return HTTPResponse(status: 507, text: "could not store the file\n")
                }
                size = Int64(request.body.count); digest = SHA256.hash(request.body)
            }
            guard size > 0 else {
                try? FileManager.default.removeItem(atPath: temp)
                return HTTPResponse(status: 400, text: "the file is empty\n")
            }
            let (b, removed) = try await services.store.createBackup(Backup(deviceID: deviceID, taskID: taskID, fileType: fileType, size: size,
                                                                            sha256: hex(digest), createdAt: Time.now))
            try FileManager.default.moveItem(atPath: temp, toPath: path(b.id, services))
            for id in removed { try? FileManager.default.removeItem(atPath: path(id, services)) }
            return HTTPResponse(status: 201, text: "stored as backup \(b.id)\n")
        } catch {
            services.log.error("upload for task \(taskID) failed: \(error)")
            return HTTPResponse(status: 500, text: "could not store the file\n")
        }
    }

    /// GET or HEAD /backups/<id>/<name>: a configuration to restore, for its own device (or an operator).
    static func serve(_ request: HTTPRequest, services: APIServices) -> HTTPResponse {
        let parts = request.path.split(separator: "/")
        guard parts.count == 3, let id = Int64(parts[1]), let b = try? services.store.backup(id: id), parts[2] == Substring(fileName(b)) else {
            return HTTPResponse(status: 404, text: "no such backup\n")
        }
        let device = services.transferDevice(authorization: request.headers.first("Authorization"), method: request.method, uri: request.uri)
        if device != b.deviceID {
            // Configurations hold secrets: besides the device itself, operators (as for the API's content), audited.
            let path = (try? services.store.device(id: b.deviceID)).flatMap { d in try? services.store.organisation(id: d?.organisationID ?? 0)?.path }
            let caller = try? Authenticator(store: services.store).authenticate(request, now: Time.now)
            guard let path, let caller, caller.sees(path), caller.role >= .operator, !caller.mustEnrolTwoFactor else {
                return services.transferRefusal(device == nil && caller == nil ? 401 : 403,
                                                "only the device this configuration came from, or an operator, may fetch it")
            }
            services.log.info("backup \(b.id) of device \(b.deviceID) fetched by \(caller.actor) from \(request.remoteAddress ?? "?")")
        }
        return HTTPResponse(status: 200, headers: ["Content-Type": "application/octet-stream", "X-Checksum-SHA256": b.sha256],
                            file: FileBody(path: path(b.id, services), length: b.size))
    }

    static func fileName(_ b: Backup) -> String { "\(b.isConfiguration ? "config" : "log")-\(b.id).\(b.isConfiguration ? "cfg" : "log")" }

    // MARK: the API

    static func backup(_ ctx: RequestContext, _ id: Int64) throws -> (Backup, Device) {
        guard let b = try ctx.store.backup(id: id), let d = try? ctx.device(b.deviceID) else { throw APIError.notFound("backup \(id)") }
        return (b, d)
    }

    struct CreateBackup: Decodable {
        var fileType: String?
        var connectionRequest: Bool?
        var timeout: Int?
    }

    /// POST /devices/{id}/backup {"file_type": "config" | "log"}: an Upload task.
    static func create(_ ctx: RequestContext) async throws -> HTTPResponse {
        let device = try ctx.device(try ctx.pathID())
        ctx.touching("device", String(device.id), organisation: device.organisationID)
        let body = ctx.request.body.isEmpty ? CreateBackup() : try ctx.body(CreateBackup.self)
        guard let type = Backup.fileType(body.fileType ?? "config") else { throw APIError.invalid("file_type must be config, log or a TR-069 FileType") }
        return try await TaskHandlers.run(.upload(fileType: type), on: device,
                                          options: TaskHandlers.RunOptions(connectionRequest: body.connectionRequest, timeout: body.timeout), ctx)
    }

    static func list(_ ctx: RequestContext) async throws -> HTTPResponse {
        let device = try ctx.device(try ctx.pathID())
        return JSON.response(BackupList(backups: try ctx.store.backups(deviceID: device.id, limit: Backup.keepPerDevice).map(BackupView.init)))
    }

    static func show(_ ctx: RequestContext) async throws -> HTTPResponse {
        JSON.response(BackupView(try backup(ctx, try ctx.pathID()).0))
    }

    static func content(_ ctx: RequestContext) async throws -> HTTPResponse {
        let (b, _) = try backup(ctx, try ctx.pathID())
        let bytes = try read(b, ctx.api)
        let text = String(validatingUTF8: bytes.map { CChar(bitPattern: $0) } + [0]) != nil && !bytes.contains(0)
        return HTTPResponse(status: 200, headers: ["Content-Type": text ? "text/plain; charset=utf-8" : "application/octet-stream",
                                                   "Content-Disposition": "attachment; filename=\"\(fileName(b))\""], body: bytes)
    }

    /// GET /backups/{id}/diff[?to=<id>]: from `id` to `to` (default: the device's next older backup of the same kind).
    static func diff(_ ctx: RequestContext) async throws -> HTTPResponse {
        let (b, d) = try backup(ctx, try ctx.pathID())
        let other: Backup
        if let to = try ctx.query.id("to") {
            other = try backup(ctx, to).0
        } else {
            guard let older = try ctx.store.backups(deviceID: d.id, limit: Backup.keepPerDevice)
                .first(where: { $0.id < b.id && $0.isConfiguration == b.isConfiguration }) else {
                throw APIError.conflict("backup \(b.id) is the device's oldest of its kind: nothing to compare with (give ?to=)")
            }
            other = older
        }
        let (old, new) = other.id < b.id ? (other, b) : (b, other)
        let a = try read(old, ctx.api), c = try read(new, ctx.api)
        guard let ta = String(bytes: a, encoding: .utf8), let tc = String(bytes: c, encoding: .utf8), !a.contains(0), !c.contains(0) else {
            return JSON.response(DiffView(from: old.id, to: new.id, text: false, same: a == c, diff: ""))
        }
        return JSON.response(DiffView(from: old.id, to: new.id, text: true, same: a == c, diff: LineDiff.unified(ta, tc)))
    }

    /// POST /backups/{id}/restore: a Download of the configuration to the device it came from.
    static func restore(_ ctx: RequestContext) async throws -> HTTPResponse {
        let (b, d) = try backup(ctx, try ctx.pathID())
        ctx.touching("device", String(d.id), organisation: d.organisationID)
        guard b.isConfiguration else { throw APIError.conflict("backup \(b.id) is a \(b.fileType), not a configuration") }
        let base = ctx.api.fileBaseURL.hasSuffix("/") ? String(ctx.api.fileBaseURL.dropLast()) : ctx.api.fileBaseURL
        let options = ctx.request.body.isEmpty ? TaskHandlers.RunOptions() : try ctx.body(TaskHandlers.RunOptions.self)
        return try await TaskHandlers.run(.download(url: "\(base)/backups/\(b.id)/\(fileName(b))", fileType: Backup.restoreType,
                                                    fileSize: UInt32(clamping: b.size), targetFileName: ""), on: d, options: options, ctx)
    }

    static func read(_ b: Backup, _ services: APIServices) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path(b.id, services)) else {
            throw APIError(410, "gone", "Gone", "the file of backup \(b.id) is no longer on disk")
        }
        return Array(data)
    }
}
