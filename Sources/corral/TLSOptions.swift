import ArgumentParser
import Engine

/// `serve`'s TLS flags (each also in corral.json and the environment).
struct TLSOptions: ParsableArguments {
    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain: CWMP and operator ports speak HTTPS only (or tls_cert, CORRAL_TLS_CERT).")
    var cert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key of that certificate (or tls_key, CORRAL_TLS_KEY).")
    var key: String?
    @Option(name: .customLong("cwmp-plain-port"), help: "With TLS: also a plain-HTTP CWMP port for legacy devices, Digest only (or cwmp_plain_port, CORRAL_CWMP_PLAIN_PORT).")
    var cwmpPlainPort: Int?
    @Option(name: .customLong("client-ca"), help: "With TLS: CA (PEM) for CPE client certificates, for profiles that require mutual TLS (or client_ca, CORRAL_CLIENT_CA).")
    var clientCA: String?

    func apply(to config: inout CorralConfig) throws {
        if let cert { config.tlsCert = cert }
        if let key { config.tlsKey = key }
        if let cwmpPlainPort {
            guard (1...65535).contains(cwmpPlainPort) else { throw ValidationError("--cwmp-plain-port must be 1-65535") }
            config.cwmpPlainPort = cwmpPlainPort
        }
        if let clientCA { config.clientCA = clientCA }
    }
}
