import CWMP
import Testing

@Suite("Lenient decoding of odd but real-world input")
struct LenientDecodingTests {
    /// A complete envelope with configurable prefixes and namespaces.
    static func envelope(env: String = "soap-env", cwmp: String = "cwmp", cwmpNS: String = "urn:dslforum-org:cwmp-1-0",
                         xsi: String = "http://www.w3.org/2001/XMLSchema-instance",
                         header: String? = nil, body: String) -> [UInt8] {
        let hdr = header ?? "<\(env):Header><\(cwmp):ID \(env):mustUnderstand=\"1\">id-9</\(cwmp):ID></\(env):Header>"
        return Array("""
        <?xml version="1.0"?>
        <\(env):Envelope xmlns:\(env)="http://schemas.xmlsoap.org/soap/envelope/" \
        xmlns:soap-enc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" \
        xmlns:xsi="\(xsi)" xmlns:\(cwmp)="\(cwmpNS)">\(hdr)<\(env):Body>\(body)</\(env):Body></\(env):Envelope>
        """.utf8)
    }

    static let gpvResponse = """
    <cwmp:GetParameterValuesResponse><ParameterList soap-enc:arrayType="cwmp:ParameterValueStruct[2]">\
    <ParameterValueStruct><Name>A.B</Name><Value xsi:type="xsd:int">5</Value></ParameterValueStruct>\
    <ParameterValueStruct><Name>A.C</Name><Value xsi:type="xsd:boolean">true</Value></ParameterValueStruct>\
    </ParameterList></cwmp:GetParameterValuesResponse>
    """

    static func gpv(_ env: Envelope) -> [ParameterValue] {
        if case .cpeResponse(.getParameterValues(let p)) = env.body { return p }
        return []
    }

    @Test("any SOAP prefix", arguments: ["soap-env", "SOAP-ENV", "soapenv", "soap_env", "soap", "S", "e"])
    func prefixes(_ prefix: String) throws {
        let env = try CWMPDecoder.decode(Self.envelope(env: prefix, body: Self.gpvResponse), from: .cpe)
        #expect(env.header.id == "id-9")
        #expect(Self.gpv(env) == [ParameterValue(name: "A.B", value: "5", type: .int), ParameterValue(name: "A.C", value: "true", type: .boolean)])
    }

    @Test("other cwmp prefix and default namespace")
    func cwmpPrefixes() throws {
        let body = Self.gpvResponse.replacingOccurrences(of: "cwmp:", with: "c:")
        let env = try CWMPDecoder.decode(Self.envelope(cwmp: "c", cwmpNS: "urn:dslforum-org:cwmp-1-1", body: body), from: .cpe)
        #expect(env.version == .v1_1)
        #expect(Self.gpv(env).count == 2)
        // RPC in a default namespace.
        let dflt = """
        <?xml version="1.0"?><Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body>\
        <RebootResponse xmlns="urn:dslforum-org:cwmp-1-2"/></Body></Envelope>
        """
        let d = try CWMPDecoder.decode(Array(dflt.utf8), from: .cpe)
        #expect(d.version == .v1_2 && d.body == .cpeResponse(.reboot) && d.header.id == nil)
    }

    @Test("namespace version preserved", arguments: CWMPVersion.allCases)
    func versions(_ version: CWMPVersion) throws {
        let env = try CWMPDecoder.decode(Self.envelope(cwmpNS: version.rawValue, body: Self.gpvResponse), from: .cpe)
        #expect(env.version == version)
    }

    @Test("no Header, empty Header, Header without ID")
    func headers() throws {
        for header in ["", "<soap-env:Header/>", "<soap-env:Header><cwmp:HoldRequests>0</cwmp:HoldRequests></soap-env:Header>"] {
            let env = try CWMPDecoder.decode(Self.envelope(header: header, body: Self.gpvResponse), from: .cpe)
            #expect(env.header.id == nil)
            #expect(Self.gpv(env).count == 2)
        }
    }

    @Test("header fields: HoldRequests true/1, sessionTimeout in lower case, 1.4 version headers")
    func headerFields() throws {
        let header = """
        <soap-env:Header><cwmp:ID soap-env:mustUnderstand="1"> spaced </cwmp:ID>\
        <cwmp:HoldRequests soap-env:mustUnderstand="1">true</cwmp:HoldRequests>\
        <cwmp:sessionTimeout>60</cwmp:sessionTimeout>\
        <cwmp:SupportedCWMPVersions>1.0,1.1,1.2,1.3,1.4</cwmp:SupportedCWMPVersions>\
        <cwmp:UseCWMPVersion soap-env:mustUnderstand="1">1.4</cwmp:UseCWMPVersion></soap-env:Header>
        """
        let env = try CWMPDecoder.decode(Self.envelope(cwmpNS: "urn:dslforum-org:cwmp-1-2", header: header,
                                                       body: "<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>"),
                                         from: .acs)
        #expect(env.header == CWMPHeader(id: " spaced ", holdRequests: true, sessionTimeout: 60,
                                         supportedCWMPVersions: "1.0,1.1,1.2,1.3,1.4", useCWMPVersion: "1.4"))
        #expect(env.body == .acsResponse(.inform(maxEnvelopes: 1)))
        let h2 = "<soap-env:Header><cwmp:HoldRequests>1</cwmp:HoldRequests><cwmp:SessionTimeout>30</cwmp:SessionTimeout></soap-env:Header>"
        let env2 = try CWMPDecoder.decode(Self.envelope(header: h2, body: "<cwmp:TransferCompleteResponse/>"), from: .acs)
        #expect(env2.header.holdRequests == true && env2.header.sessionTimeout == 30)
    }

    @Test("1999 XMLSchema-instance, missing xsi:type, unknown xsi:type, any xsd prefix, missing Value")
    func valueTypes() throws {
        let body = """
        <cwmp:GetParameterValuesResponse><ParameterList soap-enc:arrayType="cwmp:ParameterValueStruct[000007]">\
        <ParameterValueStruct><Name>P.1999</Name><Value xsi:type="xsd:unsignedInt">1</Value></ParameterValueStruct>\
        <ParameterValueStruct><Name>P.NoType</Name><Value>x</Value></ParameterValueStruct>\
        <ParameterValueStruct><Name>P.Unknown</Name><Value xsi:type="xsd:decimal">1.5</Value></ParameterValueStruct>\
        <ParameterValueStruct><Name>P.XS</Name><Value xsi:type="xs:long">-2</Value></ParameterValueStruct>\
        <ParameterValueStruct><Name>P.Bare</Name><Value xsi:type="dateTime">2020-01-01T00:00:00</Value></ParameterValueStruct>\
        <ParameterValueStruct><Name>P.NoValue</Name></ParameterValueStruct>\
        <ParameterValueStruct><Name> P.Spaces </Name><Value xsi:type="soap-enc:base64">AA==</Value></ParameterValueStruct>\
        </ParameterList></cwmp:GetParameterValuesResponse>
        """
        let env = try CWMPDecoder.decode(Self.envelope(xsi: "http://www.w3.org/1999/XMLSchema-instance", body: body), from: .cpe)
        #expect(Self.gpv(env) == [
            ParameterValue(name: "P.1999", value: "1", type: .unsignedInt),
            ParameterValue(name: "P.NoType", value: "x", type: .string),
            ParameterValue(name: "P.Unknown", value: "1.5", type: .string),
            ParameterValue(name: "P.XS", value: "-2", type: .long),
            ParameterValue(name: "P.Bare", value: "2020-01-01T00:00:00", type: .dateTime),
            ParameterValue(name: "P.NoValue", value: "", type: .string),
            ParameterValue(name: "P.Spaces", value: "AA==", type: .base64),
        ])
    }

    @Test("padded, wrong and missing arrayType counts; items with other names")
    func arrayCounts() throws {
        let body = """
        <cwmp:Inform><DeviceId><Manufacturer>M</Manufacturer><OUI>ABCDEF</OUI><ProductClass/><SerialNumber>S1</SerialNumber></DeviceId>\
        <Event soap-enc:arrayType="cwmp:EventStruct[03]"><EventStruct><EventCode>1 BOOT</EventCode><CommandKey/></EventStruct>\
        <EventStruct><EventCode>M Reboot</EventCode><CommandKey>k</CommandKey></EventStruct></Event>\
        <MaxEnvelopes>2</MaxEnvelopes><CurrentTime>2020-01-01T00:00:00</CurrentTime><RetryCount>0</RetryCount>\
        <ParameterList xsi:type="soap-enc:Array"><Item><Name>A</Name><Value>1</Value></Item></ParameterList></cwmp:Inform>
        """
        let env = try CWMPDecoder.decode(Self.envelope(body: body), from: .cpe)
        guard case .cpeRequest(.inform(let inform)) = env.body else { Issue.record("\(env.body)"); return }
        #expect(inform.events == [EventStruct("1 BOOT"), EventStruct("M Reboot", commandKey: "k")])
        #expect(inform.maxEnvelopes == 2)
        #expect(inform.parameters == [ParameterValue(name: "A", value: "1")])
        #expect(inform.deviceId.productClass == "")
    }

    @Test("missing optional elements get defaults")
    func defaults() throws {
        let env = try CWMPDecoder.decode(Self.envelope(body: "<cwmp:Inform><DeviceId><SerialNumber>S</SerialNumber></DeviceId></cwmp:Inform>"),
                                         from: .cpe)
        guard case .cpeRequest(.inform(let inform)) = env.body else { Issue.record("\(env.body)"); return }
        #expect(inform.deviceId == DeviceID(manufacturer: "", oui: "", productClass: "", serialNumber: "S"))
        #expect(inform.events.isEmpty && inform.parameters.isEmpty && inform.maxEnvelopes == 1 && inform.retryCount == 0)

        let dl = try CWMPDecoder.decode(Self.envelope(body: "<cwmp:DownloadResponse><Status>1</Status></cwmp:DownloadResponse>"), from: .cpe)
        #expect(dl.body == .cpeResponse(.download(TransferResponse(status: 1))))
        let spa = try CWMPDecoder.decode(Self.envelope(body: """
            <cwmp:SetParameterAttributes><ParameterList><SetParameterAttributesStruct><Name>A.</Name>\
            <NotificationChange>false</NotificationChange><Notification/><AccessListChange>0</AccessListChange>\
            </SetParameterAttributesStruct></ParameterList></cwmp:SetParameterAttributes>
            """), from: .acs)
        #expect(spa.body == .acsRequest(.setParameterAttributes(parameters: [
            SetParameterAttribute(name: "A.", notificationChange: false, notification: 0)])))
    }

    @Test("RPC without namespace or with an unknown one decodes by local name (version from cwmp:ID or 1-0)")
    func unqualifiedRPC() throws {
        let noNS = try CWMPDecoder.decode(Self.envelope(cwmpNS: "urn:dslforum-org:cwmp-1-2", body: "<RebootResponse/>"), from: .cpe)
        #expect(noNS.body == .cpeResponse(.reboot))
        #expect(noNS.version == .v1_2)  // from cwmp:ID
        let wrongNS = Array("""
        <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>\
        <x:FactoryResetResponse xmlns:x="urn:example:other"/></soap:Body></soap:Envelope>
        """.utf8)
        let env = try CWMPDecoder.decode(wrongNS, from: .cpe)
        #expect(env.body == .cpeResponse(.factoryReset) && env.version == .v1_0)
    }

    @Test("undeclared prefixes (no xmlns at all) still decode by local name")
    func undeclaredPrefixes() throws {
        let doc = """
        <soapenv:Envelope><soapenv:Header><cwmp:ID>5</cwmp:ID></soapenv:Header><soapenv:Body>\
        <cwmp:AddObjectResponse><InstanceNumber>2</InstanceNumber><Status>0</Status></cwmp:AddObjectResponse>\
        </soapenv:Body></soapenv:Envelope>
        """
        let env = try CWMPDecoder.decode(Array(doc.utf8), from: .cpe)
        #expect(env == Envelope(version: .v1_0, header: CWMPHeader(id: "5"), body: .cpeResponse(.addObject(instanceNumber: 2, status: 0))))
    }

    @Test("qualified argument elements are accepted")
    func qualifiedArguments() throws {
        let env = try CWMPDecoder.decode(Self.envelope(body: """
            <cwmp:AddObjectResponse><cwmp:InstanceNumber>4</cwmp:InstanceNumber><cwmp:Status>0</cwmp:Status></cwmp:AddObjectResponse>
            """), from: .cpe)
        #expect(env.body == .cpeResponse(.addObject(instanceNumber: 4, status: 0)))
    }

    @Test("whitespace around numbers and booleans, true/false booleans")
    func whitespace() throws {
        let env = try CWMPDecoder.decode(Self.envelope(body: """
            <cwmp:GetParameterNamesResponse><ParameterList>
              <ParameterInfoStruct><Name>
                Device.</Name><Writable> false </Writable></ParameterInfoStruct>
              <ParameterInfoStruct><Name>Device.X</Name><Writable>TRUE</Writable></ParameterInfoStruct>
            </ParameterList></cwmp:GetParameterNamesResponse>
            """), from: .cpe)
        #expect(env.body == .cpeResponse(.getParameterNames([ParameterInfo(name: "Device.", writable: false),
                                                             ParameterInfo(name: "Device.X", writable: true)])))
    }

    @Test("SOAP Fault without cwmp detail, with prefixed faultcode")
    func bareSoapFault() throws {
        let body = "<soap-env:Fault><faultcode>soap-env:Server</faultcode><faultstring>boom</faultstring></soap-env:Fault>"
        let fromCPE = try CWMPDecoder.decode(Self.envelope(header: "", body: body), from: .cpe)
        #expect(fromCPE.body == .fault(CWMPFault(code: 9002, string: "boom", faultCode: "Server", faultString: "boom")))
        let fromACS = try CWMPDecoder.decode(Self.envelope(body: body), from: .acs)
        #expect(fromACS.body == .fault(CWMPFault(code: 8002, string: "boom", faultCode: "Server", faultString: "boom")))
        #expect(fromACS.header.id == "id-9")
    }

    @Test("cwmp:Fault straight in the Body, fault version from the detail namespace")
    func bareCwmpFault() throws {
        let env = try CWMPDecoder.decode(Self.envelope(cwmpNS: "urn:dslforum-org:cwmp-1-2",
            body: "<cwmp:Fault><FaultCode>9005</FaultCode><FaultString>Invalid parameter name</FaultString></cwmp:Fault>"), from: .cpe)
        #expect(env.version == .v1_2)
        guard case .fault(let f) = env.body else { Issue.record("\(env.body)"); return }
        #expect(f.code == 9005 && f.string == "Invalid parameter name")
    }

    @Test("ChangeDUState: typed operations, a SOAP-array form, and untyped operations")
    func changeDUStateForms() throws {
        let arrayForm = """
        <cwmp:ChangeDUState><Operations soap-enc:arrayType="cwmp:OperationStruct[2]">\
        <InstallOpStruct><URL>http://a/x</URL><UUID>u1</UUID></InstallOpStruct>\
        <UninstallOpStruct><UUID>u2</UUID></UninstallOpStruct></Operations><CommandKey>c</CommandKey></cwmp:ChangeDUState>
        """
        let a = try CWMPDecoder.decode(Self.envelope(cwmpNS: "urn:dslforum-org:cwmp-1-2", body: arrayForm), from: .acs)
        #expect(a.body == .acsRequest(.changeDUState(operations: [
            .install(url: "http://a/x", uuid: "u1", username: "", password: "", executionEnvRef: ""),
            .uninstall(uuid: "u2", version: "", executionEnvRef: ""),
        ], commandKey: "c")))

        let untyped = """
        <cwmp:ChangeDUState><Operations><URL>http://a/x</URL></Operations>\
        <Operations><UUID>u</UUID><Version>2</Version><URL>http://a/y</URL></Operations>\
        <Operations><UUID>u</UUID><ExecutionEnvRef>EE</ExecutionEnvRef></Operations></cwmp:ChangeDUState>
        """
        let u = try CWMPDecoder.decode(Self.envelope(body: untyped), from: .acs)
        #expect(u.body == .acsRequest(.changeDUState(operations: [
            .install(url: "http://a/x", uuid: "", username: "", password: "", executionEnvRef: ""),
            .update(uuid: "u", version: "2", url: "http://a/y", username: "", password: ""),
            .uninstall(uuid: "u", version: "", executionEnvRef: "EE"),
        ], commandKey: "")))
    }

    @Test("DUStateChangeComplete results wrapped in one SOAP array")
    func wrappedResults() throws {
        let body = """
        <cwmp:DUStateChangeComplete><Results soap-enc:arrayType="cwmp:OpResultStruct[1]"><OpResultStruct>\
        <UUID>u</UUID><DeploymentUnitRef>D.1</DeploymentUnitRef><Version>1</Version><CurrentState>Installed</CurrentState>\
        <Resolved>1</Resolved><ExecutionUnitRefList/><StartTime>2020-01-01T00:00:00Z</StartTime>\
        <CompleteTime>2020-01-01T00:00:01Z</CompleteTime><Fault><FaultCode>0</FaultCode><FaultString/></Fault>\
        </OpResultStruct></Results><CommandKey>c</CommandKey></cwmp:DUStateChangeComplete>
        """
        let env = try CWMPDecoder.decode(Self.envelope(body: body), from: .cpe)
        #expect(env.body == .cpeRequest(.duStateChangeComplete(results: [DUOpResult(
            uuid: "u", deploymentUnitRef: "D.1", version: "1", currentState: "Installed", resolved: true,
            startTime: "2020-01-01T00:00:00Z", completeTime: "2020-01-01T00:00:01Z")], commandKey: "c")))
    }

    @Test("GetRPCMethods and its response mean different things per direction")
    func direction() throws {
        let req = Self.envelope(body: "<cwmp:GetRPCMethods/>")
        #expect(try CWMPDecoder.decode(req, from: .cpe).body == .cpeRequest(.getRPCMethods))
        #expect(try CWMPDecoder.decode(req, from: .acs).body == .acsRequest(.getRPCMethods))
        let resp = Self.envelope(body: "<cwmp:GetRPCMethodsResponse><MethodList><string>Inform</string></MethodList></cwmp:GetRPCMethodsResponse>")
        #expect(try CWMPDecoder.decode(resp, from: .cpe).body == .cpeResponse(.getRPCMethods(methods: ["Inform"])))
        #expect(try CWMPDecoder.decode(resp, from: .acs).body == .acsResponse(.getRPCMethods(methods: ["Inform"])))
    }

    @Test("UTF-8 BOM, ISO-8859-1 declaration, CDATA and comments")
    func encodings() throws {
        var bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        bom += Self.envelope(body: "<cwmp:RebootResponse/>")
        #expect(try CWMPDecoder.decode(bom, from: .cpe).body == .cpeResponse(.reboot))

        var latin1 = Array("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:c=\"urn:dslforum-org:cwmp-1-0\"><e:Body><c:GetParameterValuesResponse><ParameterList><P><Name>N</Name><Value><![CDATA[<x>]]>".utf8)
        latin1 += [0xE9]  // é in ISO-8859-1
        latin1 += Array("<!-- c --></Value></P></ParameterList></c:GetParameterValuesResponse></e:Body></e:Envelope>".utf8)
        let env = try CWMPDecoder.decode(latin1, from: .cpe)
        #expect(Self.gpv(env) == [ParameterValue(name: "N", value: "<x>é")])
    }
}
