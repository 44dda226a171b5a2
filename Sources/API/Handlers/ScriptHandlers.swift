import ACSCore
import Engine
import Foundation
import NetHTTP
import Scripting
import Storage

/// Profiles and automation files while serving: reload them, upload one (validated before it is written), and read
/// the versions that ran, with the diff to the version before.
enum ScriptHandlers {
    struct Outcome: Encodable { var accepted: Bool; var changed: [String]; var problems: [String] }

    static func reloader(_ ctx: RequestContext) throws -> ScriptReloader {
        guard let r = ctx.api.config.reloader else { throw APIError.conflict("this server cannot reload scripts") }
        return r
    }

    static func answer(_ o: ScriptReloader.Outcome) throws -> HTTPResponse {
        guard o.accepted else { throw APIError.invalid("nothing was reloaded: \(o.problems.joined(separator: "; "))") }
        return JSON.response(Outcome(accepted: o.accepted, changed: o.changed, problems: o.problems))
    }

    /// Loads both directories again (as SIGHUP does).
    static func reload(_ ctx: RequestContext) async throws -> HTTPResponse {
        let r = try reloader(ctx)
        ctx.touching("scripts", "reload", organisation: ctx.me.organisation.id)
        let actor = ctx.me.actor
        let o = await r.reload(by: actor)
        ctx.audit.after = JSON.text(Outcome(accepted: o.accepted, changed: o.changed, problems: o.problems))
        return try answer(o)
    }

    struct Upload: Decodable { var script: String }

    static func fileName(_ ctx: RequestContext) throws -> String {
        let file = ctx.params["file"] ?? ""
        guard file.count <= 64, file.hasSuffix(".lua"), file.count > 4, !file.hasPrefix("."),
              file.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            throw APIError.invalid("the file is a name like acme-r2.lua (letters, digits, '.', '_', '-'; at most 64 characters)")
        }
        return file
    }

    /// Replaces (or adds) a profile file: validated with the other profiles first, then written and loaded.
    static func putProfile(_ ctx: RequestContext) async throws -> HTTPResponse {
        let r = try reloader(ctx)
        let file = try fileName(ctx)
        let body = try ctx.body(Upload.self)
        guard body.script.utf8.count <= ProfileHandlers.maxScriptBytes else { throw APIError.tooLarge("profile scripts are limited to \(ProfileHandlers.maxScriptBytes) bytes") }
        guard let dir = r.profilesDirectory else { throw APIError.conflict("no profiles directory is configured (profiles_dir, CORRAL_PROFILES)") }
        guard let library = ctx.api.config.profileLibrary else { throw APIError.conflict("this server has no profile library loaded") }
        ctx.touching("profile", file, organisation: ctx.me.organisation.id)
        let text = body.script
        let (profiles, problems) = try await ctx.api.scripts.run { library.validate(file: file, text: text) }
        let errors = problems.filter { $0.kind != .warning }
        guard !profiles.isEmpty, errors.isEmpty else {
            throw APIError.invalid("\(file) was not saved: \(errors.map(\.message).joined(separator: "; "))")
        }
        return try await write(text, to: dir, file, ctx, r)
    }

    /// Replaces (or adds) an automation file: loaded against the current profiles first, then written and loaded.
    static func putAutomation(_ ctx: RequestContext) async throws -> HTTPResponse {
        let r = try reloader(ctx)
        let file = try fileName(ctx)
        let body = try ctx.body(Upload.self)
        guard body.script.utf8.count <= 256 << 10 else { throw APIError.tooLarge("automation files are limited to 256 KiB") }
        guard let dir = r.automationsDirectory else { throw APIError.conflict("no automations directory is configured (automations_dir)") }
        ctx.touching("automation", file, organisation: ctx.me.organisation.id)
        let text = body.script, store = ctx.store, registry = ctx.api.config.profiles
        let problem: String? = try await ctx.api.scripts.run {
            do {
                _ = try AutomationScript(source: text, name: file, store: store, registry: registry, now: Int64(Date().timeIntervalSince1970))
                return nil
            } catch { return "\(error)" }
        }
        if let problem { throw APIError.invalid("\(file) was not saved: \(problem)") }
        return try await write(text, to: dir, file, ctx, r)
    }

    static func write(_ text: String, to dir: String, _ file: String, _ ctx: RequestContext, _ r: ScriptReloader) async throws -> HTTPResponse {
        let path = (dir as NSString).appendingPathComponent(file)
        let before = try? String(contentsOfFile: path, encoding: .utf8)
        ctx.audit.before = before
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw APIError.conflict("cannot write \(file) in \(dir): \(error)")
        }
        ctx.audit.after = text
        let outcome = await r.reload(by: ctx.me.actor)
        if !outcome.accepted {
            // Refused (another file on disk is broken): the directory goes back to what was running.
            if let before { try? before.write(toFile: path, atomically: true, encoding: .utf8) } else { try? FileManager.default.removeItem(atPath: path) }
        }
        return try answer(outcome)
    }

    struct VersionView: Encodable {
        var id: Int64
        var kind: String
        var name: String
        var sha256: String
        var bytes: Int
        var removed: Bool
        var createdAt: String?
        var createdBy: String
        var text: String?
        /// Unified diff against the previous version of the file.
        var diff: String?
        init(_ v: ScriptVersion, full: Bool = false, previous: ScriptVersion? = nil) {
            id = v.id; kind = v.kind.rawValue; name = v.name; sha256 = v.sha256; bytes = v.text.utf8.count; removed = v.text.isEmpty
            createdAt = Time.iso(v.createdAt); createdBy = v.createdBy
            if full {
                text = v.text
                diff = LineDiff.unified(previous?.text ?? "", v.text)
            }
        }
    }
    struct VersionPage: Encodable { var versions: [VersionView]; var nextCursor: String? }

    static func versions(_ ctx: RequestContext) async throws -> HTTPResponse {
        var kind: ScriptVersion.Kind?
        if let k = ctx.query["kind"] {
            guard let v = ScriptVersion.Kind(rawValue: k) else { throw APIError.badRequest("kind is profile or automation") }
            kind = v
        }
        var before: Int64?
        if let c = ctx.query["cursor"] {
            guard let id = Int64(c) else { throw APIError.badRequest("invalid cursor") }
            before = id
        }
        let name = ctx.query["name"]
        if let name, name.count > 64 { throw APIError.badRequest("name is a file name") }
        let limit = try ctx.query.int("limit", default: 100, range: 1...1000)
        let rows = try ctx.store.scriptVersions(kind: kind, name: name, beforeID: before, limit: limit)
        return JSON.response(VersionPage(versions: rows.map { VersionView($0) }, nextCursor: rows.count == limit ? rows.last.map { String($0.id) } : nil))
    }

    static func version(_ ctx: RequestContext, _ id: Int64) throws -> ScriptVersion {
        guard let v = try ctx.store.scriptVersion(id: id) else { throw APIError.notFound("script version \(id)") }
        return v
    }

    static func version(_ ctx: RequestContext) async throws -> HTTPResponse {
        let v = try version(ctx, try ctx.pathID())
        return JSON.response(VersionView(v, full: true, previous: try ctx.store.previousScriptVersion(of: v)))
    }
}
