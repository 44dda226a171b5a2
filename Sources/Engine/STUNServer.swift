import ACSCore
import Foundation
import NIOCore
import NIOPosix
import STUN

/// Corral's STUN server (TR-111 Part 2) and the socket UDP connection requests leave from: a CPE behind an
/// address- or port-restricted NAT lets a datagram in only from the address it sent its Binding Requests to.
public final class STUNServer: @unchecked Sendable {
    public let host: String
    public let requestedPort: Int
    public let bindings = STUNBindingTable()
    public let stats = STUNStats()
    let ratePerSource: Double
    private let lock = NSLock()
    private var channel: Channel?
    /// Last `ts` sent per device: Annex G receivers drop a request whose ts is not newer than the last one.
    private var lastTimestamp: [Int64: UInt64] = [:]
    public private(set) var port = 0

    /// `ratePerSource`: Binding Requests answered per second from one IP (a CGNAT address carries many CPEs, each
    /// sending a keep-alive every 30 s or more; 200/s covers 6,000 of them), with a burst of twice that.
    public init(host: String, port: Int, ratePerSource: Double = 200) {
        self.host = host; requestedPort = port; self.ratePerSource = ratePerSource
    }

    public func start() async throws -> Int {
        let bindings = self.bindings, stats = self.stats, rate = ratePerSource
        let ch = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            // `corral task --now` in another process sends its UDP connection requests from this same port.
            .channelOption(ChannelOptions.socketOption(NIOBSDSocket.Option(rawValue: SO_REUSEPORT)), value: 1)
            // Keep-alives of many CPEs arrive in bursts: a 4 MiB receive buffer instead of the kernel's ~200 KiB, and
            // up to 32 datagrams per recvmmsg.
            .channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: 4 << 20)
            .channelOption(ChannelOptions.datagramVectorReadMessageCount, value: 32)
            .channelOption(ChannelOptions.maxMessagesPerRead, value: 64)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(STUNHandler(bindings: bindings, stats: stats, ratePerSource: rate))
                }
            }
            .bind(host: host, port: requestedPort).get()
        let bound = ch.localAddress?.port ?? 0
        lock.withLock { channel = ch; port = bound }
        return bound
    }

    public func stop() async {
        let ch = lock.withLock { channel }
        try? await ch?.close()
    }

    /// Sends a signed Annex G connection request to `target`, `copies` times (UDP may lose one).
    public func sendConnectionRequest(to target: Endpoint, deviceID: Int64, username: String, password: String, notBefore: UInt64 = 0,
                                      copies: Int = 3) async throws {
        guard let ch = lock.withLock({ channel }) else { throw STUNServerError.notRunning }
        let message = lock.withLock { () -> UDPConnectionRequest in
            let ts = max(UInt64(Date().timeIntervalSince1970), (lastTimestamp[deviceID] ?? 0) + 1, notBefore)
            lastTimestamp[deviceID] = ts
            if lastTimestamp.count > 100_000 { lastTimestamp.removeAll() }
            return UDPConnectionRequest(host: target.host, port: target.port, timestamp: ts, messageID: UInt32.random(in: 1...UInt32.max),
                                        username: username, cnonce: Self.cnonce(), password: password)
        }
        let bytes = message.encode()
        try await Self.send(bytes, to: target, on: ch, copies: 1)
        stats.count(\.connectionRequestsSent)
        // The other copies go out while the caller already waits for the session.
        if copies > 1 { Task { try? await Self.send(bytes, to: target, on: ch, copies: copies - 1, firstDelay: true) } }
    }

    static func send(_ bytes: [UInt8], to target: Endpoint, on ch: Channel, copies: Int, firstDelay: Bool = false) async throws {
        let address = try SocketAddress(ipAddress: target.host, port: Int(target.port))
        for i in 0..<max(1, copies) {
            // Spread a little: a burst lost to one queue overflow loses every copy.
            if i > 0 || firstDelay { try? await Task.sleep(for: .milliseconds(i == 0 ? 10 : 50)) }
            let envelope = AddressedEnvelope(remoteAddress: address, data: ch.allocator.buffer(bytes: bytes))
            try await ch.writeAndFlush(envelope)
        }
    }

    static func cnonce() -> String {
        var g = SystemRandomNumberGenerator()
        return String((0..<16).map { _ in "0123456789abcdef".randomElement(using: &g)! })
    }
}

public enum STUNServerError: Error, CustomStringConvertible {
    case notRunning
    public var description: String { "the STUN server is not running (stun_port 0?)" }
}

/// One UDP socket bound to the STUN port for a short-lived process (the CLI): sends and then closes. Binding
/// Requests that reach it meanwhile are answered too, so no CPE's keep-alive goes unanswered.
public enum STUNSender {
    public static func sendConnectionRequest(fromPort port: Int, host: String = "0.0.0.0", to target: Endpoint,
                                             username: String, password: String, notBefore: UInt64 = 0) async throws {
        let ch = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .channelOption(ChannelOptions.socketOption(NIOBSDSocket.Option(rawValue: SO_REUSEPORT)), value: 1)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(STUNHandler(bindings: STUNBindingTable(), stats: STUNStats(), ratePerSource: 50))
                }
            }
            .bind(host: host, port: port).get()
        defer { ch.close(promise: Optional<EventLoopPromise<Void>>.none) }
        let m = UDPConnectionRequest(host: target.host, port: target.port, timestamp: max(UInt64(Date().timeIntervalSince1970), notBefore),
                                     messageID: UInt32.random(in: 1...UInt32.max), username: username, cnonce: STUNServer.cnonce(),
                                     password: password)
        try await STUNServer.send(m.encode(), to: target, on: ch, copies: 3)
    }
}

/// Reads datagrams on the STUN port; answers on the event loop (a Binding Response is a few hundred ns of work).
final class STUNHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    let bindings: STUNBindingTable
    let stats: STUNStats
    var limiter: SourceRateLimiter

    init(bindings: STUNBindingTable, stats: STUNStats, ratePerSource: Double) {
        self.bindings = bindings; self.stats = stats
        limiter = SourceRateLimiter(perSecond: ratePerSource, burst: ratePerSource * 2)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let source = Endpoint(envelope.remoteAddress) else { return }
        let now = Date().timeIntervalSince1970
        guard limiter.allow(source.ip, now: now) else { stats.count(\.rateLimited); return }
        switch STUNResponder.respond(to: Array(envelope.data.readableBytesView), from: source) {
        case .drop:
            stats.count(\.dropped)
        case .reply(let bytes, let observation):
            stats.count(observation == nil ? \.errors : \.answered)
            if let observation { bindings.observe(observation, now: Int64(now)) }
            context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress,
                                                                    data: context.channel.allocator.buffer(bytes: bytes))), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP port-unreachable and the like surface here on a connected path; the socket keeps serving.
        stats.count(\.dropped)
    }
}

extension Endpoint {
    init?(_ address: SocketAddress) {
        switch address {
        case .v4(let a):
            let s = a.address.sin_addr.s_addr.bigEndian
            self.init(ip: [UInt8(s >> 24), UInt8(s >> 16 & 0xFF), UInt8(s >> 8 & 0xFF), UInt8(s & 0xFF)], port: UInt16(bigEndian: a.address.sin_port))
        case .v6(let a):
            var addr = a.address.sin6_addr
            let bytes = withUnsafeBytes(of: &addr) { Array($0) }
            self.init(ip: bytes, port: UInt16(bigEndian: a.address.sin6_port))
        default:
            return nil
        }
    }
}

/// The bindings the STUN server has seen, keyed by mapped address ("ip:port"). In memory: a restart forgets them
/// until each CPE's next keep-alive; what the UDP connection request is sent to comes from the device's own
/// authenticated Inform (UDPConnectionRequestAddress), so a forged Binding Request can never redirect one.
public final class STUNBindingTable: @unchecked Sendable {
    private let lock = NSLock()
    private var byAddress: [String: STUNBindingRecord] = [:]
    /// Bindings kept at most; past it the oldest half is forgotten (a CPE's next keep-alive adds it again).
    public let capacity: Int

    public init(capacity: Int = 1_000_000) { self.capacity = capacity }

    public var count: Int { lock.withLock { byAddress.count } }

    func observe(_ o: BindingObservation, now: Int64) {
        let key = o.source.description
        lock.withLock {
            var r = byAddress[key] ?? STUNBindingRecord(address: key, firstSeen: now, lastRequest: now, requests: 0, rfc5389: o.rfc5389)
            r.requests += 1
            r.lastRequest = now
            if o.bindingChange { r.changes += 1 }
            if let u = o.username, !u.isEmpty { r.username = String(u.prefix(128)) }
            if byAddress[key] == nil, byAddress.count >= capacity {
                let cutoff = byAddress.values.map(\.lastRequest).sorted()[byAddress.count / 2]
                byAddress = byAddress.filter { $0.value.lastRequest > cutoff }
            }
            byAddress[key] = r
        }
    }

    public func binding(address: String) -> STUNBindingRecord? {
        guard let e = Endpoint(address) else { return nil }
        return lock.withLock { byAddress[e.description] }
    }
}

public final class STUNStats: @unchecked Sendable {
    public struct Counts: Sendable { public var answered = 0, errors = 0, dropped = 0, rateLimited = 0, connectionRequestsSent = 0 }
    private let lock = NSLock()
    private var c = Counts()
    func count(_ k: WritableKeyPath<Counts, Int>) { lock.withLock { c[keyPath: k] += 1 } }
    public var counts: Counts { lock.withLock { c } }
}
