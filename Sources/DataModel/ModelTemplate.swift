import CWMP
import Foundation

/// What a node of the data model is.
public enum NodeKind: UInt8, Sendable, Codable {
    /// A leaf with a value ("Device.DeviceInfo.UpTime").
    case parameter
    /// A single-instance object ("Device.DeviceInfo.").
    case object
    /// A multi-instance table ("Device.WiFi.SSID."); its children are instances.
    case table
    /// One instance of a table ("Device.WiFi.SSID.{i}." in patterns, "Device.WiFi.SSID.1." in paths).
    case instance
}

/// The BBF `activeNotify` attribute of a parameter.
public enum ActiveNotify: UInt8, Sendable, Codable {
    case normal
    /// The CPE may refuse active notification (fault 9009); counters, UpTime, diagnostics results.
    case canDeny
    /// Active notification always on; cannot be turned off.
    case forceEnabled
    /// Active notification on by default; the ACS may turn it off.
    case forceDefaultEnabled
}

/// An inclusive numeric range facet of a parameter (either bound may be absent).
public struct ValueRange: Sendable, Equatable, Codable {
    public var min: Double?
    public var max: Double?
    public init(min: Double?, max: Double?) { self.min = min; self.max = max }
    public func contains(_ v: Double) -> Bool { (min.map { v >= $0 } ?? true) && (max.map { v <= $0 } ?? true) }
}

/// The definition of one node in pattern form, shared by every instance ("Device.WiFi.SSID.{i}.SSID").
public struct ParameterDefinition: Sendable, Equatable {
    /// Pattern path with "{i}" for instance numbers; objects end with ".".
    public internal(set) var pattern: String
    /// Last segment ("SSID", "{i}").
    public internal(set) var name: String
    public internal(set) var kind: NodeKind
    /// Parameters: settable by SetParameterValues. Tables and instances: AddObject/DeleteObject allowed.
    public internal(set) var writable: Bool
    public internal(set) var type: XSDType
    /// Default value for new instances (and for template instances unless the loader gave one).
    public internal(set) var defaultValue: String
    /// Read back as "" via GetParameterValues (BBF `hidden`, e.g. passwords).
    public internal(set) var hidden: Bool
    /// BBF `secured`: also read back as "".
    public internal(set) var secured: Bool
    public internal(set) var forcedInform: Bool
    public internal(set) var activeNotify: ActiveNotify
    /// A comma-separated list of values (BBF `<list>`); the wire type is then string.
    public internal(set) var isList: Bool
    public internal(set) var maxLength: Int?
    /// Allowed values for a (non-list) string; empty = any.
    public internal(set) var enumerations: [String]
    public internal(set) var ranges: [ValueRange]
    /// Tables and instances: bounds on the number of instances (nil max = unbounded).
    public internal(set) var minEntries: Int
    public internal(set) var maxEntries: Int?

    var parent: Int32 = -1
    var children: [Int32] = []
    /// For "...NumberOfEntries" parameters: the table node they count (-1 if none).
    var countsTable: Int32 = -1

    public var isObject: Bool { kind != .parameter }
    /// Whether GetParameterValues masks the value.
    public var masked: Bool { hidden || secured }

    init(pattern: String, kind: NodeKind) {
        self.pattern = pattern
        self.name = String(DataModelPath.lastSegment(pattern))
        self.kind = kind
        self.writable = false
        self.type = .string
        self.defaultValue = ""
        self.hidden = false
        self.secured = false
        self.forcedInform = false
        self.activeNotify = .normal
        self.isList = false
        self.maxLength = nil
        self.enumerations = []
        self.ranges = []
        self.minEntries = 0
        self.maxEntries = nil
    }

    /// The neutral value of a type, used when no default is known.
    public static func zeroValue(for type: XSDType) -> String {
        switch type {
        case .int, .unsignedInt, .long, .unsignedLong: "0"
        case .boolean: "false"
        case .dateTime: "0001-01-01T00:00:00Z"
        case .string, .base64, .hexBinary: ""
        }
    }
}

/// One concrete node of the template tree, in depth-first order.
struct TemplateEntry: Sendable {
    let path: String
    let node: Int32
    /// One past the last entry of this node's subtree (index + 1 for parameters).
    var end: Int32
    var value: String
}

/// Errors from the model loaders.
public struct ModelLoadError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An immutable parameter tree with defaults, shared by many simulated devices.
///
/// Two layers: the *schema* (one ``ParameterDefinition`` per pattern such as "Device.WiFi.SSID.{i}.SSID", used to
/// validate values and to instantiate new table entries) and the *entries* (the concrete tree a factory-fresh device
/// has, e.g. "Device.WiFi.SSID.1.SSID", in depth-first order: an object, then its parameters, then its sub-objects;
/// table instances by number). Every object's subtree is a contiguous range of entries, so a partial path is one
/// hash lookup plus a slice.
///
/// Build one with ``loadBBF(path:instances:includeDeprecated:)``, ``loadCSV(path:)``, ``loadJSON(path:)`` or
/// ``load(path:)``, then give it to any number of ``VirtualDataModel`` values.
public final class ModelTemplate: Sendable {
    /// The root object path, e.g. "Device." or "InternetGatewayDevice.".
    public let root: String
    /// The model family, from the root.
    public let kind: DataModelKind?
    /// The BBF model name, e.g. "Device:2.19" (nil for CSV/JSON models).
    public let modelName: String?
    /// Device identity rows of a genieacs-sim CSV ("DeviceID.Manufacturer" → key "Manufacturer").
    public let deviceID: [String: String]

    let nodes: [ParameterDefinition]
    let patternIndex: [String: Int32]
    let entries: [TemplateEntry]
    let index: [String: Int32]
    /// Entry indices of the top-level objects.
    let rootEntries: [Int32]

    /// Concrete parameter paths marked forcedInform in the template.
    public let forcedInformParameters: [String]
    /// Entries whose notification is active by default (activeNotify forceEnabled / forceDefaultEnabled).
    let notifiedByDefault: [Int32]
    public let parameterCount: Int
    public let objectCount: Int
    /// Number of concrete nodes (objects + parameters).
    public var entryCount: Int { entries.count }
    /// Number of schema nodes (patterns).
    public var definitionCount: Int { nodes.count }

    /// An empty template with just a root object.
    public convenience init(root: String) {
        let b = SchemaBuilder()
        b.ensureObject(root.hasSuffix(".") ? root : root + ".")
        self.init(schema: b, modelName: nil, deviceID: [:], instanceCounts: { _, _ in [] }, include: { _ in true }, value: { _, _ in nil })
    }

    /// Builds the concrete tree from a schema. `instanceCounts` gives the instance numbers of a concrete table,
    /// `include` filters concrete paths, `value` overrides a parameter's default for one concrete path.
    init(schema: SchemaBuilder, modelName: String?, deviceID: [String: String],
         instanceCounts: (_ tablePath: String, _ table: ParameterDefinition) -> [UInt32],
         include: (String) -> Bool, value: (String, ParameterDefinition) -> String?) {
        let nodes = schema.finish()
        var entries: [TemplateEntry] = []
        entries.reserveCapacity(nodes.count * 2)
        var forced: [String] = []
        var params = 0

        func emit(_ n: Int32, _ path: String) {
            let node = nodes[Int(n)]
            if node.kind == .parameter {
                entries.append(TemplateEntry(path: path, node: n, end: Int32(entries.count + 1),
                                             value: value(path, node) ?? node.defaultValue))
                params += 1
                if node.forcedInform { forced.append(path) }
                return
            }
            let idx = entries.count
            entries.append(TemplateEntry(path: path, node: n, end: 0, value: ""))
            if node.kind == .table {
                if let inst = node.children.first {
                    for k in instanceCounts(path, node) { emit(inst, path + String(k) + ".") }
                }
            } else {
                for c in node.children {
                    let child = nodes[Int(c)]
                    let cp = path + child.name + (child.kind == .parameter ? "" : ".")
                    if include(cp) { emit(c, cp) }
                }
            }
            entries[idx].end = Int32(entries.count)
        }

        var roots: [Int32] = []
        for (i, n) in nodes.enumerated() where n.parent < 0 && n.kind == .object {
            roots.append(Int32(entries.count))
            emit(Int32(i), n.pattern)
        }
        var index: [String: Int32] = [:]
        index.reserveCapacity(entries.count)
        for (i, e) in entries.enumerated() { index[e.path] = Int32(i) }

        // NumberOfEntries parameters reflect the instances actually present.
        for i in entries.indices {
            let node = nodes[Int(entries[i].node)]
            guard node.countsTable >= 0, let parent = DataModelPath.parent(entries[i].path) else { continue }
            let tablePath = parent + nodes[Int(node.countsTable)].name + "."
            guard let t = index[tablePath] else { entries[i].value = "0"; continue }
            var count = 0
            var j = Int(t) + 1
            while j < Int(entries[Int(t)].end) { count += 1; j = Int(entries[j].end) }
            entries[i].value = String(count)
        }

        self.nodes = nodes
        self.patternIndex = schema.index
        self.entries = entries
        self.index = index
        self.rootEntries = roots
        self.root = roots.first.map { entries[Int($0)].path } ?? ""
        self.kind = self.root == "Device." ? .tr181 : self.root == "InternetGatewayDevice." ? .tr098 : nil
        self.modelName = modelName
        self.deviceID = deviceID
        self.forcedInformParameters = forced
        self.notifiedByDefault = entries.indices.compactMap { i in
            let a = nodes[Int(entries[i].node)].activeNotify
            return a == .forceEnabled || a == .forceDefaultEnabled ? Int32(i) : nil
        }
        self.parameterCount = params
        self.objectCount = entries.count - params
    }

    // MARK: Inspection

    /// The definition for a concrete path or a pattern ("Device.WiFi.SSID.3.SSID" or "Device.WiFi.SSID.{i}.SSID").
    public func definition(of path: String) -> ParameterDefinition? {
        if let i = patternIndex[path] { return nodes[Int(i)] }
        return patternIndex[DataModelPath.pattern(path)].map { nodes[Int($0)] }
    }

    /// Whether the factory-fresh tree contains this concrete path.
    public func contains(_ path: String) -> Bool { index[path] != nil }

    /// The template (factory) value of a concrete parameter.
    public func defaultValue(of path: String) -> String? {
        guard let i = index[path], !nodes[Int(entries[Int(i)].node)].isObject else { return nil }
        return entries[Int(i)].value
    }

    /// Every concrete path of the factory-fresh tree in tree order (objects end with ".").
    public var paths: [String] { entries.map(\.path) }

    /// Every pattern of the schema (objects end with ".").
    public var patterns: [String] { nodes.map(\.pattern) }

    func node(_ entry: Int) -> ParameterDefinition { nodes[Int(entries[entry].node)] }

    // MARK: Loading

    /// Loads a model file, choosing the loader by extension: .xml (BBF full data model, default instances),
    /// .csv (genieacs-sim), .json (Corral's format, see ``loadJSON(path:)``).
    public static func load(path: String) throws -> ModelTemplate {
        switch (path as NSString).pathExtension.lowercased() {
        case "xml": return try loadBBF(path: path)
        case "csv": return try loadCSV(path: path)
        case "json": return try loadJSON(path: path)
        default: throw ModelLoadError("unknown model file type (want .xml, .csv or .json): \(path)")
        }
    }
}

/// Mutable schema under construction: pattern → definition, with implied ancestors.
final class SchemaBuilder {
    var nodes: [ParameterDefinition] = []
    var index: [String: Int32] = [:]
    /// Table pattern → name of its NumberOfEntries parameter (BBF `numEntriesParameter`).
    var numEntriesNames: [Int32: String] = [:]

    subscript(_ i: Int32) -> ParameterDefinition {
        get { nodes[Int(i)] }
        set { nodes[Int(i)] = newValue }
    }

    private func append(_ def: ParameterDefinition, parent: Int32) -> Int32 {
        var d = def
        d.parent = parent
        let i = Int32(nodes.count)
        nodes.append(d)
        index[d.pattern] = i
        if parent >= 0 { nodes[Int(parent)].children.append(i) }
        return i
    }

    /// The object node for a pattern ending in ".", creating it and its ancestors if needed. A pattern ending
    /// in "{i}." makes its parent a table.
    @discardableResult
    func ensureObject(_ pattern: String) -> Int32 {
        if let i = index[pattern] { return i }
        let parentPattern = DataModelPath.parent(pattern)
        if DataModelPath.lastSegment(pattern) == "{i}", let tablePattern = parentPattern {
            let t = ensureObject(tablePattern)
            if nodes[Int(t)].kind != .table { nodes[Int(t)].kind = .table }
            return append(ParameterDefinition(pattern: pattern, kind: .instance), parent: t)
        }
        let p = parentPattern.map { ensureObject($0) } ?? -1
        return append(ParameterDefinition(pattern: pattern, kind: .object), parent: p)
    }

    /// Declares a multi-instance table from the pattern of one instance ("X.T.{i}.") with its access and bounds.
    @discardableResult
    func declareTable(instancePattern: String, writable: Bool, minEntries: Int, maxEntries: Int?) -> Int32 {
        let inst = ensureObject(instancePattern)
        let table = nodes[Int(inst)].parent
        for n in [inst, table] where n >= 0 {
            nodes[Int(n)].writable = writable
            nodes[Int(n)].minEntries = minEntries
            nodes[Int(n)].maxEntries = maxEntries
        }
        return inst
    }

    /// Adds (or returns) a parameter; the caller fills in the fields.
    func ensureParameter(_ pattern: String) -> Int32 {
        if let i = index[pattern] { return i }
        let p = DataModelPath.parent(pattern).map { ensureObject($0) } ?? -1
        return append(ParameterDefinition(pattern: pattern, kind: .parameter), parent: p)
    }

    /// Sorts children (parameters first, then objects, each in definition order), links NumberOfEntries parameters
    /// to their tables and returns the nodes.
    func finish() -> [ParameterDefinition] {
        let isParameter = nodes.map { $0.kind == .parameter }
        for i in nodes.indices {
            nodes[i].children.sort { a, b in
                let pa = isParameter[Int(a)], pb = isParameter[Int(b)]
                if pa != pb { return pa }
                return a < b
            }
        }
        for (t, name) in numEntriesNames {
            let table = nodes[Int(t)]
            if let parent = DataModelPath.parent(table.pattern), let p = index[parent + name], nodes[Int(p)].kind == .parameter {
                nodes[Int(p)].countsTable = t
            }
        }
        let suffix = "NumberOfEntries"
        for i in nodes.indices where nodes[i].kind == .parameter && nodes[i].countsTable < 0 && nodes[i].name.hasSuffix(suffix) {
            let stem = nodes[i].name.dropLast(suffix.count)
            guard !stem.isEmpty, let parent = DataModelPath.parent(nodes[i].pattern) else { continue }
            for candidate in [parent + stem + ".", parent + stem + "s."] {
                if let t = index[candidate], nodes[Int(t)].kind == .table { nodes[i].countsTable = t; break }
            }
        }
        return nodes
    }
}
