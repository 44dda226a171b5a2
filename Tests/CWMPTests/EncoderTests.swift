import CWMP
import Testing

@Suite("Encoder output details")
struct EncoderTests {
    static func string(_ env: Envelope) -> String { CWMPEncoder.encode(env).utf8String }

    @Test("exact bytes of a GetParameterValues request")
    func exactOutput() {
        let env = Envelope(version: .v1_2, header: CWMPHeader(id: "42"),
                           body: .acsRequest(.getParameterValues(names: ["Device.DeviceInfo.UpTime", "Device.A&B"])))
        #expect(Self.string(env) == """
        <?xml version="1.0" encoding="UTF-8"?>
        <soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" \
        xmlns:soap-enc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" \
        xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:cwmp="urn:dslforum-org:cwmp-1-2">\
        <soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">42</cwmp:ID></soap-env:Header>\
        <soap-env:Body><cwmp:GetParameterValues><ParameterNames soap-enc:arrayType="xsd:string[2]">\
        <string>Device.DeviceInfo.UpTime</string><string>Device.A&amp;B</string></ParameterNames>\
        </cwmp:GetParameterValues></soap-env:Body></soap-env:Envelope>
        """)
    }

    @Test("exact bytes of a fault with SetParameterValuesFault")
    func exactFault() {
        let env = Envelope(version: .v1_0, header: CWMPHeader(id: "7"), body: .fault(CWMPFault(
            code: 9003, string: "Invalid arguments",
            setParameterValuesFaults: [.init(parameterName: "A.B", code: 9007, string: "bad <value>")])))
        #expect(Self.string(env).hasSuffix("""
        <soap-env:Body><soap-env:Fault><faultcode>Client</faultcode><faultstring>CWMP fault</faultstring><detail>\
        <cwmp:Fault><FaultCode>9003</FaultCode><FaultString>Invalid arguments</FaultString><SetParameterValuesFault>\
        <ParameterName>A.B</ParameterName><FaultCode>9007</FaultCode><FaultString>bad &lt;value&gt;</FaultString>\
        </SetParameterValuesFault></cwmp:Fault></detail></soap-env:Fault></soap-env:Body></soap-env:Envelope>
        """))
        #expect(Self.string(Envelope(version: .v1_0, body: .fault(CWMPFault(code: 8002, string: "x")))).contains("<faultcode>Server</faultcode>"))
    }

    @Test("namespace URI follows envelope.version", arguments: CWMPVersion.allCases)
    func namespace(_ version: CWMPVersion) {
        let s = Self.string(Envelope(version: version, body: .acsResponse(.inform(maxEnvelopes: 1))))
        #expect(s.contains("xmlns:cwmp=\"\(version.rawValue)\""))
        #expect(s.contains("<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>"))
    }

    @Test("header: omitted when empty, mustUnderstand per element, booleans as 0/1")
    func header() {
        let none = Self.string(Envelope(version: .v1_0, body: .acsResponse(.transferComplete)))
        #expect(!none.contains("Header"))
        let full = Self.string(Envelope(version: .v1_2, header: CWMPHeader(
            id: "i", holdRequests: true, sessionTimeout: 30, supportedCWMPVersions: "1.0,1.4", useCWMPVersion: "1.4"),
            body: .acsResponse(.transferComplete)))
        #expect(full.contains("""
        <soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">i</cwmp:ID>\
        <cwmp:HoldRequests soap-env:mustUnderstand="1">1</cwmp:HoldRequests>\
        <cwmp:SessionTimeout soap-env:mustUnderstand="0">30</cwmp:SessionTimeout>\
        <cwmp:SupportedCWMPVersions soap-env:mustUnderstand="0">1.0,1.4</cwmp:SupportedCWMPVersions>\
        <cwmp:UseCWMPVersion soap-env:mustUnderstand="1">1.4</cwmp:UseCWMPVersion></soap-env:Header>
        """))
        let hold = Self.string(Envelope(version: .v1_0, header: CWMPHeader(holdRequests: false), body: .acsResponse(.transferComplete)))
        #expect(hold.contains("<soap-env:Header><cwmp:HoldRequests soap-env:mustUnderstand=\"1\">0</cwmp:HoldRequests></soap-env:Header>"))
    }

    @Test("arrayType counts are exact, including empty arrays")
    func arrayCounts() {
        let checks: [(CWMPBody, String)] = [
            (.cpeRequest(.inform(Samples.inform)), "cwmp:EventStruct[2]"),
            (.cpeRequest(.inform(Samples.inform)), "cwmp:ParameterValueStruct[9]"),
            (.cpeResponse(.getParameterValues([])), "cwmp:ParameterValueStruct[0]"),
            (.cpeResponse(.getParameterNames([ParameterInfo(name: "A.", writable: true)])), "cwmp:ParameterInfoStruct[1]"),
            (.acsRequest(.setParameterAttributes(parameters: [SetParameterAttribute(name: "A", notificationChange: true, notification: 1)])),
             "cwmp:SetParameterAttributesStruct[1]"),
            (.acsRequest(.setParameterAttributes(parameters: [SetParameterAttribute(name: "A", notificationChange: true, notification: 1)])),
             "<AccessList soap-enc:arrayType=\"xsd:string[0]\"></AccessList>"),
            (.cpeResponse(.getParameterAttributes([ParameterAttribute(name: "A", notification: 0, accessList: ["Subscriber"])])),
             "cwmp:ParameterAttributeStruct[1]"),
            (.cpeResponse(.getQueuedTransfers([])), "cwmp:QueuedTransferStruct[0]"),
            (.cpeResponse(.getAllQueuedTransfers([QueuedTransfer(commandKey: "", state: 1)])), "cwmp:AllQueuedTransferStruct[1]"),
            (.acsRequest(.scheduleDownload(ScheduleDownload(commandKey: "", fileType: "1 Firmware Upgrade Image", url: "u",
                                                           timeWindows: [TimeWindow(windowStart: 0, windowEnd: 1)]))),
             "cwmp:TimeWindowStruct[1]"),
            (.cpeRequest(.requestDownload(fileType: "1 Firmware Upgrade Image", args: [])), "cwmp:ArgStruct[0]"),
            (.acsResponse(.getRPCMethods(methods: ["Inform", "TransferComplete", "GetRPCMethods"])), "xsd:string[3]"),
        ]
        for (body, expected) in checks {
            let s = Self.string(Envelope(version: .v1_2, body: body))
            #expect(s.contains(expected.hasPrefix("<") ? expected : "soap-enc:arrayType=\"\(expected)\""), "\(expected) in \(s)")
        }
    }

    @Test("Value elements carry xsi:type, booleans in structs are 0/1")
    func valueTypesAndBooleans() {
        let s = Self.string(Envelope(version: .v1_2, body: .cpeResponse(.getParameterValues(Samples.params))))
        for t in [XSDType.string, .int, .unsignedInt, .long, .unsignedLong, .boolean, .dateTime, .hexBinary] {
            #expect(s.contains("<Value xsi:type=\"\(t.qualified)\">"))
        }
        #expect(s.contains("1.2.3 &lt;beta&gt; &amp; \"more\""))
        let gpn = Self.string(Envelope(version: .v1_2, body: .acsRequest(.getParameterNames(path: "", nextLevel: false))))
        #expect(gpn.contains("<ParameterPath></ParameterPath><NextLevel>0</NextLevel>"))
    }

    @Test("ChangeDUState operations are typed with xsi:type, results are repeated Results elements")
    func duShapes() {
        let s = Self.string(Samples.acsRequests.first { $0.element == "ChangeDUState" }!.envelope(.v1_2))
        #expect(s.contains("<Operations xsi:type=\"cwmp:InstallOpStruct\"><URL>"))
        #expect(s.contains("<Operations xsi:type=\"cwmp:UpdateOpStruct\">"))
        #expect(s.contains("<Operations xsi:type=\"cwmp:UninstallOpStruct\"><UUID>"))
        let r = Self.string(Samples.cpeRequests.first { $0.element == "DUStateChangeComplete" }!.envelope(.v1_2))
        #expect(r.components(separatedBy: "<Results>").count == 3)
    }

    @Test("empty dateTime fields become Unknown Time")
    func emptyDates() {
        let s = Self.string(Envelope(version: .v1_0, body: .cpeRequest(.transferComplete(TransferComplete(
            commandKey: "", fault: .none, startTime: "", completeTime: "")))))
        #expect(s.contains("<StartTime>0001-01-01T00:00:00Z</StartTime><CompleteTime>0001-01-01T00:00:00Z</CompleteTime>"))
    }

    @Test("encoded output is parseable by the decoder for large inputs quickly")
    func speed() throws {
        let params = (0..<20_000).map { ParameterValue(name: "Device.Some.Long.Path.\($0).Name", value: "value-\($0)", type: .string) }
        let env = Envelope(version: .v1_2, header: CWMPHeader(id: "1"), body: .cpeResponse(.getParameterValues(params)))
        var bytes: [UInt8] = []
        let t = elapsed { bytes = CWMPEncoder.encode(env) }
        #expect(t < 2, "encoding 20k parameters took \(t) s")
        #expect(bytes.count > 20_000 * 60)
        let d = try elapsed { _ = try CWMPDecoder.decode(bytes, from: .cpe, limits: CodecLimits(maxBytes: 64 << 20)) }
        #expect(d < 4, "decoding 20k parameters took \(d) s")
    }
}

@Suite("CWMPDateTime")
struct DateTimeTests {
    @Test func format() {
        #expect(CWMPDateTime.format(unixSeconds: 0) == "1970-01-01T00:00:00Z")
        #expect(CWMPDateTime.format(unixSeconds: 951_782_400) == "2000-02-29T00:00:00Z")
        #expect(CWMPDateTime.format(unixSeconds: 1_735_689_599) == "2024-12-31T23:59:59Z")
        #expect(CWMPDateTime.format(unixSeconds: -1) == "1969-12-31T23:59:59Z")
    }

    @Test func parse() {
        #expect(CWMPDateTime.parse("1970-01-01T00:00:00Z") == 0)
        #expect(CWMPDateTime.parse("2000-02-29T00:00:00.123456Z") == 951_782_400)
        #expect(CWMPDateTime.parse("2000-02-29T02:00:00+02:00") == 951_782_400)
        #expect(CWMPDateTime.parse("2000-02-28T22:00:00-02:00") == 951_782_400)
        #expect(CWMPDateTime.parse("2000-02-29T00:00:00") == 951_782_400)
        #expect(CWMPDateTime.parse(CWMPDateTime.unknown) == -62_135_596_800)
        #expect(CWMPDateTime.parse("yesterday") == nil)
        #expect(CWMPDateTime.parse("2000-13-01T00:00:00Z") == nil)
        #expect(CWMPDateTime.parse("2000-01-01T00:00:00Zjunk") == nil)
        for s in [0, 1_700_000_000, 4_102_444_800] as [Int64] {
            #expect(CWMPDateTime.parse(CWMPDateTime.format(unixSeconds: s)) == s)
        }
    }
}
