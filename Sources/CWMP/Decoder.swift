// Envelope-level decoding: Envelope/Header/Body, version detection, SOAP faults and dispatch to the
// per-direction message readers (Decoder+CPE.swift, Decoder+ACS.swift).
//
// Matching is by local name (and namespace URI where it matters); prefixes are never looked at.

import CLibXML2

enum EnvelopeReader {
    static func read(root: XElem, from sender: Peer) throws -> Envelope {
        guard root.isNamed("Envelope") else {
            throw CWMPDecodeError.notSOAP("root element is <\(root.name)>, expected a SOAP Envelope")
        }
        var headerElem: XElem?
        var bodyElem: XElem?
        for child in root.childElements {
            if headerElem == nil, child.isNamed("Header") { headerElem = child }
            else if bodyElem == nil, child.isNamed("Body") { bodyElem = child }
        }
        guard let bodyElem else { throw CWMPDecodeError.notSOAP("Envelope has no Body") }

        var idVersion: CWMPVersion?
        let header = headerElem.map { readHeader($0, idVersion: &idVersion) } ?? CWMPHeader()

        guard let rpc = bodyElem.firstChildElement else { throw CWMPDecodeError.malformed("empty body") }

        // A SOAP Fault (any non-cwmp namespace), or a bare cwmp:Fault some stacks put straight into the Body.
        if rpc.isNamed("Fault") {
            let cwmpFault: XElem?
            let faultVersionElem: XElem?
            if CWMPVersion(of: rpc) != nil, rpc.child("FaultCode") != nil {
                cwmpFault = rpc
                faultVersionElem = rpc
            } else {
                // A plain loop: the nested-closure form (`flatMap { $0.childElements.first { … } }`) crashes the
                // Swift 6.3.1 optimizer (SIL ownership verifier in CopyPropagation) in release builds.
                var found: XElem?
                if let detail = rpc.child("detail") {
                    for c in detail.childElements where c.isNamed("Fault") { found = c; break }
                }
                cwmpFault = found
                faultVersionElem = cwmpFault
            }
            let version = faultVersionElem.flatMap { CWMPVersion(of: $0) } ?? idVersion ?? declaredVersion(root, bodyElem)
                ?? .v1_0
            let fault = readFault(soapFault: rpc, cwmpFault: cwmpFault, sender: sender)
            return Envelope(version: version, header: header, body: .fault(fault))
        }

        let version = CWMPVersion(of: rpc) ?? idVersion ?? declaredVersion(root, bodyElem) ?? .v1_0
        let name = rpc.name
        let ctx = DecodeContext(method: name, id: header.id, version: version)
        let body: CWMPBody?
        switch sender {
        case .cpe: body = try CPEMessageReader.read(rpc, name: name, ctx)
        case .acs: body = try ACSMessageReader.read(rpc, name: name, ctx)
        }
        guard let body else { throw CWMPDecodeError.unknownMethod(name: name, id: header.id, version: version) }
        return Envelope(version: version, header: header, body: body)
    }

    static func readHeader(_ elem: XElem, idVersion: inout CWMPVersion?) -> CWMPHeader {
        var header = CWMPHeader()
        for h in elem.childElements {
            if h.isNamed("ID") {
                header.id = h.text
                idVersion = CWMPVersion(of: h)
            } else if h.isNamed("HoldRequests") {
                header.holdRequests = parseBool(trimmed(h.text))
            } else if h.isNamedCaseInsensitive("SessionTimeout") {
                header.sessionTimeout = UInt32(trimmed(h.text))
            } else if h.isNamed("SupportedCWMPVersions") {
                header.supportedCWMPVersions = trimmed(h.text)
            } else if h.isNamed("UseCWMPVersion") {
                header.useCWMPVersion = trimmed(h.text)
            }
        }
        return header
    }

    /// A cwmp namespace declared on the Envelope or Body (used when neither the RPC nor cwmp:ID is qualified).
    static func declaredVersion(_ elems: XElem...) -> CWMPVersion? {
        for e in elems {
            var ns = e.node.pointee.nsDef
            while let n = ns {
                if let v = CWMPVersion(namespaceURI: n.pointee.href) { return v }
                ns = n.pointee.next
            }
        }
        return nil
    }

    /// Reads a SOAP Fault. Without a cwmp:Fault detail, the fault becomes 9002 (from a CPE) or 8002 (from an ACS)
    /// carrying the SOAP faultstring.
    static func readFault(soapFault: XElem, cwmpFault: XElem?, sender: Peer) -> CWMPFault {
        var faultCode = soapFault.child("faultcode").map { trimmed($0.text) } ?? ""
        // "soap-env:Client" -> "Client"
        if let colon = faultCode.lastIndex(of: ":") { faultCode = String(faultCode[faultCode.index(after: colon)...]) }
        let faultString = soapFault.child("faultstring")?.text ?? ""
        let fallbackCode = sender == .cpe ? 9002 : 8002

        guard let cwmpFault else {
            return CWMPFault(code: fallbackCode, string: faultString, faultCode: faultCode.isEmpty ? nil : faultCode,
                             faultString: faultString)
        }
        let code = cwmpFault.child("FaultCode").flatMap { Int(trimmed($0.text)) } ?? fallbackCode
        let string = cwmpFault.child("FaultString")?.text ?? ""
        var paramFaults: [CWMPFault.ParameterFault] = []
        for spf in cwmpFault.childElements where spf.isNamed("SetParameterValuesFault") {
            paramFaults.append(CWMPFault.ParameterFault(
                parameterName: trimmed(spf.child("ParameterName")?.text ?? ""),
                code: spf.child("FaultCode").flatMap { Int(trimmed($0.text)) } ?? 0,
                string: spf.child("FaultString")?.text ?? ""))
        }
        return CWMPFault(code: code, string: string, faultCode: faultCode.isEmpty ? nil : faultCode,
                         faultString: faultString, setParameterValuesFaults: paramFaults)
    }
}
