import ACSCore
import Foundation
import Storage

/// Turns a Lua filter table (`devices{ profile = "x", where = "lte.rssi < -100" }`) into a DeviceQuery that the
/// store runs in SQL. Pure.
enum DeviceFilter {
    static let keys: Set<String> = ["profile", "status", "manufacturer", "model", "software_version", "group", "tag", "location",
                                    "text", "informed_before", "where", "order", "desc", "limit", "ids"]

    static func query(_ t: LuaTable, registry: ProfileRegistry) throws -> (DeviceQuery, limit: Int?) {
        var q = DeviceQuery()
        for k in t.keys where !keys.contains(k) {
            throw QueryError("unknown filter '\(k)' (known: \(keys.sorted().joined(separator: ", ")))")
        }
        func str(_ k: String) throws -> String? {
            switch t[k] {
            case .null: return nil
            case let v:
                guard let s = v.string else { throw QueryError("filter '\(k)' must be a string") }
                return s
            }
        }
        q.profile = try str("profile")
        q.manufacturer = try str("manufacturer")
        q.model = try str("model")
        q.softwareVersion = try str("software_version")
        q.group = try str("group") ?? str("tag")
        q.location = try str("location")
        q.text = try str("text")
        if let s = try str("status") {
            guard let status = DeviceStatus(rawValue: s) else { throw QueryError("status must be online, offline or never, not '\(s)'") }
            q.status = status
        }
        if !t["informed_before"].isNil {
            guard let v = t["informed_before"].int else { throw QueryError("informed_before must be Unix seconds") }
            q.informedBefore = v
        }
        if let order = try str("order") {
            guard let sort = DeviceQuery.Sort(rawValue: order == "model" ? "model_name" : order) else {
                throw QueryError("order must be one of \(DeviceQuery.Sort.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            q.sort = sort
        }
        if case .bool(let d) = t["desc"] { q.descending = d }
        switch t["where"] {
        case .null: break
        case .string(let s): q.parameters = try parse(s).map { try condition($0.0, $0.1, $0.2, registry) }
        case .table(let list):
            // {{"lte.rssi", "<", -100}, ...} or a single {"lte.rssi", "<", -100}
            let items = list.array.first?.table != nil ? list.array.compactMap(\.table) : [list]
            for c in items {
                guard c.array.count == 3, let name = c.array[0].string, let op = c.array[1].string, let v = c.array[2].string else {
                    throw QueryError("where conditions are {name, op, value}")
                }
                q.parameters.append(try condition(name, op, v, registry))
            }
        default: throw QueryError("where must be a string or a list of {name, op, value}")
        }
        switch t["ids"] {
        case .null: break
        case .table(let list):
            guard list.keys.isEmpty, list.array.count <= DeviceQuery.maxIDs else {
                throw QueryError("ids is a list of at most \(DeviceQuery.maxIDs) device IDs, e.g. ids = {12, 13}")
            }
            q.ids = try list.array.map { v in
                guard let id = v.int, id > 0 else { throw QueryError("ids are positive device IDs") }
                return id
            }
        default: throw QueryError("ids is a list of device IDs, e.g. ids = {12, 13}")
        }
        var limit: Int?
        if !t["limit"].isNil {
            guard let l = t["limit"].int, l >= 0 else { throw QueryError("limit must be a non-negative integer") }
            limit = Int(l)
        }
        return (q, limit)
    }

    static func condition(_ name: String, _ op: String, _ value: String, _ registry: ProfileRegistry) throws -> DeviceQuery.ParameterCondition {
        let normalized = op == "==" ? "=" : op == "~=" ? "!=" : op
        guard let o = DeviceQuery.ParameterCondition.Op(rawValue: normalized) else {
            throw QueryError("unknown operator '\(op)' (use = != < <= > >= ~)")
        }
        let paths = registry.paths(forAlias: name)
        guard !paths.isEmpty else { throw QueryError("unknown alias or path '\(name)'") }
        return DeviceQuery.ParameterCondition(paths: paths, op: o, value: value)
    }

    /// "lte.rssi < -100 and wifi.ssid ~ 'Guest'" -> [(name, op, value)].
    static func parse(_ s: String) throws -> [(String, String, String)] {
        var out: [(String, String, String)] = []
        for clause in s.components(separatedBy: " and ") {
            let c = clause.trimmingCharacters(in: .whitespaces)
            guard !c.isEmpty else { continue }
            var found: (String, String, String)?
            for op in ["<=", ">=", "!=", "~=", "==", "<", ">", "=", "~"] {
                if let r = c.range(of: " \(op) ") ?? c.range(of: op) {
                    let name = c[..<r.lowerBound].trimmingCharacters(in: .whitespaces)
                    var value = c[r.upperBound...].trimmingCharacters(in: .whitespaces)
                    if value.count >= 2, let f = value.first, f == "'" || f == "\"", value.last == f { value = String(value.dropFirst().dropLast()) }
                    found = (name, op.trimmingCharacters(in: .whitespaces), value)
                    break
                }
            }
            guard let f = found, !f.0.isEmpty else { throw QueryError("cannot read condition '\(c)' (want: name op value)") }
            out.append(f)
        }
        return out
    }
}
