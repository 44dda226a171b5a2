extension Schema {
    /// Version 22: who holds each device's live CWMP session when several nodes share one database. A row per device
    /// in session (deleted when the session ends); a node that died leaves rows that expire.
    static let sessionLeases = Migration(22, """
        CREATE TABLE session_leases (
            device_id INTEGER NOT NULL PRIMARY KEY,
            node TEXT NOT NULL,
            token TEXT NOT NULL,
            expires_at INTEGER NOT NULL
        );
        """, postgres: """
        CREATE TABLE session_leases (
            device_id BIGINT NOT NULL PRIMARY KEY,
            node TEXT NOT NULL,
            token TEXT NOT NULL,
            expires_at BIGINT NOT NULL
        );
        """)
}
