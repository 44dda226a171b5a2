import CWMP
import Foundation
import NIOCore
import NIOPosix

/// What a diagnostics run produced, before it is written to the data model (all at once).
struct DiagnosticsResult: Sendable {
    /// "Complete" or an Error_ value; `Diagnostics.state` maps it to what the object's enumeration allows.
    var state: String
    /// Result parameters, relative to the object ("ROMTime").
    var values: [(String, String)] = []
    /// Result tables, relative to the object ("PerConnectionResult"), one row of (parameter, value) per instance.
    var tables: [(String, [[(String, String)]])] = []

    static func error(_ state: String) -> DiagnosticsResult { DiagnosticsResult(state: state) }
}

/// TR-143 diagnostics a virtual CPE runs for real after the session that requested them: HTTP download and upload
/// against the URL (streaming, multi-connection, time-based), UDP echo (Echo Plus) against Host:Port, and IPPing /
/// TraceRoute simulated with UDP echo (an unprivileged process cannot send ICMP) to the simulator's ping port.
/// Traffic goes through the device's shaped link (`VirtualCPE.link`). Every run is bounded by a hard cap.
public enum Diagnostics {
    enum Test: Sendable {
        case download, upload, udpEcho, ping, traceRoute

        init?(object: String) {
            let name = object.split(separator: ".").last.map(String.init) ?? ""
            switch name {
            case "DownloadDiagnostics": self = .download
            case "UploadDiagnostics": self = .upload
            case "UDPEchoDiagnostics": self = .udpEcho
            case "IPPing", "IPPingDiagnostics": self = .ping
            case "TraceRoute", "TraceRouteDiagnostics": self = .traceRoute
            default: return nil
            }
        }

        /// Result parameters (cleared when a run starts; those the model lacks are skipped).
        var outputs: [String] {
            switch self {
            case .download, .upload:
                let dir = self == .download ? "Received" : "Sent"
                return ["ROMTime", "BOMTime", "EOMTime", "TestBytes" + dir, "TotalBytesReceived", "TotalBytesSent",
                        "TestBytes\(dir)UnderFullLoading", "TotalBytesReceivedUnderFullLoading", "TotalBytesSentUnderFullLoading",
                        "PeriodOfFullLoading", "TCPOpenRequestTime", "TCPOpenResponseTime", "IPAddressUsed",
                        "PerConnectionResultNumberOfEntries", "IncrementalResultNumberOfEntries"]
            case .udpEcho:
                return ["SuccessCount", "FailureCount", "AverageResponseTime", "MinimumResponseTime", "MaximumResponseTime",
                        "IPAddressUsed", "IndividualPacketResultNumberOfEntries"]
            case .ping:
                return ["SuccessCount", "FailureCount", "AverageResponseTime", "MinimumResponseTime", "MinimumResponseTmie",
                        "MaximumResponseTime", "AverageResponseTimeDetailed", "MinimumResponseTimeDetailed",
                        "MaximumResponseTimeDetailed", "IPAddressUsed"]
            case .traceRoute:
                return ["ResponseTime", "IPAddressUsed", "RouteHopsNumberOfEntries"]
            }
        }

        var tables: [String] {
            switch self {
            case .download, .upload: ["PerConnectionResult", "IncrementalResult"]
            case .udpEcho: ["IndividualPacketResult"]
            case .ping: []
            case .traceRoute: ["RouteHops"]
            }
        }
    }

    /// Runs the test `object` ("Device.IP.Diagnostics.DownloadDiagnostics.") names with the inputs the ACS set, and
    /// writes the results and DiagnosticsState. Returns when the state is final, true when this run's results were
    /// written (the caller then informs with 8 DIAGNOSTICS COMPLETE); false when a newer request of the same object
    /// superseded it (or the device was factory-reset meanwhile).
    @discardableResult
    public static func run(object: String, cpe: VirtualCPE) async -> Bool {
        guard let test = Test(object: object) else {
            let run = cpe.beginDiagnostics(object: object, outputs: [], tables: [])
            return publish(.error("Error_Other"), object: object, run: run, cpe: cpe, test: nil)
        }
        let input = Inputs(object: object, cpe: cpe)
        let run = cpe.beginDiagnostics(object: object, outputs: test.outputs, tables: test.tables)
        let link = cpe.link
        let result: DiagnosticsResult
        switch test {
        case .download, .upload:
            let seconds = min(999, input.int("TimeBasedTestDuration", default: 0))
            let context = TransferContext(link: link, duration: seconds > 0 ? Double(seconds) : nil)
            let cap = Duration.seconds(seconds > 0 ? seconds + 60 : 300)
            if let r = await withDeadline(cap, { await transfer(upload: test == .upload, input: input, test: context) }) {
                result = r
            } else {
                context.abort()
                result = .error("Error_Timeout")
            }
        case .udpEcho, .ping, .traceRoute:
            let plan = echoPlan(test, input: input, link: link)
            let cap = min(Duration.seconds(3600), plan.interval * plan.count + plan.timeout * (plan.sequential ? plan.count : 1) + .seconds(60))
            let port = test == .udpEcho ? input.int("Port", default: 7) : cpe.pingUDPPort
            result = await withDeadline(cap, { await echo(test, input: input, port: port, plan: plan) }) ?? .error("Error_Other")
        }
        return publish(result, object: object, run: run, cpe: cpe, test: test)
    }

    static func publish(_ r: DiagnosticsResult, object: String, run: Int, cpe: VirtualCPE, test: Test?) -> Bool {
        let allowed = cpe.withModel { $0.definition(of: object + "DiagnosticsState")?.enumerations } ?? []
        let transfer = test == .download || test == .upload
        let state = stateValue(r.state, allowed: allowed, tr098Transfer: transfer && cpe.root == "InternetGatewayDevice.")
        return cpe.publishDiagnostics(object: object, run: run, state: state, values: r.values, tables: r.tables)
    }

    /// The state value the object's enumeration has: TR-098 Download/Upload say "Completed" (TR-181 2.13+ "Complete"),
    /// and not every object has every Error_ value.
    static func stateValue(_ wanted: String, allowed: [String], tr098Transfer: Bool) -> String {
        guard !allowed.isEmpty else { return wanted == "Complete" && tr098Transfer ? "Completed" : wanted }
        var candidates = [wanted]
        switch wanted {
        case "Complete": candidates.append("Completed")
        case "Error_CannotResolveHostName": candidates += ["Error_InitConnectionFailed"]
        case "Error_Timeout": candidates += ["Error_NoTransferComplete", "Error_TransferFailed", "Error_NoResponse"]
        default: break
        }
        candidates += ["Error_Other", "Error_Internal", "Error_InitConnectionFailed", "Error"]
        return candidates.first { allowed.contains($0) } ?? wanted
    }

    // MARK: helpers

    /// The test's inputs as the ACS set them.
    struct Inputs: Sendable {
        let object: String
        let cpe: VirtualCPE
        var root: String { cpe.root }
        func string(_ name: String) -> String { cpe.value(object + name) ?? "" }
        /// A positive number, else `default` (0 and absent mean "not set" for these inputs).
        func int(_ name: String, default d: Int) -> Int {
            guard let v = Int(string(name).trimmingCharacters(in: .whitespaces)), v > 0 else { return d }
            return v
        }
        func bool(_ name: String) -> Bool { ["1", "true"].contains(string(name).lowercased()) }
        func exists(_ name: String) -> Bool { cpe.value(object + name) != nil }
    }

    /// TR-106 dateTime with microseconds in UTC: "2026-12-06T11:02:03.123456Z"; Unknown Time for nil.
    static func dateTime(_ d: Date?) -> String {
        guard let d else { return CWMPDateTime.unknown }
        let us = Int64((d.timeIntervalSince1970 * 1_000_000).rounded(.down))
        let s = us >= 0 ? us / 1_000_000 : (us - 999_999) / 1_000_000
        let frac = us - s * 1_000_000
        let digits = String(frac)
        return CWMPDateTime.format(unixSeconds: s).dropLast() + "." + String(repeating: "0", count: 6 - digits.count) + digits + "Z"
    }

    static func micros(_ from: Date, _ to: Date) -> Int { max(0, Int(((to.timeIntervalSince1970 - from.timeIntervalSince1970) * 1_000_000).rounded())) }

    /// The address of `host` (name, IPv4 or IPv6 literal, brackets allowed); nil when it does not resolve within 10 s.
    static func resolve(_ host: String, port: Int) async -> SocketAddress? {
        var h = host.trimmingCharacters(in: .whitespaces)
        if h.hasPrefix("["), h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        guard !h.isEmpty, (0...65535).contains(port) else { return nil }
        if let a = try? SocketAddress(ipAddress: h, port: port) { return a }
        let name = h
        // getaddrinfo blocks: on NIO's thread pool, and not waited for past the deadline.
        let found = await withDeadline(.seconds(10)) {
            try? await NIOThreadPool.singleton.runIfActive { try SocketAddress.makeAddressResolvingHost(name, port: port) }
        }
        return found ?? nil
    }
}
