import CWMP
import Foundation
import Testing

@Suite("Hostile and broken input")
struct HostileInputTests {
    static let limit = 2.0  // seconds; each case really takes milliseconds

    /// Decodes, expecting a CWMPDecodeError quickly.
    static func expectFailure(_ bytes: [UInt8], from peer: Peer = .cpe, limits: CodecLimits = CodecLimits(),
                              sourceLocation: SourceLocation = #_sourceLocation) -> CWMPDecodeError? {
        var error: CWMPDecodeError?
        let seconds = elapsed { error = decodeError { try CWMPDecoder.decode(bytes, from: peer, limits: limits) } }
        #expect(seconds < limit, "took \(seconds) s", sourceLocation: sourceLocation)
        #expect(error != nil, "decoding should have failed", sourceLocation: sourceLocation)
        return error
    }

    static func isMalformed(_ e: CWMPDecodeError?, containing text: String? = nil) -> Bool {
        guard case .malformed(let msg) = e else { return false }
        return text.map { msg.localizedLowercase.contains($0.lowercased()) } ?? !msg.isEmpty
    }

    static let soapOpen = "<soap-env:Envelope xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:cwmp=\"urn:dslforum-org:cwmp-1-0\"><soap-env:Body>"
    static let soapClose = "</soap-env:Body></soap-env:Envelope>"

    @Test("100,000 attributes on one element are refused in linear time (libxml2 alone took 81.7 s)")
    func attributeBomb() {
        var tag = "<cwmp:Inform"
        for i in 0..<100_000 { tag += " a\(i)=\"\(i)\"" }
        let doc = Self.soapOpen + tag + "/>" + Self.soapClose
        let e = Self.expectFailure(Array(doc.utf8))
        #expect(Self.isMalformed(e, containing: "more than 64 attributes"), "\(String(describing: e))")
        // Quoted `=` and `>` are values, not attributes; comments and CDATA are skipped; 64 attributes still parse far
        // enough to reach the CWMP reader.
        let quoted = Self.soapOpen + "<!-- a=1 b=2 --><cwmp:Reboot x=\"=>=>\" y='='><CommandKey><![CDATA[<p a=1 b=2>]]></CommandKey></cwmp:Reboot>" + Self.soapClose
        #expect((try? CWMPDecoder.decode(Array(quoted.utf8), from: .acs, limits: CodecLimits(maxAttributesPerElement: 2))) != nil)
        var many = "<cwmp:Reboot"
        for i in 0..<64 { many += " a\(i)='\(i)'" }
        let ok = Self.soapOpen + many + "><CommandKey>k</CommandKey></cwmp:Reboot>" + Self.soapClose
        #expect((try? CWMPDecoder.decode(Array(ok.utf8), from: .acs)) != nil)
    }

    @Test("a megabyte-long value is refused before parsing; the longest TR-181 string still parses")
    func hugeValues() throws {
        let inform = String(decoding: try Fixtures.bytes(Fixtures.examples.appendingPathComponent("inform-cwmp-1-2.xml")), as: UTF8.self)
        let huge = inform.replacingOccurrences(of: "<Manufacturer>ExampleCorp</Manufacturer>",
                                              with: "<Manufacturer>" + String(repeating: "M", count: 4 << 20) + "</Manufacturer>")
        let e = Self.expectFailure(Array(huge.utf8), limits: CodecLimits(maxBytes: 8 << 20))
        #expect(Self.isMalformed(e, containing: "longer than 262144 bytes"), "\(String(describing: e))")
        let cdata = inform.replacingOccurrences(of: "<Manufacturer>ExampleCorp</Manufacturer>",
                                                with: "<Manufacturer><![CDATA[" + String(repeating: "C", count: 300_000) + "]]></Manufacturer>")
        #expect(Self.isMalformed(Self.expectFailure(Array(cdata.utf8)), containing: "longer than"))
        // 65,535 characters, each escaped: fits.
        let longest = inform.replacingOccurrences(of: "<Manufacturer>ExampleCorp</Manufacturer>",
                                                  with: "<Manufacturer>" + String(repeating: "&amp;", count: 50_000) + "</Manufacturer>")
        guard case .cpeRequest(.inform(let i)) = try CWMPDecoder.decode(Array(longest.utf8), from: .cpe).body else {
            Issue.record("not an Inform"); return
        }
        #expect(i.deviceId.manufacturer.count == 50_000)
    }

    @Test("too many elements are refused before parsing")
    func elementBomb() {
        let doc = Self.soapOpen + "<cwmp:GetParameterValuesResponse><ParameterList>" + String(repeating: "<x/>", count: 300_000)
            + "</ParameterList></cwmp:GetParameterValuesResponse>" + Self.soapClose
        #expect(Self.isMalformed(Self.expectFailure(Array(doc.utf8)), containing: "more than 250000 elements"))
    }

    @Test("billion laughs entity bomb is refused without expansion")
    func billionLaughs() {
        var dtd = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n"
        dtd += "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        for i in 2...9 { dtd += "<!ENTITY lol\(i) \"" + String(repeating: "&lol\(i - 1);", count: 10) + "\">\n" }
        dtd += "]>\n"
        let doc = dtd + Self.soapOpen + "<cwmp:GetParameterValuesResponse><ParameterList><P><Name>&lol9;</Name></P></ParameterList></cwmp:GetParameterValuesResponse>" + Self.soapClose
        let e = Self.expectFailure(Array(doc.utf8))
        #expect(Self.isMalformed(e, containing: "DTD not allowed"), "\(String(describing: e))")
    }

    @Test("external entities (file and http) are never resolved", arguments: [
        "file:///etc/passwd", "http://127.0.0.1:9/evil.dtd", "/etc/hostname",
    ])
    func externalEntity(_ systemID: String) {
        let doc = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY xxe SYSTEM \"\(systemID)\">]>" + Self.soapOpen
            + "<cwmp:Reboot><CommandKey>&xxe;</CommandKey></cwmp:Reboot>" + Self.soapClose
        let e = Self.expectFailure(Array(doc.utf8), from: .acs)
        #expect(Self.isMalformed(e, containing: "DTD not allowed"))
        // An external DTD subset too.
        let ext = "<?xml version=\"1.0\"?><!DOCTYPE x SYSTEM \"\(systemID)\">" + Self.soapOpen + "<cwmp:FactoryReset/>" + Self.soapClose
        #expect(Self.isMalformed(Self.expectFailure(Array(ext.utf8), from: .acs), containing: "DTD not allowed"))
    }

    @Test("any DOCTYPE is refused, even a harmless one")
    func anyDoctype() {
        let doc = "<!DOCTYPE Envelope>" + Self.soapOpen + "<cwmp:RebootResponse/>" + Self.soapClose
        #expect(Self.isMalformed(Self.expectFailure(Array(doc.utf8)), containing: "DTD not allowed"))
    }

    @Test("undeclared entity reference is malformed")
    func undeclaredEntity() {
        let doc = Self.soapOpen + "<cwmp:Reboot><CommandKey>&xxe;</CommandKey></cwmp:Reboot>" + Self.soapClose
        let e = Self.expectFailure(Array(doc.utf8), from: .acs)
        #expect(Self.isMalformed(e, containing: "xxe"), "\(String(describing: e))")
    }

    @Test("50 MB body is tooLarge before parsing")
    func tooLarge() {
        // Not even XML: proves the size check happens before libxml2 sees it.
        let bytes = [UInt8](repeating: 0x41, count: 50 << 20)
        let e = Self.expectFailure(bytes)
        #expect(e == .tooLarge(50 << 20))
        #expect(Self.expectFailure(Array(repeating: 0x20, count: 1001), limits: CodecLimits(maxBytes: 1000)) == .tooLarge(1001))
    }

    @Test("10,000-deep nesting fails cleanly and quickly")
    func deepNesting() {
        let depth = 10_000
        let doc = Self.soapOpen + "<cwmp:Inform>" + String(repeating: "<a>", count: depth) + String(repeating: "</a>", count: depth)
            + "</cwmp:Inform>" + Self.soapClose
        let e = Self.expectFailure(Array(doc.utf8))
        #expect(Self.isMalformed(e, containing: "deeper than 64"), "\(String(describing: e))")
    }

    @Test("maxDepth is exact: depth 64 passes, 65 fails; a custom limit applies")
    func depthBoundary() throws {
        // Envelope(1) Body(2) GetParameterValuesResponse(3) ParameterList(4) then wrappers.
        func doc(totalDepth: Int) -> [UInt8] {
            let extra = totalDepth - 3
            return Array((Self.soapOpen + "<cwmp:GetParameterValuesResponse>" + String(repeating: "<x>", count: extra)
                          + String(repeating: "</x>", count: extra) + "</cwmp:GetParameterValuesResponse>" + Self.soapClose).utf8)
        }
        #expect(try CWMPDecoder.decode(doc(totalDepth: 64), from: .cpe).body == .cpeResponse(.getParameterValues([])))
        #expect(Self.isMalformed(Self.expectFailure(doc(totalDepth: 65)), containing: "deeper"))
        #expect(Self.isMalformed(Self.expectFailure(doc(totalDepth: 10), limits: CodecLimits(maxDepth: 9)), containing: "deeper than 9"))
    }

    @Test("garbage bytes", arguments: [
        [UInt8](repeating: 0xFF, count: 64), Array("hello world".utf8), [0x00, 0x01, 0x02, 0x03], Array("{\"json\":true}".utf8),
        Array("<".utf8), [],
    ])
    func garbage(_ bytes: [UInt8]) {
        let e = Self.expectFailure(bytes)
        #expect(Self.isMalformed(e), "\(String(describing: e))")
    }

    @Test("truncated XML at many cut points")
    func truncated() {
        let full = CWMPEncoder.encode(Samples.cpeRequests[0].envelope(.v1_2))
        for cut in stride(from: 1, to: full.count - 1, by: max(1, full.count / 40)) {
            let e = Self.expectFailure(Array(full[..<cut]))
            #expect(Self.isMalformed(e), "cut at \(cut): \(String(describing: e))")
        }
    }

    @Test("well-formed but not SOAP")
    func notSOAP() {
        #expect({ if case .notSOAP(let m) = Self.expectFailure(Array("<html><body/></html>".utf8)) { return m.contains("html") }; return false }())
        let noBody = "<soap-env:Envelope xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap-env:Header/></soap-env:Envelope>"
        #expect({ if case .notSOAP(let m) = Self.expectFailure(Array(noBody.utf8)) { return m.contains("Body") }; return false }())
    }

    @Test("empty Body is malformed")
    func emptyBody() {
        for body in ["", "   ", "<!-- nothing -->"] {
            let doc = Self.soapOpen + body + Self.soapClose
            #expect(Self.expectFailure(Array(doc.utf8)) == .malformed("empty body"))
        }
    }

    @Test("unknown method carries name, cwmp:ID and version")
    func unknownMethod() {
        let doc = """
        <soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cwmp="urn:dslforum-org:cwmp-1-2">\
        <soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">77</cwmp:ID></soap-env:Header>\
        <soap-env:Body><cwmp:X_ACME_Frobnicate><A>1</A></cwmp:X_ACME_Frobnicate></soap-env:Body></soap-env:Envelope>
        """
        let e = Self.expectFailure(Array(doc.utf8))
        #expect(e == .unknownMethod(name: "X_ACME_Frobnicate", id: "77", version: .v1_2))
        #expect(e?.messageID == "77")
        // A message of the wrong direction is unknown too.
        let inform = CWMPEncoder.encode(Samples.cpeRequests[0].envelope(.v1_0))
        #expect(Self.expectFailure(inform, from: .acs) == .unknownMethod(name: "Inform", id: "42", version: .v1_0))
        let reboot = CWMPEncoder.encode(Samples.acsRequests[8].envelope(.v1_1))
        #expect(Self.expectFailure(reboot, from: .cpe) == .unknownMethod(name: "Reboot", id: "42", version: .v1_1))
    }

    @Test("numbers and booleans that do not parse are invalidArgument with detail", arguments: [
        ("<cwmp:SetParameterValuesResponse><Status>zero</Status></cwmp:SetParameterValuesResponse>", "Status", "zero"),
        ("<cwmp:AddObjectResponse><InstanceNumber>-1</InstanceNumber><Status>0</Status></cwmp:AddObjectResponse>", "InstanceNumber", "-1"),
        ("<cwmp:AddObjectResponse><InstanceNumber>4294967296</InstanceNumber><Status>0</Status></cwmp:AddObjectResponse>", "InstanceNumber", "4294967296"),
        ("<cwmp:GetParameterNamesResponse><ParameterList><S><Name>A</Name><Writable>yes</Writable></S></ParameterList></cwmp:GetParameterNamesResponse>", "Writable", "yes"),
        ("<cwmp:Inform><RetryCount>1.5</RetryCount></cwmp:Inform>", "RetryCount", "1.5"),
    ])
    func invalidArgument(_ body: String, _ field: String, _ value: String) {
        let doc = """
        <soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cwmp="urn:dslforum-org:cwmp-1-1">\
        <soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">id-5</cwmp:ID></soap-env:Header><soap-env:Body>\(body)</soap-env:Body></soap-env:Envelope>
        """
        let e = Self.expectFailure(Array(doc.utf8))
        guard case .invalidArgument(let method, let detail, let id, let version) = e else {
            Issue.record("expected invalidArgument, got \(String(describing: e))"); return
        }
        #expect(detail.contains(field) && detail.contains(value), "\(detail)")
        #expect(id == "id-5" && version == .v1_1)
        #expect(body.contains("<cwmp:\(method)>"))
        #expect(e!.description.contains(field))
    }

    @Test("libxml2 messages reach the error, with a position")
    func usefulMessages() {
        let e = Self.expectFailure(Array((Self.soapOpen + "<cwmp:RebootResponse></cwmp:Wrong>" + Self.soapClose).utf8))
        guard case .malformed(let msg) = e else { Issue.record("\(String(describing: e))"); return }
        #expect(msg.contains("line 1"), "\(msg)")
        #expect(msg.contains("RebootResponse") || msg.contains("mismatch"), "\(msg)")
        #expect(e!.description.hasPrefix("malformed XML"))
    }
}
