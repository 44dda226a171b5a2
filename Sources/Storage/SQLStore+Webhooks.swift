import ACSCore
import Foundation

/// Webhooks, their outbox and the event cursor the dispatcher follows (migration 18).
public protocol WebhookStore: CorralStore {
    func organisationPath(id: Int64) throws -> String?
    func createWebhook(_ hook: Webhook) async throws -> Webhook
    func webhook(id: Int64) throws -> Webhook?
    func webhooks(under path: String) throws -> [Webhook]
    func updateWebhook(_ hook: Webhook) async throws
    func deleteWebhook(id: Int64) async throws
    /// Up to `limit` events after `id`, oldest first (live event streams follow the table with it).
    func events(after id: Int64, limit: Int) throws -> [EventRecord]
    /// The newest event's ID (0: none yet).
    func latestEventID() throws -> Int64
    /// The cursor and up to `limit` events after it, oldest first.
    func eventsForWebhooks(limit: Int) throws -> (cursor: Int64, events: [EventRecord])
    /// Queues deliveries and moves the cursor from `from` to `to`, in one transaction; false (nothing written) when
    /// another dispatcher moved it first.
    func queueWebhookDeliveries(_ deliveries: [WebhookDelivery], cursor from: Int64, to: Int64) async throws -> Bool
    /// Takes up to `limit` pending deliveries due by `now`, leasing them for `lease` seconds (a dispatcher that dies
    /// mid-attempt leaves them to be taken again then).
    func claimWebhookDeliveries(now: Int64, lease: Int64, limit: Int) async throws -> [WebhookDelivery]
    func recordWebhookDeliveries(_ deliveries: [WebhookDelivery]) async throws
    /// A webhook whose receiver just failed: its other pending deliveries wait until `until` too (a dead receiver
    /// does not take every attempt slot, ahead of other webhooks).
    func postponeWebhookDeliveries(webhookID: Int64, until: Int64) async throws
    func webhookDeliveries(webhookID: Int64, limit: Int) throws -> [WebhookDelivery]
    func webhookDeliveryCounts(webhookID: Int64) throws -> [WebhookDelivery.State: Int]
    /// Removes finished deliveries older than `cutoff`; returns how many.
    func pruneWebhookDeliveries(finishedBefore cutoff: Int64, batch: Int) async throws -> Int
}

extension SQLStore: WebhookStore {
    static let webhookColumns = "id, organisation_id, url, events, secret, enabled, description, after_event_id, created_at, created_by"
    static let deliveryColumns = "id, webhook_id, event_id, event, body, state, attempts, next_at, last_status, last_error, created_at, finished_at"

    static func webhook(_ r: SQLRow) -> Webhook {
        let events = (try? JSONSerialization.jsonObject(with: Data(r.text(3).utf8))) as? [String] ?? []
        var h = Webhook(organisationID: r.int(1), url: r.text(2), events: events, secret: r.text(4), createdAt: r.int(8))
        h.id = r.int(0); h.enabled = r.int(5) != 0; h.description = r.text(6); h.afterEventID = r.int(7); h.createdBy = r.text(9)
        return h
    }

    static func delivery(_ r: SQLRow) -> WebhookDelivery {
        var d = WebhookDelivery(webhookID: r.int(1), eventID: r.int(2), event: r.text(3), body: r.text(4), nextAt: r.int(7), createdAt: r.int(10))
        d.id = r.int(0); d.state = WebhookDelivery.State(rawValue: r.text(5)) ?? .pending; d.attempts = Int(r.int(6))
        d.lastStatus = Int(r.int(8)); d.lastError = r.text(9); d.finishedAt = r.int(11)
        return d
    }

    public func createWebhook(_ hook: Webhook) async throws -> Webhook {
        let h = hook
        return try await db.write { c in
            var created = h
            // Only what happens from now on: the newest event so far is where this webhook starts.
            try c.query("SELECT COALESCE(MAX(id), 0) FROM events") { created.afterEventID = $0.int(0) }
            try c.run("""
                INSERT INTO webhooks(organisation_id, url, events, secret, enabled, description, after_event_id, created_at, created_by)
                VALUES (?,?,?,?,?,?,?,?,?)
                """, [.int(h.organisationID), .text(h.url), .text(Self.jsonArray(h.events)), .text(h.secret), .int(h.enabled ? 1 : 0),
                      .text(h.description), .int(created.afterEventID), .int(h.createdAt), .text(h.createdBy)])
            created.id = c.lastInsertRowID
            return created
        }
    }

    public func webhook(id: Int64) throws -> Webhook? {
        try db.read { c in
            var h: Webhook?
            try c.query("SELECT \(Self.webhookColumns) FROM webhooks WHERE id = ?", [.int(id)]) { h = Self.webhook($0) }
            return h
        }
    }

    public func webhooks(under path: String) throws -> [Webhook] {
        try db.read { c in
            var out: [Webhook] = []
            try c.query("""
                SELECT \(Self.webhookColumns.split(separator: ",").map { "w." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", "))
                FROM webhooks w JOIN organisations o ON o.id = w.organisation_id
                WHERE o.path LIKE ? ESCAPE '\\' ORDER BY w.id
                """, [Self.likePrefix(path)]) { out.append(Self.webhook($0)) }
            return out
        }
    }

    public func updateWebhook(_ hook: Webhook) async throws {
        let h = hook
        try await db.write { c in
            try c.run("UPDATE webhooks SET url = ?, events = ?, secret = ?, enabled = ?, description = ? WHERE id = ?",
                      [.text(h.url), .text(Self.jsonArray(h.events)), .text(h.secret), .int(h.enabled ? 1 : 0), .text(h.description), .int(h.id)])
        }
    }

    public func deleteWebhook(id: Int64) async throws {
        try await db.write { c in
            try c.run("DELETE FROM webhook_deliveries WHERE webhook_id = ?", [.int(id)])
            try c.run("DELETE FROM webhooks WHERE id = ?", [.int(id)])
        }
    }

    public func events(after id: Int64, limit: Int) throws -> [EventRecord] {
        try db.read { c in
            var out: [EventRecord] = []
            try c.query("SELECT id, at, kind, device_id, data, handled_at FROM events WHERE id > ? ORDER BY id LIMIT ?",
                        [.int(id), .int(Int64(limit))]) { out.append(Self.event($0)) }
            return out
        }
    }

    public func latestEventID() throws -> Int64 {
        try db.read { c in
            var id: Int64 = 0
            try c.query("SELECT COALESCE(MAX(id), 0) FROM events") { id = $0.int(0) }
            return id
        }
    }

    public func eventsForWebhooks(limit: Int) throws -> (cursor: Int64, events: [EventRecord]) {
        try db.read { c in
            var cursor: Int64 = 0
            try c.query("SELECT event_id FROM webhook_cursor WHERE id = 1") { cursor = $0.int(0) }
            var out: [EventRecord] = []
            try c.query("SELECT id, at, kind, device_id, data, handled_at FROM events WHERE id > ? ORDER BY id LIMIT ?",
                        [.int(cursor), .int(Int64(limit))]) { out.append(Self.event($0)) }
            return (cursor, out)
        }
    }

    public func queueWebhookDeliveries(_ deliveries: [WebhookDelivery], cursor from: Int64, to: Int64) async throws -> Bool {
        let list = deliveries
        return try await db.write { c in
            try c.run("UPDATE webhook_cursor SET event_id = ? WHERE id = 1 AND event_id = ?", [.int(to), .int(from)])
            guard c.changes == 1 else { return false }
            for d in list {
                try c.run("""
                    INSERT OR IGNORE INTO webhook_deliveries(webhook_id, event_id, event, body, state, next_at, created_at)
                    VALUES (?,?,?,?,'pending',?,?)
                    """, [.int(d.webhookID), .int(d.eventID), .text(d.event), .text(d.body), .int(d.nextAt), .int(d.createdAt)])
            }
            return true
        }
    }

    public func claimWebhookDeliveries(now: Int64, lease: Int64, limit: Int) async throws -> [WebhookDelivery] {
        try await db.write { c in
            var out: [WebhookDelivery] = []
            try c.query("SELECT \(Self.deliveryColumns) FROM webhook_deliveries WHERE state = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?",
                        [.int(now), .int(Int64(limit))]) { out.append(Self.delivery($0)) }
            for d in out { try c.run("UPDATE webhook_deliveries SET next_at = ? WHERE id = ?", [.int(now + lease), .int(d.id)]) }
            return out
        }
    }

    public func recordWebhookDeliveries(_ deliveries: [WebhookDelivery]) async throws {
        let list = deliveries
        try await db.write { c in
            for d in list {
                try c.run("""
                    UPDATE webhook_deliveries SET state = ?, attempts = ?, next_at = ?, last_status = ?, last_error = ?, finished_at = ?
                    WHERE id = ? AND state = 'pending'
                    """, [.text(d.state.rawValue), .int(Int64(d.attempts)), .int(d.nextAt), .int(Int64(d.lastStatus)), .text(d.lastError),
                          .int(d.finishedAt), .int(d.id)])
            }
        }
    }

    public func postponeWebhookDeliveries(webhookID: Int64, until: Int64) async throws {
        try await db.write { c in
            try c.run("UPDATE webhook_deliveries SET next_at = ? WHERE webhook_id = ? AND state = 'pending' AND next_at < ?",
                      [.int(until), .int(webhookID), .int(until)])
        }
    }

    public func webhookDeliveries(webhookID: Int64, limit: Int) throws -> [WebhookDelivery] {
        try db.read { c in
            var out: [WebhookDelivery] = []
            try c.query("SELECT \(Self.deliveryColumns) FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT ?",
                        [.int(webhookID), .int(Int64(limit))]) { out.append(Self.delivery($0)) }
            return out
        }
    }

    public func webhookDeliveryCounts(webhookID: Int64) throws -> [WebhookDelivery.State: Int] {
        try db.read { c in
            var out: [WebhookDelivery.State: Int] = [:]
            try c.query("SELECT state, COUNT(*) FROM webhook_deliveries WHERE webhook_id = ? GROUP BY state", [.int(webhookID)]) { r in
                if let s = WebhookDelivery.State(rawValue: r.text(0)) { out[s] = Int(r.int(1)) }
            }
            return out
        }
    }

    public func pruneWebhookDeliveries(finishedBefore cutoff: Int64, batch: Int) async throws -> Int {
        try await db.write { c in
            try c.run("""
                DELETE FROM webhook_deliveries WHERE id IN
                (SELECT id FROM webhook_deliveries WHERE state != 'pending' AND finished_at < ? LIMIT ?)
                """, [.int(cutoff), .int(Int64(batch))])
            return c.changes
        }
    }

    /// Work waiting in the store's queues (each a partial index: cheap to count): webhook deliveries, events not
    /// yet seen by automations, tasks waiting for a CPE's later event.
    public func queueDepths() throws -> [(queue: String, depth: Int)] {
        try db.read { c in
            var out: [(String, Int)] = []
            for (name, sql) in [("webhook_deliveries", "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'"),
                                ("automation_events", "SELECT COUNT(*) FROM events WHERE handled_at = 0"),
                                ("tasks_waiting", "SELECT COUNT(*) FROM tasks WHERE state = 'waiting'")] {
                try c.query(sql) { out.append((name, Int($0.int(0)))) }
            }
            return out
        }
    }
}
