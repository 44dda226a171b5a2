// Envelope-level encoding: namespaces, SOAP header, SOAP fault and dispatch to the per-message writers
// (Encoder+ACS.swift: what an ACS sends, Encoder+CPE.swift: what a CPE sends).
//
// Output follows the element order of cwmp-1-x.xsd. The cwmp prefix is bound to envelope.version's URI.

enum EnvelopeWriter {
    static func estimatedSize(_ envelope: Envelope) -> Int {
        let base = 768
        switch envelope.body {
        case .acsRequest(.setParameterValues(let params, _)): return base + params.count * 160
        case .acsRequest(.getParameterValues(let names)): return base + names.count * 80
        case .cpeResponse(.getParameterValues(let params)): return base + params.count * 160
        case .cpeResponse(.getParameterNames(let infos)): return base + infos.count * 120
        case .cpeRequest(.inform(let inform)): return base + 512 + inform.parameters.count * 160
        default: return base + 512
        }
    }

    static func write(_ envelope: Envelope, into w: inout XMLWriter) {
        w.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        w.raw("<soap-env:Envelope xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\"")
        w.raw(" xmlns:soap-enc=\"http://schemas.xmlsoap.org/soap/encoding/\"")
        w.raw(" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"")
        w.raw(" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"")
        w.raw(" xmlns:cwmp=\""); w.rawString(envelope.version.rawValue); w.raw("\">")
        writeHeader(envelope.header, into: &w)
        w.open("soap-env:Body")
        switch envelope.body {
        case .acsRequest(let r): ACSMessageWriter.write(r, into: &w)
        case .acsResponse(let r): ACSMessageWriter.write(r, into: &w)
        case .cpeRequest(let r): CPEMessageWriter.write(r, into: &w)
        case .cpeResponse(let r): CPEMessageWriter.write(r, into: &w)
        case .fault(let f): writeFault(f, into: &w)
        }
        w.close("soap-env:Body")
        w.close("soap-env:Envelope")
    }

    static func writeHeader(_ h: CWMPHeader, into w: inout XMLWriter) {
        if h.id == nil && h.holdRequests == nil && h.sessionTimeout == nil && h.supportedCWMPVersions == nil
            && h.useCWMPVersion == nil { return }
        w.open("soap-env:Header")
        if let id = h.id {
            w.raw("<cwmp:ID soap-env:mustUnderstand=\"1\">"); w.text(id); w.close("cwmp:ID")
        }
        if let hold = h.holdRequests {
            w.raw("<cwmp:HoldRequests soap-env:mustUnderstand=\"1\">"); w.raw(hold ? "1" : "0"); w.close("cwmp:HoldRequests")
        }
        if let timeout = h.sessionTimeout {
            w.raw("<cwmp:SessionTimeout soap-env:mustUnderstand=\"0\">"); w.integer(timeout); w.close("cwmp:SessionTimeout")
        }
        if let versions = h.supportedCWMPVersions {
            w.raw("<cwmp:SupportedCWMPVersions soap-env:mustUnderstand=\"0\">"); w.text(versions)
            w.close("cwmp:SupportedCWMPVersions")
        }
        if let use = h.useCWMPVersion {
            w.raw("<cwmp:UseCWMPVersion soap-env:mustUnderstand=\"1\">"); w.text(use); w.close("cwmp:UseCWMPVersion")
        }
        w.close("soap-env:Header")
    }

    /// soap-env:Fault with faultcode/faultstring and detail/cwmp:Fault. SetParameterValuesFault entries are
    /// written whenever present (the schema allows them on any cwmp:Fault; they only make sense for 9003
    /// answering SetParameterValues).
    static func writeFault(_ f: CWMPFault, into w: inout XMLWriter) {
        w.open("soap-env:Fault")
        let faultCode = f.faultCode.isEmpty ? CWMPFault.defaultFaultCode(for: f.code) : f.faultCode
        w.leaf("faultcode", faultCode)
        w.leaf("faultstring", f.faultString)
        w.open("detail")
        w.open("cwmp:Fault")
        w.leaf("FaultCode", f.code)
        w.leaf("FaultString", f.string)
        for p in f.setParameterValuesFaults {
            w.open("SetParameterValuesFault")
            w.leaf("ParameterName", p.parameterName)
            w.leaf("FaultCode", p.code)
            w.leaf("FaultString", p.string)
            w.close("SetParameterValuesFault")
        }
        w.close("cwmp:Fault")
        w.close("detail")
        w.close("soap-env:Fault")
    }

    // MARK: Shared structures

    static func parameterValueList(_ name: StaticString, _ params: [ParameterValue], into w: inout XMLWriter) {
        w.openArray(name, type: "cwmp:ParameterValueStruct", count: params.count)
        for p in params {
            w.open("ParameterValueStruct")
            w.leaf("Name", p.name)
            w.raw("<Value xsi:type=\"xsd:"); w.rawString(p.type.rawValue); w.raw("\">")
            w.text(p.value)
            w.close("Value")
            w.close("ParameterValueStruct")
        }
        w.close(name)
    }

    static func stringArray(_ name: StaticString, _ items: [String], into w: inout XMLWriter) {
        w.openArray(name, type: "xsd:string", count: items.count)
        for s in items { w.leaf("string", s) }
        w.close(name)
    }

    static func faultStruct(_ name: StaticString, _ f: FaultStruct, into w: inout XMLWriter) {
        w.open(name)
        w.leaf("FaultCode", f.code)
        w.leaf("FaultString", f.string)
        w.close(name)
    }
}
