import CWMP
import Testing

@Suite("Encode -> decode round trip")
struct RoundTripTests {
    static let headers: [CWMPHeader] = [
        CWMPHeader(id: "42"),
        CWMPHeader(),
        CWMPHeader(id: "a&b<c>", holdRequests: true, sessionTimeout: 45, supportedCWMPVersions: "1.0,1.4", useCWMPVersion: "1.4"),
        CWMPHeader(id: "", holdRequests: false),
    ]

    @Test("every message in every namespace", arguments: Samples.all)
    func roundTrip(_ sample: Sample) throws {
        let peers: [Peer] = sample.sender.map { [$0] } ?? [.cpe, .acs]
        for version in CWMPVersion.allCases {
            for header in Self.headers {
                let original = sample.envelope(version, header: header)
                let bytes = CWMPEncoder.encode(original)
                for peer in peers {
                    let decoded = try CWMPDecoder.decode(bytes, from: peer)
                    #expect(decoded == original, "\(sample.label) \(version) from \(peer)\n\(bytes.utf8String)")
                }
            }
        }
    }

    @Test("values with markup, quotes, CR/LF/tab and non-ASCII survive")
    func awkwardValues() throws {
        let values = ["<a href=\"x\">&amp;</a>", "line1\r\nline2\ttab", "  padded  ", "ünïcødé ✓ 𝄞", "]]>", "'single'"]
        let params = values.enumerated().map { ParameterValue(name: "Device.X.\($0.offset)", value: $0.element) }
        let env = Envelope(version: .v1_2, header: CWMPHeader(id: "1"),
                           body: .acsRequest(.setParameterValues(parameters: params, parameterKey: "k&<>")))
        #expect(try CWMPDecoder.decode(CWMPEncoder.encode(env), from: .acs) == env)
    }

    @Test("characters illegal in XML 1.0 are stripped, the rest of the value survives")
    func illegalCharacters() throws {
        let env = Envelope(version: .v1_0, header: CWMPHeader(id: "1\u{1}"), body: .cpeResponse(.getParameterValues([
            ParameterValue(name: "Device.X", value: "a\u{0}b\u{7}c\u{1F}d\u{FFFE}e\u{FFFF}f\u{FFFD}"),
        ])))
        let bytes = CWMPEncoder.encode(env)
        let decoded = try CWMPDecoder.decode(bytes, from: .cpe)
        #expect(decoded.header.id == "1")
        guard case .cpeResponse(.getParameterValues(let p)) = decoded.body else {
            Issue.record("wrong body \(decoded.body)"); return
        }
        #expect(p[0].value == "abcdef\u{FFFD}")
        #expect(SchemaValidator.shared.validate(bytes, schemaFile: "cwmp-1-0.xsd").isEmpty)
    }

    @Test("large GetParameterValuesResponse round-trips")
    func large() throws {
        let params = (0..<5000).map { ParameterValue(name: "Device.X.\($0).Value", value: "v\($0)", type: .unsignedInt) }
        let env = Envelope(version: .v1_2, header: CWMPHeader(id: "big"), body: .cpeResponse(.getParameterValues(params)))
        #expect(try CWMPDecoder.decode(CWMPEncoder.encode(env), from: .cpe) == env)
    }

    @Test("concurrent decoding from many threads gives identical results")
    func concurrent() async throws {
        let envs = Samples.all.map { $0.envelope(.v1_2) }
        let encoded = envs.map { CWMPEncoder.encode($0) }
        let senders = Samples.all.map { $0.sender ?? .cpe }
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for round in 0..<20 {
                        for i in encoded.indices where (i + worker + round) % 2 == 0 {
                            if try CWMPDecoder.decode(encoded[i], from: senders[i]) != envs[i] { return false }
                        }
                    }
                    return true
                }
            }
            for try await ok in group { #expect(ok) }
        }
    }
}
