/// Migration 11: paths a device does not have (issue 12, "remembered absences"). A GetParameterValues fault for a
/// path read alone is remembered with the firmware it happened on, so the next sessions do not probe it again; a new
/// software version, a value for that path, or a week without a probe forgets it.
extension Schema {
    static let absentPaths = Migration(11, """
        CREATE TABLE absent_paths (
            device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
            path TEXT NOT NULL,
            software_version TEXT NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (device_id, path)
        ) WITHOUT ROWID;
        """)
}
