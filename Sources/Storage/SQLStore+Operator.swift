import ACSCore
import Foundation

extension SQLStore: OperatorStore {
    // MARK: organisations

    static func organisation(_ r: SQLRow) -> Organisation {
        let p = r[1]
        return Organisation(id: r.int(0), parentID: p.isNull ? nil : p.int, name: r.text(2), path: r.text(3), createdAt: r.int(4))
    }

    static func likePrefix(_ path: String) -> SQLValue { .text(DeviceQuerySQL.escapeLike(path) + "%") }

    public func organisation(id: Int64) throws -> Organisation? {
        try db.read { c in
            var o: Organisation?
            try c.query("SELECT id, parent_id, name, path, created_at FROM organisations WHERE id = ?", [.int(id)]) { o = Self.organisation($0) }
            return o
        }
    }

    public func organisations(under path: String) throws -> [Organisation] {
        try db.read { c in
            var out: [Organisation] = []
            try c.query("SELECT id, parent_id, name, path, created_at FROM organisations WHERE path LIKE ? ESCAPE '\\' ORDER BY path",
                        [Self.likePrefix(path)]) { out.append(Self.organisation($0)) }
            return out
        }
    }

    private static func siblingExists(_ c: any SQLConnection, parentID: Int64, name: String, except: Int64) throws -> Bool {
        try c.scalar("SELECT count(*) FROM organisations WHERE parent_id = ? AND name = ? AND id <> ?",
                     [.int(parentID), .text(name), .int(except)]).int > 0
    }

    public func createOrganisation(name: String, parentID: Int64, now: Int64) async throws -> Organisation {
        try await db.write { c in
            var parentPath = ""
            try c.query("SELECT path FROM organisations WHERE id = ?", [.int(parentID)]) { parentPath = $0.text(0) }
            guard !parentPath.isEmpty else { throw StoreConflict("parent organisation \(parentID) does not exist") }
            if try Self.siblingExists(c, parentID: parentID, name: name, except: 0) {
                throw StoreConflict("an organisation named \(name) already exists there")
            }
            try c.run("INSERT INTO organisations(parent_id, name, path, created_at) VALUES (?,?,'',?)", [.int(parentID), .text(name), .int(now)])
            let id = c.lastInsertRowID
            let path = parentPath + "\(id)/"
            try c.run("UPDATE organisations SET path = ? WHERE id = ?", [.text(path), .int(id)])
            return Organisation(id: id, parentID: parentID, name: name, path: path, createdAt: now)
        }
    }

    public func renameOrganisation(id: Int64, name: String) async throws {
        try await db.write { c in
            let parent = try c.scalar("SELECT parent_id FROM organisations WHERE id = ?", [.int(id)])
            if !parent.isNull, try Self.siblingExists(c, parentID: parent.int, name: name, except: id) {
                throw StoreConflict("an organisation named \(name) already exists there")
            }
            try c.run("UPDATE organisations SET name = ? WHERE id = ?", [.text(name), .int(id)])
        }
    }

    public func moveOrganisation(id: Int64, to parentID: Int64) async throws {
        try await db.write { c in
            var oldPath = "", newParentPath = "", name = ""
            try c.query("SELECT path, name FROM organisations WHERE id = ?", [.int(id)]) { oldPath = $0.text(0); name = $0.text(1) }
            try c.query("SELECT path FROM organisations WHERE id = ?", [.int(parentID)]) { newParentPath = $0.text(0) }
            guard !oldPath.isEmpty, !newParentPath.isEmpty else { throw StoreConflict("organisation not found") }
            guard id != Organisation.rootID else { throw StoreConflict("the root organisation cannot be moved") }
            guard !newParentPath.hasPrefix(oldPath) else { throw StoreConflict("cannot move an organisation below itself") }
            if try Self.siblingExists(c, parentID: parentID, name: name, except: id) {
                throw StoreConflict("an organisation named \(name) already exists there")
            }
            let newPath = newParentPath + "\(id)/"
            // Rewrites the whole subtree's paths in one statement.
            try c.run("UPDATE organisations SET path = ? || substr(path, ?) WHERE path LIKE ? ESCAPE '\\'",
                      [.text(newPath), .int(Int64(oldPath.utf8.count + 1)), Self.likePrefix(oldPath)])
            try c.run("UPDATE organisations SET parent_id = ? WHERE id = ?", [.int(parentID), .int(id)])
        }
    }

    public func deleteOrganisation(id: Int64) async throws {
        try await db.write { c in
            guard id != Organisation.rootID else { throw StoreConflict("the root organisation cannot be deleted") }
            for (table, column, what) in [("organisations", "parent_id", "child organisations"), ("devices", "organisation_id", "devices"),
                                          ("users", "organisation_id", "users"), ("api_tokens", "organisation_id", "API tokens"),
                                          ("files", "organisation_id", "files"), ("preprovisioned", "organisation_id", "pre-provisioned devices")] {
                let n = try c.scalar("SELECT count(*) FROM \(table) WHERE \(column) = ?", [.int(id)]).int
                if n > 0 { throw StoreConflict("the organisation still has \(n) \(what)") }
            }
            let active = try c.scalar("SELECT count(*) FROM campaigns WHERE organisation_id = ? AND state IN ('running', 'paused')", [.int(id)]).int
            if active > 0 { throw StoreConflict("the organisation still has \(active) running or paused campaigns") }
            // Finished campaigns stay visible to whoever saw them: they move up to the parent.
            try c.run("UPDATE campaigns SET organisation_id = (SELECT parent_id FROM organisations WHERE id = ?) WHERE organisation_id = ?",
                      [.int(id), .int(id)])
            try c.run("DELETE FROM organisations WHERE id = ?", [.int(id)])
        }
    }

    // MARK: users

    static let userColumns = "u.id, u.username, u.password_hash, u.organisation_id, u.role, u.disabled, u.created_at"
    static func user(_ r: SQLRow) -> UserAccount {
        UserAccount(id: r.int(0), username: r.text(1), passwordHash: r.text(2), organisationID: r.int(3),
                    role: Role(rawValue: r.text(4)) ?? .viewer, disabled: r.int(5) != 0, createdAt: r.int(6))
    }

    private func oneUser(_ whereSQL: String, _ args: [SQLValue]) throws -> UserAccount? {
        try db.read { c in
            var u: UserAccount?
            try c.query("SELECT \(Self.userColumns) FROM users u WHERE \(whereSQL)", args) { u = Self.user($0) }
            return u
        }
    }

    public func user(id: Int64) throws -> UserAccount? { try oneUser("u.id = ?", [.int(id)]) }
    public func user(username: String) throws -> UserAccount? { try oneUser("u.username = ?", [.text(username)]) }
    public func userCount() throws -> Int { try db.read { Int(try $0.scalar("SELECT count(*) FROM users").int) } }

    public func users(under path: String) throws -> [UserAccount] {
        try db.read { c in
            var out: [UserAccount] = []
            try c.query("""
                SELECT \(Self.userColumns) FROM users u JOIN organisations o ON o.id = u.organisation_id
                WHERE o.path LIKE ? ESCAPE '\\' ORDER BY u.id
                """, [Self.likePrefix(path)]) { out.append(Self.user($0)) }
            return out
        }
    }

    public func createUser(_ user: UserAccount) async throws -> UserAccount {
        let u = user
        return try await db.write { c in
            if try c.scalar("SELECT count(*) FROM users WHERE username = ?", [.text(u.username)]).int > 0 {
                throw StoreConflict("user \(u.username) already exists")
            }
            try c.run("INSERT INTO users(username, password_hash, organisation_id, role, disabled, created_at) VALUES (?,?,?,?,?,?)",
                      [.text(u.username), .text(u.passwordHash), .int(u.organisationID), .text(u.role.rawValue),
                       .int(u.disabled ? 1 : 0), .int(u.createdAt)])
            var created = u
            created.id = c.lastInsertRowID
            return created
        }
    }

    public func updateUser(_ user: UserAccount) async throws {
        let u = user
        try await db.write { c in
            try c.run("UPDATE users SET password_hash = ?, organisation_id = ?, role = ?, disabled = ? WHERE id = ?",
                      [.text(u.passwordHash), .int(u.organisationID), .text(u.role.rawValue), .int(u.disabled ? 1 : 0), .int(u.id)])
        }
    }

    public func deleteUser(id: Int64) async throws {
        try await db.write { c in try c.run("DELETE FROM users WHERE id = ?", [.int(id)]) }
    }

    // MARK: tokens

    static let tokenColumns = "t.id, t.user_id, t.name, t.token_hash, t.prefix, t.organisation_id, t.role, t.created_at, t.expires_at, t.revoked_at, t.last_used_at"
    static func token(_ r: SQLRow) -> APIToken {
        APIToken(id: r.int(0), userID: r.int(1), name: r.text(2), tokenHash: r.text(3), prefix: r.text(4), organisationID: r.int(5),
                 role: Role(rawValue: r.text(6)) ?? .viewer, createdAt: r.int(7), expiresAt: r.int(8), revokedAt: r.int(9), lastUsedAt: r.int(10))
    }

    private func oneToken(_ whereSQL: String, _ args: [SQLValue]) throws -> APIToken? {
        try db.read { c in
            var t: APIToken?
            try c.query("SELECT \(Self.tokenColumns) FROM api_tokens t WHERE \(whereSQL)", args) { t = Self.token($0) }
            return t
        }
    }

    public func token(hash: String) throws -> APIToken? { try oneToken("t.token_hash = ?", [.text(hash)]) }
    public func token(id: Int64) throws -> APIToken? { try oneToken("t.id = ?", [.int(id)]) }

    public func tokens(under path: String) throws -> [APIToken] {
        try db.read { c in
            var out: [APIToken] = []
            try c.query("""
                SELECT \(Self.tokenColumns) FROM api_tokens t JOIN organisations o ON o.id = t.organisation_id
                WHERE o.path LIKE ? ESCAPE '\\' ORDER BY t.id
                """, [Self.likePrefix(path)]) { out.append(Self.token($0)) }
            return out
        }
    }

    public func createToken(_ token: APIToken) async throws -> APIToken {
        let t = token
        return try await db.write { c in
            try c.run("""
                INSERT INTO api_tokens(user_id, name, token_hash, prefix, organisation_id, role, created_at, expires_at)
                VALUES (?,?,?,?,?,?,?,?)
                """, [.int(t.userID), .text(t.name), .text(t.tokenHash), .text(t.prefix), .int(t.organisationID),
                      .text(t.role.rawValue), .int(t.createdAt), .int(t.expiresAt)])
            var created = t
            created.id = c.lastInsertRowID
            return created
        }
    }

    public func revokeToken(id: Int64, at: Int64) async throws {
        try await db.write { c in try c.run("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at = 0", [.int(at), .int(id)]) }
    }

    public func touchToken(id: Int64, at: Int64) async throws {
        try await db.write { c in try c.run("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", [.int(at), .int(id)]) }
    }

    // MARK: login sessions

    public func createSession(_ s: LoginSession) async throws {
        try await db.write { c in
            try c.run("DELETE FROM login_sessions WHERE expires_at < ?", [.int(s.createdAt)])
            try c.run("INSERT INTO login_sessions(token_hash, user_id, csrf, created_at, expires_at) VALUES (?,?,?,?,?)",
                      [.text(s.tokenHash), .int(s.userID), .text(s.csrf), .int(s.createdAt), .int(s.expiresAt)])
        }
    }

    public func session(hash: String) throws -> LoginSession? {
        try db.read { c in
            var s: LoginSession?
            try c.query("SELECT token_hash, user_id, csrf, created_at, expires_at FROM login_sessions WHERE token_hash = ?", [.text(hash)]) {
                s = LoginSession(tokenHash: $0.text(0), userID: $0.int(1), csrf: $0.text(2), createdAt: $0.int(3), expiresAt: $0.int(4))
            }
            return s
        }
    }

    public func deleteSession(hash: String) async throws {
        try await db.write { c in try c.run("DELETE FROM login_sessions WHERE token_hash = ?", [.text(hash)]) }
    }

    public func deleteSessions(userID: Int64) async throws {
        try await db.write { c in try c.run("DELETE FROM login_sessions WHERE user_id = ?", [.int(userID)]) }
    }

    // MARK: audit

    public func appendAudit(_ e: AuditEntry) async throws {
        try await db.write { c in try Self.insertAudit(e, on: c) }
    }

    static func insertAudit(_ e: AuditEntry, on c: any SQLConnection) throws {
        try c.run("""
            INSERT INTO audit_log(at, actor, user_id, token_id, remote, organisation_id, action, object_type, object_id, before, after, status)
            VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
            """, [.int(e.at), .text(e.actor), e.userID.map { .int($0) } ?? .null, e.tokenID.map { .int($0) } ?? .null,
                  .text(e.remote), .int(e.organisationID), .text(e.action), .text(e.objectType), .text(e.objectID),
                  e.before.map { .text($0) } ?? .null, e.after.map { .text($0) } ?? .null, .int(Int64(e.status))])
    }

    public func audit(_ q: AuditQuery) throws -> [AuditEntry] {
        var clauses = ["a.organisation_id IN (SELECT id FROM organisations WHERE path LIKE ? ESCAPE '\\')"]
        var args: [SQLValue] = [Self.likePrefix(q.organisationPath)]
        for (col, v) in [("a.actor", q.actor), ("a.action", q.action), ("a.object_type", q.objectType), ("a.object_id", q.objectID)] {
            if let v { clauses.append("\(col) = ?"); args.append(.text(v)) }
        }
        if let v = q.since { clauses.append("a.at >= ?"); args.append(.int(v)) }
        if let v = q.until { clauses.append("a.at < ?"); args.append(.int(v)) }
        if let v = q.beforeID { clauses.append("a.id < ?"); args.append(.int(v)) }
        args.append(.int(Int64(max(1, min(q.limit, 100_000)))))
        return try db.read { c in
            var out: [AuditEntry] = []
            try c.query("""
                SELECT a.id, a.at, a.actor, a.user_id, a.token_id, a.remote, a.organisation_id, a.action, a.object_type, a.object_id,
                a.before, a.after, a.status FROM audit_log a WHERE \(clauses.joined(separator: " AND ")) ORDER BY a.id DESC LIMIT ?
                """, args) { r in
                let u = r[3], t = r[4], b = r[10], a = r[11]
                out.append(AuditEntry(id: r.int(0), at: r.int(1), actor: r.text(2), userID: u.isNull ? nil : u.int,
                                      tokenID: t.isNull ? nil : t.int, remote: r.text(5), organisationID: r.int(6), action: r.text(7),
                                      objectType: r.text(8), objectID: r.text(9), before: b.isNull ? nil : b.text,
                                      after: a.isNull ? nil : a.text, status: Int(r.int(12))))
            }
            return out
        }
    }

    // MARK: files

    static let fileColumns = """
        f.id, f.name, f.file_type, f.organisation_id, f.size, f.sha256, f.download_key, f.created_at, f.uploaded_by,
        f.version, f.target_profile, f.target_model, f.notes
        """
    static func file(_ r: SQLRow) -> StoredFile {
        var f = StoredFile(id: r.int(0), name: r.text(1), fileType: r.text(2), organisationID: r.int(3), size: r.int(4), sha256: r.text(5),
                           downloadKey: r.text(6), createdAt: r.int(7), uploadedBy: r.text(8))
        f.version = r.text(9); f.targetProfile = r.text(10); f.targetModel = r.text(11); f.notes = r.text(12)
        return f
    }

    /// A file of this organisation with these bytes (deduplication), if any.
    public func file(sha256: String, organisationID: Int64) throws -> StoredFile? {
        try db.read { c in
            var f: StoredFile?
            try c.query("SELECT \(Self.fileColumns) FROM files f WHERE f.organisation_id = ? AND f.sha256 = ? ORDER BY f.id LIMIT 1",
                        [.int(organisationID), .text(sha256)]) { f = Self.file($0) }
            return f
        }
    }

    /// Sets what makes a stored file a firmware image (version, targets, notes).
    public func updateFileRelease(_ file: StoredFile) async throws {
        let f = file
        try await db.write { c in
            try c.run("UPDATE files SET version = ?, target_profile = ?, target_model = ?, notes = ?, file_type = ? WHERE id = ?",
                      [.text(f.version), .text(f.targetProfile), .text(f.targetModel), .text(f.notes), .text(f.fileType), .int(f.id)])
        }
    }

    public func createFile(_ file: StoredFile) async throws -> StoredFile {
        let f = file
        return try await db.write { c in
            try c.run("""
                INSERT INTO files(name, file_type, organisation_id, size, sha256, download_key, created_at, uploaded_by,
                                  version, target_profile, target_model, notes)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
                """, [.text(f.name), .text(f.fileType), .int(f.organisationID), .int(f.size), .text(f.sha256), .text(f.downloadKey),
                      .int(f.createdAt), .text(f.uploadedBy), .text(f.version), .text(f.targetProfile), .text(f.targetModel), .text(f.notes)])
            var created = f
            created.id = c.lastInsertRowID
            return created
        }
    }

    public func file(id: Int64) throws -> StoredFile? {
        try db.read { c in
            var f: StoredFile?
            try c.query("SELECT \(Self.fileColumns) FROM files f WHERE f.id = ?", [.int(id)]) { f = Self.file($0) }
            return f
        }
    }

    public func files(under path: String) throws -> [StoredFile] {
        try db.read { c in
            var out: [StoredFile] = []
            try c.query("""
                SELECT \(Self.fileColumns) FROM files f JOIN organisations o ON o.id = f.organisation_id
                WHERE o.path LIKE ? ESCAPE '\\' ORDER BY f.id
                """, [Self.likePrefix(path)]) { out.append(Self.file($0)) }
            return out
        }
    }

    public func deleteFile(id: Int64) async throws {
        try await db.write { c in try c.run("DELETE FROM files WHERE id = ?", [.int(id)]) }
    }

    // MARK: pre-provisioning

    public func preprovision(oui: String, serial: String) throws -> Preprovision? {
        try db.read { c in
            var out: Preprovision?
            // The exact OUI wins over an any-OUI row.
            try c.query("""
                SELECT oui, serial, organisation_id, groups, tags, location, description, profile, created_at FROM preprovisioned
                WHERE serial = ? AND (oui = ? OR oui = '') ORDER BY oui DESC LIMIT 1
                """, [.text(serial), .text(oui)]) { out = Self.preprovision($0) }
            return out
        }
    }

    static func preprovision(_ r: SQLRow) -> Preprovision {
        func list(_ s: String) -> [String] { s.split(separator: ",").map(String.init) }
        return Preprovision(oui: r.text(0), serial: r.text(1), organisationID: r.int(2), groups: list(r.text(3)), tags: list(r.text(4)),
                            location: r.text(5), description: r.text(6), profile: r.text(7), createdAt: r.int(8))
    }

    public func savePreprovisions(_ rows: [Preprovision]) async throws {
        let rows = rows
        try await db.write { c in
            for p in rows {
                try c.run("""
                    INSERT INTO preprovisioned(oui, serial, organisation_id, groups, tags, location, description, profile, created_at)
                    VALUES (?,?,?,?,?,?,?,?,?)
                    ON CONFLICT(oui, serial) DO UPDATE SET organisation_id=excluded.organisation_id, groups=excluded.groups,
                    tags=excluded.tags, location=excluded.location, description=excluded.description, profile=excluded.profile
                    """, [.text(p.oui), .text(p.serial), .int(p.organisationID), .text(p.groups.joined(separator: ",")),
                          .text(p.tags.joined(separator: ",")), .text(p.location), .text(p.description), .text(p.profile), .int(p.createdAt)])
            }
        }
    }

    public func preprovisions(under path: String) throws -> [Preprovision] {
        try db.read { c in
            var out: [Preprovision] = []
            try c.query("""
                SELECT p.oui, p.serial, p.organisation_id, p.groups, p.tags, p.location, p.description, p.profile, p.created_at
                FROM preprovisioned p JOIN organisations o ON o.id = p.organisation_id
                WHERE o.path LIKE ? ESCAPE '\\' ORDER BY p.serial, p.oui
                """, [Self.likePrefix(path)]) { out.append(Self.preprovision($0)) }
            return out
        }
    }

    public func deletePreprovision(oui: String, serial: String) async throws {
        try await db.write { c in try c.run("DELETE FROM preprovisioned WHERE oui = ? AND serial = ?", [.text(oui), .text(serial)]) }
    }

    // MARK: devices, faults, analytics

    public func updateDeviceMetadata(_ d: Device) async throws {
        let d = d
        try await db.write { c in
            try c.run("UPDATE devices SET groups=?, tags=?, location=?, description=?, organisation_id=? WHERE id=?",
                      [.text(d.groups.joined(separator: ",")), .text(d.tags.joined(separator: ",")), .text(d.location),
                       .text(d.description), .int(d.organisationID), .int(d.id)])
        }
    }

    static let faultColumns = "f.id, f.device_id, f.task_id, f.source, f.code, f.message, f.detail, f.at"
    static func fault(_ r: SQLRow) -> FaultRecord {
        let t = r[2]
        return FaultRecord(id: r.int(0), deviceID: r.int(1), taskID: t.isNull ? nil : t.int, source: r.text(3), code: Int(r.int(4)),
                           message: r.text(5), detail: r.text(6), at: r.int(7))
    }

    public func fault(id: Int64) throws -> FaultRecord? {
        try db.read { c in
            var f: FaultRecord?
            try c.query("SELECT \(Self.faultColumns) FROM faults f WHERE f.id = ?", [.int(id)]) { f = Self.fault($0) }
            return f
        }
    }

    public func faults(_ q: FaultQuery) throws -> [FaultRecord] {
        var clauses = ["d.organisation_id IN (SELECT id FROM organisations WHERE path LIKE ? ESCAPE '\\')"]
        var args: [SQLValue] = [Self.likePrefix(q.organisationPath)]
        if let v = q.deviceID { clauses.append("f.device_id = ?"); args.append(.int(v)) }
        if let v = q.code { clauses.append("f.code = ?"); args.append(.int(Int64(v))) }
        if let v = q.beforeID { clauses.append("f.id < ?"); args.append(.int(v)) }
        args.append(.int(Int64(max(1, min(q.limit, 1000)))))
        return try db.read { c in
            var out: [FaultRecord] = []
            try c.query("""
                SELECT \(Self.faultColumns) FROM faults f JOIN devices d ON d.id = f.device_id
                WHERE \(clauses.joined(separator: " AND ")) ORDER BY f.id DESC LIMIT ?
                """, args) { out.append(Self.fault($0)) }
            return out
        }
    }

    public func deleteFault(id: Int64) async throws {
        try await db.write { c in try c.run("DELETE FROM faults WHERE id = ?", [.int(id)]) }
    }

    /// From device_tallies (migration 6: devices per organisation, manufacturer, model, version and profile, kept by
    /// triggers): a few hundred rows instead of a scan of the devices table.
    public func deviceCounts(by column: DeviceCountColumn, under path: String) throws -> [(key: String, count: Int)] {
        try db.read { c in
            var out: [(key: String, count: Int)] = []
            try c.query("""
                SELECT \(column.rawValue) AS k, sum(n) AS total FROM device_tallies
                WHERE organisation_id IN (SELECT id FROM organisations WHERE path LIKE ? ESCAPE '\\')
                GROUP BY k HAVING sum(n) > 0 ORDER BY total DESC, k LIMIT 1000
                """, [Self.likePrefix(path)]) { out.append((key: $0[0].text, count: Int($0.int(1)))) }
            return out
        }
    }

    /// `AND <column> IN <subtree>`, or nothing for the root's subtree (every device).
    static func subtreeClause(_ path: String, column: String) -> (sql: String, args: [SQLValue]) {
        guard path != DeviceQuerySQL.rootPath else { return ("", []) }
        return (" AND \(column) IN (SELECT id FROM organisations WHERE path LIKE ? ESCAPE '\\')", [likePrefix(path)])
    }
}
