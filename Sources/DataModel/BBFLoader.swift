import CLibXML2
import CWMP
import Foundation

/// libxml2 wants one xmlInitParser() per process before use from several threads.
private let libxmlInitialized: Bool = {
    xmlInitParser()
    return true
}()

extension ModelTemplate {
    /// Built-in instance counts for the BBF loader, keyed by the pattern of one instance ("Device.WiFi.SSID.{i}.").
    /// Nested tables are instantiated under every instance of their parent. Tables not listed start empty (except
    /// fixed-size tables, which always get their `minEntries`).
    public static func defaultInstances(for kind: DataModelKind) -> [String: Int] {
        switch kind {
        case .tr181:
            return [
                "Device.WiFi.Radio.{i}.": 2,
                "Device.WiFi.SSID.{i}.": 2,
                "Device.WiFi.AccessPoint.{i}.": 2,
                "Device.IP.Interface.{i}.": 2,
                "Device.IP.Interface.{i}.IPv4Address.{i}.": 1,
                "Device.IP.Interface.{i}.IPv6Address.{i}.": 1,
                "Device.Ethernet.Interface.{i}.": 1,
                "Device.Ethernet.Link.{i}.": 1,
                "Device.Cellular.Interface.{i}.": 1,
                "Device.Cellular.AccessPoint.{i}.": 1,
                "Device.DHCPv4.Server.Pool.{i}.": 1,
                "Device.DHCPv4.Client.{i}.": 1,
                "Device.NAT.InterfaceSetting.{i}.": 1,
                "Device.DNS.Client.Server.{i}.": 1,
                "Device.Routing.Router.{i}.": 1,
                "Device.Routing.Router.{i}.IPv4Forwarding.{i}.": 1,
                "Device.DeviceInfo.FirmwareImage.{i}.": 2,
            ]
        case .tr098:
            return [
                "InternetGatewayDevice.LANDevice.{i}.": 1,
                "InternetGatewayDevice.LANDevice.{i}.WLANConfiguration.{i}.": 1,
                "InternetGatewayDevice.LANDevice.{i}.WLANConfiguration.{i}.PreSharedKey.{i}.": 1,
                "InternetGatewayDevice.LANDevice.{i}.LANHostConfigManagement.IPInterface.{i}.": 1,
                "InternetGatewayDevice.LANDevice.{i}.LANEthernetInterfaceConfig.{i}.": 1,
                "InternetGatewayDevice.WANDevice.{i}.": 1,
                "InternetGatewayDevice.WANDevice.{i}.WANConnectionDevice.{i}.": 1,
                "InternetGatewayDevice.WANDevice.{i}.WANConnectionDevice.{i}.WANIPConnection.{i}.": 1,
                "InternetGatewayDevice.Layer3Forwarding.Forwarding.{i}.": 1,
            ]
        }
    }

    /// Loads an official Broadband Forum "full" data-model XML (e.g. tr-181-2-19-1-cwmp-full.xml,
    /// tr-098-1-8-0-full.xml) with libxml2's streaming reader.
    ///
    /// - Parameters:
    ///   - instances: instance counts by table pattern ("Device.WiFi.SSID.{i}." or "Device.WiFi.SSID."); nil = the
    ///     built-in ``defaultInstances(for:)`` of the file's model. A table always gets at least its `minEntries`.
    ///   - includeDeprecated: keep items with status="deprecated" (deleted and obsoleted items are always dropped).
    public static func loadBBF(path: String, instances: [String: Int]? = nil, includeDeprecated: Bool = false) throws -> ModelTemplate {
        _ = libxmlInitialized
        let parsed = try BBFParser(path: path, includeDeprecated: includeDeprecated).parse()
        let schema = parsed.schema
        var rootPattern = ""
        if let r = schema.nodes.first(where: { $0.parent < 0 && $0.kind == .object }) { rootPattern = r.pattern }
        let kind: DataModelKind? = rootPattern == "Device." ? .tr181 : rootPattern == "InternetGatewayDevice." ? .tr098 : nil
        var counts: [String: Int] = [:]
        for (k, v) in instances ?? kind.map(defaultInstances(for:)) ?? [:] {
            var key = k.hasSuffix(".") ? k : k + "."
            if !key.hasSuffix("{i}.") { key += "{i}." }
            counts[key] = v
        }
        return ModelTemplate(schema: schema, modelName: parsed.modelName, deviceID: [:], instanceCounts: { _, table in
            guard let inst = table.children.first else { return [] }
            let instPattern = schema.nodes[Int(inst)].pattern
            var n = max(counts[instPattern] ?? 0, table.minEntries)
            if let m = table.maxEntries { n = min(n, m) }
            return n > 0 ? (1...UInt32(n)).map { $0 } : []
        }, include: { _ in true }, value: { _, _ in nil })
    }
}

/// Streaming parser for BBF data-model documents (cwmp-datamodel-1-x schema).
private final class BBFParser {
    struct Facets {
        var maxLength: Int?
        var enumerations: [String] = []
        var ranges: [ValueRange] = []
    }

    struct DataTypeDef {
        var base: String?
        var primitive: String?
        var isList = false
        var facets = Facets()
    }

    struct ParamState {
        var pattern: String
        var writable: Bool
        var forcedInform: Bool
        var activeNotify: ActiveNotify
        var hidden = false
        var secured = false
        var primitive: String?
        var ref: String?
        var isList = false
        var facets = Facets()
        var defaults: [String: String] = [:]
    }

    let path: String
    let includeDeprecated: Bool
    var schema = SchemaBuilder()
    var dataTypes: [String: DataTypeDef] = [:]

    init(path: String, includeDeprecated: Bool) {
        self.path = path
        self.includeDeprecated = includeDeprecated
    }

    static let primitives: Set<String> = ["string", "int", "unsignedInt", "long", "unsignedLong", "boolean", "dateTime",
                                          "base64", "hexBinary", "decimal"]

    func skipped(_ status: String?) -> Bool {
        switch status {
        case "deleted", "obsoleted": true
        case "deprecated": !includeDeprecated
        default: false
        }
    }

    func parse() throws -> (schema: SchemaBuilder, modelName: String?) {
        guard FileManager.default.fileExists(atPath: path) else { throw ModelLoadError("no such file: \(path)") }
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_COMPACT.rawValue | XML_PARSE_HUGE.rawValue | XML_PARSE_NOCDATA.rawValue)
        guard let reader = xmlReaderForFile(path, nil, options) else { throw ModelLoadError("cannot open \(path)") }
        defer { xmlFreeTextReader(reader) }

        func attr(_ name: StaticString) -> String? {
            name.withUTF8Buffer { buf -> String? in
                // StaticString literals are NUL-terminated.
                guard let p = xmlTextReaderGetAttribute(reader, buf.baseAddress) else { return nil }
                defer { corral_xmlFree(p) }
                return String(cString: p)
            }
        }

        var modelName: String?
        var top = ""                      // element at depth 1
        var dataType: (name: String, def: DataTypeDef)?
        var inModel = false
        var objectOK = false              // current object kept
        var objectPattern = ""
        var skippedPrefixes: [String] = []
        var param: ParamState?
        var syntaxChild = ""              // element at depth 5 (child of <syntax>)
        var dtChild = ""                  // element at depth 2 inside a top-level <dataType>
        var sawElement = false

        func finishParam(_ p: ParamState) {
            var type: XSDType = .string
            var isList = p.isList
            var maxLength = p.facets.maxLength
            var enums = p.facets.enumerations
            var ranges = p.facets.ranges
            if let prim = p.primitive {
                type = BBFParser.xsdType(prim)
            } else if let ref = p.ref {
                let r = resolve(ref)
                type = r.type
                isList = isList || r.isList
                if maxLength == nil { maxLength = r.maxLength }
                if enums.isEmpty { enums = r.enumerations }
                if ranges.isEmpty { ranges = r.ranges }
            }
            if isList { type = .string; enums = []; ranges = [] }
            let n = schema.ensureParameter(p.pattern)
            var d = schema[n]
            d.writable = p.writable
            d.type = type
            d.hidden = p.hidden
            d.secured = p.secured
            d.forcedInform = p.forcedInform
            d.activeNotify = p.activeNotify
            d.isList = isList
            d.maxLength = maxLength
            d.enumerations = enums
            d.ranges = ranges
            if let v = p.defaults["object"] ?? p.defaults["factory"] ?? p.defaults["implementation"] ?? p.defaults[""] as String? {
                d.defaultValue = v
            } else if let first = enums.first, type == .string {
                d.defaultValue = first
            } else {
                d.defaultValue = ParameterDefinition.zeroValue(for: type)
            }
            schema[n] = d
        }

        while true {
            let r = xmlTextReaderRead(reader)
            if r == 0 { break }
            if r < 0 { throw ModelLoadError("XML parse error in \(path)") }
            let nodeType = xmlTextReaderNodeType(reader)
            let depth = xmlTextReaderDepth(reader)
            if nodeType == Int32(XML_READER_TYPE_END_ELEMENT.rawValue) {
                if depth == 3, param != nil, let p = param { finishParam(p); param = nil }
                if depth == 1 {
                    if let dt = dataType { dataTypes[dt.name] = dt.def; dataType = nil }
                    inModel = false
                }
                continue
            }
            guard nodeType == Int32(XML_READER_TYPE_ELEMENT.rawValue), let lnPtr = xmlTextReaderConstLocalName(reader) else { continue }
            let name = String(cString: lnPtr)
            let empty = xmlTextReaderIsEmptyElement(reader) == 1
            if !sawElement {
                sawElement = true
                if name != "document" { throw ModelLoadError("not a BBF data-model document (root <\(name)>): \(path)") }
                continue
            }

            switch depth {
            case 1:
                top = name
                if name == "dataType", let n = attr("name") {
                    dataType = (n, DataTypeDef(base: attr("base")))
                    if empty { dataTypes[n] = dataType!.def; dataType = nil }
                } else if name == "model" {
                    inModel = true
                    modelName = attr("name")
                }
            case 2 where top == "dataType" && dataType != nil:
                dtChild = name
                if BBFParser.primitives.contains(name) {
                    if dataType!.def.primitive == nil { dataType!.def.primitive = name }
                } else if name == "list" {
                    dataType!.def.isList = true
                } else {
                    applyFacet(name, attr: attr, &dataType!.def.facets)
                }
            case 3 where top == "dataType" && dataType != nil && dtChild != "list":
                applyFacet(name, attr: attr, &dataType!.def.facets)
            case 2 where inModel && name == "object":
                objectOK = false
                guard let oname = attr("name") else { break }
                if skipped(attr("status")) || skippedPrefixes.contains(where: { oname.hasPrefix($0) }) {
                    skippedPrefixes.append(oname)
                    break
                }
                let writable = attr("access") == "readWrite"
                objectPattern = oname
                objectOK = true
                if DataModelPath.lastSegment(oname) == "{i}" {
                    let minE = attr("minEntries").flatMap { Int($0) } ?? 0
                    let maxRaw = attr("maxEntries")
                    let maxE: Int? = maxRaw == nil || maxRaw == "unbounded" ? nil : Int(maxRaw!)
                    let inst = schema.declareTable(instancePattern: oname, writable: writable, minEntries: minE, maxEntries: maxE)
                    if let ne = attr("numEntriesParameter") { schema.numEntriesNames[schema[inst].parent] = ne }
                } else {
                    schema.ensureObject(oname)
                }
            case 3 where inModel && objectOK && name == "parameter":
                guard let pname = attr("name"), !skipped(attr("status")) else { break }
                let notify: ActiveNotify
                switch attr("activeNotify") {
                case "canDeny": notify = .canDeny
                case "forceEnabled": notify = .forceEnabled
                case "forceDefaultEnabled": notify = .forceDefaultEnabled
                default: notify = .normal
                }
                param = ParamState(pattern: objectPattern + pname, writable: attr("access") == "readWrite",
                                   forcedInform: attr("forcedInform") == "true", activeNotify: notify)
                if empty { finishParam(param!); param = nil }
            case 4 where param != nil && name == "syntax":
                param!.hidden = attr("hidden") == "true"
                param!.secured = attr("secured") == "true"
            case 5 where param != nil:
                syntaxChild = name
                if BBFParser.primitives.contains(name) {
                    if param!.primitive == nil && param!.ref == nil { param!.primitive = name }
                } else if name == "list" {
                    param!.isList = true
                } else if name == "dataType" {
                    if param!.primitive == nil, let ref = attr("ref") ?? attr("base") { param!.ref = ref }
                } else if name == "default" {
                    param!.defaults[attr("type") ?? ""] = attr("value") ?? ""
                }
            case 6 where param != nil && syntaxChild != "list":
                applyFacet(name, attr: attr, &param!.facets)
            default:
                break
            }
        }
        if schema.nodes.isEmpty { throw ModelLoadError("no objects in \(path)") }
        return (schema, modelName)
    }

    private func applyFacet(_ name: String, attr: (StaticString) -> String?, _ facets: inout Facets) {
        switch name {
        case "enumeration":
            if let v = attr("value") { facets.enumerations.append(v) }
        case "size":
            if let m = attr("maxLength").flatMap({ Int($0) }) { facets.maxLength = m }
        case "range":
            let lo = attr("minInclusive").flatMap { Double($0) }, hi = attr("maxInclusive").flatMap { Double($0) }
            if lo != nil || hi != nil { facets.ranges.append(ValueRange(min: lo, max: hi)) }
        default:
            break
        }
    }

    /// Follows a named data type's base chain to its primitive type and inherited facets.
    func resolve(_ name: String) -> (type: XSDType, isList: Bool, maxLength: Int?, enumerations: [String], ranges: [ValueRange]) {
        var type: XSDType = .string
        var isList = false
        var maxLength: Int?
        var enums: [String] = []
        var ranges: [ValueRange] = []
        var current: String? = name
        var seen = Set<String>()
        while let c = current, !seen.contains(c), let def = dataTypes[c] {
            seen.insert(c)
            isList = isList || def.isList
            if maxLength == nil { maxLength = def.facets.maxLength }
            if enums.isEmpty { enums = def.facets.enumerations }
            if ranges.isEmpty { ranges = def.facets.ranges }
            if let p = def.primitive { type = BBFParser.xsdType(p); break }
            current = def.base
        }
        return (type, isList, maxLength, enums, ranges)
    }

    static func xsdType(_ primitive: String) -> XSDType {
        switch primitive {
        case "int": .int
        case "unsignedInt": .unsignedInt
        case "long": .long
        case "unsignedLong": .unsignedLong
        case "boolean": .boolean
        case "dateTime": .dateTime
        case "base64": .base64
        case "hexBinary": .hexBinary
        default: .string
        }
    }
}
