/// Migration 16: configuration and log files CPEs uploaded (issue 14), one row per file, the bytes in
/// `<data>/backups/<id>.bin`. One per Upload task (the task is the one-time permission to upload).
extension Schema {
    static let backups = Migration(16, """
        CREATE TABLE backups (
            id INTEGER PRIMARY KEY,
            device_id INTEGER NOT NULL,
            task_id INTEGER NOT NULL UNIQUE,
            file_type TEXT NOT NULL,
            size INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX backups_device ON backups(device_id, id);
        """)
}
