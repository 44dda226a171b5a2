import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Minimal HTTP/1.1 server on SwiftNIO. The handler runs as a Swift task per request; requests on one
/// connection are handled one at a time, in order. Responses always carry Content-Length. With `tls` it speaks
/// HTTPS only: a plain-HTTP client fails the handshake and is closed.
public final class HTTPServer: Sendable {
    public let host: String
    public let port: Int
    public let limits: ServerLimits
    public let tls: TLSServerIdentity?
    private let handler: @Sendable (HTTPRequest) async -> HTTPResponse
    private let group: EventLoopGroup

    private struct State {
        var serverChannel: Channel?
        var connections: [UInt64: Channel] = [:]
        var perAddress: [String: Int] = [:]
        var nextID: UInt64 = 0
        var shuttingDown = false
    }
    private let state = Locked(State())
    /// Bytes of request bodies buffered right now, across connections (limits.maxBufferedBodyBytes).
    let bufferedBodies = BodyBudget()

    /// Process-wide connection IDs, so IDs never collide between servers in one process.
    private static let connectionIDs = Locked<UInt64>(0)

    public init(host: String, port: Int, limits: ServerLimits = ServerLimits(), tls: TLSServerIdentity? = nil,
                group: EventLoopGroup = NIOSingletons.posixEventLoopGroup,
                handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse) {
        self.host = host
        self.port = port
        self.limits = limits
        self.tls = tls
        self.group = group
        self.handler = handler
    }

    /// Number of open connections.
    public var connectionCount: Int { state.withLock { $0.connections.count } }

    /// Binds and starts accepting; returns the bound port (useful with port 0).
    @discardableResult
    public func start() async throws -> Int {
        let limits = self.limits
        let handler = self.handler
        let tls = self.tls
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [self] channel in
                guard let id = self.register(channel) else {
                    return channel.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
                }
                return channel.eventLoop.makeCompletedFuture {
                    let timers = ConnectionTimerHandler(idleTimeout: TimeAmount(limits.idleTimeout),
                                                        bodyTimeout: TimeAmount(limits.bodyTimeout),
                                                        firstByteTimeout: TimeAmount(limits.firstByteTimeout))
                    var decoderLimits = NIOHTTPDecoderLimitConfiguration()
                    if limits.maxHeaderBytes > 0 {
                        // The decoder enforces a hard cap; the handler answers 431 for the soft limit.
                        decoderLimits.maxHeaderListSize = max(limits.maxHeaderBytes * 2, 8192)
                        decoderLimits.maxHeaderFieldSize = decoderLimits.maxHeaderListSize
                    }
                    let sync = channel.pipeline.syncOperations
                    // The timers see raw bytes first, so a client stalling in the TLS handshake meets the idle timeout.
                    try sync.addHandler(timers)
                    if let tls { try sync.addHandler(NIOSSLServerHandler(context: tls.context)) }
                    try sync.configureHTTPServerPipeline(
                        withPipeliningAssistance: false, withErrorHandling: false,
                        withOutboundHeaderValidation: true, withEncoderConfiguration: .init(),
                        withDecoderLimitConfiguration: decoderLimits)
                    try sync.addHandler(HTTPServerConnectionHandler(
                        handler: handler, limits: limits, connectionID: id, timers: timers, isTLS: tls != nil,
                        budget: self.bufferedBodies))
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        let shouldClose = state.withLock { s -> Bool in
            if s.shuttingDown { return true }
            s.serverChannel = channel
            return false
        }
        if shouldClose {
            try? await channel.close()
            throw ChannelError.ioOnClosedChannel
        }
        return channel.localAddress?.port ?? port
    }

    /// Registers a new connection; nil when over the connection limit or shutting down.
    private func register(_ channel: Channel) -> UInt64? {
        let id = Self.connectionIDs.withLock { n -> UInt64 in
            n += 1
            return n
        }
        let address = channel.remoteAddress?.ipAddress ?? ""
        let accepted = state.withLock { s -> Bool in
            if s.shuttingDown { return false }
            if let max = limits.maxConnections, s.connections.count >= max { return false }
            if let max = limits.maxConnectionsPerAddress, s.perAddress[address, default: 0] >= max,
               limits.unlimitedAddress?(address) != true { return false }
            s.connections[id] = channel
            s.perAddress[address, default: 0] += 1
            return true
        }
        guard accepted else { return nil }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.state.withLock { s in
                s.connections.removeValue(forKey: id)
                let left = s.perAddress[address, default: 1] - 1
                s.perAddress[address] = left > 0 ? left : nil
            }
        }
        return id
    }

    /// Stops accepting, closes idle connections, lets in-flight requests finish (up to
    /// `limits.shutdownGrace`), then force-closes the rest.
    public func shutdown() async throws {
        let (server, conns) = state.withLock { s -> (Channel?, [Channel]) in
            s.shuttingDown = true
            let server = s.serverChannel
            s.serverChannel = nil
            return (server, Array(s.connections.values))
        }
        if let server { try? await server.close() }
        for c in conns {
            c.pipeline.fireUserInboundEventTriggered(QuiesceEvent())
        }
        let deadline = ContinuousClock.now + limits.shutdownGrace
        for c in conns {
            let remaining = deadline - ContinuousClock.now
            if remaining > .zero {
                let timeout = c.eventLoop.scheduleTask(in: TimeAmount(remaining)) { c.close(promise: nil) }
                try? await c.closeFuture.get()
                timeout.cancel()
            } else {
                try? await c.close()
            }
        }
    }
}
