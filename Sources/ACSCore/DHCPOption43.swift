import Foundation

/// A problem with the values for `corral dhcp-option43`, worded for the operator.
public struct DHCPOption43Error: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// DHCP server configuration that tells CPEs where the ACS is (TR-069 §3.1): a CPE with "dslforum.org" in option 60
/// reads DHCPv4 option 43 as TLVs (1-byte code, 1-byte length): 1 URL, 2 ProvisioningCode,
/// 3 CWMPRetryMinimumWaitInterval, 4 CWMPRetryIntervalMultiplier. DHCPv6 carries the same sub-options in option 17
/// under enterprise 3561 with 2-byte codes and lengths. Values are text (the numbers as decimal strings). Pure.
public enum DHCPOption43 {
    public static let vendorClass = "dslforum.org"
    /// The Broadband Forum's IANA enterprise number (DHCPv6 option 17).
    public static let enterpriseNumber: UInt32 = 3561
    /// The option space the ISC and Kea outputs declare.
    static let space = "cwmp"
    static let allCodes: [UInt8] = [1, 2, 3, 4]

    public enum Format: String, CaseIterable, Sendable { case isc, kea, dnsmasq }

    public struct Settings: Sendable, Equatable {
        public var acsURL: String
        public var provisioningCode: String?
        public var retryMinimumWaitInterval: Int?
        public var retryIntervalMultiplier: Int?
        public init(acsURL: String, provisioningCode: String? = nil, retryMinimumWaitInterval: Int? = nil, retryIntervalMultiplier: Int? = nil) {
            self.acsURL = acsURL
            self.provisioningCode = provisioningCode
            self.retryMinimumWaitInterval = retryMinimumWaitInterval
            self.retryIntervalMultiplier = retryIntervalMultiplier
        }
    }

    public struct SubOption: Sendable, Equatable {
        public let code: UInt8
        public let value: [UInt8]
        public init(code: UInt8, value: [UInt8]) { self.code = code; self.value = value }
        public init(code: UInt8, text: String) { self.init(code: code, value: Array(text.utf8)) }
        public var text: String { String(decoding: value, as: UTF8.self) }
        public var name: String { DHCPOption43.name(of: code) }
    }

    static func name(of code: UInt8) -> String {
        switch code {
        case 1: "acs-url"
        case 2: "provisioning-code"
        case 3: "retry-min-wait"
        case 4: "retry-multiplier"
        default: "sub-option-\(code)"
        }
    }

    /// Checks the settings and returns the sub-options in code order.
    public static func subOptions(_ s: Settings) throws(DHCPOption43Error) -> [SubOption] {
        try checkURL(s.acsURL)
        var subs = [SubOption(code: 1, text: s.acsURL)]
        if let code = s.provisioningCode {
            guard !code.isEmpty else { throw DHCPOption43Error("the provisioning code is empty; leave it out instead") }
            // DeviceInfo.ProvisioningCode is string(64); printable ASCII keeps every server's quoting simple.
            guard code.utf8.count <= 64 else {
                throw DHCPOption43Error("the provisioning code is \(code.utf8.count) bytes; DeviceInfo.ProvisioningCode holds at most 64")
            }
            guard code.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
                throw DHCPOption43Error("the provisioning code \"\(code)\" may only hold printable ASCII characters")
            }
            subs.append(SubOption(code: 2, text: code))
        }
        if let w = s.retryMinimumWaitInterval {
            guard (1...65535).contains(w) else {
                throw DHCPOption43Error("the CWMP retry minimum wait interval must be 1-65535 seconds, not \(w)")
            }
            subs.append(SubOption(code: 3, text: String(w)))
        }
        if let m = s.retryIntervalMultiplier {
            guard (1000...65535).contains(m) else {
                throw DHCPOption43Error("the CWMP retry interval multiplier must be 1000-65535 (thousandths: 2000 doubles the wait), not \(m)")
            }
            subs.append(SubOption(code: 4, text: String(m)))
        }
        // One DHCPv4 option holds 255 bytes; CPEs cannot be relied on to join split (RFC 3396) options.
        let total = subs.reduce(0) { $0 + 2 + $1.value.count }
        guard total <= 255 else {
            throw DHCPOption43Error("option 43 would be \(total) bytes but a DHCPv4 option holds at most 255; shorten the URL or the provisioning code")
        }
        return subs
    }

    static func checkURL(_ url: String) throws(DHCPOption43Error) {
        guard !url.isEmpty else { throw DHCPOption43Error("the ACS URL is empty") }
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw DHCPOption43Error("the ACS URL \"\(url)\" must start with http:// or https://")
        }
        guard url.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw DHCPOption43Error("the ACS URL \"\(url)\" contains spaces, control or non-ASCII characters; percent-encode them")
        }
        guard url.utf8.count <= 255 else {
            throw DHCPOption43Error("the ACS URL is \(url.utf8.count) bytes but a DHCP sub-option holds at most 255")
        }
        guard let c = URLComponents(string: url) else {
            throw DHCPOption43Error("the ACS URL \"\(url)\" is not a valid URL (characters such as \" < > \\ { } must be percent-encoded)")
        }
        guard let host = c.host, !host.isEmpty else { throw DHCPOption43Error("the ACS URL \"\(url)\" has no host") }
        if let port = c.port, !(1...65535).contains(port) {
            throw DHCPOption43Error("the ACS URL \"\(url)\" has port \(port); ports are 1-65535")
        }
    }

    /// The option 43 payload. Values must be at most 255 bytes (`subOptions` checks).
    public static func encode(_ subs: [SubOption]) -> [UInt8] {
        subs.flatMap { [$0.code, UInt8($0.value.count)] + $0.value }
    }

    /// The DHCPv6 option 17 payload: enterprise number, then 2-byte code, 2-byte length, value.
    public static func encodeV6(_ subs: [SubOption]) -> [UInt8] {
        let shifts: [UInt32] = [24, 16, 8, 0]
        var out: [UInt8] = shifts.map { UInt8(truncatingIfNeeded: enterpriseNumber >> $0) }
        for s in subs {
            out += [0, s.code, UInt8(truncatingIfNeeded: s.value.count >> 8), UInt8(truncatingIfNeeded: s.value.count)] + s.value
        }
        return out
    }

    /// Reads an option 43 payload back into sub-options (pad 0 skipped, end 255 stops).
    public static func decode(_ bytes: [UInt8]) throws(DHCPOption43Error) -> [SubOption] {
        var subs: [SubOption] = []
        var i = 0
        while i < bytes.count {
            let code = bytes[i]
            if code == 0 { i += 1; continue }
            if code == 255 { break }
            guard i + 1 < bytes.count else { throw DHCPOption43Error("sub-option \(code) at byte \(i) has no length") }
            let n = Int(bytes[i + 1])
            guard i + 2 + n <= bytes.count else {
                throw DHCPOption43Error("sub-option \(code) at byte \(i) claims \(n) bytes but \(bytes.count - i - 2) follow")
            }
            subs.append(SubOption(code: code, value: Array(bytes[(i + 2)..<(i + 2 + n)])))
            i += 2 + n
        }
        return subs
    }

    /// Lower-case hex, `01:1c:68` by default (the ISC and dnsmasq notation).
    public static func hex(_ bytes: [UInt8], separator: String = ":") -> String {
        let digits = Array("0123456789abcdef")
        return bytes.map { String([digits[Int($0 >> 4)], digits[Int($0 & 0x0f)]]) }.joined(separator: separator)
    }

    /// Parses hex with optional `:` or space separators.
    public static func bytes(fromHex text: String) throws(DHCPOption43Error) -> [UInt8] {
        let digits = Array(text.filter { $0 != ":" && $0 != " " })
        guard digits.count % 2 == 0 else { throw DHCPOption43Error("odd number of hex digits") }
        var out: [UInt8] = []
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let hi = digits[i].hexDigitValue, let lo = digits[i + 1].hexDigitValue else {
                throw DHCPOption43Error("\"\(digits[i])\(digits[i + 1])\" is not hex")
            }
            out.append(UInt8(hi << 4 | lo))
        }
        return out
    }

    /// The configuration to paste into the DHCP server, starting with a comment naming it and the URL.
    public static func render(_ settings: Settings, format: Format) throws(DHCPOption43Error) -> String {
        let subs = try subOptions(settings)
        let lines: [String]
        switch format {
        case .isc: lines = isc(subs, url: settings.acsURL)
        case .kea: lines = kea(subs, url: settings.acsURL)
        case .dnsmasq: lines = dnsmasq(subs, url: settings.acsURL)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func isc(_ subs: [SubOption], url: String) -> [String] {
        var l = ["# Corral: ISC dhcpd 4.x configuration for TR-069 ACS discovery (DHCPv4 option 43), ACS URL \(url)",
                 "# CPEs with \"\(vendorClass)\" in option 60 (vendor class) get the TR-069 sub-options in option 43.",
                 "option space \(space) code width 1 length width 1;"]
        l += allCodes.map { "option \(space).\(name(of: $0)) code \($0) = text;" }
        l += ["",
              "class \"cwmp-cpe\" {",
              "  # \"\(vendorClass)\" anywhere in option 60 (case-insensitive regex). A dhcpd built without regex support",
              "  # needs: match if substring(option vendor-class-identifier, 0, 12) = \"\(vendorClass)\";",
              "  match if option vendor-class-identifier ~~ \"\(vendorClass)\";",
              "  vendor-option-space \(space);"]
        l += subs.map { "  option \(space).\($0.name) \(quoted($0.text));" }
        l += ["}",
              "",
              "# Or the same bytes as raw option 43, in the class instead of vendor-option-space and the \(space).* lines:",
              "#   option vendor-encapsulated-options \(hex(encode(subs)));",
              "# DHCPv6 (dhcpd -6): option 17 (vendor-opts), enterprise \(enterpriseNumber), the same sub-options:",
              "#   \(hex(encodeV6(subs)))"]
        return l
    }

    static func kea(_ subs: [SubOption], url: String) -> [String] {
        // A prefix test: it covers CPEs whose option 60 starts with "dslforum.org".
        let test = "substring(option[60].hex,0,12) == '\(vendorClass)'"
        var l = ["// Corral: Kea DHCPv4 configuration for TR-069 ACS discovery (DHCPv4 option 43), ACS URL \(url)",
                 "// Merge \"option-def\" and \"client-classes\" into your Dhcp4 object. The class matches option 60 starting with \"\(vendorClass)\".",
                 "// Raw option 43: \(hex(encode(subs)))",
                 "// DHCPv6 (Dhcp6 option 17 vendor-opts, enterprise \(enterpriseNumber)): \(hex(encodeV6(subs)))",
                 "{",
                 "  \"Dhcp4\": {",
                 "    \"option-def\": ["]
        l += commaSeparated(allCodes.map {
            "      { \"space\": \(json(space)), \"name\": \(json(name(of: $0))), \"code\": \($0), \"type\": \"string\" }"
        })
        l += ["    ],",
              "    \"client-classes\": [",
              "      {",
              "        \"name\": \"cwmp-cpe\",",
              "        \"test\": \(json(test)),",
              "        \"option-def\": [",
              "          { \"name\": \"vendor-encapsulated-options\", \"code\": 43, \"type\": \"empty\", \"encapsulate\": \(json(space)) }",
              "        ],",
              "        \"option-data\": ["]
        var data = ["          { \"name\": \"vendor-encapsulated-options\", \"always-send\": true }"]
        data += subs.map { s in
            // Kea reads "data" as comma-separated fields; a value with a comma (or backslash) goes as hex instead.
            let value = s.text.contains(",") || s.text.contains("\\")
                ? "\"csv-format\": false, \"data\": \(json(hex(s.value, separator: "")))"
                : "\"data\": \(json(s.text))"
            return "          { \"space\": \(json(space)), \"name\": \(json(s.name)), \"code\": \(s.code), \"always-send\": true, \(value) }"
        }
        l += commaSeparated(data)
        l += ["        ]", "      }", "    ]", "  }", "}"]
        return l
    }

    static func dnsmasq(_ subs: [SubOption], url: String) -> [String] {
        var l = ["# Corral: dnsmasq configuration for TR-069 ACS discovery (DHCPv4 option 43), ACS URL \(url)",
                 "# vendor:\(vendorClass) puts these sub-options in option 43 for clients whose option 60 contains \"\(vendorClass)\"."]
        if subs.contains(where: { !dnsmasqReadsAsText($0.text) }) {
            l.append("# Values dnsmasq would take for numbers or addresses are given as their bytes (xx:xx, or <byte>b for one).")
        }
        l += subs.map { "dhcp-option-force=vendor:\(vendorClass),\($0.code),\(dnsmasqValue($0))" }
        l += ["",
              "# Or the same bytes as one raw option 43 (instead of the lines above, not with them):",
              "#   dhcp-vendorclass=set:cwmp,\(vendorClass)",
              "#   dhcp-option-force=tag:cwmp,43,\(hex(encode(subs)))",
              "# DHCPv6: option 17, enterprise \(enterpriseNumber), the same sub-options: \(hex(encodeV6(subs)))"]
        return l
    }

    static func dnsmasqValue(_ s: SubOption) -> String {
        if dnsmasqReadsAsText(s.text) { return s.text }
        return s.value.count == 1 ? "\(s.value[0])b" : hex(s.value)
    }

    /// dnsmasq guesses a value's type (option.c): digits are an integer, a dotted quad an address, xx:xx bytes. A
    /// character other than a hex digit or `. : , / -` and space, before the last one, rules all of those out.
    static func dnsmasqReadsAsText(_ s: String) -> Bool {
        let numeric = Set("0123456789abcdefABCDEF:.,/- ".utf8)
        return s.utf8.dropLast().contains { !numeric.contains($0) }
    }

    /// A double-quoted string for dhcpd (backslash and quote escaped).
    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static func json(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if u.value < 0x20 { out += "\\u00" + hex([UInt8(u.value)], separator: "") } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    static func commaSeparated(_ lines: [String]) -> [String] {
        lines.enumerated().map { $0.offset < lines.count - 1 ? $0.element + "," : $0.element }
    }
}
