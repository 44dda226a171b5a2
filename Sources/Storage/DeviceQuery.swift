import ACSCore
import HTTPAuth

/// A filtered, sorted, paginated view of the device population, pushed down to SQL (never loads all devices).
/// Shared by the CLI, the REST API, the WebGUI and Lua reports.
public struct DeviceQuery: Sendable, Equatable {
    public enum Sort: String, Sendable, CaseIterable {
        case id, name, serial, lastInform = "last_inform", softwareVersion = "software_version", model = "model_name",
             profile, createdAt = "created_at"
    }

    /// A condition on a stored parameter value. `paths` lists alternatives (e.g. the TR-181 and the TR-098 path
    /// of one alias); a device matches if any of them matches.
    public struct ParameterCondition: Sendable, Equatable {
        public enum Op: String, Sendable, CaseIterable { case eq = "=", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">=", contains = "~" }
        public var paths: [String]
        public var op: Op
        public var value: String
        public init(paths: [String], op: Op, value: String) { self.paths = paths; self.op = op; self.value = value }
    }

    public var status: DeviceStatus?
    public var profile: String?
    public var manufacturer: String?
    public var model: String?
    public var softwareVersion: String?
    public var group: String?
    public var location: String?
    public var tag: String?
    /// Only devices in this organisation subtree (an `Organisation.path`, e.g. "/1/4/"). The API always sets the
    /// caller's subtree here, and may add a narrower one in `organisationPath2`.
    public var organisationPath: String?
    public var organisationPath2: String?
    /// Case-insensitive substring of name, serial or description.
    public var text: String?
    /// Created at or after / before these Unix times (the dashboard's onboarding chart links here).
    public var createdFrom: Int64?
    public var createdBefore: Int64?
    public var parameters: [ParameterCondition] = []
    /// Only these device IDs (a selection from the inventory; at most `maxIDs`).
    public var ids: [Int64]?
    public static let maxIDs = 10_000
    /// Last Inform before this Unix time (never-seen devices excluded): "offline for more than N days".
    public var informedBefore: Int64?
    public var sort: Sort = .id
    public var descending = false
    public var limit = 100
    /// Opaque position from a previous page (`DevicePage.nextCursor`).
    public var cursor: String?

    public init() {}
}

public struct DevicePage: Sendable {
    public var devices: [Device]
    /// nil on the last page.
    public var nextCursor: String?
}

/// SQL for a DeviceQuery. Pure: the store binds and runs it.
enum DeviceQuerySQL {
    struct Built {
        var whereSQL: String
        var args: [SQLValue]
        var orderSQL: String
    }

    static func column(_ s: DeviceQuery.Sort) -> String { s.rawValue }

    /// `textIndex`: narrow a free-text search with the trigram index (the store turns it off for a substring so
    /// common that a scan finds a page sooner, see `SQLStore.buildQuery`).
    /// A subquery listing the elements of one bound JSON array (one cached statement whatever the list's length).
    static func jsonList(_ dialect: SQLDialect, integers: Bool) -> String {
        switch dialect {
        case .sqlite: "SELECT value FROM json_each(?)"
        case .postgres: integers ? "SELECT CAST(jsonb_array_elements_text(CAST(? AS jsonb)) AS bigint)"
                                 : "SELECT jsonb_array_elements_text(CAST(? AS jsonb))"
        }
    }

    static func build(_ q: DeviceQuery, now: Int64, textIndex: Bool = true, dialect: SQLDialect = .sqlite) throws -> Built {
        var clauses: [String] = []
        var args: [SQLValue] = []
        switch q.status {
        case .never?: clauses.append("last_inform = 0")
        case .online?:
            clauses.append("last_inform > 0 AND \(offlineAt) >= ?")
            args.append(.int(now))
        case .offline?:
            clauses.append("last_inform > 0 AND \(offlineAt) < ?")
            args.append(.int(now))
        case nil: break
        }
        for (col, value) in [("profile", q.profile), ("manufacturer", q.manufacturer), ("model_name", q.model),
                             ("software_version", q.softwareVersion), ("location", q.location)] {
            if let value { clauses.append("\(col) = ?"); args.append(.text(value)) }
        }
        if let t = q.informedBefore {
            clauses.append("last_inform > 0 AND last_inform < ?")
            args.append(.int(t))
        }
        for (column, value) in [("groups", q.group), ("tags", q.tag)] {
            guard let value else { continue }
            // Stored comma-joined; match a whole element, ignoring case. PostgreSQL: as array elements, which its
            // GIN index (migration 23) serves and gives the planner statistics for.
            if dialect == .postgres {
                clauses.append("string_to_array(lower(\(column)), ',') @> ARRAY[lower(?)]")
                args.append(.text(value))
            } else {
                clauses.append("(',' || \(column) || ',') LIKE ? ESCAPE '\\'")
                args.append(.text("%," + escapeLike(value) + ",%"))
            }
        }
        // The root's subtree is every device (an organisation holding devices cannot be deleted): no clause, so the
        // indexes that serve a query without it serve the root's too.
        for path in [q.organisationPath, q.organisationPath2].compactMap({ $0 }) where path != rootPath {
            clauses.append("organisation_id IN (SELECT id FROM organisations WHERE path LIKE ? ESCAPE '\\')")
            args.append(.text(escapeLike(path) + "%"))
        }
        if let ids = q.ids {
            guard ids.count <= DeviceQuery.maxIDs else { throw QueryError("at most \(DeviceQuery.maxIDs) device ids") }
            // One bound JSON array: one cached statement whatever the number of IDs.
            clauses.append("id IN (\(jsonList(dialect, integers: true)))")
            args.append(.text("[" + ids.map(String.init).joined(separator: ",") + "]"))
        }
        if let t = q.createdFrom { clauses.append("created_at >= ?"); args.append(.int(t)) }
        if let t = q.createdBefore { clauses.append("created_at < ?"); args.append(.int(t)) }
        if let t = q.text, t.contains("\u{0}"), dialect == .postgres {
            // PostgreSQL text cannot hold a NUL, so no device's can match one.
            clauses.append("FALSE")
        } else if let t = q.text, !t.isEmpty {
            // Three characters or more: the trigram index (devices_text, migration 6) finds the candidates (a superset:
            // it folds case at least as widely as LIKE), plus the devices changed since it was last brought up to date;
            // the LIKE below keeps the documented semantics exactly.
            if textIndex && indexable(t) {
                clauses.append("id IN (SELECT rowid FROM devices_text WHERE devices_text MATCH ? UNION ALL SELECT id FROM devices_text_pending)")
                args.append(.text(ftsPhrase(t)))
            }
            clauses.append("(name LIKE ? ESCAPE '\\' OR serial LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\')")
            let pattern = "%" + escapeLike(t) + "%"
            args += [.text(pattern), .text(pattern), .text(pattern)]
        }
        for c in q.parameters {
            guard !c.paths.isEmpty else { continue }
            let paths = c.paths.map { _ in "?" }.joined(separator: ",")
            let test: String
            switch c.op {
            case .contains:
                test = "p.value LIKE ? ESCAPE '\\'"
                args += c.paths.map { .text($0) } + [.text("%" + escapeLike(c.value) + "%")]
            case .eq, .ne:
                test = "p.value \(c.op == .eq ? "=" : "!=") ?"
                args += c.paths.map { .text($0) } + [.text(c.value)]
            default:
                guard let number = Double(c.value) else { throw QueryError("\(c.op.rawValue) needs a number, got \(c.value)") }
                test = "CAST(p.value AS REAL) \(c.op.rawValue) ? AND p.value <> ''"
                args += c.paths.map { .text($0) } + [.double(number)]
            }
            clauses.append("EXISTS (SELECT 1 FROM parameters p WHERE p.device_id = devices.id AND p.path IN (\(paths)) AND \(test))")
        }
        // Keyset pagination on (sort column, id): stable and index-friendly, unlike OFFSET.
        let col = column(q.sort)
        let cmp = q.descending ? "<" : ">"
        if let cursor = q.cursor {
            guard let (key, id) = Cursor.decode(cursor) else { throw QueryError("invalid cursor") }
            // First in the WHERE clause: when another bound on the sort column is there too (`last_inform > 0` of a
            // status or informed_before filter), SQLite starts the index range at the first one it meets, so every
            // page re-read all the rows before the cursor (a report over 1M devices by last_inform slowed page by
            // page: 45 ms per page halfway, 2 ms with the cursor's bound first).
            if q.sort == .id {
                clauses.insert("id \(cmp) ?", at: 0)
                args.insert(.int(id), at: 0)
            } else {
                // Same rows as "col > k OR (col = k AND id > i)", with a range bound SQLite can use on the index (the
                // OR form made the second page of a 1M-device list scan: 2.9 s -> see docs/performance.md).
                clauses.insert("(\(col) \(cmp)= ? AND (\(col) \(cmp) ? OR id \(cmp) ?))", at: 0)
                args.insert(contentsOf: [key, key, .int(id)], at: 0)
            }
        }
        let dir = q.descending ? "DESC" : "ASC"
        let order = q.sort == .id ? "id \(dir)" : "\(col) \(dir), id \(dir)"
        return Built(whereSQL: clauses.isEmpty ? "TRUE" : clauses.joined(separator: " AND "), args: args, orderSQL: order)
    }

    /// The time a device turns offline: online while `now <= offlineAt` (1.5 x its inform interval + 60 s after its
    /// last Inform). Written exactly as the expression of the devices_offline_at index so that SQLite uses it.
    static let offlineAt = "last_inform + inform_interval * 3 / 2 + 60"

    /// The root organisation's path (its subtree is every device).
    static let rootPath = "/\(Organisation.rootID)/"

    /// An FTS5 query matching `text` as one phrase: with the trigram tokenizer, rows containing it (any case).
    /// Whether the trigram index can serve a search: 3+ characters, and no NUL (an FTS5 query string ends at the
    /// first NUL: "unterminated string"). Other searches are a scan with LIKE.
    static func indexable(_ text: String) -> Bool { text.unicodeScalars.count >= 3 && !text.unicodeScalars.contains("\0") }

    static func ftsPhrase(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    static func escapeLike(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }

    static func sortKey(_ d: Device, _ s: DeviceQuery.Sort) -> SQLValue {
        switch s {
        case .id: .int(d.id)
        case .name: .text(d.name)
        case .serial: .text(d.serialNumber)
        case .lastInform: .int(d.lastInform)
        case .softwareVersion: .text(d.softwareVersion)
        case .model: .text(d.modelName)
        case .profile: .text(d.profile)
        case .createdAt: .int(d.createdAt)
        }
    }
}

/// Cursor = "<i|t>:<key>|<id>", base64url. Opaque to clients.
enum Cursor {
    static func encode(_ key: SQLValue, id: Int64) -> String {
        let k: String
        switch key {
        case .int(let v): k = "i:\(v)"
        case .double(let v): k = "d:\(v)"
        default: k = "t:" + key.text
        }
        return base64url(Array("\(k)|\(id)".utf8))
    }

    static func decode(_ s: String) -> (SQLValue, Int64)? {
        guard let bytes = unbase64url(s), let text = String(bytes: bytes, encoding: .utf8),
              let bar = text.lastIndex(of: "|"), let id = Int64(text[text.index(after: bar)...]) else { return nil }
        let k = text[..<bar]
        guard k.count >= 2 else { return nil }
        let body = String(k.dropFirst(2))
        switch k.prefix(2) {
        case "i:": return Int64(body).map { (.int($0), id) }
        case "d:": return Double(body).map { (.double($0), id) }
        case "t:": return (.text(body), id)
        default: return nil
        }
    }

    static func base64url(_ data: [UInt8]) -> String { Base64URL.encode(data) }
    static func unbase64url(_ s: String) -> [UInt8]? { Base64URL.decode(s) }
}

public struct QueryError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ d: String) { description = d }
}
