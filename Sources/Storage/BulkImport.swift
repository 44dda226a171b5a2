import ACSCore
import CWMP
import Foundation

extension SQLStore {
    /// Inserts devices with their stored parameters in one transaction (population generators, imports from other
    /// ACSes). IDs are assigned by the store; returns the devices as stored.
    public func importDevices(_ items: [(device: Device, parameters: [ParameterValue])], at: Int64) async throws -> [Device] {
        let rows = items.map { (Self.deviceValues($0.device), $0.parameters) }
        let ids = try await db.write { c -> [Int64] in
            var ids: [Int64] = []
            ids.reserveCapacity(rows.count)
            for (values, params) in rows {
                try c.run("""
                    INSERT INTO devices (name, oui, product_class, serial, manufacturer, model_name, software_version, hardware_version,
                    profile, data_model, groups, location, description, cr_url, cr_username, cr_password, username, password_ha1,
                    credentials_confirmed, ip, inform_interval, created_at, onboarded_at, last_inform, last_boot, previous_ha1,
                    organisation_id, tags)
                    VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                    """, values)
                let id = c.lastInsertRowID
                ids.append(id)
                for p in params {
                    try c.run("INSERT INTO parameters(device_id, path, value, type, updated_at) VALUES (?,?,?,?,?)",
                              [.int(id), .text(p.name), .text(p.value), .text(p.type.rawValue), .int(at)])
                }
            }
            return ids
        }
        return zip(items, ids).map { item, id in
            var d = item.device
            d.id = id
            return d
        }
    }

    /// Size of the database file and its WAL, in bytes.
    public func databaseBytes() -> Int64 {
        var total: Int64 = 0
        for suffix in ["", "-wal"] {
            var st = stat()
            if stat(db.path + suffix, &st) == 0 { total += Int64(st.st_size) }
        }
        return total
    }

    /// Refreshes the query planner's statistics (after a bulk load; SQLite's ANALYZE).
    public func analyze() async throws {
        try await db.write { c in try c.execute("ANALYZE") }
    }

    /// Folds the WAL back into the database file (after a bulk load).
    public func checkpoint() async throws {
        try await db.checkpoint()
    }
}
