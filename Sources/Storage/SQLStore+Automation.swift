import ACSCore
import CWMP
import Foundation

extension SQLStore: AutomationStore {
    public func parameterValues(deviceIDs: [Int64], paths: [String]) throws -> [Int64: [String: StoredParameter]] {
        guard !deviceIDs.isEmpty, !paths.isEmpty else { return [:] }
        // json_each keeps one cached statement whatever the list sizes.
        let ids = "[" + deviceIDs.map(String.init).joined(separator: ",") + "]"
        let ps = Self.jsonArray(paths)
        var out: [Int64: [String: StoredParameter]] = [:]
        try db.read { c in
            try c.query("""
                SELECT device_id, path, value, type, writable, updated_at FROM parameters
                WHERE device_id IN (\(DeviceQuerySQL.jsonList(c.dialect, integers: true)))
                  AND path IN (\(DeviceQuerySQL.jsonList(c.dialect, integers: false)))
                """, [.text(ids), .text(ps)]) { r in
                let w = r[4]
                out[r.int(0), default: [:]][r.text(1)] = StoredParameter(path: r.text(1), value: r.text(2), type: XSDType(rawValue: r.text(3)) ?? .string,
                                                                         writable: w.isNull ? nil : w.int != 0, updatedAt: r.int(5))
            }
        }
        return out
    }

    /// A JSON array of strings, without Foundation's JSONEncoder (1.3 % of the server's CPU in periodic sessions,
    /// where profile provisioning reads its paths once per session).
    static func jsonArray(_ strings: [String]) -> String {
        var out = "["
        for (i, s) in strings.enumerated() {
            if i > 0 { out += "," }
            out += "\""
            for u in s.unicodeScalars {
                switch u {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case _ where u.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16)
                default: out.unicodeScalars.append(u)
                }
            }
            out += "\""
        }
        return out + "]"
    }

    public func countDevices(by field: DeviceGroupField, _ query: DeviceQuery, now: Int64) throws -> [(String, Int)] {
        var q = query
        q.cursor = nil
        let b = try buildQuery(q, now: now)
        var out: [(String, Int)] = []
        try db.read { c in
            try c.query("SELECT \(field.rawValue), count(*) FROM devices WHERE \(b.whereSQL) GROUP BY 1 ORDER BY 2 DESC, 1", b.args) {
                out.append(($0.text(0), Int($0.int(1))))
            }
        }
        return out
    }

    public func kpi(deviceID: Int64, name: String, since: Int64?) throws -> Double? {
        try db.read { c in
            let v: SQLValue
            if let since {
                v = try c.scalar("SELECT avg(value) FROM kpi_samples WHERE device_id = ? AND name = ? AND at >= ?", [.int(deviceID), .text(name), .int(since)])
            } else {
                v = try c.scalar("SELECT value FROM kpi_samples WHERE device_id = ? AND name = ? ORDER BY at DESC LIMIT 1", [.int(deviceID), .text(name)])
            }
            switch v {
            case .double(let d): return d
            case .int(let i): return Double(i)
            default: return nil
            }
        }
    }

    public func kpiSamples(deviceID: Int64, name: String, limit: Int) throws -> [KPISample] {
        try db.read { c in
            var out: [KPISample] = []
            try c.query("SELECT at, value FROM kpi_samples WHERE device_id = ? AND name = ? ORDER BY at DESC LIMIT ?",
                        [.int(deviceID), .text(name), .int(Int64(limit))]) { r in
                let v: Double
                switch r[1] { case .double(let d): v = d; case .int(let i): v = Double(i); default: v = 0 }
                out.append(KPISample(deviceID: deviceID, name: name, at: r.int(0), value: v))
            }
            return out
        }
    }

    public func provisionStates(deviceID: Int64) throws -> [ProvisionState] {
        try db.read { c in
            var out: [ProvisionState] = []
            try c.query("SELECT script, attempts, next_retry, last_error, updated_at FROM provision_state WHERE device_id = ? ORDER BY script",
                        [.int(deviceID)]) { r in
                out.append(ProvisionState(deviceID: deviceID, script: r.text(0), attempts: Int(r.int(1)), nextRetry: r.int(2),
                                          lastError: r.text(3), updatedAt: r.int(4)))
            }
            return out
        }
    }

    // MARK: campaigns

    static let campaignColumns = """
        id, name, script_name, script, state, per_minute, concurrent, failure_rate, min_devices, connection_request,
        stop_reason, created_at, updated_at, organisation_id, created_by
        """

    static func campaign(_ r: SQLRow) -> CampaignRecord {
        var c = CampaignRecord(name: r.text(1), scriptName: r.text(2), script: r.text(3), perMinute: Int(r.int(5)), concurrent: Int(r.int(6)),
                               failureRate: { if case .double(let d) = r[7] { return d }; return Double(r.int(7)) }(),
                               minDevices: Int(r.int(8)), connectionRequest: r.int(9) != 0, createdAt: r.int(11))
        c.id = r.int(0)
        c.state = CampaignState(rawValue: r.text(4)) ?? .stopped
        c.stopReason = r.text(10)
        c.updatedAt = r.int(12)
        c.organisationID = r.int(13)
        c.createdBy = r.text(14)
        return c
    }

    public func createCampaign(_ c: CampaignRecord, targets: [(deviceID: Int64, wave: Int)]) async throws -> CampaignRecord {
        let rec = c
        let ts = targets.map { ($0.deviceID, $0.wave) }
        return try await db.write { conn in
            try conn.run("""
                INSERT INTO campaigns(name, script_name, script, state, per_minute, concurrent, failure_rate, min_devices,
                connection_request, stop_reason, created_at, updated_at, organisation_id, created_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                """, [.text(rec.name), .text(rec.scriptName), .text(rec.script), .text(rec.state.rawValue), .int(Int64(rec.perMinute)),
                      .int(Int64(rec.concurrent)), .double(rec.failureRate), .int(Int64(rec.minDevices)), .int(rec.connectionRequest ? 1 : 0),
                      .text(rec.stopReason), .int(rec.createdAt), .int(rec.updatedAt), .int(rec.organisationID), .text(rec.createdBy)])
            var created = rec
            created.id = conn.lastInsertRowID
            for (i, t) in ts.enumerated() {
                try conn.run("INSERT INTO campaign_devices(campaign_id, device_id, position, wave, state) VALUES (?,?,?,?, 'pending')",
                             [.int(created.id), .int(t.0), .int(Int64(i)), .int(Int64(t.1))])
            }
            return created
        }
    }

    public func campaign(id: Int64) throws -> CampaignRecord? {
        try db.read { c in
            var found: CampaignRecord?
            try c.query("SELECT \(Self.campaignColumns) FROM campaigns WHERE id = ?", [.int(id)]) { found = Self.campaign($0) }
            return found
        }
    }

    public func campaigns(states: [CampaignState]) throws -> [CampaignRecord] {
        try db.read { c in
            var out: [CampaignRecord] = []
            let marks = states.isEmpty ? "TRUE" : "state IN (" + states.map { _ in "?" }.joined(separator: ",") + ")"
            try c.query("SELECT \(Self.campaignColumns) FROM campaigns WHERE \(marks) ORDER BY id", states.map { .text($0.rawValue) }) {
                out.append(Self.campaign($0))
            }
            return out
        }
    }

    public func campaigns(states: [CampaignState], under path: String, limit: Int) throws -> [CampaignRecord] {
        try db.read { c in
            var out: [CampaignRecord] = []
            let marks = states.isEmpty ? "" : " AND state IN (" + states.map { _ in "?" }.joined(separator: ",") + ")"
            try c.query("""
                SELECT \(Self.campaignColumns) FROM campaigns
                WHERE organisation_id IN (SELECT id FROM organisations WHERE path LIKE ? ESCAPE '\\')\(marks) ORDER BY id DESC LIMIT ?
                """, [.text(DeviceQuerySQL.escapeLike(path) + "%")] + states.map { .text($0.rawValue) } + [.int(Int64(limit))]) {
                out.append(Self.campaign($0))
            }
            return out
        }
    }

    public func organisationPath(id: Int64) throws -> String? {
        try db.read { c in
            let v = try c.scalar("SELECT path FROM organisations WHERE id = ?", [.int(id)])
            return v.isNull ? nil : v.text
        }
    }

    public func campaignDevices(campaignID: Int64, states: [CampaignDeviceState], limit: Int) throws -> [CampaignDevice] {
        try campaignDevices(campaignID: campaignID, states: states, afterPosition: -1, limit: limit)
    }

    public func campaignDevices(campaignID: Int64, states: [CampaignDeviceState], afterPosition: Int, limit: Int) throws -> [CampaignDevice] {
        try db.read { c in
            var out: [CampaignDevice] = []
            let marks = states.isEmpty ? "" : " AND state IN (" + states.map { _ in "?" }.joined(separator: ",") + ")"
            try c.query("""
                SELECT device_id, position, wave, state, tasks, error, updated_at FROM campaign_devices
                WHERE campaign_id = ?\(marks) AND position > ? ORDER BY position LIMIT ?
                """, [.int(campaignID)] + states.map { .text($0.rawValue) } + [.int(Int64(afterPosition)), .int(Int64(limit))]) { r in
                out.append(CampaignDevice(campaignID: campaignID, deviceID: r.int(0), position: Int(r.int(1)), wave: Int(r.int(2)),
                                          state: CampaignDeviceState(rawValue: r.text(3)) ?? .pending,
                                          taskIDs: r.text(4).split(separator: ",").compactMap { Int64($0) }, error: r.text(5), updatedAt: r.int(6)))
            }
            return out
        }
    }

    public func campaignProgress(campaignID: Int64) throws -> CampaignProgress {
        try db.read { c in
            var p = CampaignProgress()
            try c.query("SELECT wave, state, count(*) FROM campaign_devices WHERE campaign_id = ? GROUP BY 1, 2", [.int(campaignID)]) { r in
                guard let s = CampaignDeviceState(rawValue: r.text(1)) else { return }
                let n = Int(r.int(2))
                p.counts[s, default: 0] += n
                p.waves[Int(r.int(0)), default: [:]][s, default: 0] += n
            }
            return p
        }
    }

    static func applyAutomation(_ w: AutomationWrite, on c: any SQLConnection) throws {
        switch w {
        case .kpiSamples(let samples):
            for s in samples {
                try c.run("INSERT INTO kpi_samples(device_id, name, at, value) VALUES (?,?,?,?)",
                          [.int(s.deviceID), .text(s.name), .int(s.at), .double(s.value)])
            }
        case .provisionState(let p):
            try c.run("""
                INSERT INTO provision_state(device_id, script, attempts, next_retry, last_error, updated_at) VALUES (?,?,?,?,?,?)
                ON CONFLICT(device_id, script) DO UPDATE SET attempts=excluded.attempts, next_retry=excluded.next_retry,
                last_error=excluded.last_error, updated_at=excluded.updated_at
                """, [.int(p.deviceID), .text(p.script), .int(Int64(p.attempts)), .int(p.nextRetry), .text(p.lastError), .int(p.updatedAt)])
        case .clearProvisionState(let id, let script):
            try c.run("DELETE FROM provision_state WHERE device_id = ? AND script = ?", [.int(id), .text(script)])
        case .updateCampaign(let r):
            try c.run("UPDATE campaigns SET state=?, stop_reason=?, updated_at=? WHERE id=?",
                      [.text(r.state.rawValue), .text(r.stopReason), .int(r.updatedAt), .int(r.id)])
        case .event(let e):
            try insertEvent(e, on: c)
        case .automationRun(let eventID, let handler, let at, let tasks, let effects, let error):
            try c.run("INSERT OR IGNORE INTO automation_runs(event_id, handler, at, error) VALUES (?,?,?,?)",
                      [.int(eventID), .text(handler), .int(at), .text(error)])
            // Recorded before (a restart re-ran the handler): its tasks and effects happened then.
            if c.changes == 1 {
                for t in tasks { _ = try insertTask(t, on: c) }
                for e in effects { try applyEffect(e, on: c) }
            }
        case .scheduleRun(let handler, let at, let tasks, let effects, let error):
            try c.run("""
                INSERT INTO automation_schedule(handler, last_run, error) VALUES (?,?,?)
                ON CONFLICT(handler) DO UPDATE SET last_run = excluded.last_run, error = excluded.error
                """, [.text(handler), .int(at), .text(error)])
            for t in tasks { _ = try insertTask(t, on: c) }
            for e in effects { try applyEffect(e, on: c) }
        case .effects(let effects):
            for e in effects { try applyEffect(e, on: c) }
        case .absentPaths(let id, let version, let add, let remove, let at):
            for p in add {
                try c.run("""
                    INSERT INTO absent_paths(device_id, path, software_version, at) SELECT ?,?,?,? WHERE EXISTS (SELECT 1 FROM devices WHERE id = ?)
                    ON CONFLICT(device_id, path) DO UPDATE SET software_version = excluded.software_version, at = excluded.at
                    """, [.int(id), .text(p), .text(version), .int(at), .int(id)])
            }
            for p in remove { try c.run("DELETE FROM absent_paths WHERE device_id = ? AND path = ?", [.int(id), .text(p)]) }
        case .acknowledgeAlert(let id, let by, let at):
            try c.run("UPDATE alerts SET acknowledged_by = ?, acknowledged_at = ? WHERE id = ? AND state != 'cleared'", [.text(by), .int(at), .int(id)])
        case .eventHandled(let id, let at):
            try c.run("UPDATE events SET handled_at = ? WHERE id = ?", [.int(at), .int(id)])
        case .updateCampaignDevice(let d):
            try c.run("UPDATE campaign_devices SET state=?, tasks=?, error=?, updated_at=? WHERE campaign_id=? AND device_id=?",
                      [.text(d.state.rawValue), .text(d.taskIDs.map(String.init).joined(separator: ",")), .text(d.error),
                       .int(d.updatedAt), .int(d.campaignID), .int(d.deviceID)])
        }
    }
}

extension SQLStore {
    static func event(_ r: SQLRow) -> EventRecord {
        EventRecord(id: r.int(0), at: r.int(1), kind: r.text(2), deviceID: r[3].isNull ? nil : r.int(3), data: r.text(4), handledAt: r.int(5))
    }

    public func pendingEvents(limit: Int) throws -> [EventRecord] {
        try db.read { c in
            var out: [EventRecord] = []
            try c.query("SELECT id, at, kind, device_id, data, handled_at FROM events WHERE handled_at = 0 ORDER BY id LIMIT ?",
                        [.int(Int64(limit))]) { out.append(Self.event($0)) }
            return out
        }
    }

    public func events(deviceID: Int64?, limit: Int) throws -> [EventRecord] {
        try db.read { c in
            var out: [EventRecord] = []
            if let deviceID {
                try c.query("SELECT id, at, kind, device_id, data, handled_at FROM events WHERE device_id = ? ORDER BY id DESC LIMIT ?",
                            [.int(deviceID), .int(Int64(limit))]) { out.append(Self.event($0)) }
            } else {
                try c.query("SELECT id, at, kind, device_id, data, handled_at FROM events ORDER BY id DESC LIMIT ?",
                            [.int(Int64(limit))]) { out.append(Self.event($0)) }
            }
            return out
        }
    }

    public func automationRuns(eventIDs: [Int64]) throws -> [Int64: Set<String>] {
        guard !eventIDs.isEmpty else { return [:] }
        return try db.read { c in
            var out: [Int64: Set<String>] = [:]
            let marks = Array(repeating: "?", count: eventIDs.count).joined(separator: ",")
            try c.query("SELECT event_id, handler FROM automation_runs WHERE event_id IN (\(marks))", eventIDs.map { .int($0) }) {
                out[$0.int(0), default: []].insert($0.text(1))
            }
            return out
        }
    }

    public func absentPaths(deviceID: Int64, softwareVersion: String, since: Int64) throws -> Set<String> {
        try db.read { c in
            var out = Set<String>()
            try c.query("SELECT path FROM absent_paths WHERE device_id = ? AND software_version = ? AND at >= ?",
                        [.int(deviceID), .text(softwareVersion), .int(since)]) { out.insert($0.text(0)) }
            return out
        }
    }

    public func scheduleRuns() throws -> [String: Int64] {
        try db.read { c in
            var out: [String: Int64] = [:]
            try c.query("SELECT handler, last_run FROM automation_schedule") { out[$0.text(0)] = $0.int(1) }
            return out
        }
    }
}
