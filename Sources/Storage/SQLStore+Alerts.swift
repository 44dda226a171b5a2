import ACSCore
import Foundation

extension SQLStore {
    static let alertColumns = """
        a.id, a.name, a.device_id, a.severity, a.state, a.since, a.raised_at, a.cleared_at, a.message, a.value, a.source,
        a.acknowledged_by, a.acknowledged_at, d.name
        """

    static func alertRow(_ r: SQLRow) -> AlertRow {
        AlertRow(alert: AlertRecord(id: r.int(0), name: r.text(1), deviceID: r.int(2), severity: AlertSeverity(rawValue: r.text(3)) ?? .warning,
                                    state: AlertState(rawValue: r.text(4)) ?? .cleared, since: r.int(5), raisedAt: r.int(6),
                                    clearedAt: r.int(7), message: r.text(8), value: r.text(9), source: r.text(10),
                                    acknowledgedBy: r.text(11), acknowledgedAt: r.int(12)),
                 deviceName: r.text(13))
    }

    public func matchingDeviceIDs(_ q: DeviceQuery, now: Int64, limit: Int) throws -> [Int64] {
        var q = q
        q.cursor = nil
        q.sort = .id
        q.descending = false
        let b = try buildQuery(q, now: now)
        var out: [Int64] = []
        try db.read { c in
            try c.query("SELECT id FROM devices WHERE \(b.whereSQL) ORDER BY id LIMIT ?", b.args + [.int(Int64(max(0, limit)))]) { out.append($0.int(0)) }
        }
        return out
    }

    public func devicesTurnedOffline(from: Int64, to: Int64, limit: Int) throws -> [(id: Int64, at: Int64)] {
        let at = DeviceQuerySQL.offlineAt
        var out: [(id: Int64, at: Int64)] = []
        try db.read { c in
            // A range on the devices_offline_at index: only the devices whose moment came in this window.
            try c.query("SELECT id, \(at) FROM devices WHERE \(at) >= ? AND \(at) < ? AND last_inform > 0 ORDER BY \(at) LIMIT ?",
                        [.int(from), .int(to), .int(Int64(max(0, limit)))]) { out.append(($0.int(0), $0.int(1))) }
        }
        return out
    }

    public func openAlertNames() throws -> [(name: String, source: String)] {
        try db.read { c in
            var out: [(name: String, source: String)] = []
            try c.query("SELECT DISTINCT name, source FROM alerts WHERE state != 'cleared'") { out.append(($0.text(0), $0.text(1))) }
            return out
        }
    }

    public func openAlerts(name: String) throws -> [AlertRecord] {
        try db.read { c in
            var out: [AlertRecord] = []
            try c.query("SELECT \(Self.alertColumns) FROM alerts a JOIN devices d ON d.id = a.device_id WHERE a.name = ? AND a.state != 'cleared'",
                        [.text(name)]) { out.append(Self.alertRow($0).alert) }
            return out
        }
    }

    public func alerts(_ q: AlertQuery) throws -> [AlertRow] {
        var clauses: [String] = []
        var args: [SQLValue] = []
        if !q.states.isEmpty {
            clauses.append("a.state IN (\(q.states.map { _ in "?" }.joined(separator: ",")))")
            args += q.states.map { .text($0.rawValue) }
        }
        if let v = q.deviceID { clauses.append("a.device_id = ?"); args.append(.int(v)) }
        if let v = q.severity { clauses.append("a.severity = ?"); args.append(.text(v.rawValue)) }
        if let v = q.name { clauses.append("a.name = ?"); args.append(.text(v)) }
        if let v = q.beforeID { clauses.append("a.id < ?"); args.append(.int(v)) }
        if let p = q.organisationPath, p != DeviceQuerySQL.rootPath {
            clauses.append("d.organisation_id IN (SELECT id FROM organisations WHERE path LIKE ? ESCAPE '\\')")
            args.append(Self.likePrefix(p))
        }
        args.append(.int(Int64(max(1, min(q.limit, 1000)))))
        return try db.read { c in
            var out: [AlertRow] = []
            try c.query("""
                SELECT \(Self.alertColumns) FROM alerts a JOIN devices d ON d.id = a.device_id
                WHERE \(clauses.isEmpty ? "TRUE" : clauses.joined(separator: " AND ")) ORDER BY a.id DESC LIMIT ?
                """, args) { out.append(Self.alertRow($0)) }
            return out
        }
    }

    public func alert(id: Int64) throws -> AlertRow? {
        try db.read { c in
            var out: AlertRow?
            try c.query("SELECT \(Self.alertColumns) FROM alerts a JOIN devices d ON d.id = a.device_id WHERE a.id = ?", [.int(id)]) { out = Self.alertRow($0) }
            return out
        }
    }

    public func activeAlertCounts() throws -> [AlertSeverity: Int] {
        try db.read { c in
            var out: [AlertSeverity: Int] = [:]
            try c.query("SELECT severity, count(*) FROM alerts WHERE state = 'active' GROUP BY 1") { r in
                if let s = AlertSeverity(rawValue: r.text(0)) { out[s] = Int(r.int(1)) }
            }
            return out
        }
    }

    /// Deletes up to `batch` alerts cleared before `cutoff`; returns how many went.
    public func pruneClearedAlerts(before cutoff: Int64, batch: Int = 1000) async throws -> Int {
        try await db.write { c in
            try c.run("DELETE FROM alerts WHERE id IN (SELECT id FROM alerts WHERE state = 'cleared' AND cleared_at < ? ORDER BY id LIMIT ?)",
                      [.int(cutoff), .int(Int64(max(1, batch)))])
            return c.changes
        }
    }

    // MARK: writes

    static func applyEffect(_ e: AutomationEffect, on c: any SQLConnection) throws {
        switch e {
        case .tag(let id, let tag, let add):
            try editList("tags", id, tag, add, on: c)
        case .group(let id, let group, let add):
            try editList("groups", id, group, add, on: c)
        case .location(let id, let location):
            try c.run("UPDATE devices SET location = ? WHERE id = ?", [.text(location), .int(id)])
        case .pendingAlert(let a):
            try insertAlert(a, state: .pending, on: c)
        case .raiseAlert(let a):
            try insertAlert(a, state: .active, on: c)
            if c.changes == 1 {
                try insertEvent(EventRecord(at: a.raisedAt, kind: "alert.raised", deviceID: a.deviceID,
                                            data: alertEventData(a.name, a.severity.rawValue, a.message, a.value)), on: c)
            }
        case .clearAlert(let name, let id, let at):
            try c.run("DELETE FROM alerts WHERE name = ? AND device_id = ? AND state = 'pending'", [.text(name), .int(id)])
            var cleared: (String, String, String)?
            try c.query("""
                UPDATE alerts SET state = 'cleared', cleared_at = ? WHERE name = ? AND device_id = ? AND state = 'active'
                RETURNING severity, message, value
                """, [.int(at), .text(name), .int(id)]) { cleared = ($0.text(0), $0.text(1), $0.text(2)) }
            if let (severity, message, value) = cleared {
                try insertEvent(EventRecord(at: at, kind: "alert.cleared", deviceID: id, data: alertEventData(name, severity, message, value)), on: c)
            }
        case .event(let e):
            try insertEvent(e, on: c)
        }
    }

    /// Inserts an open alert unless the rule already has one on the device; a pending one turns active when raised.
    /// Nothing happens for a device deleted meanwhile.
    static func insertAlert(_ a: AlertRecord, state: AlertState, on c: any SQLConnection) throws {
        let upsert = state == .active
            ? "DO UPDATE SET state = 'active', raised_at = excluded.raised_at, severity = excluded.severity, message = excluded.message, value = excluded.value WHERE alerts.state = 'pending'"
            : "DO NOTHING"
        try c.run("""
            INSERT INTO alerts(name, device_id, severity, state, since, raised_at, message, value, source)
            SELECT ?,?,?,?,?,?,?,?,? WHERE EXISTS (SELECT 1 FROM devices WHERE id = ?)
            ON CONFLICT(name, device_id) WHERE state != 'cleared' \(upsert)
            """, [.text(a.name), .int(a.deviceID), .text(a.severity.rawValue), .text(state.rawValue), .int(a.since),
                  .int(state == .active ? a.raisedAt : 0), .text(a.message), .text(a.value), .text(a.source), .int(a.deviceID)])
    }

    static func insertEvent(_ e: EventRecord, on c: any SQLConnection) throws {
        try c.run("INSERT INTO events(at, kind, device_id, data) VALUES (?,?,?,?)",
                  [.int(e.at), .text(e.kind), e.deviceID.map { .int($0) } ?? .null, .text(e.data)])
    }

    static func alertEventData(_ name: String, _ severity: String, _ message: String, _ value: String) -> String {
        EventRecord.data(["alert": name, "severity": severity, "message": message, "value": value])
    }

    /// Adds or removes one element of a comma-joined list column (tags, groups), keeping the others' order.
    static func editList(_ column: String, _ id: Int64, _ item: String, _ add: Bool, on c: any SQLConnection) throws {
        var current = ""
        try c.query("SELECT \(column) FROM devices WHERE id = ?", [.int(id)]) { current = $0.text(0) }
        var items = current.split(separator: ",").map(String.init)
        if add {
            guard !items.contains(item) else { return }
            items.append(item)
        } else {
            guard items.contains(item) else { return }
            items.removeAll { $0 == item }
        }
        try c.run("UPDATE devices SET \(column) = ? WHERE id = ?", [.text(items.joined(separator: ",")), .int(id)])
    }
}
