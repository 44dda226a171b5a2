/// The schema, as add-only migrations.
enum Schema {
    static let migrations: [Migration] = [queryIndexes, scale] + [
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
            previous_ha1 TEXT NOT NULL DEFAULT '',
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
        // REST API: organisations (materialised path: subtree = prefix), users, tokens, login sessions, audit log,
        // files, pre-provisioning. devices.organisation_id has no REFERENCES: SQLite cannot add a column with a
        // foreign key and a non-NULL default; the store checks it instead.
        Migration(2, """
        CREATE TABLE organisations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            parent_id INTEGER REFERENCES organisations(id),
            name TEXT NOT NULL,
            path TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX organisations_sibling_name ON organisations(ifnull(parent_id, 0), name);
        CREATE INDEX organisations_path ON organisations(path);
        INSERT INTO organisations(id, parent_id, name, path, created_at) VALUES (1, NULL, 'root', '/1/', 0);

        ALTER TABLE devices ADD COLUMN organisation_id INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE devices ADD COLUMN tags TEXT NOT NULL DEFAULT '';
        CREATE INDEX devices_organisation ON devices(organisation_id);

        CREATE TABLE users (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            username TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,
            organisation_id INTEGER NOT NULL REFERENCES organisations(id),
            role TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL
        );

        CREATE TABLE api_tokens (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            prefix TEXT NOT NULL,
            organisation_id INTEGER NOT NULL REFERENCES organisations(id),
            role TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL DEFAULT 0,
            revoked_at INTEGER NOT NULL DEFAULT 0,
            last_used_at INTEGER NOT NULL DEFAULT 0
        );

        CREATE TABLE login_sessions (
            token_hash TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            csrf TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            user_id INTEGER,
            token_id INTEGER,
            remote TEXT NOT NULL DEFAULT '',
            organisation_id INTEGER NOT NULL,
            action TEXT NOT NULL,
            object_type TEXT NOT NULL DEFAULT '',
            object_id TEXT NOT NULL DEFAULT '',
            before TEXT,
            after TEXT,
            status INTEGER NOT NULL
        );
        CREATE INDEX audit_log_at ON audit_log(at);

        CREATE TABLE files (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            file_type TEXT NOT NULL,
            organisation_id INTEGER NOT NULL REFERENCES organisations(id),
            size INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            download_key TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            uploaded_by TEXT NOT NULL DEFAULT ''
        );

        CREATE TABLE preprovisioned (
            oui TEXT NOT NULL DEFAULT '',
            serial TEXT NOT NULL,
            organisation_id INTEGER NOT NULL REFERENCES organisations(id),
            groups TEXT NOT NULL DEFAULT '',
            tags TEXT NOT NULL DEFAULT '',
            location TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            profile TEXT NOT NULL DEFAULT '',
            created_at INTEGER NOT NULL,
            PRIMARY KEY (oui, serial)
        ) WITHOUT ROWID;
        CREATE INDEX preprovisioned_serial ON preprovisioned(serial);
        """),
    ]
}
