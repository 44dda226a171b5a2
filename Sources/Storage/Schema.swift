/// The schema, as add-only migrations.
enum Schema {
    static let migrations: [Migration] = [queryIndexes] + [
        Migration(1, """
        CREATE TABLE devices (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            oui TEXT NOT NULL,
            product_class TEXT NOT NULL DEFAULT '',
            serial TEXT NOT NULL,
            manufacturer TEXT NOT NULL DEFAULT '',
            model_name TEXT NOT NULL DEFAULT '',
            software_version TEXT NOT NULL DEFAULT '',
            hardware_version TEXT NOT NULL DEFAULT '',
            profile TEXT NOT NULL DEFAULT '',
            data_model TEXT NOT NULL DEFAULT '',
            groups TEXT NOT NULL DEFAULT '',
            location TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            cr_url TEXT NOT NULL DEFAULT '',
            cr_username TEXT NOT NULL DEFAULT '',
            cr_password TEXT NOT NULL DEFAULT '',
            username TEXT NOT NULL DEFAULT '',
            password_ha1 TEXT NOT NULL DEFAULT '',
            credentials_confirmed INTEGER NOT NULL DEFAULT 0,
            ip TEXT NOT NULL DEFAULT '',
            inform_interval INTEGER NOT NULL DEFAULT 300,
            created_at INTEGER NOT NULL,
            onboarded_at INTEGER NOT NULL DEFAULT 0,
            last_inform INTEGER NOT NULL DEFAULT 0,
            last_boot INTEGER NOT NULL DEFAULT 0
        );
        CREATE UNIQUE INDEX devices_oui_serial ON devices(oui, serial);
        CREATE INDEX devices_username ON devices(username);
        CREATE INDEX devices_last_inform ON devices(last_inform);
        CREATE INDEX devices_profile ON devices(profile);

        CREATE TABLE parameters (
            device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
            path TEXT NOT NULL,
            value TEXT NOT NULL,
            type TEXT NOT NULL DEFAULT 'string',
            writable INTEGER,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (device_id, path)
        ) WITHOUT ROWID;

        CREATE TABLE informs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
            at INTEGER NOT NULL,
            events TEXT NOT NULL,
            retry_count INTEGER NOT NULL DEFAULT 0,
            remote TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX informs_device ON informs(device_id, at);

        CREATE TABLE tasks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL,
            state TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            not_before INTEGER NOT NULL DEFAULT 0,
            command_key TEXT NOT NULL DEFAULT '',
            result TEXT,
            fault_code INTEGER,
            fault TEXT
        );
        CREATE INDEX tasks_device_state ON tasks(device_id, state);

        CREATE TABLE faults (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
            task_id INTEGER,
            source TEXT NOT NULL,
            code INTEGER NOT NULL,
            message TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            at INTEGER NOT NULL
        );
        CREATE INDEX faults_device ON faults(device_id, at);
        """),
    ]
}
