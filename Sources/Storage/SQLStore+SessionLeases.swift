extension SQLStore {
    /// One statement in the common case: the upsert only overwrites a lease that is free to take, and touches no row
    /// when another live node holds it.
    static func takeLease(_ l: SessionLease, now: Int64, on c: any SQLConnection) throws {
        try c.run("""
            INSERT INTO session_leases(device_id, node, token, expires_at) VALUES (?,?,?,?)
            ON CONFLICT(device_id) DO UPDATE SET node = excluded.node, token = excluded.token, expires_at = excluded.expires_at
            WHERE session_leases.node = excluded.node OR session_leases.expires_at <= ?
            """, [.int(l.deviceID), .text(l.node), .text(l.token), .int(l.expiresAt), .int(now)])
        guard c.changes == 0 else { return }
        var held = LeaseHeld(node: "?", expiresAt: now)
        try c.query("SELECT node, expires_at FROM session_leases WHERE device_id = ?", [.int(l.deviceID)]) {
            held = LeaseHeld(node: $0.text(0), expiresAt: $0.int(1))
        }
        throw held
    }

    /// The device's session lease, if any (expired ones included).
    public func sessionLease(deviceID: Int64) throws -> SessionLease? {
        try db.read { c in
            var out: SessionLease?
            try c.query("SELECT device_id, node, token, expires_at FROM session_leases WHERE device_id = ?", [.int(deviceID)]) {
                out = SessionLease(deviceID: $0.int(0), node: $0.text(1), token: $0.text(2), expiresAt: $0.int(3))
            }
            return out
        }
    }

    /// Leases held per node and not expired (the cluster page, metrics).
    public func liveSessionLeases(now: Int64) throws -> [String: Int] {
        try db.read { c in
            var out: [String: Int] = [:]
            try c.query("SELECT node, count(*) FROM session_leases WHERE expires_at > ? GROUP BY node", [.int(now)]) {
                out[$0.text(0)] = Int($0.int(1))
            }
            return out
        }
    }
}
