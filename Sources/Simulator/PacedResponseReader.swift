import Foundation
import NIOCore

/// How the read side of one test connection ended.
enum StreamEnd: Sendable, Equatable {
    /// The response is complete.
    case complete
    /// The test's time ran out (time-based download), or the caller stopped it.
    case stopped
    /// The peer closed before the response was complete.
    case closed
    /// No head, or no more body, within the idle limit.
    case timedOut
    case failed(String)
}

struct StreamOutcome: Sendable {
    var end: StreamEnd
    var status: Int?
    var framing: HTTPResponseStream.Framing?
    var bodyBytes = 0
    /// Every byte read from the socket (heads, framing, body).
    var bytesRead = 0
    var firstBodyByte: Date?
    var lastBodyByte: Date?
    var headAt: Date?
    var completeAt: Date?
}

/// Reads the HTTP response of a test connection without keeping it, and paces the reads to the link rate: autoRead
/// is off and the next `read()` is issued only when the shared token bucket allows, so the socket's receive window
/// fills up and TCP slows the server down. The first read waits for the link latency after the request.
///
/// Confined to its channel's event loop; the outside calls `start(at:)` and `stop()`, which hop there.
final class PacedResponseReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private let loop: EventLoop
    private let test: TransferContext
    /// Download: body bytes are test bytes (meter, time-based clock). Upload: the response is only awaited.
    private let countsBody: Bool
    private let result = OneShot<StreamOutcome>()
    private var parser = HTTPResponseStream()
    private var out = StreamOutcome(end: .closed)
    private var context: ChannelHandlerContext?
    private var started = false
    private var finished = false
    private var unpaid = 0
    private var lastActivity = NIODeadline.now()
    private var idleCheck: RepeatedTask?

    /// `loop`: the event loop the channel will be on.
    init(loop: EventLoop, test: TransferContext, countsBody: Bool) {
        self.loop = loop
        self.test = test
        self.countsBody = countsBody
    }

    /// Waits until the exchange ends (always does: on completion, close, error, stop or idle timeout).
    func outcome() async -> StreamOutcome { await result.wait() }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(.closed)
        self.context = nil
    }

    /// Starts reading the response, not before `notBefore` (the request's round trip over the shaped link).
    func start(at notBefore: NIODeadline) {
        loop.execute {
            guard !self.started, !self.finished, let context = self.context else { return }
            self.started = true
            self.lastActivity = max(NIODeadline.now(), notBefore)
            let limit = self.test.idleLimit
            self.idleCheck = context.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(500), delay: .milliseconds(500)) { _ in
                if !self.finished, NIODeadline.now() - self.lastActivity > limit { self.fail(.timedOut) }
            }
            context.eventLoop.scheduleTask(deadline: notBefore) { self.issueRead() }
        }
    }

    /// Ends a download whose time is up.
    func stop() {
        loop.execute { self.fail(.stopped) }
    }

    private func issueRead() {
        guard !finished, let context else { return }
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else { return }
        let buffer = unwrapInboundIn(data)
        let n = buffer.readableBytes
        lastActivity = .now()
        out.bytesRead += n
        unpaid += n
        do {
            let body = try buffer.withUnsafeReadableBytes { try parser.consume($0) }
            let now = Date()
            if out.headAt == nil, parser.headComplete { out.headAt = now }
            if body > 0 {
                if out.firstBodyByte == nil { out.firstBodyByte = now }
                out.lastBodyByte = now
                if countsBody { test.bodyBytes(body, at: now) }
            }
            if parser.isComplete {
                out.completeAt = now
                finish(.complete)
            }
        } catch {
            fail(.failed("\(error)"))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard !finished else { return }
        let wait = test.pacer.reserve(unpaid)
        unpaid = 0
        if wait <= .zero {
            context.read()
        } else {
            context.eventLoop.scheduleTask(in: wait) { self.issueRead() }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished {
            if parser.closed() { out.completeAt = Date() }
            finish(parser.isComplete ? .complete : .closed)
        }
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // While the upload body is being written (before `start`), writes that stop completing end the exchange.
        if let e = event as? IdleStateHandler.IdleStateEvent, e == .write {
            if !started { fail(.timedOut) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(.failed("\(error)"))
    }

    /// Ends the exchange and closes the connection.
    private func fail(_ end: StreamEnd) {
        finish(end)
        context?.close(promise: nil)
    }

    private func finish(_ end: StreamEnd) {
        guard !finished else { return }
        finished = true
        idleCheck?.cancel()
        idleCheck = nil
        out.end = end
        out.status = parser.status
        out.framing = parser.framing
        out.bodyBytes = parser.bodyBytes
        result.deliver(out)
    }
}
