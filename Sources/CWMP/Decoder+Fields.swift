// Field readers shared by both directions: scalars with lenient defaults, arrays (any item element name, the
// soap-enc:arrayType count is ignored) and the structs that appear in several messages.

import CLibXML2

/// Identifies the message being decoded, for error reporting.
struct DecodeContext {
    let method: String
    let id: String?
    let version: CWMPVersion

    func invalid(_ detail: String) -> CWMPDecodeError {
        .invalidArgument(method: method, detail: detail, id: id, version: version)
    }
}

/// Trims ASCII whitespace (XML's S production) from both ends.
@inline(__always)
func trimmed(_ s: String) -> String {
    let utf8 = s.utf8
    guard let first = utf8.first, let last = utf8.last else { return s }
    @inline(__always) func isWS(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
    if !isWS(first) && !isWS(last) { return s }
    guard let start = utf8.firstIndex(where: { !isWS($0) }) else { return "" }
    let end = utf8.lastIndex(where: { !isWS($0) })!
    return String(s[start...end])
}

/// xsd:boolean: 0/1/true/false (case-insensitive for robustness).
func parseBool(_ s: String) -> Bool? {
    switch s {
    case "1", "true": return true
    case "0", "false": return false
    default:
        switch s.lowercased() {
        case "true": return true
        case "false": return false
        default: return nil
        }
    }
}

/// Maps an xsi:type value ("xsd:int", "xs:int", "int", "soap-enc:base64", ...) to XSDType; unknown -> .string.
func xsdType(fromXSIType raw: String?) -> XSDType {
    guard let raw else { return .string }
    // Byte-wise (Character iteration was a visible share of decoding an Inform): the part after the last ':'.
    var local = Substring(raw)
    if let colon = raw.utf8.lastIndex(of: UInt8(ascii: ":")) { local = raw[raw.utf8.index(after: colon)...] }
    while local.utf8.first == 0x20 { local = local.dropFirst() }
    if let t = XSDType(rawValue: String(local)) { return t }
    switch local.lowercased() {
    case "string": return .string
    case "int", "integer", "short", "byte": return .int
    case "unsignedint", "unsignedshort", "unsignedbyte": return .unsignedInt
    case "long": return .long
    case "unsignedlong": return .unsignedLong
    case "boolean", "bool": return .boolean
    case "datetime": return .dateTime
    case "base64", "base64binary": return .base64
    case "hexbinary": return .hexBinary
    default: return .string
    }
}

extension XElem {
    /// Text of a child element, "" when absent.
    func string(_ name: StaticString) -> String { child(name)?.text ?? "" }

    /// Trimmed text of a child element, "" when absent.
    func token(_ name: StaticString) -> String { child(name).map { trimmed($0.text) } ?? "" }

    func uint32(_ name: StaticString, _ ctx: DecodeContext, default def: UInt32 = 0) throws -> UInt32 {
        let s = token(name)
        if s.isEmpty { return def }
        guard let v = UInt32(s) else { throw ctx.invalid("\(name) '\(s)' is not an unsignedInt") }
        return v
    }

    func int(_ name: StaticString, _ ctx: DecodeContext, default def: Int = 0) throws -> Int {
        let s = token(name)
        if s.isEmpty { return def }
        guard let v = Int32(s) else { throw ctx.invalid("\(name) '\(s)' is not an int") }
        return Int(v)
    }

    func bool(_ name: StaticString, _ ctx: DecodeContext, default def: Bool = false) throws -> Bool {
        let s = token(name)
        if s.isEmpty { return def }
        guard let v = parseBool(s) else { throw ctx.invalid("\(name) '\(s)' is not a boolean") }
        return v
    }

    /// A dateTime kept as sent (trimmed); `def` when absent or empty.
    func dateTime(_ name: StaticString, default def: String = "") -> String {
        let s = token(name)
        return s.isEmpty ? def : s
    }

    /// Items of an array child (whatever the item elements are called).
    func arrayItems(_ name: StaticString) -> XElem.ChildSequence {
        XElem.ChildSequence(first: child(name)?.firstChildElement)
    }

    /// An xsd:string[] array: trimmed text of each item.
    func stringArray(_ name: StaticString) -> [String] {
        arrayItems(name).map { trimmed($0.text) }
    }

    /// ParameterValueStruct[]: a missing Value is "", a missing or unknown xsi:type is .string.
    func parameterValueList(_ name: StaticString) -> [ParameterValue] {
        var out: [ParameterValue] = []
        for item in arrayItems(name) {
            let valueElem = item.child("Value")
            out.append(ParameterValue(name: item.token("Name"), value: valueElem?.text ?? "",
                                      type: xsdType(fromXSIType: valueElem?.xsiType)))
        }
        return out
    }

    func faultStruct(_ name: StaticString, _ ctx: DecodeContext) throws -> FaultStruct {
        guard let f = child(name) else { return .none }
        return FaultStruct(code: try f.int("FaultCode", ctx), string: f.string("FaultString"))
    }

    /// DUStateChangeComplete / AutonomousDUStateChangeComplete results. The schema repeats `Results` elements,
    /// each an OpResultStruct; some stacks wrap them in one SOAP array instead. Both are accepted.
    func opResults(_ ctx: DecodeContext, autonomous: Bool) throws -> [DUOpResult] {
        var out: [DUOpResult] = []
        for r in childElements where r.isNamed("Results") {
            if r.child("UUID") != nil || r.child("CurrentState") != nil || r.child("Fault") != nil {
                out.append(try r.opResult(ctx, autonomous: autonomous))
            } else {
                for item in r.childElements { out.append(try item.opResult(ctx, autonomous: autonomous)) }
            }
        }
        return out
    }

    func opResult(_ ctx: DecodeContext, autonomous: Bool) throws -> DUOpResult {
        DUOpResult(uuid: token("UUID"), deploymentUnitRef: string("DeploymentUnitRef"), version: string("Version"),
                   currentState: token("CurrentState"), resolved: try bool("Resolved", ctx, default: true),
                   executionUnitRefList: string("ExecutionUnitRefList"),
                   startTime: dateTime("StartTime", default: CWMPDateTime.unknown),
                   completeTime: dateTime("CompleteTime", default: CWMPDateTime.unknown),
                   fault: try faultStruct("Fault", ctx),
                   operationPerformed: autonomous ? token("OperationPerformed") : nil)
    }
}
