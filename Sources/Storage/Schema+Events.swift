/// Migration 9: persisted events and automation bookkeeping (issue 12). The engine writes an event in the same
/// transaction as the change it reports, before any handler runs; `automation_runs` makes a handler's effects
/// happen once per event (its tasks are inserted with the run record, or not at all); `automation_schedule` keeps
/// when each `every()` last ran.
extension Schema {
    static let events = Migration(9, """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            kind TEXT NOT NULL,
            device_id INTEGER,
            data TEXT NOT NULL DEFAULT '',
            handled_at INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX events_pending ON events(id) WHERE handled_at = 0;
        CREATE INDEX events_device ON events(device_id, id);
        CREATE TABLE automation_runs (
            event_id INTEGER NOT NULL,
            handler TEXT NOT NULL,
            at INTEGER NOT NULL,
            error TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (event_id, handler)
        );
        CREATE TABLE automation_schedule (
            handler TEXT PRIMARY KEY,
            last_run INTEGER NOT NULL,
            error TEXT NOT NULL DEFAULT ''
        );
        """)
}
