import ACSCore
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import SpeedTest
import Storage

/// Corral's TR-143 test servers in `serve`, and what the engine needs of them: the URLs a device should use, which
/// addresses the echo server may answer, and the servers' view of a finished test.
public final class SpeedTestService: Sendable {
    public let http: HTTPTestServer?
    public let echo: UDPEchoServer?
    let config: CorralConfig
    let networks: TrustedProxies
    /// Addresses of devices a test was sent to, until when (Unix seconds) the echo server answers them.
    let expected = NIOLockedValueBox<[String: Int64]>([:])
    let ports = NIOLockedValueBox<(http: Int, echo: Int)>((0, 0))

    public init(config: CorralConfig) throws {
        self.config = config
        do { networks = try TrustedProxies(config.udpEchoNetworks) } catch { throw ConfigError("udp_echo_networks: \(error.description)") }
        var limits = HTTPTestServer.Limits()
        limits.maxBytes = config.speedtestMaxBytes
        let expected = self.expected, networks = self.networks
        // Both servers answer the same clients: loopback, udp_echo_networks, and for an hour a device a test was sent to.
        let allow: @Sendable (SocketAddress) -> Bool = { address in
            guard let ip = address.ipAddress else { return false }
            if ip == "127.0.0.1" || ip == "::1" || ip.hasPrefix("127.") || ip.hasPrefix("::ffff:127.") { return true }
            if networks.trusts(ip) { return true }
            let now = Int64(Date().timeIntervalSince1970)
            return expected.withLockedValue { ($0[ip] ?? 0) >= now }
        }
        http = config.speedtestPort == 0 ? nil : HTTPTestServer(host: config.host, port: config.speedtestPort, limits: limits, allow: allow)
        echo = config.udpEchoPort == 0 ? nil : UDPEchoServer(host: config.host, port: config.udpEchoPort,
                                                             packetsPerSecondPerAddress: max(1, config.udpEchoRate), allow: allow)
    }

    public func start() async throws {
        var h = 0, e = 0
        if let http {
            do { h = try await http.start() } catch {
                throw ConfigError("cannot listen for the TR-143 test server on tcp \(config.host):\(config.speedtestPort): \(error) (set speedtest_port, --speedtest-port or CORRAL_SPEEDTEST_PORT; 0 turns it off)")
            }
        }
        if let echo {
            do { e = try await echo.start() } catch {
                throw ConfigError("cannot listen for the UDP echo server on udp \(config.host):\(config.udpEchoPort): \(error) (set udp_echo_port, --udp-echo-port or CORRAL_UDP_ECHO_PORT; 0 turns it off)")
            }
        }
        ports.withLockedValue { $0 = (h, e) }
    }

    public func stop() async {
        await http?.stop()
        await echo?.stop()
    }

    public var httpPort: Int { ports.withLockedValue { $0.http } }
    public var echoPort: Int { ports.withLockedValue { $0.echo } }

    /// Where a device should run its tests: its organisation's server (the nearest that names one), else its
    /// profile's, else corral.json's, else this server's address.
    public func servers(for profile: DeviceProfile?, organisationURL: String? = nil) -> DiagnosticServers {
        Self.servers(config: config, profile: profile, organisationURL: organisationURL, httpPort: httpPort, echoPort: echoPort)
    }

    /// Also for commands that run beside `serve` (the ports as configured).
    public static func servers(config: CorralConfig, profile: DeviceProfile?, organisationURL: String? = nil, httpPort: Int = 0,
                               echoPort: Int = 0) -> DiagnosticServers {
        let base = organisationURL ?? profile?.speedtestBaseURL ?? config.speedtestBaseURL
            ?? "http://\(advertisedHost(config.host)):\(httpPort == 0 ? config.speedtestPort : httpPort)"
        let host = URLComponents(string: base)?.host ?? advertisedHost(config.host)
        let configured = organisationURL != nil || profile?.speedtestBaseURL != nil || config.speedtestBaseURL != nil
        return DiagnosticServers(baseURL: base, echoHost: host, echoPort: echoPort == 0 ? config.udpEchoPort : echoPort,
                                 httpAvailable: configured || config.speedtestPort != 0, echoAvailable: config.udpEchoPort != 0)
    }

    /// A wildcard listen address cannot be given to a device; the host name is the best guess (set
    /// speedtest_base_url for anything else).
    static func advertisedHost(_ host: String) -> String {
        if host == "0.0.0.0" || host == "::" || host.isEmpty { return ProcessInfo.processInfo.hostName }
        return host
    }

    /// The device at `address` is about to run a test: its echo packets are answered for the next hour.
    public func expect(_ address: String) {
        guard !address.isEmpty else { return }
        let until = Int64(Date().timeIntervalSince1970) + 3600
        expected.withLockedValue { e in
            e[address] = until
            if e.count > 100_000 { let now = until - 3600; e = e.filter { $0.value >= now } }
        }
    }

    /// What the servers saw of a test: the HTTP transfers carrying its tag, or the echo sessions from the device's
    /// address since the test was started.
    public func serverView(_ spec: DiagnosticSpec, deviceAddress: String, sinceMicros: Int64) -> DiagnosticResult.ServerView? {
        switch spec.plan.test {
        case .download, .upload:
            guard let http else { return nil }
            let records = http.log.records(tag: spec.tag).filter { $0.direction == (spec.plan.test == .download ? .download : .upload) }
            guard !records.isEmpty else { return nil }
            let bytes = records.reduce(Int64(0)) { $0 + $1.bytes }
            let start = records.map(\.startMicros).min()!, end = records.map { $0.startMicros + $0.durationMicros }.max()!
            let duration = end - start
            return DiagnosticResult.ServerView(bytes: bytes, durationUs: duration,
                                               throughputBps: duration > 0 ? Double(bytes) * 8 / (Double(duration) / 1e6) : nil,
                                               connections: records.count, complete: records.allSatisfy(\.complete))
        case .udpecho:
            guard let echo, spec.options.host == nil else { return nil }
            let sessions = echo.sessions(client: deviceAddress, sinceMicros: sinceMicros)
            guard !sessions.isEmpty else { return nil }
            return DiagnosticResult.ServerView(packetsReceived: sessions.reduce(0) { $0 + $1.received },
                                               packetsReplied: sessions.reduce(0) { $0 + $1.replied },
                                               packetsDropped: sessions.reduce(0) { $0 + $1.dropped })
        case .ping, .traceroute:
            return nil
        }
    }

    /// The stored form of a result.
    public static func record(_ r: DiagnosticResult, deviceID: Int64, taskID: Int64?, at: Int64) -> DiagnosticRecord {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(r)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return DiagnosticRecord(deviceID: deviceID, taskID: taskID, test: r.test.rawValue, state: r.state, ok: r.ok, at: at,
                                throughputBps: r.throughputBps, avgRttUs: r.avgRttUs, jitterUs: r.jitterUs, loss: r.loss, result: json)
    }

    public var metrics: String {
        var out = ""
        if let http {
            let s = http.stats.snapshot
            out += """
                # HELP corral_speedtest_bytes_total Bytes the TR-143 HTTP test server sent (download) and received (upload).
                # TYPE corral_speedtest_bytes_total counter
                corral_speedtest_bytes_total{direction="download"} \(s["download_bytes"] ?? 0)
                corral_speedtest_bytes_total{direction="upload"} \(s["upload_bytes"] ?? 0)
                # HELP corral_speedtest_transfers_total Completed test transfers.
                # TYPE corral_speedtest_transfers_total counter
                corral_speedtest_transfers_total{direction="download"} \(s["downloads"] ?? 0)
                corral_speedtest_transfers_total{direction="upload"} \(s["uploads"] ?? 0)

                """
        }
        if let echo {
            let s = echo.stats.snapshot
            out += """
                # HELP corral_udp_echo_packets_total Datagrams the UDP echo server received, by what became of them.
                # TYPE corral_udp_echo_packets_total counter
                corral_udp_echo_packets_total{result="replied"} \(s["replies"] ?? 0)
                corral_udp_echo_packets_total{result="refused"} \(s["refused"] ?? 0)
                corral_udp_echo_packets_total{result="rate_limited"} \(s["rate_limited"] ?? 0)

                """
        }
        return out
    }
}
