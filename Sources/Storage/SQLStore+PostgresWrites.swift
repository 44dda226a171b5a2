import ACSCore
import CWMP

/// Writes shaped for PostgreSQL, where every statement is a network round trip: fewer, larger statements with the
/// same effect as the SQLite forms in `SQLStore.apply`.
extension SQLStore {
    /// `.updateDevice` in one statement (SQLite uses two to keep index rewrites down; PostgreSQL leaves indexes alone
    /// by itself when no indexed value changes).
    static func updateDeviceInOneStatement(_ d: Device, on c: any SQLConnection) throws {
        try c.run("""
            UPDATE devices SET product_class=?, manufacturer=?, hardware_version=?, data_model=?, cr_url=?, cr_username=?,
            cr_password=?, password_ha1=?, credentials_confirmed=?, ip=?, inform_interval=?, onboarded_at=?, last_inform=?,
            last_boot=?, previous_ha1=?, superseded_ha1=?, credential_conflict=?, rebootstrap_hold=?, utc_offset=?,
            name=?, oui=?, serial=?, model_name=?, software_version=?, profile=?, username=? WHERE id=?
            """, [.text(d.productClass), .text(d.manufacturer), .text(d.hardwareVersion), .text(d.dataModel?.rawValue ?? ""),
                  .text(d.connectionRequestURL), .text(d.connectionRequestUsername), .text(d.connectionRequestPassword),
                  .text(d.passwordHA1), .int(d.credentialsConfirmed ? 1 : 0), .text(d.ipAddress), .int(Int64(d.informInterval)),
                  .int(d.onboardedAt), .int(d.lastInform), .int(d.lastBoot), .text(d.previousPasswordHA1),
                  .text(d.supersededPasswordHA1), .int(d.credentialConflict ? 1 : 0), .int(Int64(d.rebootstrapHold.rawValue)),
                  d.utcOffsetMinutes.map { .int(Int64($0)) } ?? .null, .text(d.name), .text(d.oui), .text(d.serialNumber),
                  .text(d.modelName), .text(d.softwareVersion), .text(d.profile), .text(d.username), .int(d.id)])
    }

    /// `.parameters` in multi-row statements (one per 6,000 values instead of one per value). A path given twice
    /// keeps its last value, as the one-by-one upserts do; a secret read back empty keeps the ACS copy.
    static func upsertParameters(deviceID id: Int64, _ values: [ParameterValue], at: Int64, on c: any SQLConnection) throws {
        var latest: [String: ParameterValue] = [:], order: [String] = [], emptySecrets: [String] = []
        for p in values {
            if p.value.isEmpty && ManagementPaths.isSecret(p.name) {
                emptySecrets.append(p.name)
            } else if latest.updateValue(p, forKey: p.name) == nil {
                order.append(p.name)
            }
        }
        // One row per path and statement (PostgreSQL refuses to upsert a row twice in one statement).
        let keep = Set(emptySecrets).subtracting(latest.keys).sorted()
        for chunk in chunks(keep) {
            try c.run("INSERT OR IGNORE INTO parameters(device_id, path, value, type, updated_at) VALUES "
                      + Array(repeating: "(?,?,'',?,?)", count: chunk.count).joined(separator: ","),
                      chunk.flatMap { [SQLValue.int(id), .text($0), .text(XSDType.string.rawValue), .int(at)] })
        }
        for chunk in chunks(order) {
            try c.run("INSERT INTO parameters(device_id, path, value, type, updated_at) VALUES "
                      + Array(repeating: "(?,?,?,?,?)", count: chunk.count).joined(separator: ",")
                      + " ON CONFLICT(device_id, path) DO UPDATE SET value=excluded.value, type=excluded.type, updated_at=excluded.updated_at",
                      chunk.flatMap { name -> [SQLValue] in
                          let p = latest[name]!
                          return [.int(id), .text(p.name), .text(p.value), .text(p.type.rawValue), .int(at)]
                      })
        }
    }

    private static func chunks(_ items: [String]) -> [ArraySlice<String>] {
        stride(from: 0, to: items.count, by: 6000).map { items[$0..<min($0 + 6000, items.count)] }
    }
}
