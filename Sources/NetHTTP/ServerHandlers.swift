import NIOCore
import NIOHTTP1
import NIOSSL

/// Sent down a child pipeline by `HTTPServer.shutdown()`: close when idle, or after the current response.
struct QuiesceEvent: Sendable {}

/// Sits before the HTTP decoder and owns the connection's timers:
/// - idle: no request in progress → close after `idleTimeout`;
/// - request: from the first byte of a request until its end → close after `bodyTimeout` (slowloris).
/// While the application handler runs, no timer is armed.
final class ConnectionTimerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    enum State { case idle, receiving, handling }

    private let idleTimeout: TimeAmount
    private let bodyTimeout: TimeAmount
    private let firstByteTimeout: TimeAmount
    private var state = State.idle
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(idleTimeout: TimeAmount, bodyTimeout: TimeAmount, firstByteTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
        self.bodyTimeout = bodyTimeout
        self.firstByteTimeout = min(firstByteTimeout, idleTimeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { arm(firstByteTimeout) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(firstByteTimeout)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if state == .idle {
            state = .receiving
            arm(bodyTimeout)
        }
        context.fireChannelRead(data)
    }

    /// The request is complete and handed to the application.
    func requestComplete() {
        state = .handling
        timer?.cancel()
        timer = nil
    }

    /// The response was written; the connection stays open for the next request.
    func responseSent() {
        state = .idle
        arm(idleTimeout)
    }

    private func arm(_ amount: TimeAmount) {
        timer?.cancel()
        guard let context else { return }
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: amount) {
            bound.value.close(promise: nil)
        }
    }
}

/// One per connection: assembles requests, runs the async application handler (one request at a
/// time, in order), writes responses with Content-Length, enforces the body limit and 100-continue.
final class HTTPServerConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let handler: @Sendable (HTTPRequest) async -> HTTPResponse
    private let limits: ServerLimits
    private let connectionID: UInt64
    private let timers: ConnectionTimerHandler
    private let isTLS: Bool

    private var remoteAddress: String?
    private var remotePort: Int?

    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var bodyBytes = 0
    /// This request's body limit (limits.bodyLimit, decided from the head) and the bytes it holds of the server's budget.
    private var requestBodyLimit = 0
    private var reserved = 0
    private let budget: BodyBudget
    private var busy = false
    private var queued: [HTTPServerRequestPart] = []
    private var pendingRead = false
    /// Input is ignored from now on (fatal error, close pending).
    private var discarding = false
    private var quiescing = false
    private var closeAfterResponse = false
    private var active = true

    init(handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse, limits: ServerLimits,
         connectionID: UInt64, timers: ConnectionTimerHandler, isTLS: Bool, budget: BodyBudget = BodyBudget()) {
        self.handler = handler
        self.budget = budget
        self.limits = limits
        self.connectionID = connectionID
        self.timers = timers
        self.isTLS = isTLS
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if let addr = context.channel.remoteAddress {
            remoteAddress = addr.ipAddress
            remotePort = addr.port
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        active = false
        queued.removeAll()
        releaseBody()
        context.fireChannelInactive()
    }

    // MARK: inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if discarding { return }
        let part = unwrapInboundIn(data)
        if busy {
            queued.append(part)
            return
        }
        process(part, context: context)
    }

    private func process(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let h):
            head = h
            body = nil
            bodyBytes = 0
            if limits.maxHeaderBytes > 0 {
                var size = h.uri.utf8.count
                for (n, v) in h.headers { size += n.utf8.count + v.utf8.count + 4 }
                if size > limits.maxHeaderBytes {
                    fail(status: 431, context: context)
                    return
                }
            }
            var declared: Int? = nil
            if let cl = h.headers.first(name: "content-length") {
                guard let n = Int(cl.trimmingASCIISpaces()), n >= 0 else {
                    fail(status: 400, context: context)
                    return
                }
                declared = n
            }
            requestBodyLimit = min(limits.maxBodyBytes,
                                   limits.bodyLimit?(h.method.rawValue, String(h.uri.prefix { $0 != "?" }), HTTPFields(nio: h.headers)) ?? .max)
            if let declared, declared > requestBodyLimit {
                fail(status: 413, context: context)
                return
            }
            if let expect = h.headers.first(name: "expect") {
                if expect.trimmingASCIISpaces().lowercased() == "100-continue" {
                    if h.version.major == 1 && h.version.minor >= 1 {
                        let cont = HTTPResponseHead(version: h.version, status: .continue)
                        context.writeAndFlush(wrapOutboundOut(.head(cont)), promise: nil)
                    }
                } else {
                    fail(status: 417, context: context)
                    return
                }
            }
        case .body(let chunk):
            guard head != nil else { return }
            bodyBytes += chunk.readableBytes
            if bodyBytes > requestBodyLimit {
                fail(status: 413, context: context)
                return
            }
            if let cap = limits.maxBufferedBodyBytes {
                guard budget.reserve(chunk.readableBytes, cap: cap) else {
                    fail(status: 503, context: context)
                    return
                }
                reserved += chunk.readableBytes
            }
            if body == nil {
                body = chunk
            } else {
                var chunk = chunk
                body!.writeBuffer(&chunk)
            }
        case .end:
            guard let h = head else { return }
            head = nil
            let bytes: [UInt8]
            if var b = body {
                bytes = b.readBytes(length: b.readableBytes) ?? []
            } else {
                bytes = []
            }
            body = nil
            releaseBody()
            dispatch(h, body: bytes, context: context)
        }
    }

    /// Gives this request's share of the buffered-body budget back (the body was handed over, or the connection died).
    private func releaseBody() {
        if reserved > 0 { budget.release(reserved); reserved = 0 }
    }

    /// The verified client certificate of this connection, read once (the handshake is over by the first request).
    private var peer: PeerCertificate??
    private func peerCertificate(_ context: ChannelHandlerContext) -> PeerCertificate? {
        if let peer { return peer }
        var found: PeerCertificate?
        if isTLS, let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
           let certificate = tls.peerCertificate {
            found = PeerCertificate(certificate)
        }
        peer = .some(found)
        return found
    }

    private func dispatch(_ h: HTTPRequestHead, body: [UInt8], context: ChannelHandlerContext) {
        busy = true
        timers.requestComplete()
        var request = HTTPRequest(
            method: h.method.rawValue, uri: h.uri, headers: HTTPFields(nio: h.headers), body: body,
            remoteAddress: remoteAddress, remotePort: remotePort, connectionID: connectionID, isTLS: isTLS,
            version: (h.version.major, h.version.minor))
        request.clientCertificate = peerCertificate(context)
        let keepAlive = h.isKeepAlive
        let version = h.version
        let isHead = h.method == .HEAD
        let handler = self.handler
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        Task {
            let response = await handler(request)
            loop.execute {
                let (me, ctx) = bound.value
                me.respond(response, keepAlive: keepAlive, version: version, isHead: isHead, context: ctx)
            }
        }
    }

    private func respond(_ r: HTTPResponse, keepAlive requested: Bool, version: HTTPVersion, isHead: Bool,
                         context: ChannelHandlerContext) {
        guard active else { return }
        var headers = r.headers.storage
        let handlerWantsClose = headers.first(name: "connection")?.lowercased().contains("close") ?? false
        let keepAlive = requested && !quiescing && !closeAfterResponse && !handlerWantsClose
        write(status: r.status, headers: &headers, body: r.body, keepAlive: keepAlive, version: version,
              isHead: isHead, context: context)
        busy = false
        // Also bounds the time a slow reader may take to receive a `Connection: close` response.
        timers.responseSent()
        if !keepAlive {
            discarding = true
            queued.removeAll()
            return
        }
        while !busy && !discarding && !queued.isEmpty {
            process(queued.removeFirst(), context: context)
        }
        if !busy && pendingRead {
            pendingRead = false
            context.read()
        }
    }

    private func write(status: Int, headers: inout HTTPHeaders, body: [UInt8], keepAlive: Bool,
                       version: HTTPVersion, isHead: Bool, context: ChannelHandlerContext) {
        headers.remove(name: "transfer-encoding")
        headers.replaceOrAdd(name: "content-length", value: String(body.count))
        if !keepAlive {
            headers.replaceOrAdd(name: "connection", value: "close")
        } else if version.major == 1 && version.minor == 0 {
            headers.replaceOrAdd(name: "connection", value: "keep-alive")
        }
        let respVersion: HTTPVersion = (version.major == 1 && version.minor == 0) ? .http1_0 : .http1_1
        let head = HTTPResponseHead(version: respVersion, status: HTTPResponseStatus(statusCode: status),
                                    headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !body.isEmpty && !isHead {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))),
                          promise: nil)
        }
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                bound.value.close(promise: nil)
            }
        }
    }

    /// Error response with `Connection: close`, then close; further input is ignored.
    private func fail(status: Int, context: ChannelHandlerContext) {
        discarding = true
        head = nil
        body = nil
        releaseBody()
        queued.removeAll()
        let version = HTTPVersion.http1_1
        var headers = HTTPHeaders()
        var body: [UInt8] = []
        if let refusal = limits.refusal {
            let r = refusal(status)
            for (name, value) in r.headers.storage { headers.add(name: name, value: value) }
            body = r.body
        }
        write(status: status, headers: &headers, body: body, keepAlive: false, version: version, isHead: false,
              context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if error is HTTPParserError || error is ByteToMessageDecoderError {
            if discarding { return }
            if busy {
                // Answer the request in progress, then close.
                closeAfterResponse = true
                queued.removeAll()
                discarding = true
                return
            }
            fail(status: 400, context: context)
        } else {
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is QuiesceEvent {
            quiescing = true
            if !busy && head == nil {
                context.close(promise: nil)
            }
            return
        }
        if let e = event as? ChannelEvent, e == .inputClosed {
            // Peer half-closed: finish the request in flight, then close.
            if busy {
                closeAfterResponse = true
            } else if queued.isEmpty {
                context.close(promise: nil)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: outbound

    func read(context: ChannelHandlerContext) {
        if busy {
            pendingRead = true
        } else {
            context.read()
        }
    }
}

extension String {
    func trimmingASCIISpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}

/// Bytes of request bodies buffered by one server's connections at once.
final class BodyBudget: Sendable {
    private let used = Locked(0)
    func reserve(_ n: Int, cap: Int) -> Bool {
        used.withLock { u in
            guard u + n <= cap else { return false }
            u += n
            return true
        }
    }
    func release(_ n: Int) { used.withLock { $0 -= n } }
    var current: Int { used.withLock { $0 } }
}
