import DataModel

public struct SimulatorConfig: Sendable {
    public var acsURL: String
    public var count: Int
    /// "tr181", "tr098", or the path of a model file (.xml BBF, .csv genieacs-sim, .json).
    public var model: String
    public var serialOffset: Int = 0
    public var serialPrefix: String = "SIM"
    public var oui: String = "00C0FF"
    public var manufacturer: String = "Corral Simulated"
    public var productClass: String?
    public var modelName: String?
    public var softwareVersion: String = "1.0.0"
    /// The generic profiles' default onboarding credentials (see `corral serve --help`).
    public var username: String?
    public var password: String?
    /// Periodic interval until the ACS sets one.
    public var informInterval: Int = 300
    /// First Informs are spread over this many seconds (0 = all at once).
    public var startSpread: Double = 0
    /// Periodic Informs are jittered by up to this fraction of the interval.
    public var jitter: Double = 0.1
    public var maxConcurrentSessions: Int = 256
    /// Connection-request listener (one port for all devices; the path names the device).
    public var crHost: String = "127.0.0.1"
    public var crPort: Int = 0
    /// Where the BBF data-model files are (for "tr181" and "tr098").
    public var dataModelDirectory: String = "datamodels"
    public var httpTimeoutSeconds: Double = 30
    /// Benchmark mode: each device starts its next session as soon as the previous one ends (ignoring the
    /// periodic interval). Every session is still a full CWMP session over a new connection with Digest.
    public var backToBack = false
    /// "host:port" of a STUN server (`--stun`): every CPE becomes a TR-111 client from its own UDP port, which also
    /// takes Annex G UDP connection requests.
    public var stunServer: String?
    /// Keep-alive period range in seconds (TR-069's STUNMinimumKeepAlivePeriod..STUNMaximumKeepAlivePeriod).
    public var stunKeepAlive: ClosedRange<Double> = 30...60
    /// false (`--no-http-cr`): no HTTP connection-request listener and an empty ConnectionRequestURL.
    public var httpConnectionRequests = true
    /// "host:port" of an XMPP server (`--xmpp`): every CPE registers an account there (XEP-0077), keeps a session
    /// and takes Annex K connection requests; its JID is `<serial>@<xmppDomain>/cwmp`.
    public var xmppServer: String?
    /// The XMPP domain of the CPEs' accounts (`--xmpp-domain`).
    public var xmppDomain = "corral.test"
    /// Seconds between the CPEs' XMPP pings (a lost session is noticed and re-opened within about twice this).
    public var xmppKeepAlive: Double = 30

    /// For an https:// ACS: the CA (PEM) its certificate must chain to (`--ca`; nil = the system's trust store).
    public var caFile: String?
    /// A client certificate and key (PEM) every CPE presents (`--client-cert`, `--client-key`), for mutual TLS.
    public var clientCertificate: String?
    public var clientKey: String?
    /// CPEs that answer challenges with Basic only (`--basic-only`), as some real ones do; Digest challenges fail.
    public var basicOnly = false
    /// Field behaviours every CPE of this run reproduces (`--quirk`).
    public var quirks: Set<SimQuirk> = []

    /// Link shaping of the devices' TR-143 test traffic (`--link-mbps`, `--link-latency-ms`): nil = unshaped; a range
    /// gives each device a fixed value in it, derived from its serial number (`LinkProfile.forDevice`).
    public var linkMbps: ClosedRange<Double>?
    /// Round-trip latency in ms added to the test traffic (connect, request → first byte, echo → reply).
    public var linkLatencyMs: ClosedRange<Double>?
    /// UDP echo port that the simulated IPPing and TraceRoute probe on their Host (`--ping-udp-port`).
    public var pingUDPPort: Int = 7

    /// Probability (0...1) that a firmware download that arrived whole still fails (`--fail-download-rate`):
    /// TransferComplete with fault 9010, nothing installed, no reboot.
    public var failDownloadRate: Double = 0
    /// Probability (0...1) that a downloaded firmware image does not take (`--bad-image-rate`): TransferComplete
    /// succeeds and the CPE reboots (1 BOOT, M Download), but comes back on its old SoftwareVersion.
    public var badImageRate: Double = 0
    /// nil: the failure draws come from the system's random generator. A seed makes them reproducible (tests).
    public var failureSeed: UInt64?

    public init(acsURL: String, count: Int, model: String) {
        self.acsURL = acsURL; self.count = count; self.model = model
    }

    /// The link of the device with this serial number.
    public func link(serial: String) -> LinkProfile {
        LinkProfile.forDevice(serial: serial, mbps: linkMbps, latencyMs: linkLatencyMs)
    }

    /// Whether firmware download number `n` (0, 1, …) of the device `serial` fails (`failDownloadRate`) and whether
    /// its image does not take (`badImageRate`; only matters when the download did not fail). Two draws in [0, 1),
    /// from the system generator, or with `failureSeed` from SplitMix64 seeded by (seed, serial, n): the same
    /// outcome for the same device and download whatever order the devices' sessions run in.
    public func firmwareFailures(serial: String, download n: Int) -> (failDownload: Bool, badImage: Bool) {
        guard failDownloadRate > 0 || badImageRate > 0 else { return (false, false) }
        let serialHash = serial.utf8.reduce(UInt64(0xcbf29ce484222325)) { ($0 ^ UInt64($1)) &* 0x100000001b3 }
        var state = failureSeed.map { $0 ^ serialHash ^ (UInt64(truncatingIfNeeded: n) &* 0x9E3779B97F4A7C15) }
        func draw() -> Double {
            guard var z = state else { return Double.random(in: 0..<1) }
            z &+= 0x9E3779B97F4A7C15
            state = z
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return Double((z ^ (z >> 31)) >> 11) * 0x1p-53
        }
        let fail = draw(), bad = draw()
        return (fail < failDownloadRate, bad < badImageRate)
    }

    public var kindHint: DataModelKind? { model == "tr098" ? .tr098 : model == "tr181" ? .tr181 : nil }

    /// Onboarding credentials of the built-in generic profile for the model, unless given.
    public func onboardingCredentials(for kind: DataModelKind) -> (String, String) {
        let defaults = kind == .tr098 ? ("corral-tr098", "onboard-tr098") : ("corral-tr181", "onboard-tr181")
        return (username ?? defaults.0, password ?? defaults.1)
    }
}
