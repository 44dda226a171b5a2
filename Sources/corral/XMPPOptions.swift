import ArgumentParser
import Engine

/// `--xmpp-server` / `--xmpp-jid` for every command that may send connection requests (the password comes from
/// corral.json, a secret or CORRAL_XMPP_PASSWORD, never from the command line, where `ps` would show it).
struct XMPPOptions: ParsableArguments {
    @Option(name: .customLong("xmpp-server"), help: "XMPP server host:port for Annex K connection requests (or CORRAL_XMPP_SERVER, or \"xmpp\": {\"server\"} in corral.json).")
    var server: String?
    @Option(name: .customLong("xmpp-jid"), help: "Corral's own JID on that server, user@domain (or CORRAL_XMPP_JID); password from corral.json, a secret or CORRAL_XMPP_PASSWORD.")
    var jid: String?

    func apply(to config: inout CorralConfig) throws {
        do { try config.mergeXMPP(server: server, jid: jid, password: nil, source: "the command line") } catch let e as ConfigError {
            throw ValidationError(e.description)
        }
    }
}
