/// Migration 20: launch checklist runs (issue 16, `corral validate`): one row per run, the checks as a JSON array
/// (name, passed, evidence, duration_ms). The launch sign-off record of a device.
extension Schema {
    static let validations = Migration(20, """
        CREATE TABLE validations (
            id INTEGER PRIMARY KEY,
            device_id INTEGER NOT NULL,
            organisation_id INTEGER NOT NULL,
            started_at INTEGER NOT NULL,
            finished_at INTEGER NOT NULL,
            passed INTEGER NOT NULL,
            report TEXT NOT NULL,
            created_by TEXT NOT NULL
        );
        CREATE INDEX validations_device ON validations(device_id, id);
        """)
}
