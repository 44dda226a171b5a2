import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// How the client checks the server's certificate after STARTTLS.
public enum XMPPTrust: Sendable {
    /// The system's roots (Debian's ca-certificates).
    case system
    /// A PEM file of CA certificates (a private CA, or the test lab's self-signed certificate).
    case caFile(String)
    /// No check at all: only for the simulator's virtual CPEs.
    case none
}

/// One logged-in XMPP client session over TCP (STARTTLS when the server offers it), driving `XMPPClientMachine`.
/// IQ requests wait for their reply by id with a timeout; requests addressed to us go to `onRequest`.
public final class XMPPConnection: @unchecked Sendable {
    public let account: XMPPAccount
    public private(set) var jid = ""
    let channel: Channel
    private let lock = NSLock()
    private var pending: [String: CheckedContinuation<XMLElement, Error>] = [:]
    private var closedError: XMPPError?
    private var nextID = 0
    private var keepAliveTask: Task<Void, Never>?
    private var closeHandlers: [@Sendable (XMPPError) -> Void] = []
    /// Requests (IQ get/set) sent to this client: return the reply to send, or nil to answer service-unavailable.
    let onRequest: @Sendable (XMLElement) -> String?

    private init(account: XMPPAccount, channel: Channel, onRequest: @escaping @Sendable (XMLElement) -> String?) {
        self.account = account; self.channel = channel; self.onRequest = onRequest
    }

    /// Connects, negotiates TLS and logs in; returns once the resource is bound, or throws why not.
    public static func connect(host: String, port: Int, account: XMPPAccount, options: XMPPClientMachine.Options = .init(),
                               trust: XMPPTrust = .system, timeout: Duration = .seconds(10),
                               onRequest: @escaping @Sendable (XMLElement) -> String? = { _ in nil }) async throws -> XMPPConnection {
        var tlsConfig = TLSConfiguration.makeClientConfiguration()
        tlsConfig.minimumTLSVersion = .tlsv12
        switch trust {
        case .system: break
        case .caFile(let path): tlsConfig.trustRoots = .file(path)
        case .none: tlsConfig.certificateVerification = .none
        }
        let sslContext: NIOSSLContext
        do { sslContext = try NIOSSLContext(configuration: tlsConfig) } catch { throw XMPPError.tls("cannot load the trust roots: \(error)") }

        let group = MultiThreadedEventLoopGroup.singleton
        let ready = group.next().makePromise(of: String.self)
        let box = ConnectionBox()
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.milliseconds(Int64(timeout.seconds * 1000)))
                .channelOption(.socketOption(.so_keepalive), value: 1)
                .channelInitializer { ch in
                    ch.eventLoop.makeCompletedFuture {
                        let handler = StreamHandler(machine: XMPPClientMachine(account: account, options: options), ssl: sslContext,
                                                    ready: ready, box: box)
                        try ch.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            ready.fail(error)
            throw XMPPError.connect("\(host):\(port): \(error)")
        }
        let connection = XMPPConnection(account: account, channel: channel, onRequest: onRequest)
        box.set(connection)
        let timer = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(timeout.seconds * 1000))) {
            ready.fail(XMPPError.timeout("within \(timeout.seconds) s while logging in"))
        }
        do {
            connection.jid = try await ready.futureResult.get()
            timer.cancel()
        } catch {
            timer.cancel()
            try? await channel.close()
            throw error as? XMPPError ?? XMPPError.connect("\(error)")
        }
        return connection
    }

    /// Called once with why the connection ended (`.closed` after `close()`).
    public func onClose(_ handler: @escaping @Sendable (XMPPError) -> Void) {
        let already = lock.withLock { () -> XMPPError? in
            if closedError == nil { closeHandlers.append(handler) }
            return closedError
        }
        if let already { handler(already) }
    }

    public var isOpen: Bool { lock.withLock { closedError == nil } }

    public func send(_ xml: String) {
        channel.writeAndFlush(channel.allocator.buffer(string: xml), promise: nil)
    }

    /// Sends an IQ built for a fresh id and waits for the result or error with that id.
    public func request(timeout: Duration, _ build: (String) -> String) async throws -> XMLElement {
        let id = lock.withLock { () -> String in nextID += 1; return "corral-\(nextID)" }
        let xml = build(id)
        return try await withCheckedThrowingContinuation { (cont: CheckedContinuation<XMLElement, Error>) in
            let closed = lock.withLock { () -> XMPPError? in
                if let closedError { return closedError }
                pending[id] = cont
                return nil
            }
            if let closed { cont.resume(throwing: closed); return }
            channel.eventLoop.scheduleTask(in: .milliseconds(Int64(timeout.seconds * 1000))) { [weak self] in
                self?.complete(id, .failure(XMPPError.timeout("within \(timeout.seconds) s")))
            }
            send(xml)
        }
    }

    /// XEP-0199 pings to the server every `interval`; a ping without an answer closes the connection, so a dead
    /// TCP path is noticed in one interval rather than at the next connection request.
    public func keepAlive(every interval: Duration, timeout: Duration = .seconds(10)) {
        let domain = account.domain
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, self.isOpen, !Task.isCancelled else { return }
                do {
                    _ = try await self.request(timeout: timeout) { "<iq type='get' id='\($0)' to='\(xmlEscape(domain))'><ping xmlns='\(XMPPNS.ping)'/></iq>" }
                } catch {
                    self.closed(.timeout("to a keep-alive ping: \(error)"))
                    try? await self.channel.close()
                    return
                }
            }
        }
        lock.withLock { keepAliveTask = task }
    }

    public func close() async {
        let task = lock.withLock { keepAliveTask }
        task?.cancel()
        send("</stream:stream>")
        try? await channel.close()
        closed(.closed)
    }

    private func complete(_ id: String, _ result: Result<XMLElement, Error>) {
        guard let cont = lock.withLock({ pending.removeValue(forKey: id) }) else { return }
        cont.resume(with: result)
    }

    fileprivate func deliver(_ el: XMLElement) {
        guard el.localName == "iq" else { return }
        switch el["type"] {
        case "result", "error":
            if let id = el["id"] { complete(id, .success(el)) }
        case "get", "set":
            if let reply = onRequest(el) {
                send(reply)
            } else if let id = el["id"], let from = el["from"] {
                send("<iq type='error' id='\(xmlEscape(id))' to='\(xmlEscape(from))'><error type='cancel'><service-unavailable xmlns='\(XMPPNS.stanzas)'/></error></iq>")
            }
        default:
            break
        }
    }

    fileprivate func closed(_ e: XMPPError) {
        let (waiting, handlers) = lock.withLock { () -> ([CheckedContinuation<XMLElement, Error>], [@Sendable (XMPPError) -> Void]) in
            guard closedError == nil else { return ([], []) }
            closedError = e
            let w = Array(pending.values)
            pending.removeAll()
            let h = closeHandlers
            closeHandlers.removeAll()
            return (w, h)
        }
        for c in waiting { c.resume(throwing: e) }
        for h in handlers { h(e) }
        lock.withLock { keepAliveTask }?.cancel()
    }
}

/// Lets the channel handler reach the connection object, which exists only once the channel is connected.
final class ConnectionBox: @unchecked Sendable {
    private let lock = NSLock()
    private var connection: XMPPConnection?
    private var early: [XMLElement] = []
    private var earlyClose: XMPPError?
    func set(_ c: XMPPConnection) {
        let (stanzas, close) = lock.withLock { () -> ([XMLElement], XMPPError?) in
            connection = c
            defer { early.removeAll() }
            return (early, earlyClose)
        }
        for s in stanzas { c.deliver(s) }
        if let close { c.closed(close) }
    }
    func deliver(_ el: XMLElement) {
        let c = lock.withLock { () -> XMPPConnection? in
            if connection == nil { early.append(el) }
            return connection
        }
        c?.deliver(el)
    }
    func closed(_ e: XMPPError) {
        let c = lock.withLock { () -> XMPPConnection? in
            if connection == nil, earlyClose == nil { earlyClose = e }
            return connection
        }
        c?.closed(e)
    }
}

/// Bytes in, machine actions out; puts TLS under the stream when the machine says so.
private final class StreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    var machine: XMPPClientMachine
    let ssl: NIOSSLContext
    let ready: EventLoopPromise<String>
    let box: ConnectionBox
    var finished = false

    init(machine: XMPPClientMachine, ssl: NIOSSLContext, ready: EventLoopPromise<String>, box: ConnectionBox) {
        self.machine = machine; self.ssl = ssl; self.ready = ready; self.box = box
    }

    func channelActive(context: ChannelHandlerContext) {
        perform(machine.start(), context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        perform(machine.received(buffer.readableBytesView), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(.closed, context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let e: XMPPError = error is NIOSSLError || error is BoringSSLError ? .tls("\(error)") : .connect("\(error)")
        end(e, context: context)
        context.close(promise: nil)
    }

    private func end(_ e: XMPPError, context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        ready.fail(e)
        box.closed(e)
    }

    private func perform(_ actions: [XMPPClientMachine.Action], context: ChannelHandlerContext) {
        for a in actions {
            switch a {
            case .send(let s):
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: s)), promise: nil)
            case .startTLS:
                do {
                    let tls = try NIOSSLClientHandler(context: ssl, serverHostname: machine.account.domain.isIPAddress ? nil : machine.account.domain)
                    try context.pipeline.syncOperations.addHandler(tls, position: .first)
                } catch {
                    end(.tls("\(error)"), context: context)
                    context.close(promise: nil)
                    return
                }
                perform(machine.tlsEstablished(), context: context)
            case .ready(let jid):
                ready.succeed(jid)
            case .stanza(let el):
                box.deliver(el)
            case .fail(let e):
                end(e, context: context)
                context.close(promise: nil)
                return
            }
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension String {
    var isIPAddress: Bool { allSatisfy { $0.isNumber || $0 == "." } || contains(":") }
}
