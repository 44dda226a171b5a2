import Foundation
import NIOCore
import NIOPosix
import SpeedTest

/// One datagram of an echo run.
struct EchoSample: Sendable {
    /// 1-based: TestIterationNumber (and TestGenSN) of the datagram.
    var sequence: Int
    var sent: Date
    /// When the reply was observed (the shaped link's latency included); nil = no reply within the timeout.
    var received: Date?
    /// Round trip in microseconds (monotonic clock, latency included).
    var rttMicros: Int?
    /// The Echo Plus fields of the reply.
    var reply: EchoPlusHeader?
}

/// Sends UDP echo datagrams (RFC 862; Echo Plus when `echoPlus`) from one connected socket and matches the replies.
/// Datagrams of at least 4 bytes carry their sequence number in bytes 0–3 (TestGenSN for Echo Plus, which the server
/// echoes unchanged); shorter ones are matched in order.
enum UDPEchoProbe {
    struct Plan: Sendable {
        var count: Int
        var size: Int
        /// Echo Plus header (TR-143 A.1.4) in the first 24 bytes; needs size >= 24.
        var echoPlus: Bool
        /// Send times are start + (i-1) * interval; with `sequential`, a datagram also waits for the previous one's
        /// reply or timeout (ping, traceroute).
        var interval: Duration
        var sequential: Bool
        var timeout: Duration
        var latency: Duration
    }

    struct Run: Sendable {
        var samples: [EchoSample]
        var localIP: String?
    }

    /// nil when the socket could not be opened.
    static func run(_ plan: Plan, to address: SocketAddress) async -> Run? {
        let inbox = Inbox()
        let channel: Channel
        do {
            channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { ch in ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(Inbound(inbox: inbox)) } }
                .connect(to: address).get()
        } catch {
            return nil
        }
        defer { channel.close(promise: nil) }
        let clock = ContinuousClock()
        let start = clock.now
        var sentAt: [ContinuousClock.Instant] = []
        var samples: [EchoSample] = []
        // Cancelled (the run's hard cap): stop sending, report what came back.
        for i in 1...max(1, plan.count) where !Task.isCancelled {
            let due = start + plan.interval * (i - 1)
            if plan.sequential, i > 1 { await waitForReply(inbox, sequence: i - 1, sentAt: sentAt[i - 2], plan: plan) }
            if clock.now < due { try? await Task.sleep(until: due, clock: clock) }
            var payload = plan.echoPlus
                ? EchoPlusHeader(testGenSN: UInt32(i), testIterationNumber: UInt32(i)).datagram(size: plan.size)
                : [UInt8](repeating: 0, count: max(1, plan.size))
            if !plan.echoPlus, payload.count >= 4 { EchoPlusResponder.put(UInt32(i), into: &payload, at: 0) }
            inbox.expect(i, bytes: payload.count)
            let now = clock.now
            sentAt.append(now)
            samples.append(EchoSample(sequence: i, sent: Date()))
            inbox.sent(i, at: now)
            // A lost send is a lost packet: the timeout counts it.
            try? await channel.writeAndFlush(channel.allocator.buffer(bytes: payload)).get()
        }
        if let last = sentAt.last {
            // Every reply, or every timeout: the last datagram's is the latest.
            let end = last + plan.timeout
            while clock.now < end, !inbox.allAnswered(samples.count), !Task.isCancelled { try? await Task.sleep(for: .milliseconds(2)) }
        }
        let replies = inbox.replies
        for k in samples.indices {
            guard let reply = replies[samples[k].sequence] else { continue }
            let rtt = reply.at - sentAt[k] + plan.latency
            guard rtt <= plan.timeout else { continue }
            samples[k].rttMicros = Int(rtt.components.seconds * 1_000_000 + rtt.components.attoseconds / 1_000_000_000_000)
            samples[k].received = samples[k].sent.addingTimeInterval(Double(samples[k].rttMicros!) / 1e6)
            samples[k].reply = reply.header
        }
        // The latest reply is observed a latency after it arrived.
        if plan.latency > .zero, let lastReply = replies.values.map(\.at).max(), clock.now < lastReply + plan.latency {
            try? await Task.sleep(until: lastReply + plan.latency, clock: clock)
        }
        return Run(samples: samples, localIP: channel.localAddress?.ipAddress)
    }

    /// Waits until datagram `sequence` is answered or its timeout passed.
    private static func waitForReply(_ inbox: Inbox, sequence: Int, sentAt: ContinuousClock.Instant, plan: Plan) async {
        let clock = ContinuousClock()
        while clock.now < sentAt + plan.timeout, !Task.isCancelled {
            if let at = inbox.replies[sequence]?.at {
                // Observed a latency later.
                let seen = at + plan.latency
                if clock.now < seen { try? await Task.sleep(until: min(seen, sentAt + plan.timeout), clock: clock) }
                return
            }
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Replies by sequence number, filled on the event loop.
    final class Inbox: @unchecked Sendable {
        struct Reply: Sendable {
            var at: ContinuousClock.Instant
            var header: EchoPlusHeader?
        }
        private let lock = NSLock()
        private var byNumber: [Int: Reply] = [:]
        private var sizes: [Int: Int] = [:]
        /// Sent and not answered, in order (for datagrams too short to carry a number).
        private var pending: [Int] = []

        func expect(_ sequence: Int, bytes: Int) { lock.withLock { sizes[sequence] = bytes } }
        func sent(_ sequence: Int, at: ContinuousClock.Instant) { lock.withLock { pending.append(sequence) } }

        var replies: [Int: Reply] { lock.withLock { byNumber } }
        func allAnswered(_ n: Int) -> Bool { lock.withLock { byNumber.count >= n } }

        func received(_ bytes: [UInt8], at: ContinuousClock.Instant) {
            lock.withLock {
                var seq: Int?
                if bytes.count >= 4 {
                    seq = Int(UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3]))
                } else {
                    seq = pending.first
                }
                // Only an answer to a datagram we sent, of its size, the first time.
                guard let s = seq, sizes[s] == bytes.count, byNumber[s] == nil else { return }
                pending.removeAll { $0 == s }
                byNumber[s] = Reply(at: at, header: bytes.count >= EchoPlusHeader.size ? EchoPlusHeader(bytes) : nil)
            }
        }
    }

    private final class Inbound: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let inbox: Inbox
        init(inbox: Inbox) { self.inbox = inbox }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let now = ContinuousClock.now
            inbox.received(Array(unwrapInboundIn(data).data.readableBytesView), at: now)
        }
        // ICMP port unreachable on the connected socket (ECONNREFUSED): the datagram is simply lost.
        func errorCaught(context: ChannelHandlerContext, error: Error) {}
    }
}
