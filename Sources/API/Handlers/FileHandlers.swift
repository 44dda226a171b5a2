import ACSCore
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

    static func blobPath(_ id: Int64, _ services: APIServices) -> String {
        (services.config.filesDirectory as NSString).appendingPathComponent("\(id).bin")
    }

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
        guard let rawName = q["name"] else { throw APIError.badRequest("name (the file name CPEs see) is required") }
        guard rawName.count <= 128, !rawName.isEmpty, !rawName.hasPrefix("."),
              rawName.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            throw APIError.badRequest("name must be 1-128 characters: letters, digits, . _ - (not starting with .)")
        }
        let t = q["file_type"] ?? "firmware"
        let fileType = TaskHandlers.fileTypes[t] ?? t
        guard fileType.count <= 64, fileType.first?.isNumber == true else {
            throw APIError.badRequest("file_type must be firmware, web-content, config or a TR-069 FileType")
        }
        let org = try ctx.organisation(try q.id("organisation_id") ?? ctx.me.organisation.id)
        let body = ctx.request.body
        guard !body.isEmpty else { throw APIError.badRequest("the request body is the file; it is empty") }
        guard body.count <= ctx.api.config.maxUploadBytes else { throw APIError.tooLarge("files are limited to \(ctx.api.config.maxUploadBytes) bytes") }
        let digest = hex(SHA256.hash(body))
        // The client's checksum, if given, must match what arrived.
        if let expected = ctx.request.headers.first("X-Checksum-SHA256") ?? q["sha256"] {
            guard expected.lowercased() == digest else {
                throw APIError.invalid("SHA-256 mismatch: the body hashes to \(digest), not \(expected.prefix(64))")
            }
        }
        let dir = ctx.api.config.filesDirectory
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let tmp = (dir as NSString).appendingPathComponent("upload-\(UUID().uuidString).tmp")
        guard FileManager.default.createFile(atPath: tmp, contents: Data(body)) else {
            throw APIError(507, "storage", "Insufficient storage", "could not write the file")
        }
        let f: StoredFile
        do {
            f = try await ctx.store.createFile(StoredFile(name: rawName, fileType: fileType, organisationID: org.id, size: Int64(body.count),
                                                          sha256: digest, downloadKey: Secrets.base64url(randomBytes(18)), createdAt: Time.now,
                                                          uploadedBy: ctx.me.actor))
            try FileManager.default.moveItem(atPath: tmp, toPath: blobPath(f.id, ctx.api))
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw error
        }
        let view = FileView(f, baseURL: ctx.api.fileBaseURL)
        ctx.touching("file", String(f.id), organisation: org.id)
        ctx.audit.after = JSON.text(view)
        return JSON.response(view, status: 201)
    }

    static func delete(_ ctx: RequestContext) async throws -> HTTPResponse {
        let f = try ctx.file(try ctx.pathID())
        ctx.touching("file", String(f.id), organisation: f.organisationID)
        ctx.audit.before = JSON.text(FileView(f, baseURL: ctx.api.fileBaseURL))
        try await ctx.store.deleteFile(id: f.id)
        try? FileManager.default.removeItem(atPath: blobPath(f.id, ctx.api))
        return HTTPResponse(status: 204)
    }

    /// GET /files/<id>/<key>/<name> (outside /api/v1, no credentials: the key is the capability).
    static func download(_ request: HTTPRequest, services: APIServices) -> HTTPResponse {
        let parts = request.path.split(separator: "/")
        guard parts.count == 4, let id = Int64(parts[1]), let f = try? services.store.file(id: id),
              constantTimeEquals(String(parts[2]), f.downloadKey), parts[3] == f.name,
              let data = FileManager.default.contents(atPath: blobPath(id, services)) else {
            return HTTPResponse(status: 404, text: "no such file\n")
        }
        return HTTPResponse(status: 200, headers: ["Content-Type": "application/octet-stream", "X-Checksum-SHA256": f.sha256],
                            body: Array(data))
    }
}
