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
/// is a reflector for spoofed floods. A stranger's datagram is counted and dropped without being remembered, so a
/// spoofed flood cannot fill memory. Each client address and port has its own Echo Plus counters (reset after 30 s
/// idle), so the TestRespSN gaps a CPE sees are its own losses; each client IP a packet budget per second (many
/// ports from one address share it).
public final class UDPEchoServer: Sendable {
    public let host: String
    public let requestedPort: Int
    public let stats = SpeedTestStats()
    let allow: @Sendable (SocketAddress) -> Bool
    let state: NIOLockedValueBox<EchoState>
    private let channel = NIOLockedValueBox<Channel?>(nil)

    /// `allow`: whether a source may be answered (asked once per new client address and port, then every 30 s).
    public init(host: String, port: Int, packetsPerSecondPerAddress: Double = 2000, maxSources: Int = 65_536,
                allow: @escaping @Sendable (SocketAddress) -> Bool) {
        self.host = host; requestedPort = port; self.allow = allow
        state = NIOLockedValueBox(EchoState(rate: packetsPerSecondPerAddress, maxSources: maxSources))
    }

    public func start(group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> Int {
        let handler = EchoHandler(server: self)
        // No SO_REUSEADDR: on Linux two UDP sockets with it may share a port (even one picked for port 0), and a
        // second server would then silently take half of the datagrams.
        let ch = try await DatagramBootstrap(group: group)
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
    var checkedAt: UInt64
    var lastPacket: UInt64
}

struct Bucket {
    var tokens: Double
    var refilledAt: UInt64
}

struct EchoState {
    let rate: Double
    let maxSources: Int
    var sources: [SocketAddress: EchoSource] = [:]
    var buckets: [String: Bucket] = [:]
    /// Sources (address and port) per client IP: one allowed address cannot fill the table for everyone else.
    var sourcesPerIP: [String: Int] = [:]
    static let maxSourcesPerIP = 64
    /// Sessions that went idle, newest last (bounded).
    var finished: [EchoSession] = []
    var retiredAt: UInt64 = 0
    static let sessionGap: UInt64 = 30_000_000   // µs without a packet ends a session

    init(rate: Double, maxSources: Int) { self.rate = rate; self.maxSources = maxSources }

    /// Ends idle sessions; at most once a second, so a full table costs one pass per second, not one per packet.
    mutating func retire(now: UInt64) {
        guard now &- retiredAt > 1_000_000 else { return }
        retiredAt = now
        for (k, v) in sources where now &- v.lastPacket > Self.sessionGap {
            if v.session.received > 0 { finished.append(v.session) }
            sources[k] = nil
            sourcesPerIP[v.session.client, default: 1] -= 1
            if sourcesPerIP[v.session.client] == 0 { sourcesPerIP[v.session.client] = nil }
        }
        buckets = buckets.filter { now &- $0.value.refilledAt <= Self.sessionGap }
        if finished.count > 10_000 { finished.removeFirst(finished.count - 10_000) }
    }

    /// Takes a token of this address's budget; false when it is spent.
    mutating func spend(_ ip: String, now: UInt64) -> Bool {
        var b = buckets[ip] ?? Bucket(tokens: rate, refilledAt: now)
        b.tokens = min(rate, b.tokens + Double(now &- b.refilledAt) / 1e6 * rate)
        b.refilledAt = now
        let ok = b.tokens >= 1
        if ok { b.tokens -= 1 }
        buckets[ip] = b
        return ok
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
        guard envelope.data.readableBytes > 0, let ip = remote.ipAddress else { return }
        // Known and recently checked: no callback. Otherwise ask (outside the lock: it may take its own).
        let known = server.state.withLockedValue { s -> Bool in
            guard let src = s.sources[remote] else { return false }
            return received &- src.checkedAt <= EchoState.sessionGap
        }
        if !known {
            guard server.allow(remote) else {
                server.stats.add("refused")
                return
            }
        }
        let wall = Clock.wallMicros()
        var bytes = Array(envelope.data.readableBytesView)
        let header = EchoPlusHeader(bytes)
        let answered = server.state.withLockedValue { s -> Bool in
            s.retire(now: received)
            var src: EchoSource
            if let existing = s.sources[remote], received &- existing.lastPacket <= EchoState.sessionGap {
                src = existing
            } else {
                if let old = s.sources[remote], old.session.received > 0 { s.finished.append(old.session) }   // a new test
                if s.sources[remote] == nil {
                    guard s.sources.count < s.maxSources, (s.sourcesPerIP[ip] ?? 0) < EchoState.maxSourcesPerIP else { return false }
                    s.sourcesPerIP[ip, default: 0] += 1
                }
                src = EchoSource(session: EchoSession(client: ip, port: remote.port ?? 0, firstMicros: wall, lastMicros: wall,
                                                      received: 0, replied: 0, dropped: 0, lastIteration: 0),
                                 checkedAt: received, lastPacket: received)
            }
            if !known { src.checkedAt = received }
            src.lastPacket = received
            src.session.received += 1
            src.session.lastMicros = wall
            if let header { src.session.lastIteration = max(src.session.lastIteration, header.testIterationNumber) }
            guard s.spend(ip, now: received) else {
                src.session.dropped += 1
                src.responder.recordFailure()
                s.sources[remote] = src
                return false
            }
            // The reply stamp is taken as late as the lock allows: it is the last thing before the write.
            _ = src.responder.reply(to: &bytes, receivedMicros: UInt32(truncatingIfNeeded: received),
                                    replyMicros: UInt32(truncatingIfNeeded: Clock.monotonicMicros()))
            src.session.replied += 1
            s.sources[remote] = src
            return true
        }
        guard answered else {
            server.stats.add("rate_limited")
            return
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
