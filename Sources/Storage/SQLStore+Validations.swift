import ACSCore

/// Saved launch checklist runs (migration 20).
public protocol ValidationStore: CorralStore {
    /// Stores a finished run; returns it with its ID.
    func createValidation(_ validation: LaunchValidation) async throws -> LaunchValidation
    func validation(id: Int64) throws -> LaunchValidation?
    /// A device's runs, newest first.
    func validations(deviceID: Int64, limit: Int) throws -> [LaunchValidation]
}

extension SQLStore: ValidationStore {
    static let validationColumns = "id, device_id, organisation_id, started_at, finished_at, passed, report, created_by"

    static func validation(_ r: SQLRow) -> LaunchValidation {
        LaunchValidation(id: r.int(0), deviceID: r.int(1), organisationID: r.int(2), startedAt: r.int(3), finishedAt: r.int(4),
                         checks: LaunchValidation.decode(r.text(6)), createdBy: r.text(7))
    }

    public func createValidation(_ validation: LaunchValidation) async throws -> LaunchValidation {
        let v = validation
        let report = LaunchValidation.encode(v.checks)
        return try await db.write { c in
            try c.run("INSERT INTO validations(device_id, organisation_id, started_at, finished_at, passed, report, created_by) VALUES (?,?,?,?,?,?,?)",
                      [.int(v.deviceID), .int(v.organisationID), .int(v.startedAt), .int(v.finishedAt), .int(v.passed ? 1 : 0),
                       .text(report), .text(v.createdBy)])
            var created = v
            created.id = c.lastInsertRowID
            return created
        }
    }

    public func validation(id: Int64) throws -> LaunchValidation? {
        try db.read { c in
            var v: LaunchValidation?
            try c.query("SELECT \(Self.validationColumns) FROM validations WHERE id = ?", [.int(id)]) { v = Self.validation($0) }
            return v
        }
    }

    public func validations(deviceID: Int64, limit: Int) throws -> [LaunchValidation] {
        try db.read { c in
            var out: [LaunchValidation] = []
            try c.query("SELECT \(Self.validationColumns) FROM validations WHERE device_id = ? ORDER BY id DESC LIMIT ?",
                        [.int(deviceID), .int(Int64(max(0, limit)))]) { out.append(Self.validation($0)) }
            return out
        }
    }
}
