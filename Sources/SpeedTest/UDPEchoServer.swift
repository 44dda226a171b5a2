import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// What the echo server saw from one client address and port during a test (the server's view of a UDP echo test).
public struct EchoSession: Sendable, Equatable, Codable {
    public var client: String
    public var port: Int
    /// Wall clock, µs since the epoch.
    public var firstMicros: Int64
    public var lastMicros: Int64
    public var received: Int
    public var replied: Int
    /// Valid requests not answered (over the rate limit).
    public var dropped: Int
    /// Highest TestIterationNumber seen (Echo Plus clients).
    public var lastIteration: UInt32
}

/// Corral's UDP echo server: RFC 862 echo, and UDP Echo Plus (TR-143 A.1.4) for datagrams of 24 bytes or more.
/// Only allowed sources are answered (known devices, configured networks, loopback): an echo server open to anyone
/// is a reflector for spoofed floods. Each source has its own Echo Plus counters (reset after `sessionGap` idle),
/// so TestRespSN gaps seen by a CPE are its own losses, and a packet budget per second.
public final class UDPEchoServer: Sendable {
    public let host: String
    public let requestedPort: Int
    public let stats = SpeedTestStats()
    let allow: @Sendable (SocketAddress) -> Bool
    let state: NIOLockedValueBox<EchoState>
    private let channel = NIOLockedValueBox<Channel?>(nil)

    /// `allow`: whether a source may be answered (called once per new source, then per `sessionGap`).
    public init(host: String, port: Int, packetsPerSecondPerSource: Double = 2000, maxSources: Int = 65_536,
                allow: @escaping @Sendable (SocketAddress) -> Bool) {
        self.host = host; requestedPort = port; self.allow = allow
        state = NIOLockedValueBox(EchoState(rate: packetsPerSecondPerSource, maxSources: maxSources))
    }

    public func start(group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> Int {
        let handler = EchoHandler(server: self)
        let ch = try await DatagramBootstrap(group: group)
            .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: 4 << 20)
            .channelOption(ChannelOptions.datagramVectorReadMessageCount, value: 32)
            .channelOption(ChannelOptions.maxMessagesPerRead, value: 64)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(handler) }
            }
            .bind(host: host, port: requestedPort).get()
        channel.withLockedValue { $0 = ch }
        return ch.localAddress?.port ?? 0
    }

    public func stop() async {
        let ch = channel.withLockedValue { $0 }
        try? await ch?.close()
    }

    /// Sessions from `client` (an IP address) that were active at or after `sinceMicros`.
    public func sessions(client: String, sinceMicros: Int64) -> [EchoSession] {
        state.withLockedValue { s in
            (s.finished + s.sources.values.map(\.session)).filter { $0.client == client && $0.lastMicros >= sinceMicros }
        }
    }
}

struct EchoSource {
    var responder = EchoPlusResponder()
    var session: EchoSession
    var allowed: Bool
    var checkedAt: UInt64
    var tokens: Double
    var refilledAt: UInt64
}

struct EchoState {
    let rate: Double
    let maxSources: Int
    var sources: [SocketAddress: EchoSource] = [:]
    /// Sessions that went idle, newest last (bounded).
    var finished: [EchoSession] = []
    static let sessionGap: UInt64 = 30_000_000   // µs without a packet ends a session

    init(rate: Double, maxSources: Int) { self.rate = rate; self.maxSources = maxSources }

    mutating func retire(olderThan now: UInt64) {
        for (k, v) in sources where now &- v.refilledAt > Self.sessionGap {
            if v.allowed && v.session.received > 0 { finished.append(v.session) }
            sources[k] = nil
        }
        if finished.count > 10_000 { finished.removeFirst(finished.count - 10_000) }
    }
}

final class EchoHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    let server: UDPEchoServer

    init(server: UDPEchoServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let received = Clock.monotonicMicros()
        let envelope = unwrapInboundIn(data)
        let remote = envelope.remoteAddress
        server.stats.add("packets")
        guard envelope.data.readableBytes > 0 else { return }
        let wall = Clock.wallMicros()
        // Decide under the lock; the allow-list callback runs outside it (it may take its own locks).
        enum Verdict { case answer, refuse, drop, unknown }
        var verdict = server.state.withLockedValue { s -> Verdict in
            guard var src = s.sources[remote] else { return .unknown }
            if received &- src.checkedAt > EchoState.sessionGap { return .unknown }
            guard src.allowed else { return .refuse }
            src.tokens = min(s.rate, src.tokens + Double(received &- src.refilledAt) / 1e6 * s.rate)
            src.refilledAt = received
            if src.tokens < 1 {
                src.session.dropped += 1
                src.responder.recordFailure()
                s.sources[remote] = src
                return .drop
            }
            src.tokens -= 1
            s.sources[remote] = src
            return .answer
        }
        if verdict == .unknown {
            let ok = server.allow(remote)
            verdict = server.state.withLockedValue { s -> Verdict in
                if s.sources.count >= s.maxSources { s.retire(olderThan: received) }
                guard s.sources.count < s.maxSources else { return .drop }
                let session = EchoSession(client: remote.ipAddress ?? "", port: remote.port ?? 0, firstMicros: wall, lastMicros: wall,
                                          received: 0, replied: 0, dropped: 0, lastIteration: 0)
                var src = s.sources[remote] ?? EchoSource(session: session, allowed: ok, checkedAt: received, tokens: s.rate, refilledAt: received)
                if received &- src.refilledAt > EchoState.sessionGap {
                    // A new test from the same source: fresh Echo Plus counters.
                    if src.allowed && src.session.received > 0 { s.finished.append(src.session) }
                    src = EchoSource(session: session, allowed: ok, checkedAt: received, tokens: s.rate, refilledAt: received)
                }
                src.allowed = ok
                src.checkedAt = received
                if ok { src.tokens -= 1 }
                s.sources[remote] = src
                return ok ? .answer : .refuse
            }
        }
        switch verdict {
        case .refuse:
            server.stats.add("refused")
            return
        case .drop:
            server.stats.add("rate_limited")
            return
        case .answer, .unknown:
            break
        }
        var bytes = Array(envelope.data.readableBytesView)
        let header = EchoPlusHeader(bytes)
        server.state.withLockedValue { s in
            guard var src = s.sources[remote] else { return }
            // The reply stamp is taken as late as the lock allows: it is the last thing before the write.
            _ = src.responder.reply(to: &bytes, receivedMicros: UInt32(truncatingIfNeeded: received),
                                    replyMicros: UInt32(truncatingIfNeeded: Clock.monotonicMicros()))
            src.session.received += 1
            src.session.replied += 1
            src.session.lastMicros = wall
            if let header { src.session.lastIteration = max(src.session.lastIteration, header.testIterationNumber) }
            s.sources[remote] = src
        }
        let out = AddressedEnvelope(remoteAddress: remote, data: context.channel.allocator.buffer(bytes: bytes))
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        server.stats.add("replies")
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP port unreachable from a vanished client surfaces here; the socket stays open for everyone else.
        server.stats.add("errors")
    }
}
