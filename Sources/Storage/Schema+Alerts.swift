/// Migration 10: alerts (issue 12). One row per alert episode of a rule on a device: `pending` while the condition
/// holds for less than the rule's `for`, then `active`, then `cleared` (kept as history, pruned with the events). The
/// partial unique index keeps at most one open (pending or active) alert per rule and device, which is what makes
/// raising and clearing idempotent.
extension Schema {
    static let alerts = Migration(10, """
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
            severity TEXT NOT NULL,
            state TEXT NOT NULL,
            since INTEGER NOT NULL,
            raised_at INTEGER NOT NULL DEFAULT 0,
            cleared_at INTEGER NOT NULL DEFAULT 0,
            message TEXT NOT NULL DEFAULT '',
            value TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL DEFAULT '',
            acknowledged_by TEXT NOT NULL DEFAULT '',
            acknowledged_at INTEGER NOT NULL DEFAULT 0
        );
        CREATE UNIQUE INDEX alerts_open ON alerts(name, device_id) WHERE state != 'cleared';
        CREATE INDEX alerts_device ON alerts(device_id, id);
        CREATE INDEX alerts_state ON alerts(state, id);
        """)
}
