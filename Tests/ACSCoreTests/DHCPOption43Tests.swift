import Foundation
import Testing
@testable import ACSCore

@Suite struct DHCPOption43Tests {
    let url = "https://acs.example.net/cwmp"   // 28 bytes
    let urlTLV = "01:1c:68:74:74:70:73:3a:2f:2f:61:63:73:2e:65:78:61:6d:70:6c:65:2e:6e:65:74:2f:63:77:6d:70"
    var full: DHCPOption43.Settings {
        .init(acsURL: url, provisioningCode: "ACME.R1", retryMinimumWaitInterval: 5, retryIntervalMultiplier: 2000)
    }

    @Test func subOptionsAreCodeLengthValue() throws {
        let subs = try DHCPOption43.subOptions(full)
        #expect(DHCPOption43.hex(DHCPOption43.encode(Array(subs.prefix(1)))) == urlTLV)
        #expect(DHCPOption43.encode(subs) == [0x01, 0x1c] + Array(url.utf8)
                + [0x02, 0x07] + Array("ACME.R1".utf8)
                + [0x03, 0x01, 0x35]                 // "5": the numbers travel as decimal text
                + [0x04, 0x04, 0x32, 0x30, 0x30, 0x30])
        // DHCPv6 option 17: enterprise 3561, then 2-byte code and length.
        #expect(Array(DHCPOption43.encodeV6(subs).prefix(8)) == [0x00, 0x00, 0x0d, 0xe9, 0x00, 0x01, 0x00, 0x1c])
    }

    @Test func everyFormatStartsWithACommentAndCarriesTheURLAndBytes() throws {
        let raw = DHCPOption43.hex(DHCPOption43.encode(try DHCPOption43.subOptions(full)))
        for format in DHCPOption43.Format.allCases {
            let text = try DHCPOption43.render(full, format: format)
            let first = text.split(separator: "\n")[0]
            #expect(first.hasPrefix("#") || first.hasPrefix("//"), "\(format)")
            #expect(first.contains(url), "\(format)")
            #expect(text.contains(raw), "\(format)")
            #expect(try DHCPOption43.render(full, format: format) == text, "\(format) output is not deterministic")
        }
        let isc = try DHCPOption43.render(full, format: .isc)
        #expect(isc.contains("option cwmp.acs-url code 1 = text;"))
        #expect(isc.contains("vendor-option-space cwmp;"))
        #expect(isc.contains("option cwmp.acs-url \"\(url)\";"))
        #expect(isc.contains("match if option vendor-class-identifier ~~ \"dslforum.org\";"))
    }

    @Test func dnsmasqWritesValuesItWouldMisreadAsBytes() throws {
        let text = try DHCPOption43.render(full, format: .dnsmasq)
        #expect(text.contains("dhcp-option-force=vendor:dslforum.org,1,\(url)\n"))
        #expect(text.contains("dhcp-option-force=vendor:dslforum.org,2,ACME.R1\n"))
        #expect(text.contains("dhcp-option-force=vendor:dslforum.org,3,53b\n"))            // not the integer 5
        #expect(text.contains("dhcp-option-force=vendor:dslforum.org,4,32:30:30:30\n"))    // not the integer 2000
        #expect(DHCPOption43.dnsmasqReadsAsText("http://10.0.0.1/"))
        #expect(!DHCPOption43.dnsmasqReadsAsText("10.0.0.1"))
        #expect(!DHCPOption43.dnsmasqReadsAsText("cafe:01"))
        #expect(!DHCPOption43.dnsmasqReadsAsText("12s"))
    }

    @Test func keaIsJSONWithTheEncapsulatedSpace() throws {
        let text = try DHCPOption43.render(full, format: .kea)
        // Kea accepts // comment lines; the rest must be plain JSON.
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("//") }.joined(separator: "\n")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let dhcp4 = try #require(root["Dhcp4"] as? [String: Any])
        let defs = try #require(dhcp4["option-def"] as? [[String: Any]])
        #expect(defs.count == 4)
        #expect(defs.allSatisfy { $0["space"] as? String == "cwmp" && $0["type"] as? String == "string" })
        let classes = try #require(dhcp4["client-classes"] as? [[String: Any]])
        #expect(classes.count == 1)
        #expect((classes[0]["test"] as? String)?.contains("option[60]") == true)
        let o43 = try #require((classes[0]["option-def"] as? [[String: Any]])?.first)
        #expect(o43["code"] as? Int == 43 && o43["encapsulate"] as? String == "cwmp" && o43["type"] as? String == "empty")
        let data = try #require(classes[0]["option-data"] as? [[String: Any]])
        #expect(data.first?["name"] as? String == "vendor-encapsulated-options")
        let acs = try #require(data.first { $0["name"] as? String == "acs-url" })
        #expect(acs["data"] as? String == url && acs["code"] as? Int == 1 && acs["space"] as? String == "cwmp")
        #expect(data.contains { $0["name"] as? String == "retry-multiplier" && $0["data"] as? String == "2000" })

        // A comma would split Kea's CSV data: such a value goes as hex.
        let comma = try DHCPOption43.render(.init(acsURL: url, provisioningCode: "a,b"), format: .kea)
        #expect(comma.contains("\"csv-format\": false, \"data\": \"612c62\""))
    }

    @Test func badInputIsRefusedWithAReason() {
        func problem(_ s: DHCPOption43.Settings) -> String {
            do { _ = try DHCPOption43.subOptions(s); return "" } catch { return "\(error)" }
        }
        #expect(problem(.init(acsURL: "ftp://acs.example.net/")).contains("http:// or https://"))
        #expect(problem(.init(acsURL: "acs.example.net:7547")).contains("http:// or https://"))
        #expect(problem(.init(acsURL: "https://")).contains("no host"))
        #expect(problem(.init(acsURL: "http://acs example/")).contains("spaces"))
        #expect(problem(.init(acsURL: "http://acs:0/")).contains("port"))
        #expect(problem(.init(acsURL: "https://acs.example.net/" + String(repeating: "a", count: 240))).contains("at most 255"))
        #expect(problem(.init(acsURL: url, provisioningCode: String(repeating: "P", count: 65))).contains("at most 64"))
        #expect(problem(.init(acsURL: url, provisioningCode: "")).contains("empty"))
        #expect(problem(.init(acsURL: url, retryMinimumWaitInterval: 0)).contains("1-65535"))
        #expect(problem(.init(acsURL: url, retryIntervalMultiplier: 999)).contains("1000-65535"))
        // Each value fits, the option does not: 2+220 + 2+60 > 255.
        let long = "https://acs.example.net/" + String(repeating: "a", count: 196)
        #expect(problem(.init(acsURL: long, provisioningCode: String(repeating: "P", count: 60))).contains("option 43 would be 284 bytes"))
        #expect(problem(.init(acsURL: "http://[2001:db8::1]:7547/cwmp")) == "")
        #expect(throws: DHCPOption43Error.self) { try DHCPOption43.render(.init(acsURL: "nope"), format: .kea) }
    }

    @Test func producedHexDecodesBackToTheSubOptions() throws {
        let subs = try DHCPOption43.subOptions(full)
        let isc = try DHCPOption43.render(full, format: .isc)
        let line = try #require(isc.split(separator: "\n").first { $0.contains("option vendor-encapsulated-options") })
        let hex = try #require(line.split(separator: " ").last?.dropLast())   // drop the ';'
        let decoded = try DHCPOption43.decode(DHCPOption43.bytes(fromHex: String(hex)))
        #expect(decoded == subs)
        #expect(decoded.map(\.text) == [url, "ACME.R1", "5", "2000"])
        #expect(decoded.map(\.name) == ["acs-url", "provisioning-code", "retry-min-wait", "retry-multiplier"])

        let dnsmasq = try DHCPOption43.render(full, format: .dnsmasq)
        let raw = try #require(dnsmasq.split(separator: "\n").first { $0.contains("tag:cwmp,43,") })
        let rawHex = try #require(raw.split(separator: ",").last)
        #expect(try DHCPOption43.decode(DHCPOption43.bytes(fromHex: String(rawHex))) == subs)

        // Pad and end are skipped; a length running past the end is an error.
        #expect(try DHCPOption43.decode([0x00, 0x01, 0x01, 0x41, 0xff, 0x09]) == [DHCPOption43.SubOption(code: 1, text: "A")])
        #expect(throws: DHCPOption43Error.self) { try DHCPOption43.decode([0x01, 0x05, 0x41]) }
        #expect(throws: DHCPOption43Error.self) { try DHCPOption43.bytes(fromHex: "0g") }
    }
}
