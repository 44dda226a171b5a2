import ACSCore
import CWMP
import DataModel
import Storage

/// What a campaign's `apply(dev)` asked for one device.
public enum CampaignAction: Sendable, Equatable {
    case set(ParameterValue)
    case perform(DeviceAction)
}

/// The population and device objects of reports and campaigns, over the store: filters become SQL, devices are
/// read page by page (keyset cursor), and a page's parameter values are fetched together the first time a script
/// asks one device of the page for a path.
public final class StoreScriptAccess: PopulationAccess, DeviceAccess {
    let store: AutomationStore
    let registry: ProfileRegistry
    let now: Int64
    /// The organisation subtree (an `Organisation.path`) the run may see: every query of the run is confined to it.
    /// nil = the whole population (the CLI, and the server's own runs).
    public let scope: String?
    static let pageSize = 500

    struct Cursor {
        var query: DeviceQuery
        var page: [Device] = []
        var index = 0
        var next: String?
        var exhausted = false
        var remaining: Int?
    }
    private var cursors: [Int: Cursor] = [:]
    private var nextCursor = 1

    /// Handles of device objects handed to Lua (bounded: old handles expire).
    private var handles: [Int: Device] = [:]
    private var handleOrder: [Int] = []
    private var nextHandle = 1
    static let maxHandles = 4 * pageSize

    /// Parameter values of the current page, by path.
    private var pageIDs: [Int64] = []
    private var pageSet: Set<Int64> = []
    private var pageValues: [String: [Int64: StoredParameter]] = [:]

    /// Campaign context: what apply(dev) asked, by device ID, in order.
    public private(set) var actions: [Int64: [CampaignAction]] = [:]

    public init(store: AutomationStore, registry: ProfileRegistry, now: Int64, scope: String? = nil) {
        self.store = store; self.registry = registry; self.now = now; self.scope = scope
    }

    /// A Lua filter as a query confined to the run's scope. The one place filters become queries here, so no
    /// `devices{}`, `count{}` or `count_by()` of a scoped run reaches outside its subtree.
    func query(_ filter: LuaTable) throws -> (DeviceQuery, limit: Int?) {
        var r = try DeviceFilter.query(filter, registry: registry)
        r.0.organisationPath = scope
        return r
    }

    // MARK: handles

    /// Registers a device for a Lua object; campaigns use it to call apply(dev) on one device.
    public func handle(for device: Device) -> Int {
        let h = nextHandle
        nextHandle += 1
        handles[h] = device
        handleOrder.append(h)
        // Evicted in halves: removing the oldest one at a time shifted the whole list for every device of a report.
        if handleOrder.count > 2 * Self.maxHandles {
            let drop = handleOrder.count - Self.maxHandles
            for old in handleOrder.prefix(drop) { handles[old] = nil }
            handleOrder.removeFirst(drop)
        }
        return h
    }

    public func device(_ handle: Int) -> Device? { handles[handle] }

    public func clearActions() { actions = [:] }

    // MARK: PopulationAccess

    public func open(_ filter: LuaTable) throws -> Int {
        let (q, limit) = try query(filter)
        var query = q
        query.limit = min(Self.pageSize, limit ?? Self.pageSize)
        let id = nextCursor
        nextCursor += 1
        cursors[id] = Cursor(query: query, remaining: limit)
        return id
    }

    public func next(cursor id: Int) throws -> (Device, Int)? {
        guard var c = cursors[id] else { return nil }
        defer { cursors[id] = c }
        if c.remaining == 0 { return nil }
        if c.index >= c.page.count {
            guard !c.exhausted else { return nil }
            var q = c.query
            q.cursor = c.next
            let page = try store.devices(q, now: now)
            c.page = page.devices
            c.index = 0
            c.next = page.nextCursor
            c.exhausted = page.nextCursor == nil
            pageIDs = page.devices.map(\.id)
            pageSet = Set(pageIDs)
            pageValues = [:]
            guard !c.page.isEmpty else { return nil }
        }
        let d = c.page[c.index]
        c.index += 1
        if let r = c.remaining { c.remaining = r - 1 }
        return (d, handle(for: d))
    }

    public func count(_ filter: LuaTable) throws -> Int {
        try store.countDevices(query(filter).0, now: now)
    }

    public func countBy(_ field: String, _ filter: LuaTable) throws -> [(String, Int)] {
        if field == "status" {
            return try DeviceStatus.allCases.compactMap { s in
                var f = filter
                f.fields["status"] = .string(s.rawValue)
                if !f.keys.contains("status") { f.keys.append("status") }
                let n = try count(f)
                return n > 0 ? (s.rawValue, n) : nil
            }.sorted { $0.1 > $1.1 }
        }
        guard let g = DeviceGroupField(luaName: field) else {
            throw QueryError("count_by cannot group on '\(field)' (use \(DeviceGroupField.allCases.map(\.rawValue).joined(separator: ", ")), status)")
        }
        return try store.countDevices(by: g, query(filter).0, now: now)
    }

    public func diagnosticsBy(_ field: String, test: String?, hours: Int) throws -> [DiagnosticGroup] {
        guard let by = DiagnosticGrouping(rawValue: field) else {
            throw QueryError("diagnostics_by cannot group on '\(field)' (use \(DiagnosticGrouping.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if let test, DiagnosticTest(rawValue: test) == nil {
            throw QueryError("diagnostics_by: test must be one of \(DiagnosticTest.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let s = store as? DiagnosticStore else { return [] }
        return try s.diagnosticSummary(DiagnosticQuery(test: test, since: now - Int64(hours) * 3600, organisationPath: scope), by: by, maxGroups: 1000)
    }

    // MARK: DeviceAccess

    func path(_ name: String, _ d: Device) -> String? {
        let profile = registry.profile(named: d.profile) ?? registry.profile(for: d.dataModel)
        return profile?.path(for: name, kind: d.dataModel) ?? (name.hasPrefix(d.dataModel?.root ?? "Device.") ? name : nil)
    }

    func stored(_ path: String, _ d: Device) throws -> StoredParameter? {
        if pageSet.contains(d.id) {
            if pageValues[path] == nil {
                let fetched = try store.parameterValues(deviceIDs: pageIDs, paths: [path])
                var byDevice: [Int64: StoredParameter] = [:]
                for (id, values) in fetched { if let v = values[path] { byDevice[id] = v } }
                pageValues[path] = byDevice
            }
            return pageValues[path]?[d.id]
        }
        return try store.parameterValues(deviceIDs: [d.id], paths: [path])[d.id]?[path]
    }

    public func get(handle: Int, name: String, maxAge: Int64?) -> GetResult {
        guard let d = handles[handle] else { return .error("device object expired (keep fewer than \(Self.maxHandles) alive)") }
        guard let p = path(name, d) else { return .error("unknown alias '\(name)' for profile \(d.profile)") }
        if p.hasSuffix(".") {
            do {
                let stored = try store.parameters(deviceID: d.id, prefix: p)
                guard !stored.isEmpty else { return .value(.null) }
                guard stored.count <= LuaConvert.maxSubtree else { return .error("dev:get: \(p) holds more than \(LuaConvert.maxSubtree) parameters") }
                return .value(.table(LuaConvert.subtree(p, stored.map { ($0.path, $0.value, $0.type) })))
            } catch { return .error("dev:get: \(error)") }
        }
        do {
            return .value(try stored(p, d).map { LuaConvert.value($0.value, $0.type) } ?? .null)
        } catch { return .error("dev:get: \(error)") }
    }

    public func set(handle: Int, name: String, value: LuaValue, type: String?) -> String? {
        guard let d = handles[handle] else { return "device object expired" }
        guard let p = path(name, d) else { return "unknown alias '\(name)' for profile \(d.profile)" }
        guard !p.hasPrefix(DeviceProfile.virtualRoot) else { return "'\(name)' is a virtual parameter: its function computes it" }
        let storedType = (try? stored(p, d))??.type
        switch LuaConvert.parameter(p, value, explicitType: type, storedType: storedType, schema: ModelSchemas.shared.definition(d.dataModel, p)) {
        case .success(let pv): actions[d.id, default: []].append(.set(pv)); return nil
        case .failure(let e): return e.message
        }
    }

    public func perform(handle: Int, _ action: DeviceAction) -> String? {
        guard let d = handles[handle] else { return "device object expired" }
        var a = action
        if case .refresh(let name) = action {
            guard let p = path(name, d) ?? (name.hasSuffix(".") ? name : nil) else { return "unknown alias '\(name)'" }
            guard !p.hasPrefix(DeviceProfile.virtualRoot) else { return "'\(name)' is a virtual parameter: the device's next session computes it" }
            a = .refresh(p)
        }
        if case .deleteObject(let name) = action {
            guard let p = path(name, d), LuaConvert.isInstancePath(p) else {
                return "dev:delete: an object instance path (\"Device.WiFi.SSID.3.\")"
            }
            a = .deleteObject(p)
        }
        actions[d.id, default: []].append(.perform(a))
        return nil
    }

    public func hasEvent(handle: Int, _ event: String) -> Bool { false }

    /// Queued as a task: the instance number is the CPE's to choose, later.
    public func add(handle: Int, path: String) -> GetResult {
        guard let d = handles[handle] else { return .error("device object expired") }
        guard let p = self.path(path, d), LuaConvert.isObjectPath(p) else { return .error("dev:add: an object path ending in \".\" (\"Device.WiFi.SSID.\")") }
        actions[d.id, default: []].append(.perform(.addObject(p)))
        return .value(.null)
    }

    /// From the stored parameters; with `count`, queues the adds or deletes (highest instances first).
    public func instances(handle: Int, path: String, count: Int?) -> GetResult {
        guard let d = handles[handle] else { return .error("device object expired") }
        guard let p = self.path(path, d), LuaConvert.isObjectPath(p) else { return .error("dev:instances: an object path ending in \".\"") }
        do {
            var numbers = LuaConvert.instanceNumbers(p, try store.parameters(deviceID: d.id, prefix: p).map(\.path))
            if let count {
                if numbers.count < count {
                    for _ in numbers.count..<count { actions[d.id, default: []].append(.perform(.addObject(p))) }
                } else {
                    for n in numbers.suffix(numbers.count - count).reversed() { actions[d.id, default: []].append(.perform(.deleteObject("\(p)\(n)."))) }
                    numbers = Array(numbers.prefix(count))
                }
            }
            return .value(LuaConvert.list(numbers))
        } catch { return .error("dev:instances: \(error)") }
    }

    public func kpi(handle: Int, name: String, window: Int64?) -> GetResult {
        guard let d = handles[handle] else { return .error("device object expired") }
        do {
            return .value(try store.kpi(deviceID: d.id, name: name, since: window.map { now - $0 }).map { .number($0) } ?? .null)
        } catch { return .error("dev:kpi: \(error)") }
    }
}

/// Values between CWMP (strings with xsd types) and Lua.
public enum LuaConvert {
    /// Largest subtree `dev:get("X.")` returns.
    public static let maxSubtree = 10_000

    /// "Device.WiFi.SSID." and "Device.WiFi.SSID.2.": a path ending in "." under a data-model root.
    public static func isObjectPath(_ p: String) -> Bool {
        p.hasSuffix(".") && (p.hasPrefix("Device.") || p.hasPrefix("InternetGatewayDevice.")) && !p.contains("..")
    }

    /// "Device.WiFi.SSID.3.": an object path whose last segment is an instance number.
    public static func isInstancePath(_ p: String) -> Bool {
        isObjectPath(p) && p.dropLast().split(separator: ".").last.map { Int($0) != nil } == true
    }

    /// A subtree as a table keyed by the path below `prefix` ("1.SSID"), in path order with instance numbers
    /// compared as numbers.
    public static func subtree(_ prefix: String, _ values: [(String, String, XSDType)]) -> LuaTable {
        var t = LuaTable()
        for (path, value, type) in values.sorted(by: { pathOrder($0.0, $1.0) }) where path.hasPrefix(prefix) && path.count > prefix.count {
            let key = String(path.dropFirst(prefix.count))
            if t.fields[key] == nil { t.keys.append(key) }
            t.fields[key] = self.value(value, type)
        }
        return t
    }

    /// The instance numbers directly below an object path, ascending.
    public static func instanceNumbers(_ prefix: String, _ paths: [String]) -> [Int64] {
        var out = Set<Int64>()
        for p in paths where p.hasPrefix(prefix) {
            if let n = p.dropFirst(prefix.count).split(separator: ".", maxSplits: 1).first.flatMap({ Int64($0) }) { out.insert(n) }
        }
        return out.sorted()
    }

    static func list(_ numbers: [Int64]) -> LuaValue {
        var t = LuaTable()
        t.array = numbers.map { .int($0) }
        return .table(t)
    }

    /// Path order with numeric segments compared as numbers ("SSID.2" before "SSID.10").
    static func pathOrder(_ a: String, _ b: String) -> Bool {
        let x = a.split(separator: "."), y = b.split(separator: ".")
        for (p, q) in zip(x, y) where p != q {
            if let i = Int(p), let j = Int(q) { return i < j }
            return p < q
        }
        return x.count < y.count
    }

    public static func value(_ s: String, _ type: XSDType) -> LuaValue {
        switch type {
        case .int, .long, .unsignedInt, .unsignedLong: return Int64(s).map { .int($0) } ?? .string(s)
        case .boolean: return .bool(s == "1" || s.lowercased() == "true")
        default: return .string(s)
        }
    }

    /// A Lua value to write: the type comes from the script, else the stored value, else the BBF data model (a
    /// parameter never read: xsd:string would get 9006 from real CPEs), else the Lua type. A value its type cannot
    /// hold is an error here (so a dry run shows it), not a fault from the CPE.
    public static func parameter(_ path: String, _ v: LuaValue, explicitType: String?, storedType: XSDType?,
                                 schema: ParameterDefinition? = nil) -> Result<ParameterValue, ScriptError> {
        let r = untypedCheck(path, v, explicitType: explicitType, storedType: storedType ?? schema.map(\.type))
        // The type's form only: ranges and enumerations stay the CPE's call (it reports 9007 with its own limits).
        if case .success(let pv) = r, let why = ModelSchemas.problem(pv.value, type: pv.type, definition: nil) {
            return .failure(ScriptError(.runtime, "\(path) \(why)"))
        }
        return r
    }

    static func untypedCheck(_ path: String, _ v: LuaValue, explicitType: String?, storedType: XSDType?) -> Result<ParameterValue, ScriptError> {
        var type: XSDType?
        if let explicitType {
            guard let t = XSDType(rawValue: explicitType.replacingOccurrences(of: "xsd:", with: "")) else {
                return .failure(ScriptError(.runtime, "unknown xsd type '\(explicitType)'"))
            }
            type = t
        }
        let text: String
        switch v {
        case .bool(let b):
            text = b ? "true" : "false"
            type = type ?? .boolean
        case .int(let i):
            text = String(i)
            type = type ?? storedType ?? (i < 0 ? .int : .unsignedInt)
        case .number(let d):
            text = LuaValue.format(d)
            type = type ?? storedType ?? .string
        case .string(let s):
            text = s
            type = type ?? storedType ?? .string
        default:
            return .failure(ScriptError(.runtime, "cannot set \(path) to a \(v.typeName)"))
        }
        return .success(ParameterValue(name: path, value: text, type: type ?? .string))
    }

    /// Whether a stored value already equals the desired one (booleans and numbers compare by meaning).
    public static func same(_ stored: String, _ desired: String, _ type: XSDType) -> Bool {
        if stored == desired { return true }
        switch type {
        case .boolean:
            let t: Set<String> = ["1", "true"]
            return t.contains(stored.lowercased()) == t.contains(desired.lowercased())
        case .int, .long, .unsignedInt, .unsignedLong:
            return Int64(stored) != nil && Int64(stored) == Int64(desired)
        default:
            return false
        }
    }
}

extension DeviceStatus: CaseIterable {
    public static var allCases: [DeviceStatus] { [.online, .offline, .never] }
}
