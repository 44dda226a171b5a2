/// Migration 3: KPI samples, provisioning retry state, campaigns. (Migration 2 belongs to users/orgs/audit/API.)
extension Schema {
    static let automation = Migration(3, """
        CREATE TABLE kpi_samples (
            device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            at INTEGER NOT NULL,
            value REAL NOT NULL
        );
        CREATE INDEX kpi_samples_device ON kpi_samples(device_id, name, at);

        CREATE TABLE provision_state (
            device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
            script TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_retry INTEGER NOT NULL DEFAULT 0,
            last_error TEXT NOT NULL DEFAULT '',
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (device_id, script)
        ) WITHOUT ROWID;

        CREATE TABLE campaigns (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            script_name TEXT NOT NULL,
            script TEXT NOT NULL,
            state TEXT NOT NULL,
            per_minute INTEGER NOT NULL,
            concurrent INTEGER NOT NULL,
            failure_rate REAL NOT NULL,
            min_devices INTEGER NOT NULL,
            connection_request INTEGER NOT NULL DEFAULT 0,
            stop_reason TEXT NOT NULL DEFAULT '',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );

        CREATE TABLE campaign_devices (
            campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
            device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            wave INTEGER NOT NULL,
            state TEXT NOT NULL,
            tasks TEXT NOT NULL DEFAULT '',
            error TEXT NOT NULL DEFAULT '',
            updated_at INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (campaign_id, device_id)
        ) WITHOUT ROWID;
        CREATE INDEX campaign_devices_state ON campaign_devices(campaign_id, state, position);
        """)
}
