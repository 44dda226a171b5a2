/// Migration 18: webhooks and their outbox (issue 16). The dispatcher reads `events` after `webhook_cursor` and
/// queues one delivery per matching webhook (the body fixed then, so every attempt sends the same signed bytes);
/// `UNIQUE(webhook_id, event_id)` keeps a fan-out done twice (a restart, a second node) from queuing twice.
extension Schema {
    static let webhooks = Migration(18, """
        CREATE TABLE webhooks (
            id INTEGER PRIMARY KEY,
            organisation_id INTEGER NOT NULL,
            url TEXT NOT NULL,
            events TEXT NOT NULL,
            secret TEXT NOT NULL,
            enabled INTEGER NOT NULL DEFAULT 1,
            description TEXT NOT NULL DEFAULT '',
            after_event_id INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            created_by TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE webhook_deliveries (
            id INTEGER PRIMARY KEY,
            webhook_id INTEGER NOT NULL,
            event_id INTEGER NOT NULL,
            event TEXT NOT NULL,
            body TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_at INTEGER NOT NULL,
            last_status INTEGER NOT NULL DEFAULT 0,
            last_error TEXT NOT NULL DEFAULT '',
            created_at INTEGER NOT NULL,
            finished_at INTEGER NOT NULL DEFAULT 0,
            UNIQUE (webhook_id, event_id)
        );
        CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_at) WHERE state = 'pending';
        CREATE INDEX webhook_deliveries_finished ON webhook_deliveries(finished_at) WHERE state != 'pending';
        CREATE TABLE webhook_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), event_id INTEGER NOT NULL);
        INSERT INTO webhook_cursor(id, event_id) SELECT 1, COALESCE(MAX(id), 0) FROM events;
        """)
}
