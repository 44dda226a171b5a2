import ArgumentParser
import DataModel
import Foundation
import NetHTTP
import Simulator

struct Sim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run simulated CPEs against an ACS, over CWMP only.",
        discussion: """
            Each virtual CPE starts factory-fresh: it informs with 0 BOOTSTRAP using the onboarding credentials \
            of Corral's generic profile for its model (corral-tr181 / onboard-tr181, corral-tr098 / onboard-tr098) \
            unless --username/--password are given, takes the credentials the ACS sets, then informs periodically. \
            It answers every RPC, reboots, factory-resets, downloads firmware over HTTP and listens for \
            connection requests (Digest) on --cr-host:--cr-port, path /cr/<serial>. \
            A firmware image installs on the reboot after its download; its version is the image's first line \
            when that is "CORRAL-FIRMWARE <version>", else taken from the file name (r1-2.1.0.bin: 2.1.0); \
            --fail-download-rate and --bad-image-rate inject failures. \
            TR-143 diagnostics run for real: HTTP download/upload, UDP echo (Echo Plus), and IPPing/TraceRoute \
            simulated with UDP echo to --ping-udp-port; --link-mbps/--link-latency-ms shape that traffic per device.
            Models: tr181 and tr098 are built from the Broadband Forum XML in datamodels/; any other value is \
            a model file: .xml (BBF), .csv (genieacs-sim format) or .json (see docs/simulator-models.md).
            """)

    @Option(help: "ACS URL.") var acs = "http://127.0.0.1:7547/cwmp"
    @Option(help: "Number of virtual CPEs.") var count = 10
    @Option(help: "tr181, tr098, or a model file.") var model = "tr181"
    @Option(name: .customLong("serial-offset"), help: "First serial number (so several simulators can run side by side).") var serialOffset = 0
    @Option(name: .customLong("serial-prefix"), help: "Serial number prefix.") var serialPrefix = "SIM"
    @Option(help: "Manufacturer OUI (6 hex digits).") var oui = "00C0FF"
    @Option(name: .customLong("product-class"), help: "ProductClass (default by model).") var productClass: String?
    @Option(name: .customLong("software-version"), help: "Initial software version.") var softwareVersion = "1.0.0"
    @Option(help: "Onboarding username (default: the generic profile's).") var username: String?
    @Option(help: "Onboarding password (default: CORRAL_SIM_PASSWORD, else the generic profile's; prefer the environment: `ps` shows command lines).") var password: String?
    @Option(help: "Periodic inform interval (s) until the ACS sets one.") var interval = 300
    @Option(help: "Spread the first Informs over this many seconds.") var spread: Double = 0
    @Option(help: "Concurrent sessions at most.") var concurrency = 256
    @Option(name: .customLong("cr-host"), help: "Address of the connection-request listener.") var crHost = "127.0.0.1"
    @Option(name: .customLong("cr-port"), help: "Port of the connection-request listener (0 = any free port).") var crPort = 0
    @Option(help: "STUN server ip:port: every CPE becomes a TR-111 client (binding and UDP connection requests on one UDP port each).")
    var stun: String?
    @Option(name: .customLong("stun-keepalive"), help: "STUN keep-alive period in seconds (min-max, e.g. 30-60).") var stunKeepAlive = "30-60"
    @Flag(name: .customLong("no-http-cr"), help: "No HTTP connection-request listener; ConnectionRequestURL stays empty.") var noHTTPCR = false
    @Option(help: "XMPP server host:port: every CPE registers an account (XEP-0077), stays logged in and takes Annex K connection requests.")
    var xmpp: String?
    @Option(name: .customLong("xmpp-domain"), help: "XMPP domain of the CPEs' accounts (JID <serial>@<domain>/cwmp).") var xmppDomain = "corral.test"
    @Option(name: .customLong("xmpp-keepalive"), help: "Seconds between the CPEs' XMPP pings.") var xmppKeepAlive: Double = 30
    @Option(help: "For an https:// ACS: CA certificate (PEM) to trust (default: the system's).") var ca: String?
    @Option(name: .customLong("client-cert"), help: "Client certificate (PEM) every CPE presents (mutual TLS).") var clientCert: String?
    @Option(name: .customLong("client-key"), help: "Key (PEM) of --client-cert.") var clientKey: String?
    @Flag(name: .customLong("basic-only"), help: "CPEs answer challenges with Basic only (allowed by Corral over TLS).") var basicOnly = false
    @Option(name: .customLong("link-mbps"), help: "Shape each CPE's diagnostics traffic to this rate in Mbit/s: n, or lo-hi for a per-device value fixed by its serial (default: unshaped).")
    var linkMbps: String?
    @Option(name: .customLong("link-latency-ms"), help: "Round-trip latency in ms added to each CPE's diagnostics traffic: n, or lo-hi per device (default: none).")
    var linkLatencyMs: String?
    @Option(name: .customLong("ping-udp-port"), help: "UDP echo port that IPPing and TraceRoute diagnostics probe on their Host: ping is simulated with UDP echo (no ICMP without privileges).")
    var pingUDPPort = 7
    @Option(name: .customLong("datamodels"), help: "Directory with the BBF data-model XML files (default: the first of ./datamodels, datamodels/ next to the corral binary or above it (a build tree), <prefix>/share/corral/datamodels, /usr/share/corral/datamodels, /usr/local/share/corral/datamodels).") var datamodels: String?
    @Option(name: .customLong("quirk"), help: "Reproduce a field behaviour on every CPE (repeatable): \(SimQuirk.allCases.map { "\($0.rawValue) (\($0.help))" }.joined(separator: ", ")).") var quirk: [String] = []
    @Option(name: .customLong("fail-download-rate"), help: "Probability (0-1) that a firmware download fails: TransferComplete fault 9010, no reboot, version unchanged.")
    var failDownloadRate: Double = 0
    @Option(name: .customLong("bad-image-rate"), help: "Probability (0-1) that a downloaded firmware image does not take: the CPE reports success, reboots and comes back on its old version.")
    var badImageRate: Double = 0
    @Option(help: "Stop after this many seconds (default: run until interrupted).") var duration: Double?
    @Flag(name: .customLong("back-to-back"), help: "Benchmark: each CPE starts its next session as soon as the last one ends (full CWMP sessions with Digest, new connection each).")
    var backToBack = false
    @Option(help: "Benchmark: once every CPE finished its first session, wait --settle s, measure for this many seconds, then stop.")
    var measure: Double?
    @Option(help: "Seconds between the last first session and the measurement window.") var settle: Double = 1
    @Flag(name: .customLong("until-onboarded"), help: "Stop once every CPE finished its first session (or at --duration).")
    var untilOnboarded = false
    @Option(name: .customLong("report-json"), help: "Write a JSON summary (counts, onboarding time, measurement window) to this file.")
    var reportJSON: String?

    static func say(_ line: String) {
        // Unbuffered: the benchmark script reads these lines from a pipe while the run goes on.
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be at least 1") }
        guard oui.count == 6, oui.allSatisfy(\.isHexDigit) else { throw ValidationError("--oui must be 6 hex digits") }
        guard keepAliveRange != nil else { throw ValidationError("--stun-keepalive must be seconds or min-max seconds, e.g. 30-60") }
        if let s = linkMbps, Self.range(s).map({ $0.lowerBound > 0 }) != true {
            throw ValidationError("--link-mbps must be a rate > 0 in Mbit/s or lo-hi, e.g. 50 or 10-100")
        }
        if let s = linkLatencyMs, Self.range(s) == nil { throw ValidationError("--link-latency-ms must be ms or lo-hi, e.g. 20 or 5-80") }
        guard (1...65535).contains(pingUDPPort) else { throw ValidationError("--ping-udp-port must be 1-65535") }
        guard (0...1).contains(failDownloadRate) else { throw ValidationError("--fail-download-rate must be a probability from 0 to 1, e.g. 0.05") }
        guard (0...1).contains(badImageRate) else { throw ValidationError("--bad-image-rate must be a probability from 0 to 1, e.g. 0.05") }
    }

    /// "n" or "lo-hi" (non-negative numbers, lo <= hi).
    static func range(_ s: String) -> ClosedRange<Double>? {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard (1...2).contains(parts.count), let lo = parts.first ?? nil, let hi = parts.last ?? nil,
              lo >= 0, hi >= lo, lo.isFinite, hi.isFinite else { return nil }
        return lo...hi
    }

    var keepAliveRange: ClosedRange<Double>? {
        let parts = stunKeepAlive.split(separator: "-").compactMap { Double($0) }
        guard (1...2).contains(parts.count), parts.count == stunKeepAlive.split(separator: "-").count,
              let lo = parts.first, let hi = parts.last, lo >= 1, hi >= lo else { return nil }
        return lo...hi
    }

    func run() async throws {
        NetRuntime.installNIOExecutor()
        var c = SimulatorConfig(acsURL: acs, count: count, model: model)
        c.serialOffset = serialOffset; c.serialPrefix = serialPrefix; c.oui = oui.uppercased(); c.productClass = productClass
        c.softwareVersion = softwareVersion; c.username = username; c.password = password ?? ProcessInfo.processInfo.environment["CORRAL_SIM_PASSWORD"]; c.informInterval = interval
        c.startSpread = spread; c.maxConcurrentSessions = concurrency; c.crHost = crHost; c.crPort = crPort
        guard let models = datamodels ?? ModelSchemas.locate() else {
            throw ValidationError("no datamodels directory found (looked in \(ModelSchemas.candidates().joined(separator: ", "))): give --datamodels <dir>")
        }
        c.dataModelDirectory = models
        c.quirks = Set(try quirk.map { q in
            guard let v = SimQuirk(rawValue: q) else { throw ValidationError("unknown quirk \(q): one of \(SimQuirk.allCases.map(\.rawValue).joined(separator: ", "))") }
            return v
        })
        c.backToBack = backToBack
        c.stunServer = stun
        c.stunKeepAlive = keepAliveRange ?? 30...60
        c.httpConnectionRequests = !noHTTPCR
        c.xmppServer = xmpp
        c.xmppDomain = xmppDomain
        c.xmppKeepAlive = max(1, xmppKeepAlive)
        c.caFile = ca; c.clientCertificate = clientCert; c.clientKey = clientKey; c.basicOnly = basicOnly
        c.linkMbps = linkMbps.flatMap(Self.range); c.linkLatencyMs = linkLatencyMs.flatMap(Self.range); c.pingUDPPort = pingUDPPort
        c.failDownloadRate = failDownloadRate; c.badImageRate = badImageRate
        let sim = try Simulator(config: c)
        try await sim.start()
        print("corral sim: \(count) \(sim.kind.rawValue) CPEs (\(sim.template.entryCount) parameters each) -> \(acs); connection requests on \(noHTTPCR ? "(no HTTP)" : "\(crHost):\(sim.crPort)")"
              + (stun.map { ", STUN to \($0)" } ?? "")
              + (linkMbps != nil || linkLatencyMs != nil ? ", diagnostics link \(linkMbps ?? "unshaped") Mbit/s +\(linkLatencyMs ?? "0") ms" : ""))
        let reporter = Task {
            var last = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(5))
                let s = sim.stats.snapshot
                print("sessions \(s.sessions) (+\(s.sessions - last)), first sessions \(s.firstSessions), failures \(s.failures), 503s \(s.busyRefusals), mean session \(String(format: "%.1f", s.meanSessionMs)) ms, connection requests \(sim.stats.connectionRequests) taken, \(sim.stats.connectionRequestsRefused) refused"
                      + (sim.stats.errors.last.map { "; last error: \($0)" } ?? ""))
                last = s.sessions
            }
        }
        let started = Date().timeIntervalSince1970
        let deadline = duration.map { started + $0 }
        var window: (start: Double, a: SimulatorStats.Snapshot)?
        var windowResult: (seconds: Double, sessions: Int, http: Int, failures: Int)?
        if duration == nil && measure == nil && !untilOnboarded {
            await waitForTermination()
        } else {
            // Polls every 10 ms: the onboarding time is read from the stats, so the poll only decides when to stop.
            while deadline.map({ Date().timeIntervalSince1970 < $0 }) ?? true {
                let s = sim.stats.snapshot
                let now = Date().timeIntervalSince1970
                if s.firstSessions >= count {
                    if untilOnboarded && measure == nil { break }
                    if let m = measure {
                        if window == nil, now >= s.lastFirstSessionAt + settle {
                            window = (now, s)
                            Self.say("corral sim: window start \(now)")
                        }
                        if let w = window, now >= w.start + m {
                            windowResult = (now - w.start, s.sessions - w.a.sessions, s.httpRequests - w.a.httpRequests, s.failures - w.a.failures)
                            Self.say("corral sim: window end \(now)")
                            break
                        }
                    }
                }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        reporter.cancel()
        await sim.stop()
        let s = sim.stats.snapshot
        let lastFirst = s.firstSessions > 0 ? String(format: " (last after %.2f s)", s.lastFirstSessionAt - started) : ""
        print("corral sim: done, \(s.sessions) sessions, \(s.failures) failures, \(s.busyRefusals) refused with 503 "
              + "(\(s.retryAfterHonoured) with Retry-After), \(s.firstSessions) of \(count) CPEs had a first session\(lastFirst)")
        if let w = windowResult {
            print(String(format: "corral sim: window %.2f s: %d sessions (%.0f/s), %.2f HTTP requests per session, %d failures",
                         w.seconds, w.sessions, Double(w.sessions) / w.seconds, w.sessions > 0 ? Double(w.http) / Double(w.sessions) : 0, w.failures))
        }
        if let reportJSON {
            var r: [String: Double] = [:]
            r["devices"] = Double(count)
            r["sessions"] = Double(s.sessions)
            r["failures"] = Double(s.failures)
            r["http_requests"] = Double(s.httpRequests)
            r["busy_refusals"] = Double(s.busyRefusals)
            r["retry_after_honoured"] = Double(s.retryAfterHonoured)
            r["first_sessions"] = Double(s.firstSessions)
            r["mean_session_ms"] = s.meanSessionMs
            if s.firstSessions >= count { r["onboard_seconds"] = s.lastFirstSessionAt - started }
            if let w = windowResult {
                r["window_seconds"] = w.seconds
                r["window_sessions"] = Double(w.sessions)
                r["window_http_requests"] = Double(w.http)
                r["window_failures"] = Double(w.failures)
            }
            let data = try JSONSerialization.data(withJSONObject: r, options: [.sortedKeys])
            try data.write(to: URL(fileURLWithPath: reportJSON))
        }
        if (measure != nil && windowResult == nil) || (untilOnboarded && s.firstSessions < count) {
            print("corral sim: stopped before the goal (--duration reached)")
            throw ExitCode(2)
        }
    }
}
