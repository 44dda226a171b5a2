import ACSCore
import Foundation
import HTTPAuth
import NetHTTP
import Storage

/// The file store on disk: `<data>/files/<id>.bin`, uploads spooled into `<data>/files/spool` first (same file
/// system, so keeping one is a rename). Bytes are never held whole in memory: uploads stream to disk while hashed,
/// downloads stream from it.
public struct FileStore: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public var spoolDirectory: String { (directory as NSString).appendingPathComponent("spool") }

    public func blobPath(_ id: Int64) -> String { (directory as NSString).appendingPathComponent("\(id).bin") }

    /// Creates the directories.
    public func prepare() throws {
        try FileManager.default.createDirectory(atPath: spoolDirectory, withIntermediateDirectories: true)
    }

    /// Spool files a crash left behind: older than a day (an upload under way, or `corral firmware add` running
    /// beside the server, is never older than that), removed when the server starts.
    public func removeLeftovers(now: Date = Date()) throws {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: spoolDirectory)) ?? [] where name.hasSuffix(".part") {
            let path = (spoolDirectory as NSString).appendingPathComponent(name)
            if let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
               now.timeIntervalSince(modified) > 86_400 {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
    }

    /// Bytes free for an unprivileged writer on the file system holding `path`.
    public static func freeBytes(at path: String) -> Int64? {
        var st = statvfs()
        guard statvfs(path, &st) == 0 else { return nil }
        return Int64(st.f_bavail) * Int64(st.f_frsize)
    }

    public enum IngestError: Error, CustomStringConvertible {
        case checksum(expected: String, actual: String)
        case empty
        case tooLarge(Int64)
        case diskFull(String)
        case conflict(String)
        public var description: String {
            switch self {
            case .checksum(let e, let a): "SHA-256 mismatch: the file hashes to \(a), not \(e.prefix(64)); nothing was stored"
            case .empty: "the file is empty"
            case .tooLarge(let n): "files are limited to \(n) bytes"
            case .diskFull(let why): "the file store is out of space: \(why); nothing was stored"
            case .conflict(let why): why
            }
        }
    }

    /// Copies a local file into the spool, hashing it on the way (`corral firmware add`): 1 MiB at a time.
    public func spool(copying path: String, maxBytes: Int64) throws -> SpooledBody {
        try prepare()
        guard let input = FileHandle(forReadingAtPath: path) else { throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path]) }
        defer { try? input.close() }
        let temp = (spoolDirectory as NSString).appendingPathComponent("copy-\(UUID().uuidString).part")
        guard FileManager.default.createFile(atPath: temp, contents: nil, attributes: [.posixPermissions: 0o600]),
              let output = FileHandle(forWritingAtPath: temp) else { throw IngestError.diskFull("cannot create \(temp)") }
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            defer { try? output.close() }
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                size += Int64(chunk.count)
                if size > maxBytes { throw IngestError.tooLarge(maxBytes) }
                hasher.update(Array(chunk))
                try output.write(contentsOf: chunk)
            }
            try output.synchronize()
        } catch {
            try? FileManager.default.removeItem(atPath: temp)
            if let e = error as? IngestError { throw e }
            throw IngestError.diskFull("\(error)")
        }
        return SpooledBody(path: temp, size: size, sha256: hasher.finish())
    }

    /// Keeps spooled bytes as a stored file: checks the checksum the uploader claimed, deduplicates by SHA-256 within
    /// the organisation (the same bytes are one file; registering them again as another version is refused), and
    /// moves the spool file into place. The spool file is gone afterwards whatever happens.
    public func register(_ body: SpooledBody, as template: StoredFile, expectedSHA256: String?, maxBytes: Int64,
                         store: OperatorStore) async throws -> (file: StoredFile, created: Bool) {
        defer { try? FileManager.default.removeItem(atPath: body.path) }
        let digest = hex(body.sha256)
        if let expected = expectedSHA256, expected.lowercased() != digest { throw IngestError.checksum(expected: expected, actual: digest) }
        guard body.size > 0 else { throw IngestError.empty }
        guard body.size <= maxBytes else { throw IngestError.tooLarge(maxBytes) }
        if var existing = try store.file(sha256: digest, organisationID: template.organisationID),
           FileManager.default.fileExists(atPath: blobPath(existing.id)) {
            if template.version.isEmpty || existing.version == template.version { return (existing, false) }
            guard existing.version.isEmpty else {
                throw IngestError.conflict("these bytes are already file \(existing.id) (\(existing.name)), version \(existing.version)")
            }
            // A file uploaded before becomes the firmware image it is.
            existing.version = template.version; existing.targetProfile = template.targetProfile
            existing.targetModel = template.targetModel; existing.notes = template.notes; existing.fileType = template.fileType
            try await store.updateFileRelease(existing)
            return (existing, false)
        }
        var f = template
        f.size = body.size
        f.sha256 = digest
        f = try await store.createFile(f)
        do {
            try FileManager.default.moveItem(atPath: body.path, toPath: blobPath(f.id))
        } catch {
            try? await store.deleteFile(id: f.id)
            throw IngestError.diskFull("\(error)")
        }
        return (f, true)
    }
}
