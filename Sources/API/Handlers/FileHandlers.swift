import ACSCore
import Engine
import Foundation
import HTTPAuth
import NetHTTP
import Storage

/// Firmware and configuration files. Uploads are raw bodies (application/octet-stream); CPEs download them from
/// the operator port at /files/<id>/<key>/<name>, where <key> is a per-file random secret (a CPE cannot present
/// operator credentials, and TR-069 Download credentials would have to be shared by every device).
enum FileHandlers {
    static func downloadURL(_ f: StoredFile, baseURL: String) -> String {
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        return "\(base)/files/\(f.id)/\(f.downloadKey)/\(f.name)"
    }

    static func blobPath(_ id: Int64, _ services: APIServices) -> String { services.fileStore.blobPath(id) }

    struct List: Encodable { var files: [FileView] }

    static func list(_ ctx: RequestContext) async throws -> HTTPResponse {
        let base = ctx.api.fileBaseURL
        return JSON.response(List(files: try ctx.store.files(under: ctx.me.organisation.path).map { FileView($0, baseURL: base) }))
    }

    static func show(_ ctx: RequestContext) async throws -> HTTPResponse {
        JSON.response(FileView(try ctx.file(try ctx.pathID()), baseURL: ctx.api.fileBaseURL))
    }

    static func upload(_ ctx: RequestContext) async throws -> HTTPResponse {
        let q = ctx.query
        let t = q["file_type"] ?? "firmware"
        let fileType = TaskHandlers.fileTypes[t] ?? t
        guard fileType.count <= 64, fileType.first?.isNumber == true else {
            throw APIError.badRequest("file_type must be firmware, web-content, config or a TR-069 FileType")
        }
        let (f, created) = try await ingest(ctx, fileType: fileType) { _ in }
        return JSON.response(FileView(f, baseURL: ctx.api.fileBaseURL), status: created ? 201 : 200)
    }

    /// POST /firmware?name=&version=[&profile=][&model=][&notes=]: a firmware image (streamed, deduplicated).
    static func addFirmware(_ ctx: RequestContext) async throws -> HTTPResponse {
        let q = ctx.query
        let profiles = ctx.api.config.profiles
        let (f, created) = try await ingest(ctx, fileType: StoredFile.firmwareType) { file in
            if let problem = FirmwareRelease.apply(version: q["version"] ?? "", profile: q["profile"], model: q["model"], notes: q["notes"],
                                                   to: &file, profileExists: { profiles.profile(named: $0) != nil }) {
                throw APIError.invalid(problem)
            }
        }
        return JSON.response(FileView(f, baseURL: ctx.api.fileBaseURL), status: created ? 201 : 200)
    }

    struct FirmwareList: Encodable { var firmware: [FileView] }

    /// GET /firmware: the images of the caller's subtree, newest first.
    static func listFirmware(_ ctx: RequestContext) async throws -> HTTPResponse {
        let base = ctx.api.fileBaseURL
        let images = try ctx.store.files(under: ctx.me.organisation.path).filter(\.isFirmware).reversed()
        return JSON.response(FirmwareList(firmware: images.map { FileView($0, baseURL: base) }))
    }

    /// A CPE of the file's organisation subtree with its transfer credentials, or an operator who sees the file;
    /// nil when allowed, else the refusal (401 with the challenges, or 403).
    static func authorise(_ request: HTTPRequest, file f: StoredFile, services: APIServices) -> HTTPResponse? {
        guard let filePath = try? services.store.organisation(id: f.organisationID)?.path else { return HTTPResponse(status: 404, text: "no such file\n") }
        if let deviceID = services.transferDevice(authorization: request.headers.first("Authorization"), method: request.method, uri: request.uri) {
            guard let d = try? services.store.device(id: deviceID),
                  let devicePath = try? services.store.organisation(id: d.organisationID)?.path, devicePath.hasPrefix(filePath) else {
                return HTTPResponse(status: 403, text: "this device may not fetch this file\n")
            }
            return nil
        }
        if let caller = try? Authenticator(store: services.store).authenticate(request, now: Time.now), caller.sees(filePath),
           !caller.mustEnrolTwoFactor { return nil }
        return services.transferRefusal(401, "credentials required: the device's transfer credentials from its Download request")
    }

    /// The request's body (streamed to the spool by the server, or a small in-memory one) kept as a file of the
    /// caller's organisation: named by `name`, checked against `X-Checksum-SHA256` / `sha256`, deduplicated.
    static func ingest(_ ctx: RequestContext, fileType: String, release: (inout StoredFile) throws -> Void) async throws -> (StoredFile, Bool) {
        let q = ctx.query
        guard let rawName = q["name"] else { throw APIError.badRequest("name (the file name CPEs see) is required") }
        guard rawName.count <= 128, !rawName.isEmpty, !rawName.hasPrefix("."),
              rawName.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            throw APIError.badRequest("name must be 1-128 characters: letters, digits, . _ - (not starting with .)")
        }
        let org = try ctx.organisation(try q.id("organisation_id") ?? ctx.me.organisation.id)
        let store = ctx.api.fileStore
        let body: SpooledBody
        if let spooled = ctx.request.spooled {
            body = spooled
        } else {
            // Not spooled (an in-process call): the few bytes go through the spool like any upload.
            let bytes = ctx.request.body
            guard !bytes.isEmpty else { throw APIError.badRequest("the request body is the file; it is empty") }
            try store.prepare()
            let temp = (store.spoolDirectory as NSString).appendingPathComponent("mem-\(UUID().uuidString).part")
            guard FileManager.default.createFile(atPath: temp, contents: Data(bytes)) else {
                throw APIError(507, "storage", "Insufficient storage", "could not write the file")
            }
            body = SpooledBody(path: temp, size: Int64(bytes.count), sha256: SHA256.hash(bytes))
        }
        var template = StoredFile(name: rawName, fileType: fileType, organisationID: org.id, size: 0, sha256: "",
                                  downloadKey: Secrets.base64url(randomBytes(18)), createdAt: Time.now, uploadedBy: ctx.me.actor)
        do {
            try release(&template)
        } catch {
            try? FileManager.default.removeItem(atPath: body.path)
            throw error
        }
        let result: (file: StoredFile, created: Bool)
        do {
            result = try await store.register(body, as: template, expectedSHA256: ctx.request.headers.first("X-Checksum-SHA256") ?? q["sha256"],
                                              maxBytes: Int64(ctx.api.config.maxUploadBytes), store: ctx.store)
        } catch let e as FileStore.IngestError {
            switch e {
            case .checksum, .empty: throw APIError.invalid(e.description)
            case .tooLarge: throw APIError.tooLarge(e.description)
            case .diskFull: throw APIError(507, "storage", "Insufficient storage", e.description)
            case .conflict: throw APIError.conflict(e.description)
            }
        }
        let view = FileView(result.file, baseURL: ctx.api.fileBaseURL)
        ctx.touching("file", String(result.file.id), organisation: org.id)
        ctx.audit.after = JSON.text(view)
        return (result.file, result.created)
    }

    static func delete(_ ctx: RequestContext) async throws -> HTTPResponse {
        let f = try ctx.file(try ctx.pathID())
        ctx.touching("file", String(f.id), organisation: f.organisationID)
        ctx.audit.before = JSON.text(FileView(f, baseURL: ctx.api.fileBaseURL))
        try await ctx.store.deleteFile(id: f.id)
        try? FileManager.default.removeItem(atPath: blobPath(f.id, ctx.api))
        return HTTPResponse(status: 204)
    }

    /// GET or HEAD /files/<id>/<key>/<name> (outside /api/v1, no credentials: the key is the capability). Streamed
    /// from disk; one byte range (resumed downloads: 206, or 416 past the end); the SHA-256 is the ETag, so a CPE
    /// that has the image gets 304.
    static func download(_ request: HTTPRequest, services: APIServices) -> HTTPResponse {
        let parts = request.path.split(separator: "/")
        guard parts.count == 4, let id = Int64(parts[1]), let f = try? services.store.file(id: id),
              constantTimeEquals(String(parts[2]), f.downloadKey), parts[3] == f.name else {
            return HTTPResponse(status: 404, text: "no such file\n")
        }
        if services.config.fileDownloadAuth == "device", let refusal = authorise(request, file: f, services: services) { return refusal }
        let path = blobPath(id, services)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = (attributes[.size] as? NSNumber)?.int64Value else {
            return HTTPResponse(status: 404, text: "no such file\n")
        }
        let etag = "\"\(f.sha256)\""
        var headers: HTTPFields = ["Content-Type": "application/octet-stream", "X-Checksum-SHA256": f.sha256, "ETag": etag,
                                   "Accept-Ranges": "bytes"]
        if let match = request.headers.first("If-None-Match"),
           match.split(separator: ",").contains(where: { let t = $0.trimmingCharacters(in: .whitespaces); return t == etag || t == "*" || t == "W/" + etag }) {
            return HTTPResponse(status: 304, headers: headers)
        }
        // If-Range with another validator: the file changed since the part the client has; send all of it.
        let rangeHeader = request.headers.first("If-Range").map { $0.trimmingCharacters(in: .whitespaces) == etag } == false
            ? nil : request.headers.first("Range")
        switch ByteRange.parse(rangeHeader, size: size) {
        case .whole:
            return HTTPResponse(status: 200, headers: headers, file: FileBody(path: path, length: size))
        case .part(let first, let last):
            headers.set("Content-Range", "bytes \(first)-\(last)/\(size)")
            return HTTPResponse(status: 206, headers: headers, file: FileBody(path: path, offset: first, length: last - first + 1))
        case .unsatisfiable:
            headers.set("Content-Range", "bytes */\(size)")
            return HTTPResponse(status: 416, headers: headers, text: "range past the end of the \(size)-byte file\n")
        }
    }
}
