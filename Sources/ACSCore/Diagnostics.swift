import CWMP
import DataModel

/// The TR-143 tests Corral runs on a CPE.
public enum DiagnosticTest: String, Sendable, Codable, CaseIterable {
    case download, upload, udpecho, ping, traceroute
}

/// What an operator asked for; everything optional falls back to Corral's defaults.
public struct DiagnosticOptions: Sendable, Equatable, Codable {
    /// Download/upload bytes (size-based tests).
    public var size: Int?
    /// Time-based test duration in seconds (TR-181 2.9+; older CPEs get the size-based fallback).
    public var seconds: Int?
    /// Parallel TCP connections (TR-181 2.9+).
    public var connections: Int?
    /// Target host (ping, traceroute, udpecho) or, for download/upload, a full URL to use instead of Corral's server.
    public var host: String?
    /// Packets (ping, udpecho) or tries per hop (traceroute).
    public var count: Int?
    /// Seconds the device has to report "8 DIAGNOSTICS COMPLETE" after accepting the test; default the test's
    /// duration + 600.
    public var timeout: Int?

    public init(size: Int? = nil, seconds: Int? = nil, connections: Int? = nil, host: String? = nil, count: Int? = nil, timeout: Int? = nil) {
        self.size = size; self.seconds = seconds; self.connections = connections; self.host = host; self.count = count; self.timeout = timeout
    }

    public var deadlineSeconds: Int { timeout ?? ((seconds ?? 0) + 600) }

    public static let defaultSize = 10_000_000
    public static let maxSize = 1 << 34              // 16 GiB: the test server's default cap too
    public static let maxSeconds = 999               // TR-181 TimeBasedTestDuration range
    public static let maxConnections = 64
    public static let maxCount = 1000

    /// A clear message for values out of range; nil when usable.
    public func problem(for test: DiagnosticTest) -> String? {
        if let s = size, !(1...Self.maxSize).contains(s) { return "size must be 1…\(Self.maxSize) bytes" }
        if let s = seconds, !(1...Self.maxSeconds).contains(s) { return "seconds must be 1…\(Self.maxSeconds)" }
        if let c = connections, !(1...Self.maxConnections).contains(c) { return "connections must be 1…\(Self.maxConnections)" }
        if let c = count, !(1...Self.maxCount).contains(c) { return "count must be 1…\(Self.maxCount)" }
        if let t = timeout, !(1...86_400).contains(t) { return "timeout must be 1…86400 seconds" }
        // TestFileLength is an unsignedInt in TR-098 (and most CPEs' TR-181 builds).
        if test == .upload, let s = size, s > Int(UInt32.max) { return "an upload's size must be at most \(UInt32.max) bytes" }
        // Printable ASCII only: the value goes into the CPE's parameters and onto the operator's pages.
        if let h = host, h.isEmpty || h.utf8.count > 256 || !h.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) {
            return "host must be a host name, address or URL (printable ASCII, at most 256 bytes)"
        }
        if test == .ping || test == .traceroute || test == .udpecho, let h = host,
           !h.utf8.allSatisfy({ $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "_")
                                || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) {
            return "host must be a host name or an IP address for \(test.rawValue)"
        }
        if (test == .download || test == .upload), let h = host, !(h.hasPrefix("http://") || h.hasPrefix("https://") || h.hasPrefix("ftp://")) {
            return "for \(test.rawValue) tests, host must be a full URL (http://…); without it Corral's own test server is used"
        }
        return nil
    }
}

/// Where devices find Corral's test servers.
public struct DiagnosticServers: Sendable, Equatable {
    /// "http://host:port" of the HTTP test server (no trailing slash).
    public var baseURL: String
    /// Host and port of the UDP echo server.
    public var echoHost: String
    public var echoPort: Int
    /// False when Corral's HTTP test server is off and no other URL is configured (download/upload need `host`).
    public var httpAvailable: Bool
    /// False when Corral's echo server is off (udpecho needs `host`).
    public var echoAvailable: Bool
    public init(baseURL: String, echoHost: String, echoPort: Int, httpAvailable: Bool = true, echoAvailable: Bool = true) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.echoHost = echoHost; self.echoPort = echoPort; self.httpAvailable = httpAvailable; self.echoAvailable = echoAvailable
    }
}

/// One way of running a test on a device: the object and the SetParameterValues that starts it.
public struct DiagnosticPlan: Sendable, Equatable, Codable {
    public var test: DiagnosticTest
    /// "Device.IP.Diagnostics.DownloadDiagnostics." (with the trailing dot).
    public var object: String
    /// Inputs, `DiagnosticsState = Requested` last, all in one SPV as TR-143 asks.
    public var values: [ParameterValue]
    public init(test: DiagnosticTest, object: String, values: [ParameterValue]) {
        self.test = test; self.object = object; self.values = values
    }
}

/// A diagnostics task: the plan being tried and the ones left if the CPE answers 9005 (no such parameter).
public struct DiagnosticSpec: Sendable, Equatable, Codable {
    public var plan: DiagnosticPlan
    public var fallbacks: [DiagnosticPlan]
    /// Marks this test's traffic on Corral's servers (URL query / upload name) so the server's view can be matched.
    public var tag: String
    public var options: DiagnosticOptions
    public init(plan: DiagnosticPlan, fallbacks: [DiagnosticPlan], tag: String, options: DiagnosticOptions) {
        self.plan = plan; self.fallbacks = fallbacks; self.tag = tag; self.options = options
    }

    /// A test asked for where the device is not at hand (a campaign script): planned when its task is created.
    public static func unplanned(_ test: DiagnosticTest, _ options: DiagnosticOptions) -> DiagnosticSpec {
        DiagnosticSpec(plan: DiagnosticPlan(test: test, object: "", values: []), fallbacks: [], tag: "", options: options)
    }
    public var isPlanned: Bool { !plan.object.isEmpty }

    /// A fresh tag for a test's traffic on Corral's servers.
    public static func newTag() -> String { "t" + String(UInt64.random(in: 1...UInt64.max), radix: 36) }

    /// The spec after a 9005 on the current plan; nil when no other path set is left.
    public func next() -> DiagnosticSpec? {
        guard let first = fallbacks.first else { return nil }
        return DiagnosticSpec(plan: first, fallbacks: Array(fallbacks.dropFirst()), tag: tag, options: options)
    }
}

/// Pure rules: which object and inputs a test needs on a device's data model.
public enum DiagnosticsPlanner {
    /// Standard objects per data model; nil where the model has none (TR-098 has no UDP echo client).
    public static func standardObject(_ test: DiagnosticTest, _ kind: DataModelKind) -> String? {
        switch (test, kind) {
        case (.download, .tr181): "Device.IP.Diagnostics.DownloadDiagnostics."
        case (.upload, .tr181): "Device.IP.Diagnostics.UploadDiagnostics."
        case (.udpecho, .tr181): "Device.IP.Diagnostics.UDPEchoDiagnostics."
        case (.ping, .tr181): "Device.IP.Diagnostics.IPPing."
        case (.traceroute, .tr181): "Device.IP.Diagnostics.TraceRoute."
        case (.download, .tr098): "InternetGatewayDevice.DownloadDiagnostics."
        case (.upload, .tr098): "InternetGatewayDevice.UploadDiagnostics."
        case (.ping, .tr098): "InternetGatewayDevice.IPPingDiagnostics."
        case (.traceroute, .tr098): "InternetGatewayDevice.TraceRouteDiagnostics."
        case (.udpecho, .tr098): nil
        }
    }

    /// The profile alias naming a vendor object for a test ("diagnostics.download" = "Device.X_ACME_Speed.").
    public static func aliasName(_ test: DiagnosticTest) -> String { "diagnostics." + test.rawValue }

    public static let defaultPackets = 20
    public static let defaultPings = 10

    /// The spec for a test: the vendor object (profile alias) first, then the standard object with every input,
    /// then the standard object with only the inputs every version has (CPEs before TR-181 2.9 answer 9005 to
    /// TimeBasedTestDuration, NumberOfConnections, EnablePerConnectionResults…). Errors are for the operator.
    public static func spec(test: DiagnosticTest, options: DiagnosticOptions, kind: DataModelKind?, vendorObject: String?,
                            servers: DiagnosticServers, tag: String) throws(DiagnosticPlanError) -> DiagnosticSpec {
        if let p = options.problem(for: test) { throw DiagnosticPlanError(p) }
        if options.host == nil && (test == .download || test == .upload) && !servers.httpAvailable {
            throw DiagnosticPlanError("Corral's HTTP test server is off (speedtest_port 0) and no speedtest_base_url is set: give a URL as host")
        }
        if options.host == nil && test == .udpecho && !servers.echoAvailable {
            throw DiagnosticPlanError("Corral's UDP echo server is off (udp_echo_port 0): give the host of another echo server")
        }
        var objects: [(String, Bool)] = []   // (object, is TR-181 style)
        if let v = vendorObject, !v.isEmpty {
            guard DataModelPath.isObjectPath(v) else { throw DiagnosticPlanError("the profile alias \(aliasName(test)) must name an object (ending in \".\"), not \(v)") }
            objects.append((v, !v.hasPrefix("InternetGatewayDevice.")))
        }
        if let kind, let s = standardObject(test, kind) { objects.append((s, kind == .tr181)) }
        guard !objects.isEmpty else {
            if kind == .tr098 && test == .udpecho {
                throw DiagnosticPlanError("TR-098 has no UDP echo client; give the profile a vendor object (alias \(aliasName(test))) or run ping")
            }
            throw DiagnosticPlanError("the device's data model is not known yet (no Inform seen)")
        }
        var plans: [DiagnosticPlan] = []
        for (object, tr181) in objects {
            let full = DiagnosticPlan(test: test, object: object, values: inputs(test, object: object, tr181: tr181, full: true, options: options, servers: servers, tag: tag))
            if !plans.contains(full) { plans.append(full) }
            let minimal = DiagnosticPlan(test: test, object: object, values: inputs(test, object: object, tr181: tr181, full: false, options: options, servers: servers, tag: tag))
            if !plans.contains(minimal) { plans.append(minimal) }
        }
        return DiagnosticSpec(plan: plans[0], fallbacks: Array(plans.dropFirst()), tag: tag, options: options)
    }

    /// `kind` with an unplanned diagnostics spec planned for this device; other kinds unchanged.
    public static func resolve(_ kind: TaskKind, device: Device, aliases: [String: String], servers: DiagnosticServers, tag: String) throws(DiagnosticPlanError) -> TaskKind {
        guard case .diagnostics(let s) = kind, !s.isPlanned else { return kind }
        return .diagnostics(try spec(test: s.plan.test, options: s.options, kind: device.dataModel, vendorObject: aliases[aliasName(s.plan.test)],
                                     servers: servers, tag: tag))
    }

    /// The download URL on Corral's server: a size or a duration, and the tag.
    public static func downloadURL(_ servers: DiagnosticServers, options: DiagnosticOptions, tag: String) -> String {
        if let s = options.seconds { return "\(servers.baseURL)/download?seconds=\(s)&tag=\(tag)" }
        return "\(servers.baseURL)/download/\(options.size ?? DiagnosticOptions.defaultSize)?tag=\(tag)"
    }

    static func inputs(_ test: DiagnosticTest, object o: String, tr181: Bool, full: Bool, options: DiagnosticOptions,
                       servers: DiagnosticServers, tag: String) -> [ParameterValue] {
        var v: [ParameterValue] = []
        func put(_ name: String, _ value: String, _ type: XSDType = .string) { v.append(ParameterValue(name: o + name, value: value, type: type)) }
        let extended = tr181 && full
        switch test {
        case .download:
            put("DownloadURL", options.host ?? downloadURL(servers, options: options, tag: tag))
            if extended, let s = options.seconds { put("TimeBasedTestDuration", String(s), .unsignedInt) }
            if extended, let c = options.connections, c > 1 {
                put("NumberOfConnections", String(c), .unsignedInt)
                put("EnablePerConnectionResults", "true", .boolean)
            }
        case .upload:
            put("UploadURL", options.host ?? "\(servers.baseURL)/upload/\(tag)")
            put("TestFileLength", String(options.size ?? DiagnosticOptions.defaultSize), .unsignedInt)
            if extended, let s = options.seconds { put("TimeBasedTestDuration", String(s), .unsignedInt) }
            if extended, let c = options.connections, c > 1 {
                put("NumberOfConnections", String(c), .unsignedInt)
                put("EnablePerConnectionResults", "true", .boolean)
            }
        case .udpecho:
            put("Host", options.host ?? servers.echoHost)
            put("Port", String(servers.echoPort), .unsignedInt)
            put("NumberOfRepetitions", String(options.count ?? defaultPackets), .unsignedInt)
            put("Timeout", "1000", .unsignedInt)
            put("DataBlockSize", "64", .unsignedInt)
            put("InterTransmissionTime", "100", .unsignedInt)
            if full { put("EnableIndividualPacketResults", "true", .boolean) }
        case .ping:
            put("Host", options.host ?? servers.echoHost)
            put("NumberOfRepetitions", String(options.count ?? defaultPings), .unsignedInt)
            put("Timeout", "1000", .unsignedInt)
            put("DataBlockSize", "64", .unsignedInt)
        case .traceroute:
            put("Host", options.host ?? servers.echoHost)
            put("NumberOfTries", String(options.count ?? 3), .unsignedInt)
            put("Timeout", "5000", .unsignedInt)
            put("MaxHopCount", "30", .unsignedInt)
        }
        put("DiagnosticsState", "Requested")
        return v
    }
}

public struct DiagnosticPlanError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
