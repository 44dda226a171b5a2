import ACSCore

/// Uploaded configuration and log files (migration 16).
extension SQLStore {
    static let backupColumns = "id, device_id, task_id, file_type, size, sha256, created_at"

    static func backup(_ r: SQLRow) -> Backup {
        var b = Backup(deviceID: r.int(1), taskID: r.int(2), fileType: r.text(3), size: r.int(4), sha256: r.text(5), createdAt: r.int(6))
        b.id = r.int(0)
        return b
    }

    /// Stores a backup; returns it and the IDs of the device's backups beyond `Backup.keepPerDevice` that were
    /// removed (the caller deletes their files).
    public func createBackup(_ backup: Backup) async throws -> (Backup, removed: [Int64]) {
        let b = backup
        return try await db.write { c in
            try c.run("INSERT INTO backups(device_id, task_id, file_type, size, sha256, created_at) VALUES (?,?,?,?,?,?)",
                      [.int(b.deviceID), .int(b.taskID), .text(b.fileType), .int(b.size), .text(b.sha256), .int(b.createdAt)])
            var created = b
            created.id = c.lastInsertRowID
            var old: [Int64] = []
            try c.query("SELECT id FROM backups WHERE device_id = ? ORDER BY id DESC LIMIT -1 OFFSET ?",
                        [.int(b.deviceID), .int(Int64(Backup.keepPerDevice))]) { old.append($0.int(0)) }
            for id in old { try c.run("DELETE FROM backups WHERE id = ?", [.int(id)]) }
            return (created, old)
        }
    }

    public func backup(id: Int64) throws -> Backup? {
        try db.read { c in
            var b: Backup?
            try c.query("SELECT \(Self.backupColumns) FROM backups WHERE id = ?", [.int(id)]) { b = Self.backup($0) }
            return b
        }
    }

    public func backup(taskID: Int64) throws -> Backup? {
        try db.read { c in
            var b: Backup?
            try c.query("SELECT \(Self.backupColumns) FROM backups WHERE task_id = ?", [.int(taskID)]) { b = Self.backup($0) }
            return b
        }
    }

    /// A device's backups, newest first.
    public func backups(deviceID: Int64, limit: Int) throws -> [Backup] {
        try db.read { c in
            var out: [Backup] = []
            try c.query("SELECT \(Self.backupColumns) FROM backups WHERE device_id = ? ORDER BY id DESC LIMIT ?",
                        [.int(deviceID), .int(Int64(limit))]) { out.append(Self.backup($0)) }
            return out
        }
    }
}
