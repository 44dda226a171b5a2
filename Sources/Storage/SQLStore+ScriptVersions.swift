import ACSCore
import Foundation

/// One accepted version of a script file.
public struct ScriptVersion: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case profile, automation }
    public var id: Int64
    public var kind: Kind
    /// The file name ("acme-lte-r1.lua").
    public var name: String
    /// Empty: the file was removed.
    public var text: String
    public var sha256: String
    public var createdAt: Int64
    /// "admin (token ci)", "SIGHUP", "file change", "start".
    public var createdBy: String
    public init(id: Int64 = 0, kind: Kind, name: String, text: String, sha256: String, createdAt: Int64, createdBy: String) {
        self.id = id; self.kind = kind; self.name = name; self.text = text; self.sha256 = sha256; self.createdAt = createdAt; self.createdBy = createdBy
    }
}

extension SQLStore {
    static func scriptVersion(_ r: SQLRow) -> ScriptVersion {
        ScriptVersion(id: r.int(0), kind: ScriptVersion.Kind(rawValue: r.text(1)) ?? .profile, name: r.text(2), text: r.text(3),
                      sha256: r.text(4), createdAt: r.int(5), createdBy: r.text(6))
    }

    /// The newest version of each file of a kind (removed files included, with empty text).
    public func latestScriptVersions(kind: ScriptVersion.Kind) throws -> [String: ScriptVersion] {
        try db.read { c in
            var out: [String: ScriptVersion] = [:]
            try c.query("""
                SELECT id, kind, name, text, sha256, created_at, created_by FROM script_versions
                WHERE id IN (SELECT max(id) FROM script_versions WHERE kind = ? GROUP BY name)
                """, [.text(kind.rawValue)]) { let v = Self.scriptVersion($0); out[v.name] = v }
            return out
        }
    }

    /// Versions newest first, optionally of one kind and file, before an ID (keyset pagination).
    public func scriptVersions(kind: ScriptVersion.Kind?, name: String?, beforeID: Int64?, limit: Int) throws -> [ScriptVersion] {
        var clauses: [String] = []
        var args: [SQLValue] = []
        if let kind { clauses.append("kind = ?"); args.append(.text(kind.rawValue)) }
        if let name { clauses.append("name = ?"); args.append(.text(name)) }
        if let beforeID { clauses.append("id < ?"); args.append(.int(beforeID)) }
        args.append(.int(Int64(max(1, min(limit, 1000)))))
        return try db.read { c in
            var out: [ScriptVersion] = []
            try c.query("""
                SELECT id, kind, name, text, sha256, created_at, created_by FROM script_versions
                WHERE \(clauses.isEmpty ? "TRUE" : clauses.joined(separator: " AND ")) ORDER BY id DESC LIMIT ?
                """, args) { out.append(Self.scriptVersion($0)) }
            return out
        }
    }

    public func scriptVersion(id: Int64) throws -> ScriptVersion? {
        try db.read { c in
            var out: ScriptVersion?
            try c.query("SELECT id, kind, name, text, sha256, created_at, created_by FROM script_versions WHERE id = ?", [.int(id)]) { out = Self.scriptVersion($0) }
            return out
        }
    }

    /// The version before this one of the same file.
    public func previousScriptVersion(of v: ScriptVersion) throws -> ScriptVersion? {
        try db.read { c in
            var out: ScriptVersion?
            try c.query("""
                SELECT id, kind, name, text, sha256, created_at, created_by FROM script_versions
                WHERE kind = ? AND name = ? AND id < ? ORDER BY id DESC LIMIT 1
                """, [.text(v.kind.rawValue), .text(v.name), .int(v.id)]) { out = Self.scriptVersion($0) }
            return out
        }
    }

    /// Records versions and their audit entries in one transaction.
    /// The channel on which nodes sharing a PostgreSQL database announce new script versions (LISTEN/NOTIFY).
    public static let scriptsChannel = "corral_scripts"

    /// Stores the versions; on PostgreSQL with `announceAs` (this node's name) the other nodes are notified on
    /// `scriptsChannel` when the versions commit (NOTIFY is transactional).
    public func recordScriptVersions(_ versions: [ScriptVersion], audit: [AuditEntry], announceAs node: String? = nil) async throws {
        guard !versions.isEmpty else { return }
        let notify = db.dialect == .postgres ? node : nil
        try await db.write { c in
            for v in versions {
                try c.run("INSERT INTO script_versions(kind, name, text, sha256, created_at, created_by) VALUES (?,?,?,?,?,?)",
                          [.text(v.kind.rawValue), .text(v.name), .text(v.text), .text(v.sha256), .int(v.createdAt), .text(v.createdBy)])
            }
            for e in audit { try Self.insertAudit(e, on: c) }
            if let notify { try c.run("SELECT pg_notify(?, ?)", [.text(Self.scriptsChannel), .text(notify)]) }
        }
    }
}
