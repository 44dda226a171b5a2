/// Migration 15: persisted firmware rollouts (issue 14). One row per rollout, one per device of it: the runner
/// reads the devices of a state and wave by index, so a rollout to a million devices costs what its wave costs.
extension Schema {
    static let rollouts = Migration(15, """
        CREATE TABLE rollouts (
            id INTEGER PRIMARY KEY,
            organisation_id INTEGER NOT NULL,
            file_id INTEGER NOT NULL,
            version TEXT NOT NULL,
            target TEXT NOT NULL,
            waves TEXT NOT NULL,
            window TEXT NOT NULL DEFAULT '',
            timezone TEXT NOT NULL DEFAULT 'UTC',
            max_failure_rate REAL NOT NULL,
            concurrency INTEGER NOT NULL,
            state TEXT NOT NULL,
            wave INTEGER NOT NULL DEFAULT 0,
            reason TEXT NOT NULL DEFAULT '',
            failed_base INTEGER NOT NULL DEFAULT 0,
            attempted_base INTEGER NOT NULL DEFAULT 0,
            rollback_of INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            created_by TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX rollouts_state ON rollouts(state);
        CREATE TABLE rollout_devices (
            rollout_id INTEGER NOT NULL,
            device_id INTEGER NOT NULL,
            wave INTEGER NOT NULL,
            state TEXT NOT NULL,
            previous_version TEXT NOT NULL DEFAULT '',
            task_id INTEGER,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_at INTEGER NOT NULL DEFAULT 0,
            sent_at INTEGER NOT NULL DEFAULT 0,
            reason TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (rollout_id, device_id)
        ) WITHOUT ROWID;
        CREATE INDEX rollout_devices_state ON rollout_devices(rollout_id, state, wave, next_at);
        CREATE INDEX rollout_devices_device ON rollout_devices(device_id);
        """)
}
