import CWMP
import Foundation

/// One row of a flat model listing (CSV or JSON): a concrete path with its flags and value.
struct FlatRow {
    var path: String          // objects end with "."
    var isObject: Bool
    var writable: Bool
    var value: String
    var type: XSDType?
    var hidden: Bool = false
}

extension ModelTemplate {
    /// Loads a genieacs-sim device model CSV (the `models/*.csv` / `data_model_*.csv` files of genieacs-sim).
    ///
    /// Columns are found by header name: `Parameter`, `Object` ("true" for objects, given without the trailing dot),
    /// `Writable`, `Value`, `Value type` ("xsd:unsignedInt" …); other columns (GenieACS's export adds
    /// `Object timestamp`, `Writable timestamp`, `Value timestamp`, `Notification`, …) are ignored. `DeviceID.*` rows
    /// go to ``deviceID``. Values become the defaults; the instances present are the template's instances. A
    /// non-instance object is a table if it has numbered children, or if it is writable and has no children.
    public static func loadCSV(path: String) throws -> ModelTemplate {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelLoadError("cannot read \(path)") }
        return try parseCSV(String(decoding: data, as: UTF8.self))
    }

    /// ``loadCSV(path:)`` on text.
    public static func parseCSV(_ text: String) throws -> ModelTemplate {
        let table = CSV.parse(text)
        guard let header = table.first else { throw ModelLoadError("empty CSV model") }
        let cols = header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        func col(_ name: String) -> Int? { cols.firstIndex(of: name) }
        guard let cParam = col("parameter") else { throw ModelLoadError("CSV model has no 'Parameter' column") }
        let cObject = col("object"), cWritable = col("writable"), cValue = col("value"), cType = col("value type")
        var rows: [FlatRow] = []
        var deviceID: [String: String] = [:]
        for r in table.dropFirst() {
            func field(_ c: Int?) -> String { c.flatMap { $0 < r.count ? r[$0] : nil } ?? "" }
            var name = field(cParam).trimmingCharacters(in: .whitespaces)
            if name.isEmpty { continue }
            if name.hasPrefix("DeviceID.") {
                deviceID[String(name.dropFirst("DeviceID.".count))] = field(cValue)
                continue
            }
            var isObject = field(cObject).lowercased() == "true"
            if name.hasSuffix(".") { isObject = true; name.removeLast() }
            let t = field(cType)
            rows.append(FlatRow(path: isObject ? name + "." : name, isObject: isObject,
                                writable: field(cWritable).lowercased() == "true", value: isObject ? "" : field(cValue),
                                type: t.isEmpty ? nil : parseXSDType(t)))
        }
        return try ModelTemplate(rows: rows, deviceID: deviceID)
    }

    /// Loads a model in Corral's JSON format:
    ///
    /// ```json
    /// {
    ///   "deviceID": {"Manufacturer": "ACME", "OUI": "001122", "ProductClass": "GW", "SerialNumber": "0001"},
    ///   "parameters": [
    ///     {"path": "Device.DeviceInfo.Manufacturer", "value": "ACME", "type": "xsd:string", "writable": false},
    ///     {"path": "Device.ManagementServer.Password", "value": "secret", "writable": true, "hidden": true},
    ///     {"path": "Device.WiFi.SSID.", "writable": true},
    ///     {"path": "Device.WiFi.SSID.1.", "writable": true},
    ///     {"path": "Device.WiFi.SSID.1.SSID", "value": "corral", "writable": true}
    ///   ]
    /// }
    /// ```
    ///
    /// - `path` (required): objects end with "." (or set `"object": true`); intermediate objects are implied.
    /// - `value` (string, number or boolean; default ""), `type` ("xsd:string" or "string"; default string, or
    ///   boolean/int for JSON booleans/numbers), `writable` (default false), `hidden` (default false; reads back "").
    /// - Numbered segments are instances; a listed or implied object with numbered children is a table, and so is a
    ///   writable object with no children. Table/instance `writable` = AddObject/DeleteObject allowed.
    /// - `deviceID` is optional and ends up in ``deviceID``.
    public static func loadJSON(path: String) throws -> ModelTemplate {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelLoadError("cannot read \(path)") }
        return try parseJSON(data)
    }

    /// ``loadJSON(path:)`` on data.
    public static func parseJSON(_ data: Data) throws -> ModelTemplate {
        let any: Any
        do { any = try JSONSerialization.jsonObject(with: data) } catch { throw ModelLoadError("invalid JSON model: \(error)") }
        guard let obj = any as? [String: Any], let params = obj["parameters"] as? [Any] else {
            throw ModelLoadError("JSON model must be an object with a \"parameters\" array")
        }
        var rows: [FlatRow] = []
        for (i, p) in params.enumerated() {
            guard let d = p as? [String: Any], var path = d["path"] as? String, !path.isEmpty else {
                throw ModelLoadError("parameters[\(i)]: missing \"path\"")
            }
            let isObject = path.hasSuffix(".") || (d["object"] as? Bool ?? false)
            if isObject && !path.hasSuffix(".") { path += "." }
            var type: XSDType? = (d["type"] as? String).map(parseXSDType)
            var value = ""
            switch d["value"] {
            case let s as String: value = s
            case let n as NSNumber:
                if String(cString: n.objCType) == "c" { // JSON true/false
                    value = n.boolValue ? "true" : "false"; if type == nil { type = .boolean }
                } else {
                    value = n.stringValue; if type == nil { type = n.doubleValue < 0 ? .int : .unsignedInt }
                }
            case nil, is NSNull: break
            default: throw ModelLoadError("parameters[\(i)]: \"value\" must be a string, number or boolean")
            }
            rows.append(FlatRow(path: path, isObject: isObject, writable: d["writable"] as? Bool ?? false, value: value,
                                type: type, hidden: d["hidden"] as? Bool ?? false))
        }
        var deviceID: [String: String] = [:]
        if let ids = obj["deviceID"] as? [String: Any] {
            for (k, v) in ids { deviceID[k] = (v as? String) ?? "\(v)" }
        }
        return try ModelTemplate(rows: rows, deviceID: deviceID)
    }

    static func parseXSDType(_ s: String) -> XSDType {
        var t = Substring(s.trimmingCharacters(in: .whitespaces))
        if let colon = t.firstIndex(of: ":") { t = t[t.index(after: colon)...] }
        return XSDType(rawValue: String(t)) ?? .string
    }

    /// Builds a template from concrete rows (CSV / JSON).
    convenience init(rows: [FlatRow], deviceID: [String: String]) throws {
        if rows.isEmpty { throw ModelLoadError("model has no parameters") }
        // Every present concrete path, with implied ancestors.
        var present = Set<String>()
        var values: [String: String] = [:]
        var childKinds: [String: (numbered: Bool, named: Bool)] = [:]
        for row in rows {
            present.insert(row.path)
            if !row.isObject { values[row.path] = row.value }
            var p = row.path
            while let parent = DataModelPath.parent(p) {
                let numbered = DataModelPath.isInstanceSegment(DataModelPath.lastSegment(p))
                var k = childKinds[parent] ?? (false, false)
                if numbered { k.numbered = true } else { k.named = true }
                childKinds[parent] = k
                if present.contains(parent) { break }
                present.insert(parent)
                p = parent
            }
        }
        let roots = Set(present.filter { DataModelPath.parent($0) == nil })
        if roots.contains(where: { !$0.hasSuffix(".") }) { throw ModelLoadError("parameter without an object: \(roots.sorted())") }

        func isTable(_ path: String, writable: Bool) -> Bool {
            guard let k = childKinds[path] else { return writable && DataModelPath.parent(path) != nil }
            return k.numbered
        }

        let schema = SchemaBuilder()
        var instances: [String: [UInt32]] = [:]
        var flags: [String: Bool] = [:]                     // explicit writable of listed objects
        for row in rows where row.isObject { flags[row.path] = row.writable }
        // Visit paths in file order, ancestors first.
        var seen = Set<String>()
        func visitObject(_ path: String) {
            if seen.contains(path) { return }
            seen.insert(path)
            if let parent = DataModelPath.parent(path) { visitObject(parent) }
            let pattern = DataModelPath.pattern(path)
            let writable = flags[path] ?? false
            if DataModelPath.isInstanceSegment(DataModelPath.lastSegment(path)), let table = DataModelPath.parent(path) {
                let n = schema.ensureObject(pattern)
                if flags[path] != nil { schema[n].writable = writable }
                instances[table, default: []].append(UInt32(DataModelPath.lastSegment(path))!)
            } else if isTable(path, writable: writable) {
                let inst = schema.ensureObject(pattern + "{i}.")
                let t = schema[inst].parent
                if flags[path] != nil { schema[t].writable = writable }
            } else {
                schema.ensureObject(pattern)
            }
        }
        var typed = Set<Int32>()
        for row in rows {
            if row.isObject { visitObject(row.path); continue }
            if let parent = DataModelPath.parent(row.path) { visitObject(parent) }
            let pattern = DataModelPath.pattern(row.path)
            let n = schema.ensureParameter(pattern)
            if !typed.contains(n) {
                typed.insert(n)
                var d = schema[n]
                d.type = row.type ?? .string
                d.writable = row.writable
                d.hidden = row.hidden
                // New instances start from neutral values; single-instance parameters keep theirs.
                d.defaultValue = pattern.contains("{i}") ? ParameterDefinition.zeroValue(for: d.type) : row.value
                schema[n] = d
            }
        }
        for (k, v) in instances { instances[k] = Array(Set(v)).sorted() }
        self.init(schema: schema, modelName: nil, deviceID: deviceID, instanceCounts: { path, _ in instances[path] ?? [] },
                  include: { present.contains($0) }, value: { path, _ in values[path] })
    }
}

/// Minimal RFC 4180 CSV reader: quoted fields, doubled quotes, CRLF or LF.
enum CSV {
    static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = [UInt8]()
        var inQuotes = false
        var bytes = Array(text.utf8)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        var i = 0
        func endField() { row.append(String(decoding: field, as: UTF8.self)); field.removeAll(keepingCapacity: true) }
        func endRow() {
            endField()
            if !(row.count == 1 && row[0].isEmpty) { rows.append(row) }
            row = []
        }
        while i < bytes.count {
            let b = bytes[i]
            if inQuotes {
                if b == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\"") { field.append(b); i += 1 } else { inQuotes = false }
                } else {
                    field.append(b)
                }
            } else {
                switch b {
                case UInt8(ascii: "\""): inQuotes = true
                case UInt8(ascii: ","): endField()
                case UInt8(ascii: "\r"): break
                case UInt8(ascii: "\n"): endRow()
                default: field.append(b)
                }
            }
            i += 1
        }
        if !field.isEmpty || !row.isEmpty { endRow() }
        return rows
    }
}
