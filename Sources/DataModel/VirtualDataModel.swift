// The live data model of one simulated CPE: a shared ModelTemplate plus this device's differences.
import CWMP

public enum DataModelKind: String, Sendable, Codable {
    case tr181, tr098
    public var root: String { self == .tr181 ? "Device." : "InternetGatewayDevice." }
    /// From the parameter names an Inform carries.
    public static func detect(parameterNames: [String]) -> DataModelKind? {
        if parameterNames.contains(where: { $0.hasPrefix("InternetGatewayDevice.") }) { return .tr098 }
        if parameterNames.contains(where: { $0.hasPrefix("Device.") }) { return .tr181 }
        return nil
    }
}

/// One device's live data model: a shared template plus this device's changes.
///
/// The struct stores only differences from the template (changed values, added instances, deleted template
/// instances, non-default attributes), so a fresh device costs a few hundred bytes and thousands of devices can share
/// one template. The RPC methods implement CWMP semantics and return ``CWMPFault``s with the TR-069 codes.
public struct VirtualDataModel: Sendable {
    public let template: ModelTemplate

    struct Attr: Sendable, Equatable {
        var notification: Int
        var accessList: [String]
    }

    /// Changed parameter values by concrete path.
    var values: [String: String] = [:]
    /// Instances added by AddObject: concrete table path → instance numbers, ascending.
    var added: [String: [UInt32]] = [:]
    /// Template instances removed by DeleteObject (object paths; everything below is gone).
    var deleted: Set<String> = []
    /// Highest instance number handed out per table, so numbers are not reused.
    var lastInstance: [String: UInt32] = [:]
    /// Non-default attributes by parameter path.
    var attributes: [String: Attr] = [:]

    public init(template: ModelTemplate) { self.template = template }

    /// Number of stored differences (values, added/deleted instances, attributes); 0 for a factory-fresh device.
    public var differenceCount: Int { values.count + added.values.reduce(0) { $0 + $1.count } + deleted.count + attributes.count }

    /// Drops every difference: the device is factory-fresh again.
    public mutating func resetToFactory() {
        values = [:]; added = [:]; deleted = []; lastInstance = [:]; attributes = [:]
    }

    // MARK: - Resolution

    /// A node that exists on this device: its schema node and its template entry (-1 if it lives in an added instance).
    struct Resolved {
        let node: Int32
        let entry: Int32
    }

    @inline(__always) func def(_ n: Int32) -> ParameterDefinition { template.nodes[Int(n)] }

    /// Parameters this device lacks although its model has them (a simulated CPE's quirk): unknown to every RPC.
    public var absent: Set<String> = []
    /// Read hidden and secured values back as they are instead of "" (a CPE that echoes its passwords).
    public var echoSecrets = false
    /// Refuse every xsi:type but xsd:string in SetParameterValues with 9006 (a CPE that takes strings only).
    public var stringValuesOnly = false

    func isUnderDeleted(_ path: String) -> Bool {
        DataModelPath.instancePrefixes(path).contains { deleted.contains($0) }
    }

    func resolve(_ path: String) -> Resolved? {
        if !absent.isEmpty && absent.contains(path) { return nil }
        if let i = template.index[path] {
            if !deleted.isEmpty && isUnderDeleted(path) { return nil }
            return Resolved(node: template.entries[Int(i)].node, entry: i)
        }
        if added.isEmpty { return nil }
        guard let n = template.patternIndex[DataModelPath.pattern(path)] else { return nil }
        var inAdded = false
        for q in DataModelPath.instancePrefixes(path) {
            if template.index[q] != nil {
                if deleted.contains(q) { return nil }
                continue
            }
            guard let table = DataModelPath.parent(q), let num = UInt32(DataModelPath.lastSegment(q)),
                  added[table]?.contains(num) == true else { return nil }
            inAdded = true
        }
        return inAdded ? Resolved(node: n, entry: -1) : nil
    }

    /// Instance numbers of a concrete table present on this device, ascending.
    func instances(ofTable table: String, entry: Int32) -> [UInt32] {
        var result: [UInt32] = []
        if entry >= 0 {
            let entries = template.entries
            var j = Int(entry) + 1
            while j < Int(entries[Int(entry)].end) {
                let e = entries[j]
                if deleted.isEmpty || !deleted.contains(e.path), let n = UInt32(DataModelPath.lastSegment(e.path)) { result.append(n) }
                j = Int(e.end)
            }
        }
        if let a = added[table] { result += a }
        return result
    }

    /// Highest instance number the template ever had in a table (deleted ones included).
    func templateMaxInstance(entry: Int32) -> UInt32 {
        guard entry >= 0 else { return 0 }
        let entries = template.entries
        var j = Int(entry) + 1, m: UInt32 = 0
        while j < Int(entries[Int(entry)].end) {
            m = max(m, UInt32(DataModelPath.lastSegment(entries[j].path)) ?? 0)
            j = Int(entries[j].end)
        }
        return m
    }

    func currentValue(_ path: String, _ r: Resolved) -> String {
        if let v = values[path] { return v }
        let d = def(r.node)
        if d.countsTable >= 0 && (!added.isEmpty || !deleted.isEmpty), let parent = DataModelPath.parent(path) {
            let table = parent + def(d.countsTable).name + "."
            if let t = resolve(table) { return String(instances(ofTable: table, entry: t.entry).count) }
        }
        return r.entry >= 0 ? template.entries[Int(r.entry)].value : d.defaultValue
    }

    // MARK: - Traversal

    /// Visits the node at `path` and everything below it in tree order: (path, schema node, template entry or -1).
    func walk(_ path: String, _ r: Resolved, _ visit: (String, Int32, Int32) -> Void) {
        if r.entry < 0 { walkGenerated(r.node, path, visit); return }
        let entries = template.entries
        let start = Int(r.entry), end = Int(entries[start].end)
        let checkDeleted = !deleted.isEmpty, checkAdded = !added.isEmpty
        var open: [(end: Int, path: String, node: Int32)] = []
        var j = start
        while j < end {
            while let top = open.last, top.end <= j { open.removeLast(); walkAdded(top.path, top.node, visit) }
            let e = entries[j]
            let kind = def(e.node).kind
            if checkDeleted && kind == .instance && deleted.contains(e.path) { j = Int(e.end); continue }
            visit(e.path, e.node, Int32(j))
            if checkAdded && kind == .table && added[e.path] != nil { open.append((Int(e.end), e.path, e.node)) }
            j += 1
        }
        while let top = open.popLast() { walkAdded(top.path, top.node, visit) }
    }

    private func walkAdded(_ table: String, _ node: Int32, _ visit: (String, Int32, Int32) -> Void) {
        guard let inst = def(node).children.first, let list = added[table] else { return }
        for k in list { walkGenerated(inst, table + String(k) + ".", visit) }
    }

    /// Subtree of a node that is not in the template (inside an added instance), generated from the schema.
    private func walkGenerated(_ n: Int32, _ path: String, _ visit: (String, Int32, Int32) -> Void) {
        visit(path, n, -1)
        let d = def(n)
        switch d.kind {
        case .parameter: return
        case .table: walkAdded(path, n, visit)
        case .object, .instance:
            for c in d.children {
                let cd = def(c)
                walkGenerated(c, path + cd.name + (cd.kind == .parameter ? "" : "."), visit)
            }
        }
    }

    /// Direct children of an object: (path, schema node, template entry or -1).
    func children(_ path: String, _ r: Resolved) -> [(String, Int32, Int32)] {
        var out: [(String, Int32, Int32)] = []
        let d = def(r.node)
        if r.entry >= 0 {
            let entries = template.entries
            var j = Int(r.entry) + 1
            while j < Int(entries[Int(r.entry)].end) {
                let e = entries[j]
                if deleted.isEmpty || !deleted.contains(e.path) { out.append((e.path, e.node, Int32(j))) }
                j = Int(e.end)
            }
        } else if d.kind != .table {
            for c in d.children {
                let cd = def(c)
                out.append((path + cd.name + (cd.kind == .parameter ? "" : "."), c, -1))
            }
        }
        if d.kind == .table, let inst = d.children.first, let list = added[path] {
            for k in list { out.append((path + String(k) + ".", inst, -1)) }
        }
        return out
    }

    /// Visits every parameter named by a GPV/GPA-style name ("" = all, "X.Y." = all below, else one parameter).
    /// Returns false if the name does not exist.
    func forEachParameter(named name: String, _ visit: (String, Int32, Int32) -> Void) -> Bool {
        if name.isEmpty {
            for e in template.rootEntries {
                let path = template.entries[Int(e)].path
                walk(path, Resolved(node: template.entries[Int(e)].node, entry: e)) { p, n, i in
                    if def(n).kind == .parameter { visit(p, n, i) }
                }
            }
            return true
        }
        guard let r = resolve(name) else { return false }
        if def(r.node).kind == .parameter {
            visit(name, r.node, r.entry)
            return true
        }
        walk(name, r) { p, n, i in if def(n).kind == .parameter && (absent.isEmpty || !absent.contains(p)) { visit(p, n, i) } }
        return true
    }

    static func fault(_ code: Int, _ detail: String = "") -> CWMPFault {
        let text: String
        switch code {
        case 9001: text = "Request denied"
        case 9003: text = "Invalid arguments"
        case 9004: text = "Resources exceeded"
        case 9005: text = "Invalid parameter name"
        case 9006: text = "Invalid parameter type"
        case 9007: text = "Invalid parameter value"
        case 9008: text = "Attempt to set a non-writable parameter"
        case 9009: text = "Notification request rejected"
        default: text = "Internal error"
        }
        return CWMPFault(code: code, string: detail.isEmpty ? text : "\(text): \(detail)")
    }

    // MARK: - GetParameterValues

    /// GetParameterValues: full names and partial paths ending in "." (every parameter below, in tree order);
    /// "" = the whole tree. Any unknown name faults the whole call with 9005. Hidden/secured values read back "".
    public func getParameterValues(_ names: [String]) -> Result<[ParameterValue], CWMPFault> {
        var out: [ParameterValue] = []
        for name in names {
            let ok = forEachParameter(named: name) { p, n, i in
                let d = def(n)
                out.append(ParameterValue(name: p, value: d.masked && !echoSecrets ? "" : currentValue(p, Resolved(node: n, entry: i)), type: d.type))
            }
            if !ok { return .failure(Self.fault(9005, name)) }
        }
        return .success(out)
    }

    // MARK: - SetParameterValues

    /// SetParameterValues, atomic: either every value is applied or none. Failures come back as fault 9003 with one
    /// SetParameterValuesFault per bad parameter (9005 unknown, 9008 read-only, 9006 type mismatch, 9007 bad value);
    /// a name repeated in one call is a 9003 as well.
    public mutating func setParameterValues(_ params: [ParameterValue]) -> CWMPFault? {
        var faults: [CWMPFault.ParameterFault] = []
        var seen = Set<String>()
        var resolved: [Resolved] = []
        resolved.reserveCapacity(params.count)
        for p in params {
            func add(_ code: Int) {
                faults.append(.init(parameterName: p.name, code: code, string: Self.fault(code).string))
            }
            if !seen.insert(p.name).inserted { add(9003); continue }
            guard !DataModelPath.isObjectPath(p.name), let r = resolve(p.name), def(r.node).kind == .parameter else { add(9005); continue }
            let d = def(r.node)
            guard d.writable else { add(9008); continue }
            if stringValuesOnly && p.type != .string { add(9006); continue }
            if let code = ValueValidator.check(p.value, claimed: p.type, for: d) { add(code); continue }
            resolved.append(r)
        }
        if !faults.isEmpty {
            return CWMPFault(code: 9003, string: "Invalid arguments", setParameterValuesFaults: faults)
        }
        for (p, r) in zip(params, resolved) { store(p.name, p.value, r) }
        return nil
    }

    private mutating func store(_ path: String, _ value: String, _ r: Resolved) {
        if r.entry >= 0 && template.entries[Int(r.entry)].value == value && def(r.node).countsTable < 0 {
            values[path] = nil
        } else {
            values[path] = value
        }
    }

    // MARK: - GetParameterNames

    /// GetParameterNames. `""` + nextLevel → the root object; `""` → the whole tree; object + nextLevel → its direct
    /// children; object → itself and everything below; parameter → itself (9003 with nextLevel); unknown → 9005.
    /// `writable` of a table/instance says whether AddObject/DeleteObject is allowed.
    public func getParameterNames(path: String, nextLevel: Bool) -> Result<[ParameterInfo], CWMPFault> {
        var out: [ParameterInfo] = []
        if path.isEmpty {
            for e in template.rootEntries {
                let entry = template.entries[Int(e)]
                if nextLevel {
                    out.append(ParameterInfo(name: entry.path, writable: false))
                } else {
                    walk(entry.path, Resolved(node: entry.node, entry: e)) { p, n, _ in out.append(info(p, n)) }
                }
            }
            return .success(out)
        }
        guard let r = resolve(path) else { return .failure(Self.fault(9005, path)) }
        if def(r.node).kind == .parameter {
            return nextLevel ? .failure(Self.fault(9003, "NextLevel true on a parameter")) : .success([info(path, r.node)])
        }
        if nextLevel {
            for (p, n, _) in children(path, r) { out.append(info(p, n)) }
        } else {
            walk(path, r) { p, n, _ in out.append(info(p, n)) }
        }
        return .success(out)
    }

    private func info(_ path: String, _ n: Int32) -> ParameterInfo {
        let d = def(n)
        return ParameterInfo(name: path, writable: d.kind == .object ? false : d.writable)
    }

    // MARK: - AddObject / DeleteObject

    /// AddObject on a writable multi-instance table ("Device.WiFi.SSID."): returns the new instance number (never
    /// reused on this device). The instance starts with the schema defaults and empty sub-tables.
    /// 9005 if the name is not a writable table, 9004 if the table is full (maxEntries).
    public mutating func addObject(_ objectName: String) -> Result<UInt32, CWMPFault> {
        guard DataModelPath.isObjectPath(objectName), let r = resolve(objectName) else { return .failure(Self.fault(9005, objectName)) }
        let d = def(r.node)
        guard d.kind == .table, d.writable else { return .failure(Self.fault(9005, "\(objectName) is not a writable table")) }
        let current = instances(ofTable: objectName, entry: r.entry)
        if let m = d.maxEntries, current.count >= m { return .failure(Self.fault(9004, "\(objectName) is full")) }
        let next = max(lastInstance[objectName] ?? 0, current.last ?? 0, templateMaxInstance(entry: r.entry)) + 1
        lastInstance[objectName] = next
        added[objectName, default: []].append(next)
        return .success(next)
    }

    /// DeleteObject on one instance ("Device.WiFi.SSID.3."): removes it and everything below it.
    /// 9005 if the name is not an existing instance of a writable table.
    public mutating func deleteObject(_ objectName: String) -> CWMPFault? {
        guard DataModelPath.isObjectPath(objectName), let r = resolve(objectName) else { return Self.fault(9005, objectName) }
        let d = def(r.node)
        guard d.kind == .instance, d.writable, let table = DataModelPath.parent(objectName),
              let num = UInt32(DataModelPath.lastSegment(objectName)) else {
            return Self.fault(9005, "\(objectName) is not a deletable instance")
        }
        if d.minEntries > 0, let t = resolve(table), instances(ofTable: table, entry: t.entry).count <= d.minEntries {
            return Self.fault(9001, "\(table) needs at least \(d.minEntries) instances")
        }
        if r.entry >= 0 {
            deleted.insert(objectName)
        } else {
            added[table]?.removeAll { $0 == num }
            if added[table]?.isEmpty == true { added[table] = nil }
        }
        purge(below: objectName)
        return nil
    }

    private mutating func purge(below prefix: String) {
        if values.keys.contains(where: { $0.hasPrefix(prefix) }) { values = values.filter { !$0.key.hasPrefix(prefix) } }
        if attributes.keys.contains(where: { $0.hasPrefix(prefix) }) { attributes = attributes.filter { !$0.key.hasPrefix(prefix) } }
        if added.keys.contains(where: { $0.hasPrefix(prefix) }) { added = added.filter { !$0.key.hasPrefix(prefix) } }
        lastInstance = lastInstance.filter { !$0.key.hasPrefix(prefix) }
        deleted = deleted.filter { $0 == prefix || !$0.hasPrefix(prefix) }
    }

    // MARK: - Attributes

    private func attr(_ path: String, _ n: Int32) -> Attr {
        if let a = attributes[path] { return a }
        let notify = def(n).activeNotify
        return Attr(notification: notify == .forceEnabled || notify == .forceDefaultEnabled ? 2 : 0, accessList: [])
    }

    private func defaultAttr(_ n: Int32) -> Attr {
        let notify = def(n).activeNotify
        return Attr(notification: notify == .forceEnabled || notify == .forceDefaultEnabled ? 2 : 0, accessList: [])
    }

    /// GetParameterAttributes: full names or partial paths ("" = all); unknown → 9005.
    public func getParameterAttributes(_ names: [String]) -> Result<[ParameterAttribute], CWMPFault> {
        var out: [ParameterAttribute] = []
        for name in names {
            let ok = forEachParameter(named: name) { p, n, _ in
                let a = attr(p, n)
                out.append(ParameterAttribute(name: p, notification: a.notification, accessList: a.accessList))
            }
            if !ok { return .failure(Self.fault(9005, name)) }
        }
        return .success(out)
    }

    /// SetParameterAttributes, atomic. Partial paths apply to every parameter below. Unknown names → 9005,
    /// notification outside 0...6 → 9003, active notification on a `canDeny` parameter (or turning off a
    /// `forceEnabled` one) named directly → 9009; with a partial path such parameters are left unchanged.
    public mutating func setParameterAttributes(_ list: [SetParameterAttribute]) -> CWMPFault? {
        let active: Set<Int> = [2, 5, 6]
        for s in list {
            if s.notificationChange && !(0...6).contains(s.notification) { return Self.fault(9003, "notification \(s.notification)") }
            if s.name.isEmpty { continue }
            guard let r = resolve(s.name) else { return Self.fault(9005, s.name) }
            let d = def(r.node)
            if d.kind == .parameter && s.notificationChange {
                if d.activeNotify == .canDeny && active.contains(s.notification) { return Self.fault(9009, s.name) }
                if d.activeNotify == .forceEnabled && !active.contains(s.notification) { return Self.fault(9009, s.name) }
            }
        }
        for s in list {
            var targets: [(String, Int32)] = []
            _ = forEachParameter(named: s.name) { p, n, _ in targets.append((p, n)) }
            for (p, n) in targets {
                let d = def(n)
                var a = attr(p, n)
                if s.notificationChange {
                    let denied = (d.activeNotify == .canDeny && active.contains(s.notification))
                        || (d.activeNotify == .forceEnabled && !active.contains(s.notification))
                    if !denied { a.notification = s.notification }
                }
                if s.accessListChange { a.accessList = s.accessList }
                attributes[p] = a == defaultAttr(n) ? nil : a
            }
        }
        return nil
    }

    /// The notification attribute of a parameter (0 if unknown).
    public func notification(of path: String) -> Int {
        guard let r = resolve(path), def(r.node).kind == .parameter else { return 0 }
        return attr(path, r.node).notification
    }

    /// Every parameter whose notification attribute is not 0 (passive, active, lightweight), for value-change tracking.
    public func notificationAttributes() -> [ParameterAttribute] {
        var out: [ParameterAttribute] = []
        for e in template.notifiedByDefault {
            let path = template.entries[Int(e)].path
            if attributes[path] == nil, resolve(path) != nil {
                out.append(ParameterAttribute(name: path, notification: 2))
            }
        }
        for (p, a) in attributes where a.notification != 0 {
            out.append(ParameterAttribute(name: p, notification: a.notification, accessList: a.accessList))
        }
        return out.sorted { $0.name < $1.name }
    }

    // MARK: - Direct access (simulator side)

    /// The real value of a parameter (hidden values included); nil if it does not exist or is an object.
    /// Setting forces the value regardless of writability (like ``force(_:_:)``); setting nil restores the template value.
    public subscript(path: String) -> String? {
        get {
            guard let r = resolve(path), def(r.node).kind == .parameter else { return nil }
            return currentValue(path, r)
        }
        set {
            if let v = newValue { force(path, v) } else { values[path] = nil }
        }
    }

    /// Sets a parameter ignoring writability and type checks (identity, counters, ManagementServer values).
    /// Returns false if the parameter does not exist.
    @discardableResult
    public mutating func force(_ path: String, _ value: String) -> Bool {
        guard let r = resolve(path), def(r.node).kind == .parameter else { return false }
        store(path, value, r)
        return true
    }

    /// Makes a table ("Device.IP.Diagnostics.TraceRoute.RouteHops.") have exactly instances 1…count, ignoring
    /// writability: the result tables a CPE fills itself (diagnostics). Everything below the table is reset (new
    /// instances carry the schema defaults). Returns false if `table` is not an existing table.
    @discardableResult
    public mutating func forceInstances(_ table: String, count: Int) -> Bool {
        guard DataModelPath.isObjectPath(table), let r = resolve(table), def(r.node).kind == .table else { return false }
        purge(below: table)
        let fromTemplate = instances(ofTable: table, entry: r.entry)
        for n in fromTemplate where n > count { deleted.insert(table + String(n) + ".") }
        let missing = count > 0 ? (1...UInt32(count)).filter { !fromTemplate.contains($0) } : []
        if !missing.isEmpty { added[table] = missing }
        return true
    }

    /// Whether a parameter or object (with trailing ".") exists on this device.
    public func exists(_ path: String) -> Bool { resolve(path) != nil }

    /// The xsd type of a parameter; nil for objects and unknown names.
    public func type(of path: String) -> XSDType? {
        guard let r = resolve(path) else { return nil }
        let d = def(r.node)
        return d.kind == .parameter ? d.type : nil
    }

    /// Whether SetParameterValues may change a parameter (for tables/instances: AddObject/DeleteObject allowed).
    public func isWritable(_ path: String) -> Bool {
        guard let r = resolve(path) else { return false }
        let d = def(r.node)
        return d.kind == .object ? false : d.writable
    }

    /// The definition of an existing node.
    public func definition(of path: String) -> ParameterDefinition? { resolve(path).map { def($0.node) } }

    /// Instance numbers of a table ("Device.WiFi.SSID."), ascending; nil if it is not an existing table.
    public func instanceNumbers(of table: String) -> [UInt32]? {
        guard let r = resolve(table), def(r.node).kind == .table else { return nil }
        return instances(ofTable: table, entry: r.entry)
    }

    /// Names of every parameter below a partial path ("" = all), in tree order; nil if the path does not exist.
    public func parameterNames(under path: String) -> [String]? {
        var out: [String] = []
        return forEachParameter(named: path) { p, _, _ in out.append(p) } ? out : nil
    }
}
