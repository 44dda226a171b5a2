extension Schema {
    /// Version 6: queries and dashboards at 1M devices (docs/performance.md). Independent of every other migration.
    /// - devices_offline_at: the time a device turns offline (`last_inform + inform_interval * 3 / 2 + 60`, the
    ///   expression `DeviceQuerySQL` writes for online/offline, so SQLite matches it) with last_inform: online and
    ///   offline become index ranges, counted without reading a row; offline pages sorted by last contact are a
    ///   top-N over that range instead of a walk past every online device.
    /// - devices_created_at: the dashboard's onboarding chart and `created_from`/`created_before` filters.
    /// - (model_name | software_version, name | serial): a model's or a version's devices in name or serial order are
    ///   an index range, not a sort of every device of the model (512 ms for a model + group page sorted by serial).
    ///   Identity columns: a periodic session does not rewrite them.
    /// - parameters_cellular: the cellular parameters (paths containing ".Cellular.": the TR-181 LTE values and the
    ///   vendor extensions under them), so the dashboard's LTE RSSI/SINR histograms read those rows only instead of
    ///   one primary-key probe per device (7 s at 1M devices). Partial: the other parameters are not indexed twice.
    ///   A query uses it when it repeats the term `instr(path, '.Cellular.') > 0` (SQLStore.parameterValueCounts).
    /// - devices_text: an FTS5 trigram index of name, serial and description. It only narrows the candidates of a
    ///   free-text search (its matches plus the devices in devices_text_pending); the LIKE the API documents is still
    ///   applied to them, so the answer is exact whether or not the index is up to date. Triggers only note changed
    ///   devices in devices_text_pending; `SQLStore.syncTextIndex` moves them into the index in batches, one
    ///   statement each. (FTS5 flushes its pending terms at every statement of a savepoint: a trigger writing the
    ///   index row by row cost 1.4 ms per created device at 170k devices, and grew.)
    /// - device_tallies: devices per (organisation, manufacturer, model, software version, profile), kept by
    ///   triggers, so the dashboard's and /fleet's per-column counts read a few hundred rows instead of the table.
    ///   The update trigger fires only when one of those columns really changes (the per-session UPDATE sets
    ///   manufacturer, unchanged).
    static let scale = Migration(6, """
        CREATE INDEX devices_offline_at ON devices(last_inform + inform_interval * 3 / 2 + 60, last_inform);
        CREATE INDEX devices_created_at ON devices(created_at);
        CREATE INDEX devices_model_serial ON devices(model_name, serial);
        CREATE INDEX devices_model_name ON devices(model_name, name);
        CREATE INDEX devices_version_name ON devices(software_version, name);
        CREATE INDEX devices_version_serial ON devices(software_version, serial);
        CREATE INDEX parameters_cellular ON parameters(path, value) WHERE instr(path, '.Cellular.') > 0;

        CREATE VIRTUAL TABLE devices_text USING fts5(name, serial, description, tokenize='trigram');
        INSERT INTO devices_text(rowid, name, serial, description) SELECT id, name, serial, description FROM devices;
        CREATE TABLE devices_text_pending (id INTEGER PRIMARY KEY);
        CREATE TRIGGER devices_text_insert AFTER INSERT ON devices BEGIN
            INSERT OR IGNORE INTO devices_text_pending(id) VALUES (new.id);
        END;
        CREATE TRIGGER devices_text_delete AFTER DELETE ON devices BEGIN
            INSERT OR IGNORE INTO devices_text_pending(id) VALUES (old.id);
        END;
        CREATE TRIGGER devices_text_update AFTER UPDATE OF name, serial, description ON devices
        WHEN old.name IS NOT new.name OR old.serial IS NOT new.serial OR old.description IS NOT new.description BEGIN
            INSERT OR IGNORE INTO devices_text_pending(id) VALUES (new.id);
        END;

        CREATE TABLE device_tallies (
            organisation_id INTEGER NOT NULL,
            manufacturer TEXT NOT NULL,
            model_name TEXT NOT NULL,
            software_version TEXT NOT NULL,
            profile TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (organisation_id, manufacturer, model_name, software_version, profile)
        ) WITHOUT ROWID;
        INSERT INTO device_tallies
            SELECT organisation_id, manufacturer, model_name, software_version, profile, count(*) FROM devices
            GROUP BY organisation_id, manufacturer, model_name, software_version, profile;
        CREATE TRIGGER device_tallies_insert AFTER INSERT ON devices BEGIN
            INSERT INTO device_tallies VALUES (new.organisation_id, new.manufacturer, new.model_name, new.software_version, new.profile, 1)
            ON CONFLICT DO UPDATE SET n = n + 1;
        END;
        CREATE TRIGGER device_tallies_delete AFTER DELETE ON devices BEGIN
            UPDATE device_tallies SET n = n - 1 WHERE organisation_id = old.organisation_id AND manufacturer = old.manufacturer
                AND model_name = old.model_name AND software_version = old.software_version AND profile = old.profile;
        END;
        CREATE TRIGGER device_tallies_update AFTER UPDATE OF organisation_id, manufacturer, model_name, software_version, profile ON devices
        WHEN old.organisation_id IS NOT new.organisation_id OR old.manufacturer IS NOT new.manufacturer
            OR old.model_name IS NOT new.model_name OR old.software_version IS NOT new.software_version OR old.profile IS NOT new.profile
        BEGIN
            UPDATE device_tallies SET n = n - 1 WHERE organisation_id = old.organisation_id AND manufacturer = old.manufacturer
                AND model_name = old.model_name AND software_version = old.software_version AND profile = old.profile;
            INSERT INTO device_tallies VALUES (new.organisation_id, new.manufacturer, new.model_name, new.software_version, new.profile, 1)
            ON CONFLICT DO UPDATE SET n = n + 1;
        END;
        ANALYZE;
        """, postgres: scalePostgres)

    /// Migration 6 on PostgreSQL: the same indexes (expressions in parentheses), pg_trgm GIN indexes of name, serial
    /// and description instead of FTS5 (they serve `ILIKE '%…%'` directly, so there is no pending list to sync), and
    /// device_tallies kept by one PL/pgSQL trigger function.
    static let scalePostgres = """
        CREATE INDEX devices_offline_at ON devices((last_inform + inform_interval * 3 / 2 + 60), last_inform);
        CREATE INDEX devices_created_at ON devices(created_at);
        CREATE INDEX devices_model_serial ON devices(model_name, serial);
        CREATE INDEX devices_model_name ON devices(model_name, name);
        CREATE INDEX devices_version_name ON devices(software_version, name);
        CREATE INDEX devices_version_serial ON devices(software_version, serial);
        CREATE INDEX parameters_cellular ON parameters(path, value) WHERE strpos(path, '.Cellular.') > 0;

        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE INDEX devices_name_trgm ON devices USING gin (name gin_trgm_ops);
        CREATE INDEX devices_serial_trgm ON devices USING gin (serial gin_trgm_ops);
        CREATE INDEX devices_description_trgm ON devices USING gin (description gin_trgm_ops);
        CREATE TABLE devices_text_pending (id BIGINT PRIMARY KEY);

        CREATE TABLE device_tallies (
            organisation_id BIGINT NOT NULL,
            manufacturer TEXT NOT NULL,
            model_name TEXT NOT NULL,
            software_version TEXT NOT NULL,
            profile TEXT NOT NULL,
            n BIGINT NOT NULL,
            PRIMARY KEY (organisation_id, manufacturer, model_name, software_version, profile)
        );
        INSERT INTO device_tallies
            SELECT organisation_id, manufacturer, model_name, software_version, profile, count(*) FROM devices
            GROUP BY organisation_id, manufacturer, model_name, software_version, profile;
        CREATE FUNCTION device_tallies_follow() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                UPDATE device_tallies SET n = n - 1 WHERE organisation_id = OLD.organisation_id AND manufacturer = OLD.manufacturer
                    AND model_name = OLD.model_name AND software_version = OLD.software_version AND profile = OLD.profile;
            END IF;
            IF TG_OP <> 'DELETE' THEN
                INSERT INTO device_tallies VALUES (NEW.organisation_id, NEW.manufacturer, NEW.model_name, NEW.software_version, NEW.profile, 1)
                ON CONFLICT (organisation_id, manufacturer, model_name, software_version, profile) DO UPDATE SET n = device_tallies.n + 1;
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER device_tallies_insert_delete AFTER INSERT OR DELETE ON devices
            FOR EACH ROW EXECUTE FUNCTION device_tallies_follow();
        CREATE TRIGGER device_tallies_update AFTER UPDATE OF organisation_id, manufacturer, model_name, software_version, profile ON devices
            FOR EACH ROW WHEN (OLD.organisation_id IS DISTINCT FROM NEW.organisation_id OR OLD.manufacturer IS DISTINCT FROM NEW.manufacturer
                OR OLD.model_name IS DISTINCT FROM NEW.model_name OR OLD.software_version IS DISTINCT FROM NEW.software_version
                OR OLD.profile IS DISTINCT FROM NEW.profile)
            EXECUTE FUNCTION device_tallies_follow();
        ANALYZE;
        """
}
