import ACSCore
import Foundation

/// Firmware rollouts (migration 15).
extension SQLStore {
    static let rolloutColumns = """
        id, organisation_id, file_id, version, target, waves, window, timezone, max_failure_rate, concurrency, state, wave, reason,
        rollback_of, created_at, updated_at, created_by, failed_base, attempted_base
        """

    static func rollout(_ r: SQLRow) -> Rollout {
        var o = Rollout(organisationID: r.int(1), fileID: r.int(2), version: r.text(3), target: r.text(4),
                        waves: r.text(5).split(separator: ",").compactMap { Int($0) }, window: DailyWindow.parse(r.text(6)),
                        timeZone: r.text(7), maxFailureRate: r[8].double, concurrency: Int(r.int(9)), createdAt: r.int(14), createdBy: r.text(16))
        o.id = r.int(0)
        o.state = Rollout.State(rawValue: r.text(10)) ?? .cancelled
        o.wave = Int(r.int(11)); o.reason = r.text(12)
        if case .int(let b) = r[13] { o.rollbackOf = b }
        o.updatedAt = r.int(15)
        o.failedBase = Int(r.int(17)); o.attemptedBase = Int(r.int(18))
        return o
    }

    static let rolloutDeviceColumns = "rollout_id, device_id, wave, state, previous_version, task_id, attempts, next_at, sent_at, reason"

    static func rolloutDevice(_ r: SQLRow) -> RolloutDevice {
        var d = RolloutDevice(rolloutID: r.int(0), deviceID: r.int(1), wave: Int(r.int(2)), state: RolloutDevice.State(rawValue: r.text(3)) ?? .pending,
                              previousVersion: r.text(4))
        if case .int(let t) = r[5] { d.taskID = t }
        d.attempts = Int(r.int(6)); d.nextAt = r.int(7); d.sentAt = r.int(8); d.reason = r.text(9)
        return d
    }

    /// Stores a rollout and its devices in one transaction.
    public func createRollout(_ rollout: Rollout, devices: [RolloutDevice]) async throws -> Rollout {
        let o = rollout, ds = devices
        return try await db.write { c in
            try c.run("""
                INSERT INTO rollouts(organisation_id, file_id, version, target, waves, window, timezone, max_failure_rate, concurrency, state,
                                     wave, reason, rollback_of, created_at, updated_at, created_by)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                """, [.int(o.organisationID), .int(o.fileID), .text(o.version), .text(o.target), .text(o.waves.map(String.init).joined(separator: ",")),
                      .text(o.window?.text ?? ""), .text(o.timeZone), .double(o.maxFailureRate), .int(Int64(o.concurrency)), .text(o.state.rawValue),
                      .int(Int64(o.wave)), .text(o.reason), o.rollbackOf.map { .int($0) } ?? .null, .int(o.createdAt), .int(o.updatedAt),
                      .text(o.createdBy)])
            var created = o
            created.id = c.lastInsertRowID
            for d in ds {
                try c.run("""
                    INSERT INTO rollout_devices(rollout_id, device_id, wave, state, previous_version, attempts, next_at, reason)
                    VALUES (?,?,?,?,?,?,?,?)
                    """, [.int(created.id), .int(d.deviceID), .int(Int64(d.wave)), .text(d.state.rawValue), .text(d.previousVersion),
                          .int(Int64(d.attempts)), .int(d.nextAt), .text(d.reason)])
            }
            return created
        }
    }

    public func rollout(id: Int64) throws -> Rollout? {
        try db.read { c in
            var o: Rollout?
            try c.query("SELECT \(Self.rolloutColumns) FROM rollouts WHERE id = ?", [.int(id)]) { o = Self.rollout($0) }
            return o
        }
    }

    /// Rollouts of an organisation subtree, newest first.
    public func rollouts(under path: String, limit: Int = 200) throws -> [Rollout] {
        try db.read { c in
            var out: [Rollout] = []
            try c.query("""
                SELECT \(Self.rolloutColumns.split(separator: ",").map { "r." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", "))
                FROM rollouts r JOIN organisations o ON o.id = r.organisation_id
                WHERE o.path LIKE ? ESCAPE '\\' ORDER BY r.id DESC LIMIT ?
                """, [Self.likePrefix(path), .int(Int64(limit))]) { out.append(Self.rollout($0)) }
            return out
        }
    }

    /// Rollouts the runner works on: running, paused, stopped (their sent devices still resolve).
    public func activeRollouts() throws -> [Rollout] {
        try db.read { c in
            var out: [Rollout] = []
            try c.query("SELECT \(Self.rolloutColumns) FROM rollouts WHERE state IN ('running', 'paused', 'stopped') ORDER BY id") {
                out.append(Self.rollout($0))
            }
            return out
        }
    }

    public func rolloutDevices(rolloutID: Int64, states: [RolloutDevice.State], maxWave: Int = .max, dueBy: Int64? = nil,
                               limit: Int = 10_000) throws -> [RolloutDevice] {
        try db.read { c in
            var out: [RolloutDevice] = []
            var sql = "SELECT \(Self.rolloutDeviceColumns) FROM rollout_devices WHERE rollout_id = ? AND state IN (\(states.map { _ in "?" }.joined(separator: ",")))"
            var args: [SQLValue] = [.int(rolloutID)] + states.map { .text($0.rawValue) }
            if maxWave != .max { sql += " AND wave <= ?"; args.append(.int(Int64(maxWave))) }
            if let dueBy { sql += " AND next_at <= ?"; args.append(.int(dueBy)) }
            sql += " ORDER BY wave, attempts, device_id LIMIT ?"
            args.append(.int(Int64(limit)))
            try c.query(sql, args) { out.append(Self.rolloutDevice($0)) }
            return out
        }
    }

    /// Device counts by wave and state.
    public func rolloutCounts(rolloutID: Int64) throws -> [Int: RolloutRules.Tally] {
        try db.read { c in
            var out: [Int: RolloutRules.Tally] = [:]
            try c.query("SELECT wave, state, count(*) FROM rollout_devices WHERE rollout_id = ? GROUP BY wave, state", [.int(rolloutID)]) { r in
                if let s = RolloutDevice.State(rawValue: r.text(1)) { out[Int(r.int(0)), default: RolloutRules.Tally()].byState[s] = Int(r.int(2)) }
            }
            return out
        }
    }

    /// Pending devices that no longer hold their wave back (tried this often without ever fetching the image).
    public func rolloutDeferred(rolloutID: Int64, maxWave: Int, minAttempts: Int) throws -> Int {
        try db.read { c in
            var n = 0
            try c.query("SELECT count(*) FROM rollout_devices WHERE rollout_id = ? AND state = 'pending' AND wave <= ? AND attempts >= ?",
                        [.int(rolloutID), .int(Int64(maxWave)), .int(Int64(minAttempts))]) { n = Int($0.int(0)) }
            return n
        }
    }

    /// Writes state, wave, reason and baselines if the rollout is still in `expecting` (the runner and an operator
    /// may act at once, from two processes); false when it was not.
    @discardableResult
    public func updateRollout(_ rollout: Rollout, expecting: Rollout.State) async throws -> Bool {
        let o = rollout
        return try await db.write { c in
            try c.run("""
                UPDATE rollouts SET state = ?, wave = ?, reason = ?, updated_at = ?, failed_base = ?, attempted_base = ?
                WHERE id = ? AND state = ?
                """, [.text(o.state.rawValue), .int(Int64(o.wave)), .text(o.reason), .int(o.updatedAt), .int(Int64(o.failedBase)),
                      .int(Int64(o.attemptedBase)), .int(o.id), .text(expecting.rawValue)])
            return c.changes == 1
        }
    }

    public func updateRolloutDevices(_ devices: [RolloutDevice]) async throws {
        guard !devices.isEmpty else { return }
        let ds = devices
        try await db.write { c in
            for d in ds {
                try c.run("""
                    UPDATE rollout_devices SET state = ?, task_id = ?, attempts = ?, next_at = ?, sent_at = ?, reason = ?
                    WHERE rollout_id = ? AND device_id = ?
                    """, [.text(d.state.rawValue), d.taskID.map { .int($0) } ?? .null, .int(Int64(d.attempts)), .int(d.nextAt), .int(d.sentAt),
                          .text(d.reason), .int(d.rolloutID), .int(d.deviceID)])
            }
        }
    }
}
