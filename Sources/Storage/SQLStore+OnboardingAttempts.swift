import ACSCore
import Foundation

/// Refused first contacts, device deletion and credential recovery (issue 16).
public protocol OnboardingStore: CorralStore {
    /// Merges attempts into their rows (count added, last time and detail updated) and keeps the table bounded.
    func recordOnboardingAttempts(_ attempts: [OnboardingAttempt], now: Int64) async throws
    /// Newest first. `organisationPath`: attempts naming a device of that subtree; attempts of unknown devices only
    /// for the root organisation. `search` matches serial, OUI, username or address (prefix).
    func onboardingAttempts(organisationPath: String, deviceID: Int64?, search: String, limit: Int) throws -> [OnboardingAttempt]
    /// Removes the device and everything stored about it (validation reports too); returns the IDs of its backups (their
    /// files go too).
    func deleteDevice(id: Int64) async throws -> [Int64]
}

extension SQLStore: OnboardingStore {
    static let attemptColumns = "id, first_at, last_at, count, address, oui, serial, product_class, username, reason, detail, device_id"

    static func attempt(_ r: SQLRow) -> OnboardingAttempt {
        var a = OnboardingAttempt(at: r.int(1), address: r.text(4), oui: r.text(5), serial: r.text(6), productClass: r.text(7),
                                  username: r.text(8), reason: OnboardingAttempt.Reason(rawValue: r.text(9)) ?? .malformedInform,
                                  detail: r.text(10), deviceID: r[11].isNull ? nil : r.int(11), count: Int(r.int(3)))
        a.id = r.int(0); a.lastAt = r.int(2)
        return a
    }

    public func recordOnboardingAttempts(_ attempts: [OnboardingAttempt], now: Int64) async throws {
        let list = attempts
        try await db.write { c in
            for a in list {
                try c.run("""
                    INSERT INTO onboarding_attempts(first_at, last_at, count, address, oui, serial, product_class, username, reason, detail, device_id)
                    VALUES (?,?,?,?,?,?,?,?,?,?,?)
                    ON CONFLICT (reason, oui, serial, address, username) DO UPDATE SET
                        count = onboarding_attempts.count + excluded.count, last_at = MAX(onboarding_attempts.last_at, excluded.last_at),
                        detail = excluded.detail, product_class = excluded.product_class,
                        device_id = COALESCE(excluded.device_id, onboarding_attempts.device_id)
                    """, [.int(a.firstAt), .int(a.lastAt), .int(Int64(a.count)), .text(a.address), .text(a.oui), .text(a.serial),
                          .text(a.productClass), .text(a.username), .text(a.reason.rawValue), .text(a.detail), a.deviceID.map { .int($0) } ?? .null])
            }
            try c.run("DELETE FROM onboarding_attempts WHERE last_at < ?", [.int(now - OnboardingAttempt.keepSeconds)])
            var rows: Int64 = 0
            try c.query("SELECT COUNT(*) FROM onboarding_attempts") { rows = $0.int(0) }
            if rows > Int64(OnboardingAttempt.maxRows) {
                try c.run("DELETE FROM onboarding_attempts WHERE id IN (SELECT id FROM onboarding_attempts ORDER BY last_at, id LIMIT ?)",
                          [.int(rows - Int64(OnboardingAttempt.maxRows))])
            }
        }
    }

    public func onboardingAttempts(organisationPath: String, deviceID: Int64?, search: String, limit: Int) throws -> [OnboardingAttempt] {
        try db.read { c in
            var clauses: [String] = []
            var args: [SQLValue] = []
            if organisationPath != "/\(Organisation.rootID)/" {
                // Driven by the (bounded) attempt rows, one device lookup each, not by the size of the subtree.
                clauses.append("EXISTS (SELECT 1 FROM devices d JOIN organisations o ON o.id = d.organisation_id "
                               + "WHERE d.id = a.device_id AND o.path LIKE ? ESCAPE '\\')")
                args.append(Self.likePrefix(organisationPath))
            }
            if let deviceID { clauses.append("a.device_id = ?"); args.append(.int(deviceID)) }
            if !search.isEmpty {
                clauses.append("(a.serial LIKE ? ESCAPE '\\' OR a.oui LIKE ? ESCAPE '\\' OR a.username LIKE ? ESCAPE '\\' OR a.address LIKE ? ESCAPE '\\')")
                let p = Self.likePrefix(search)
                args += [p, p, p, p]
            }
            let cols = Self.attemptColumns.split(separator: ",").map { "a." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
            var out: [OnboardingAttempt] = []
            try c.query("SELECT \(cols) FROM onboarding_attempts a \(clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")) ORDER BY a.last_at DESC, a.id DESC LIMIT ?",
                        args + [.int(Int64(limit))]) { out.append(Self.attempt($0)) }
            return out
        }
    }

    public func deleteDevice(id: Int64) async throws -> [Int64] {
        try await db.write { c in
            var backups: [Int64] = []
            try c.query("SELECT id FROM backups WHERE device_id = ?", [.int(id)]) { backups.append($0.int(0)) }
            // The tables without a foreign key to devices; the others cascade.
            for table in ["backups", "diagnostic_results", "rollout_devices", "validations"] {
                try c.run("DELETE FROM \(table) WHERE device_id = ?", [.int(id)])
            }
            // Its events go, except the newest of all (ids are rowids: deleting the highest would reuse it, and the
            // webhook cursor and live streams follow ids); that one stays, naming no device.
            try c.run("DELETE FROM events WHERE device_id = ? AND id < (SELECT MAX(id) FROM events)", [.int(id)])
            try c.run("UPDATE events SET device_id = NULL WHERE device_id = ?", [.int(id)])
            try c.run("UPDATE onboarding_attempts SET device_id = NULL WHERE device_id = ?", [.int(id)])
            try c.run("DELETE FROM devices WHERE id = ?", [.int(id)])
            return backups
        }
    }
}
