import ArgumentParser
import Engine

/// `serve`'s flags for what sits in front of Corral and who may scrape it (each also in corral.json and the environment).
struct EdgeOptions: ParsableArguments {
    @Option(name: .customLong("trusted-proxy"), help: "A reverse proxy (IP or CIDR; repeat the flag) whose X-Forwarded-For/-Proto are believed (or trusted_proxies, CORRAL_TRUSTED_PROXIES).")
    var trustedProxies: [String] = []
    @Option(name: .customLong("metrics-port"), help: "Serve /metrics on this separate port (on --metrics-host) instead of the operator port (or metrics_port, CORRAL_METRICS_PORT).")
    var metricsPort: Int?
    @Option(name: .customLong("metrics-host"), help: "Address of the metrics port (default 127.0.0.1, or metrics_host, CORRAL_METRICS_HOST).")
    var metricsHost: String?

    func apply(to config: inout CorralConfig) throws {
        if !trustedProxies.isEmpty { config.trustedProxies = trustedProxies }
        if let metricsPort {
            guard (0...65535).contains(metricsPort) else { throw ValidationError("--metrics-port must be 0-65535") }
            config.metricsPort = metricsPort
        }
        if let metricsHost { config.metricsHost = metricsHost }
    }
}
