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

    /// Bytes moved in a long transfer (a spooled upload, a file download): the stall timer starts again.
    func progress() {
        if state == .handling || state == .receiving { arm(bodyTimeout) }
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
    /// The body of the request being received goes to this file (`limits.spool`).
    private var spool: BodySpool?
    /// Reading stops while the spool's disk writes are behind.
    private var spoolBehind = false
    /// Input is ignored from now on (fatal error, close pending).
    private var discarding = false
    private var quiescing = false
    private var closeAfterResponse = false
    /// A streamed body is being written.
    private var streaming = false
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
        spool?.discard()
        spool = nil
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
            let path = String(h.uri.prefix { $0 != "?" })
            let fields = HTTPFields(nio: h.headers)
            if let refusal = limits.refuse?(h.method.rawValue, path, fields) {
                fail(status: refusal.status, context: context, response: refusal)
                return
            }
            let ownLimit = limits.bodyLimit?(h.method.rawValue, path, fields)
            let spoolDirectory = limits.spool?(h.method.rawValue, path, fields)
            requestBodyLimit = spoolDirectory != nil ? ownLimit ?? limits.maxBodyBytes : min(limits.maxBodyBytes, ownLimit ?? .max)
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
            if let spoolDirectory { spool = BodySpool(directory: spoolDirectory, loop: context.eventLoop) }
        case .body(let chunk):
            guard head != nil else { return }
            bodyBytes += chunk.readableBytes
            if bodyBytes > requestBodyLimit {
                fail(status: 413, context: context)
                return
            }
            if let spool {
                if let error = spool.error {
                    fail(status: FileWork.isDiskFull(error) ? 507 : 500, context: context)
                    return
                }
                // Bytes on their way to disk count against the buffered-body budget like any body.
                if let cap = limits.maxBufferedBodyBytes {
                    guard budget.reserve(chunk.readableBytes, cap: cap) else {
                        fail(status: 503, context: context)
                        return
                    }
                }
                timers.progress()
                let n = chunk.readableBytes
                let budget = self.budget, counted = limits.maxBufferedBodyBytes != nil
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                spool.append(chunk) {
                    if counted { budget.release(n) }
                    bound.value.0.spoolCaughtUp(bound.value.1)
                }
                if spool.pending > Self.spoolAhead { spoolBehind = true }
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
            if let spool {
                // Dispatched once every byte is on disk; nothing else is read meanwhile.
                self.spool = nil
                busy = true
                timers.requestComplete()
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                spool.finish().whenComplete { result in
                    let (me, ctx) = bound.value
                    guard me.active else { spool.discard(); return }
                    switch result {
                    case .success(let body):
                        me.dispatch(h, body: [], spooled: body, context: ctx)
                    case .failure(let error):
                        spool.discard()
                        me.busy = false
                        me.fail(status: FileWork.isDiskFull(error) ? 507 : 500, context: ctx)
                    }
                }
                return
            }
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

    /// Bytes a spooled upload may have in memory before reading pauses, and resumes below a quarter of it.
    static let spoolAhead = 1 << 20

    private func spoolCaughtUp(_ context: ChannelHandlerContext) {
        if let spool, let error = spool.error, active, !discarding {
            fail(status: FileWork.isDiskFull(error) ? 507 : 500, context: context)
            return
        }
        guard spoolBehind, (spool?.pending ?? 0) < Self.spoolAhead / 4 else { return }
        spoolBehind = false
        if pendingRead && !busy && active {
            pendingRead = false
            context.read()
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

    private func dispatch(_ h: HTTPRequestHead, body: [UInt8], spooled: SpooledBody? = nil, context: ChannelHandlerContext) {
        busy = true
        timers.requestComplete()
        var request = HTTPRequest(
            method: h.method.rawValue, uri: h.uri, headers: HTTPFields(nio: h.headers), body: body,
            remoteAddress: remoteAddress, remotePort: remotePort, connectionID: connectionID, isTLS: isTLS,
            version: (h.version.major, h.version.minor))
        request.clientCertificate = peerCertificate(context)
        request.spooled = spooled
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
                me.respond(response, keepAlive: keepAlive, version: version, isHead: isHead, context: ctx) {
                    // A spooled body the handler did not move away is not kept (after the response: it may be its body).
                    if let spooled { FileWork.remove(spooled.path, loop: loop) }
                }
            }
        }
    }

    private func respond(_ r: HTTPResponse, keepAlive requested: Bool, version: HTTPVersion, isHead: Bool,
                         context: ChannelHandlerContext, sent: @escaping @Sendable () -> Void = {}) {
        guard active else { sent(); return }
        var headers = r.headers.storage
        let handlerWantsClose = headers.first(name: "connection")?.lowercased().contains("close") ?? false
        let keepAlive = requested && !quiescing && !closeAfterResponse && !handlerWantsClose
        if let stream = r.stream {
            respond(streaming: stream, status: r.status, headers: headers, version: version, isHead: isHead, context: context, sent: sent)
            return
        }
        if let file = r.file {
            // Opened and checked first, so a missing or short file is still a proper 500 (HEAD included).
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let timers = NIOLoopBound(self.timers, eventLoop: context.eventLoop)
            let head = NIOLoopBound(headers, eventLoop: context.eventLoop)
            let status = r.status
            FileSender.send(isHead ? FileBody(path: file.path, offset: file.offset, length: 0) : file, tls: isTLS, context: context, start: { ok in
                let (me, ctx) = bound.value
                var headers = head.value
                guard ok else {
                    headers.remove(name: "content-type"); headers.remove(name: "content-range"); headers.remove(name: "etag")
                    me.write(status: 500, headers: &headers, body: [], keepAlive: false, version: version, isHead: isHead, context: ctx)
                    me.responseWritten(keepAlive: false, context: ctx)
                    sent()
                    return
                }
                me.writeHead(status: status, headers: &headers, length: Int(file.length), keepAlive: keepAlive, version: version, context: ctx)
                timers.value.progress()
            }, progress: { timers.value.progress() }) { ok in
                let (me, ctx) = bound.value
                defer { sent() }
                guard ok, me.active else { ctx.close(promise: nil); return }
                // A shutdown that began during the transfer closes the connection now.
                let stillAlive = keepAlive && !me.quiescing
                me.writeEnd(keepAlive: stillAlive, context: ctx)
                me.responseWritten(keepAlive: stillAlive, context: ctx)
            }
            return
        }
        write(status: r.status, headers: &headers, body: r.body, keepAlive: keepAlive, version: version,
              isHead: isHead, context: context)
        responseWritten(keepAlive: keepAlive, context: context)
        sent()
    }

    /// A streamed body: the head now (chunked, `Connection: close`), the chunks as the producer writes them, the end
    /// and the close when it returns. A server shutdown closes the connection (the producer's writes then fail).
    private func respond(streaming stream: StreamBody, status: Int, headers given: HTTPHeaders, version: HTTPVersion, isHead: Bool,
                         context: ChannelHandlerContext, sent: @escaping @Sendable () -> Void) {
        var headers = given
        headers.remove(name: "content-length")
        headers.replaceOrAdd(name: "connection", value: "close")
        let respVersion: HTTPVersion = (version.major == 1 && version.minor == 0) ? .http1_0 : .http1_1
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: respVersion, status: HTTPResponseStatus(statusCode: status),
                                                                     headers: headers))), promise: nil)
        guard !isHead else {
            writeEnd(keepAlive: false, context: context)
            responseWritten(keepAlive: false, context: context)
            sent()
            return
        }
        streaming = true
        let writer = StreamWriter(channel: context.channel, stallTimeout: TimeAmount(limits.streamStallTimeout))
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        Task {
            await stream.produce(writer)
            loop.execute {
                let (me, ctx) = bound.value
                me.streaming = false
                if me.active { me.writeEnd(keepAlive: false, context: ctx) }
                me.responseWritten(keepAlive: false, context: ctx)
                sent()
            }
        }
    }

    /// After a response: the connection closes, or takes the next request.
    private func responseWritten(keepAlive: Bool, context: ChannelHandlerContext) {
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
        if !busy && !spoolBehind && pendingRead {
            pendingRead = false
            context.read()
        }
    }

    private func write(status: Int, headers: inout HTTPHeaders, body: [UInt8], keepAlive: Bool,
                       version: HTTPVersion, isHead: Bool, context: ChannelHandlerContext) {
        writeHead(status: status, headers: &headers, length: body.count, keepAlive: keepAlive, version: version, context: context)
        if !body.isEmpty && !isHead {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))),
                          promise: nil)
        }
        writeEnd(keepAlive: keepAlive, context: context)
    }

    private func writeHead(status: Int, headers: inout HTTPHeaders, length: Int, keepAlive: Bool,
                           version: HTTPVersion, context: ChannelHandlerContext) {
        headers.remove(name: "transfer-encoding")
        headers.replaceOrAdd(name: "content-length", value: String(length))
        if !keepAlive {
            headers.replaceOrAdd(name: "connection", value: "close")
        } else if version.major == 1 && version.minor == 0 {
            headers.replaceOrAdd(name: "connection", value: "keep-alive")
        }
        let respVersion: HTTPVersion = (version.major == 1 && version.minor == 0) ? .http1_0 : .http1_1
        let head = HTTPResponseHead(version: respVersion, status: HTTPResponseStatus(statusCode: status),
                                    headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
    }

    private func writeEnd(keepAlive: Bool, context: ChannelHandlerContext) {
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
    private func fail(status: Int, context: ChannelHandlerContext, response given: HTTPResponse? = nil) {
        discarding = true
        head = nil
        body = nil
        releaseBody()
        spool?.discard()
        spool = nil
        queued.removeAll()
        let version = HTTPVersion.http1_1
        var headers = HTTPHeaders()
        var body: [UInt8] = []
        if let r = given ?? limits.refusal?(status) {
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
            if case NIOSSLError.handshakeFailed = error, let report = limits.tlsFailure { report(remoteAddress ?? "", "\(error)") }
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is QuiesceEvent {
            quiescing = true
            if (!busy && head == nil) || streaming {
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
        if busy || spoolBehind {
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
