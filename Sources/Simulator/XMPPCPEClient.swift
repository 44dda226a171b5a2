import CWMP
import Foundation
import XMPP

/// A virtual CPE's XMPP side (TR-069 Annex K): its own account on the XMPP server (created by in-band registration,
/// XEP-0077), a session kept open with pings and re-opened after a loss, the bound JID reported as ConnReqJabberID,
/// and connection requests answered exactly as a CPE must (credentials checked, `not-authorized` otherwise).
final class XMPPCPEClient: @unchecked Sendable {
    let cpe: VirtualCPE
    let host: String
    let port: Int
    let account: XMPPAccount
    let keepAlive: Duration
    let stats: SimulatorStats
    let onWake: @Sendable (VirtualCPE) -> Void
    private let lock = NSLock()
    private var connection: XMPPConnection?
    private var loop: Task<Void, Never>?
    private(set) var lastError = ""

    init(cpe: VirtualCPE, host: String, port: Int, domain: String, keepAlive: Duration, stats: SimulatorStats,
         onWake: @escaping @Sendable (VirtualCPE) -> Void) {
        self.cpe = cpe; self.host = host; self.port = port; self.keepAlive = keepAlive; self.stats = stats; self.onWake = onWake
        // A password derived from the serial, so that a restarted simulator logs in to the accounts it registered.
        account = XMPPAccount(localpart: cpe.serial.lowercased(), domain: domain, password: "sim-" + cpe.serial, resource: "cwmp")
    }

    /// Logs in once (the JID is then known before the first Inform), then keeps the session in the background.
    func start() async {
        let first = await connectOnce()
        if let jid = first { _ = cpe.jabberIDChanged(to: jid, notify: false) }
        loop = Task { [weak self] in await self?.run(connected: first != nil) }
    }

    func stop() async {
        loop?.cancel()
        let c = lock.withLock { connection }
        await c?.close()
        _ = await loop?.value
    }

    private func run(connected: Bool) async {
        var up = connected
        var backoff = 0.5
        while !Task.isCancelled {
            if up, let c = lock.withLock({ connection }) {
                _ = await withCheckedContinuation { (cont: CheckedContinuation<XMPPError, Never>) in c.onClose { cont.resume(returning: $0) } }
                if Task.isCancelled { return }
            }
            try? await Task.sleep(for: .milliseconds(Int(backoff * 1000 * Double.random(in: 0.8...1.2))))
            guard !Task.isCancelled else { return }
            if let jid = await connectOnce() {
                backoff = 0.5
                up = true
                // ConnReqJabberID is active-notification by default: a new JID is reported at once.
                if cpe.jabberIDChanged(to: jid, notify: true) { onWake(cpe) }
            } else {
                up = false
                backoff = min(30, backoff * 2)
            }
        }
    }

    private func connectOnce() async -> String? {
        do {
            let cpe = self.cpe, stats = self.stats, onWake = self.onWake
            let c = try await XMPPConnection.connect(host: host, port: port, account: account,
                                                     options: .init(tlsAvailable: true, requireTLS: false, register: true),
                                                     trust: .none) { iq in
                guard let request = ConnectionRequestIQ.parse(iq) else { return nil }
                let (user, pass) = cpe.connectionRequestCredentials
                guard request.username == user, request.password == pass else {
                    stats.recordConnectionRequest(accepted: false)
                    return ConnectionRequestIQ.reply(to: request, error: "not-authorized")
                }
                stats.recordConnectionRequest(accepted: true)
                cpe.addEvent(EventStruct(EventCode.connectionRequest))
                onWake(cpe)
                return ConnectionRequestIQ.reply(to: request)
            }
            c.keepAlive(every: keepAlive, timeout: keepAlive)
            lock.withLock { connection = c; lastError = "" }
            return c.jid
        } catch {
            lock.withLock { lastError = "\(error)" }
            return nil
        }
    }
}
