import ACSCore
import CWMP
import DataModel
import Foundation

/// The store: the embedded default is one SQLite file; `init(database:)` takes any `SQLDatabase`, such as a shared
/// PostgreSQL database (PostgresStore target).
public final class SQLStore: CorralStore, @unchecked Sendable {
    public let db: SQLDatabase

    /// Opens (creating and migrating) `<directory>/corral.db`.
    /// The directory is made (or set) 0700 and the database files 0600: they hold credentials and hashes. (The file is
    /// not made before SQLite does: other processes treat an existing file as a migrated database.)
    public convenience init(directory: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try? fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory)
        let path = (directory as NSString).appendingPathComponent("corral.db")
        try self.init(path: path)
        for f in [path, path + "-wal", path + "-shm"] where fm.fileExists(atPath: f) {
            try? fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: f)
        }
    }

    public init(path: String) throws {
        db = try SQLDatabase.sqlite(path: path, migrations: Self.migrations)
    }

    /// A store over a database opened and migrated (with `SQLStore.migrations`) elsewhere.
    public init(database: SQLDatabase) { db = database }

    /// Every schema migration, for either engine.
    public static let migrations: [Migration] = Schema.migrations + [Schema.automation, Schema.campaignScope, Schema.deviceSecurity, Schema.twoFactor, Schema.events, Schema.alerts, Schema.absentPaths, Schema.scriptVersions, Schema.diagnosticResults, Schema.firmware, Schema.rollouts, Schema.backups, Schema.deviceClock, Schema.webhooks, Schema.onboardingAttempts, Schema.validations, Schema.lenientNumbers, Schema.sessionLeases, Schema.groupElements]

    public func close() { db.close() }

    /// SQLite's own consistency check: [] when the file is sound, else what it found (at most `limit` lines).
    /// `quick` skips the index-content comparison (linear in the file size rather than n log n; `serve` runs it at start).
    public func integrityProblems(quick: Bool, limit: Int = 20) throws -> [String] {
        // PostgreSQL checks its pages itself (checksums) and has no such walk: nothing to report here.
        guard db.dialect == .sqlite else { return [] }
        do {
            return try db.read { c in
                var lines: [String] = []
                try c.query("PRAGMA \(quick ? "quick_check" : "integrity_check")(\(limit))") { lines.append($0.text(0)) }
                return lines == ["ok"] ? [] : lines
            }
        } catch let e as SQLiteError where e.isCorruption {
            return [e.message]   // so broken that the check cannot walk it
        }
    }

    // MARK: devices

    static let deviceColumns = """
        id, name, oui, product_class, serial, manufacturer, model_name, software_version, hardware_version, profile,
        data_model, groups, location, description, cr_url, cr_username, cr_password, username, password_ha1,
        credentials_confirmed, ip, inform_interval, created_at, onboarded_at, last_inform, last_boot, previous_ha1,
        organisation_id, tags, superseded_ha1, credential_conflict, rebootstrap_hold, utc_offset
        """

    static func device(_ r: SQLRow) -> Device {
        var d = Device(id: r.int(0), name: r.text(1), oui: r.text(2), productClass: r.text(3), serialNumber: r.text(4),
               manufacturer: r.text(5), modelName: r.text(6), softwareVersion: r.text(7), hardwareVersion: r.text(8),
               profile: r.text(9), dataModel: DataModelKind(rawValue: r.text(10)),
               groups: r.text(11).split(separator: ",").map(String.init), location: r.text(12), description: r.text(13),
               connectionRequestURL: r.text(14), connectionRequestUsername: r.text(15), connectionRequestPassword: r.text(16),
               username: r.text(17), passwordHA1: r.text(18), credentialsConfirmed: r.int(19) != 0, ipAddress: r.text(20),
               informInterval: Int(r.int(21)), createdAt: r.int(22), onboardedAt: r.int(23), lastInform: r.int(24), lastBoot: r.int(25))
        d.previousPasswordHA1 = r.text(26)
        d.organisationID = r.int(27)
        d.tags = r.text(28).split(separator: ",").map(String.init)
        d.supersededPasswordHA1 = r.text(29)
        d.credentialConflict = r.int(30) != 0
        d.rebootstrapHold = RebootstrapHold(rawValue: Int(r.int(31))) ?? .none
        if case .int(let o) = r[32] { d.utcOffsetMinutes = Int(o) }
        return d
    }

    static func deviceValues(_ d: Device) -> [SQLValue] {
        [.text(d.name), .text(d.oui), .text(d.productClass), .text(d.serialNumber), .text(d.manufacturer), .text(d.modelName),
         .text(d.softwareVersion), .text(d.hardwareVersion), .text(d.profile), .text(d.dataModel?.rawValue ?? ""),
         .text(d.groups.joined(separator: ",")), .text(d.location), .text(d.description), .text(d.connectionRequestURL),
         .text(d.connectionRequestUsername), .text(d.connectionRequestPassword), .text(d.username), .text(d.passwordHA1),
         .int(d.credentialsConfirmed ? 1 : 0), .text(d.ipAddress), .int(Int64(d.informInterval)), .int(d.createdAt),
         .int(d.onboardedAt), .int(d.lastInform), .int(d.lastBoot), .text(d.previousPasswordHA1), .int(d.organisationID),
         .text(d.tags.joined(separator: ","))]
    }

    private func oneDevice(_ whereSQL: String, _ args: [SQLValue]) throws -> Device? {
        try db.read { c in
            var found: Device?
            try c.query("SELECT \(Self.deviceColumns) FROM devices WHERE \(whereSQL) LIMIT 1", args) { found = Self.device($0) }
            return found
        }
    }

    public func device(id: Int64) throws -> Device? { try oneDevice("id = ?", [.int(id)]) }
    public func device(name: String) throws -> Device? { try oneDevice("name = ?", [.text(name)]) }
    public func device(oui: String, serial: String) throws -> Device? { try oneDevice("oui = ? AND serial = ?", [.text(oui), .text(serial)]) }
    public func device(username: String) throws -> Device? {
        username.isEmpty ? nil : try oneDevice("username = ?", [.text(username)])
    }

    public func devices(limit: Int, offset: Int) throws -> [Device] {
        try db.read { c in
            var out: [Device] = []
            try c.query("SELECT \(Self.deviceColumns) FROM devices ORDER BY id LIMIT ? OFFSET ?", [.int(Int64(limit)), .int(Int64(offset))]) {
                out.append(Self.device($0))
            }
            return out
        }
    }

    public func devices(serial: String) throws -> [Device] {
        try db.read { c in
            var out: [Device] = []
            try c.query("SELECT \(Self.deviceColumns) FROM devices WHERE serial = ? ORDER BY id", [.text(serial)]) { out.append(Self.device($0)) }
            return out
        }
    }

    public func devices(_ query: DeviceQuery, now: Int64) throws -> DevicePage {
        let b = try buildQuery(query, now: now)
        let limit = max(1, min(query.limit, 10_000))
        var out: [Device] = []
        try db.read { c in
            // The page's IDs first, then their rows: the inner query reads only what the filter and the order need, so
            // an index holding those columns answers it without touching a row (e.g. offline devices by last contact:
            // a top-N over devices_offline_at instead of one row read per candidate).
            try c.query("""
                SELECT \(Self.deviceColumns) FROM devices WHERE id IN (
                  SELECT id FROM devices WHERE \(b.whereSQL) ORDER BY \(b.orderSQL) LIMIT ?)
                ORDER BY \(b.orderSQL)
                """, b.args + [.int(Int64(limit + 1))]) { out.append(Self.device($0)) }
        }
        var next: String?
        if out.count > limit {
            out.removeLast()
            if let last = out.last { next = Cursor.encode(DeviceQuerySQL.sortKey(last, query.sort), id: last.id) }
        }
        return DevicePage(devices: out, nextCursor: next)
    }

    public func forEachDevice(_ query: DeviceQuery, now: Int64, _ body: (Device) throws -> Bool) throws {
        var q = query
        q.cursor = nil
        let b = try buildQuery(q, now: now)
        try db.read { c in
            try c.stream("SELECT \(Self.deviceColumns) FROM devices WHERE \(b.whereSQL) ORDER BY \(b.orderSQL)", b.args, batch: 2000) { row in
                try body(Self.device(row))
            }
        }
    }

    public func countDevices(_ query: DeviceQuery, now: Int64) throws -> Int {
        var q = query
        q.cursor = nil
        let b = try buildQuery(q, now: now)
        return try db.read { Int(try $0.scalar("SELECT count(*) FROM devices WHERE \(b.whereSQL)", b.args).int) }
    }

    public func deviceCount() throws -> Int { try db.read { Int(try $0.scalar("SELECT count(*) FROM devices").int) } }

    public func createDevice(_ device: Device) async throws -> Device {
        let values = Self.deviceValues(device)
        let id = try await db.write { c -> Int64 in
            try c.run("""
                INSERT INTO devices (name, oui, product_class, serial, manufacturer, model_name, software_version, hardware_version,
                profile, data_model, groups, location, description, cr_url, cr_username, cr_password, username, password_ha1,
                credentials_confirmed, ip, inform_interval, created_at, onboarded_at, last_inform, last_boot, previous_ha1,
                organisation_id, tags)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                """, values)
            let id = c.lastInsertRowID
            // A pre-provisioning row is consumed by the device it created (its metadata now lives on the device).
            try c.run("DELETE FROM preprovisioned WHERE serial = ? AND (oui = ? OR oui = '')", [values[3], values[1]])
            return id
        }
        var created = device
        created.id = id
        return created
    }

    // MARK: writes

    public func apply(_ writes: [StoreWrite]) async throws {
        guard !writes.isEmpty else { return }
        try await db.write { c in
            for w in writes { try Self.apply(w, on: c) }
        }
    }

    static func apply(_ write: StoreWrite, on c: any SQLConnection) throws {
        switch write {
        case .updateDevice(let d) where c.dialect == .postgres:
            try updateDeviceInOneStatement(d, on: c)
        case .updateDevice(let d):
            // Everything the CWMP session maintains; operator metadata (groups, location, description) is left alone
            // so that an edit made while the device is in session is not overwritten.
            // Two statements: SQLite rewrites every index over a column an UPDATE sets, changed or not. What changes
            // at each Inform (and is indexed only with last_inform) is always set; the indexed identity columns only
            // when one of them differs, so a periodic session touches two of the devices indexes, not all of them.
            try c.run("""
                UPDATE devices SET product_class=?, manufacturer=?, hardware_version=?, data_model=?, cr_url=?, cr_username=?,
                cr_password=?, password_ha1=?, credentials_confirmed=?, ip=?, inform_interval=?, onboarded_at=?, last_inform=?,
                last_boot=?, previous_ha1=?, superseded_ha1=?, credential_conflict=?, rebootstrap_hold=?, utc_offset=? WHERE id=?
                """, [.text(d.productClass), .text(d.manufacturer), .text(d.hardwareVersion), .text(d.dataModel?.rawValue ?? ""),
                      .text(d.connectionRequestURL), .text(d.connectionRequestUsername), .text(d.connectionRequestPassword),
                      .text(d.passwordHA1), .int(d.credentialsConfirmed ? 1 : 0), .text(d.ipAddress), .int(Int64(d.informInterval)),
                      .int(d.onboardedAt), .int(d.lastInform), .int(d.lastBoot), .text(d.previousPasswordHA1),
                      .text(d.supersededPasswordHA1), .int(d.credentialConflict ? 1 : 0), .int(Int64(d.rebootstrapHold.rawValue)),
                      d.utcOffsetMinutes.map { .int(Int64($0)) } ?? .null, .int(d.id)])
            try c.run("""
                UPDATE devices SET name=?1, oui=?2, serial=?3, model_name=?4, software_version=?5, profile=?6, username=?7
                WHERE id=?8 AND NOT (name IS ?1 AND oui IS ?2 AND serial IS ?3 AND model_name IS ?4 AND software_version IS ?5
                AND profile IS ?6 AND username IS ?7)
                """, [.text(d.name), .text(d.oui), .text(d.serialNumber), .text(d.modelName), .text(d.softwareVersion),
                      .text(d.profile), .text(d.username), .int(d.id)])
        case .updateDeviceSecurity(let id, let superseded, let conflict, let hold):
            try c.run("UPDATE devices SET superseded_ha1=?, credential_conflict=?, rebootstrap_hold=? WHERE id=?",
                      [.text(superseded), .int(conflict ? 1 : 0), .int(Int64(hold.rawValue)), .int(id)])
        case .resetCredentials(let id):
            try c.run("UPDATE devices SET credentials_confirmed=0, previous_ha1='' WHERE id=?", [.int(id)])
        case .updateMetadata(let id, let groups, let location, let description):
            try c.run("UPDATE devices SET groups=?, location=?, description=? WHERE id=?",
                      [.text(groups.joined(separator: ",")), .text(location), .text(description), .int(id)])
        case .parameters(let id, let values, let at):
            if c.dialect == .postgres, values.count > 1 {
                try upsertParameters(deviceID: id, values, at: at, on: c)
                break
            }
            for p in values {
                if p.value.isEmpty && ManagementPaths.isSecret(p.name) {
                    // Secrets read back empty: keep the ACS copy, only make sure the row exists.
                    try c.run("INSERT OR IGNORE INTO parameters(device_id, path, value, type, updated_at) VALUES (?,?,?,?,?)",
                              [.int(id), .text(p.name), .text(""), .text(p.type.rawValue), .int(at)])
                    continue
                }
                try c.run("""
                    INSERT INTO parameters(device_id, path, value, type, updated_at) VALUES (?,?,?,?,?)
                    ON CONFLICT(device_id, path) DO UPDATE SET value=excluded.value, type=excluded.type, updated_at=excluded.updated_at
                    """, [.int(id), .text(p.name), .text(p.value), .text(p.type.rawValue), .int(at)])
            }
        case .inform(let id, let r):
            try c.run("INSERT INTO informs(device_id, at, events, retry_count, remote) VALUES (?,?,?,?,?)",
                      [.int(id), .int(r.at), .text(r.events.joined(separator: ",")), .int(Int64(r.retryCount)), .text(r.remote)])
        case .updateTask(let t):
            try c.run("""
                UPDATE tasks SET state=?, updated_at=?, attempts=?, not_before=?, command_key=?, result=?, fault_code=?, fault=?, payload=?
                WHERE id=?
                """, [.text(t.state.rawValue), .int(t.updatedAt), .int(Int64(t.attempts)), .int(t.notBefore), .text(t.commandKey),
                      JSONText.encode(t.result), t.fault.map { .int(Int64($0.code)) } ?? .null, JSONText.encode(t.fault),
                      JSONText.encode(t.kind), .int(t.id)])
        case .diagnosticResult(let r):
            try insertDiagnosticResult(r, on: c)
        case .markParametersStale(let id):
            try c.run("UPDATE parameters SET updated_at = 0 WHERE device_id = ?", [.int(id)])
        case .removeParameters(let id, let prefix, let keeping):
            var gone: [String] = []
            // An object path ends in "."; everything below it sorts before the same text ending in "/" (the next byte).
            guard prefix.hasSuffix(".") else { break }
            try c.query("SELECT path FROM parameters WHERE device_id = ? AND path >= ? AND path < ?",
                        [.int(id), .text(prefix), .text(String(prefix.dropLast()) + "/")]) { r in
                let p = r.text(0)
                if !keeping.contains(p) && !ManagementPaths.isSecret(p) { gone.append(p) }
            }
            for p in gone { try c.run("DELETE FROM parameters WHERE device_id = ? AND path = ?", [.int(id), .text(p)]) }
        case .automation(let w):
            try applyAutomation(w, on: c)
        case .takeLease(let l, let now):
            try takeLease(l, now: now, on: c)
        case .renewLease(let id, let token, let expiresAt):
            try c.run("UPDATE session_leases SET expires_at = ? WHERE device_id = ? AND token = ?", [.int(expiresAt), .int(id), .text(token)])
        case .releaseLease(let id, let token):
            try c.run("DELETE FROM session_leases WHERE device_id = ? AND token = ?", [.int(id), .text(token)])
        case .fault(let f):
            try c.run("INSERT INTO faults(device_id, task_id, source, code, message, detail, at) VALUES (?,?,?,?,?,?,?)",
                      [.int(f.deviceID), f.taskID.map { .int($0) } ?? .null, .text(f.source), .int(Int64(f.code)),
                       .text(f.message), .text(f.detail), .int(f.at)])
        }
    }

    // MARK: parameters

    public func parameters(deviceID: Int64, prefix: String) throws -> [StoredParameter] {
        try db.read { c in
            var out: [StoredParameter] = []
            // Range scan on the primary key instead of LIKE (which would need escaping and skip the index).
            try c.query("""
                SELECT path, value, type, writable, updated_at FROM parameters
                WHERE device_id = ? AND path >= ? AND path < ? ORDER BY path
                """, [.int(deviceID), .text(prefix), .text(prefix + "\u{10FFFF}")]) { r in
                let w = r[3]
                out.append(StoredParameter(path: r.text(0), value: r.text(1), type: XSDType(rawValue: r.text(2)) ?? .string,
                                           writable: w.isNull ? nil : w.int != 0, updatedAt: r.int(4)))
            }
            return out
        }
    }

    // MARK: tasks

    static let taskColumns = "id, device_id, payload, state, created_at, updated_at, attempts, not_before, command_key, result, fault"

    static func task(_ r: SQLRow) -> DeviceTask? {
        guard let kind: TaskKind = JSONText.decode(r.text(2)) else { return nil }
        return DeviceTask(id: r.int(0), deviceID: r.int(1), kind: kind, state: TaskState(rawValue: r.text(3)) ?? .pending,
                          createdAt: r.int(4), updatedAt: r.int(5), attempts: Int(r.int(6)), notBefore: r.int(7),
                          commandKey: r.text(8), result: JSONText.decode(r.text(9)), fault: JSONText.decode(r.text(10)))
    }

    public func task(id: Int64) throws -> DeviceTask? {
        try db.read { c in
            var found: DeviceTask?
            try c.query("SELECT \(Self.taskColumns) FROM tasks WHERE id = ?", [.int(id)]) { found = Self.task($0) }
            return found
        }
    }

    public func tasks(deviceID: Int64, states: [TaskState]) throws -> [DeviceTask] {
        try db.read { c in
            var out: [DeviceTask] = []
            let marks = states.isEmpty ? "" : " AND state IN (" + states.map { _ in "?" }.joined(separator: ",") + ")"
            try c.query("SELECT \(Self.taskColumns) FROM tasks WHERE device_id = ?\(marks) ORDER BY id",
                        [.int(deviceID)] + states.map { .text($0.rawValue) }) { r in
                if let t = Self.task(r) { out.append(t) }
            }
            return out
        }
    }

    public func createTask(_ task: DeviceTask) async throws -> DeviceTask {
        let t = task
        return try await db.write { c in try Self.insertTask(t, on: c) }
    }

    /// Inserts a task inside a write (campaign and automation writes queue tasks with their own records).
    static func insertTask(_ t: DeviceTask, on c: any SQLConnection) throws -> DeviceTask {
        try c.run("""
            INSERT INTO tasks(device_id, kind, payload, state, created_at, updated_at, attempts, not_before, command_key)
            VALUES (?,?,?,?,?,?,?,?,?)
            """, [.int(t.deviceID), .text(t.kind.label), JSONText.encode(t.kind), .text(t.state.rawValue), .int(t.createdAt),
                  .int(t.updatedAt), .int(Int64(t.attempts)), .int(t.notBefore), .text("")])
        var created = t
        created.id = c.lastInsertRowID
        created.commandKey = DeviceTask.commandKey(forTaskID: created.id)
        try c.run("UPDATE tasks SET command_key = ? WHERE id = ?", [.text(created.commandKey), .int(created.id)])
        return created
    }

    // MARK: history

    public func faults(deviceID: Int64, limit: Int) throws -> [FaultRecord] {
        try db.read { c in
            var out: [FaultRecord] = []
            try c.query("""
                SELECT id, device_id, task_id, source, code, message, detail, at FROM faults WHERE device_id = ?
                ORDER BY id DESC LIMIT ?
                """, [.int(deviceID), .int(Int64(limit))]) { r in
                let t = r[2]
                out.append(FaultRecord(id: r.int(0), deviceID: r.int(1), taskID: t.isNull ? nil : t.int, source: r.text(3),
                                       code: Int(r.int(4)), message: r.text(5), detail: r.text(6), at: r.int(7)))
            }
            return out
        }
    }

    public func informs(deviceID: Int64, limit: Int) throws -> [InformRecord] {
        try db.read { c in
            var out: [InformRecord] = []
            try c.query("SELECT at, events, retry_count, remote FROM informs WHERE device_id = ? ORDER BY id DESC LIMIT ?",
                        [.int(deviceID), .int(Int64(limit))]) { r in
                out.append(InformRecord(at: r.int(0), events: r.text(1).split(separator: ",").map(String.init),
                                        retryCount: Int(r.int(2)), remote: r.text(3)))
            }
            return out
        }
    }
}

/// JSON columns for Codable values.
enum JSONText {
    static func encode<T: Encodable>(_ value: T?) -> SQLValue {
        guard let value, let data = try? JSONEncoder().encode(value) else { return .null }
        return .text(String(decoding: data, as: UTF8.self))
    }
    static func decode<T: Decodable>(_ text: String) -> T? {
        guard !text.isEmpty else { return nil }
        return try? JSONDecoder().decode(T.self, from: Data(text.utf8))
    }
}
