import HTTPAuth
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A request handed to the client pipeline together with the promise for its response.
struct ClientRequest {
    var head: HTTPRequestHead
    var body: [UInt8]
    var timeout: TimeAmount
    var promise: EventLoopPromise<HTTPResponse>
}

/// Collects one response at a time; fails the pending request on timeout, close or error.
final class HTTPClientResponseHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = ClientRequest
    typealias OutboundOut = HTTPClientRequestPart

    private let maxBodyBytes: Int
    private let closedFlag: Locked<Bool>
    private var promise: EventLoopPromise<HTTPResponse>?
    private var timer: Scheduled<Void>?
    private var head: HTTPResponseHead?
    private var body: ByteBuffer?
    private var requestWasHead = false

    init(maxBodyBytes: Int, closedFlag: Locked<Bool>) {
        self.maxBodyBytes = maxBodyBytes
        self.closedFlag = closedFlag
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise writePromise: EventLoopPromise<Void>?) {
        let req = unwrapOutboundIn(data)
        guard self.promise == nil else {
            req.promise.fail(HTTPClientError.busy)
            writePromise?.fail(HTTPClientError.busy)
            return
        }
        guard context.channel.isActive else {
            req.promise.fail(HTTPClientError.closed)
            writePromise?.fail(HTTPClientError.closed)
            return
        }
        self.promise = req.promise
        head = nil
        body = nil
        requestWasHead = req.head.method == .HEAD
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: req.timeout) {
            let (me, ctx) = bound.value
            me.closedFlag.withLock { $0 = true }
            me.finish(.failure(HTTPClientError.timeout), context: ctx)
            ctx.close(promise: nil)
        }
        context.write(wrapOutboundOut(.head(req.head)), promise: nil)
        if !req.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: req.body)))),
                          promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: writePromise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard promise != nil else { return }  // unsolicited data: ignore
        switch unwrapInboundIn(data) {
        case .head(let h):
            if let cl = h.headers.first(name: "content-length"), let n = Int(cl), n > maxBodyBytes {
                closedFlag.withLock { $0 = true }
                finish(.failure(HTTPClientError.tooLarge(maxBodyBytes)), context: context)
                context.close(promise: nil)
                return
            }
            head = h
        case .body(var chunk):
            let total = (body?.readableBytes ?? 0) + chunk.readableBytes
            if total > maxBodyBytes {
                closedFlag.withLock { $0 = true }
                finish(.failure(HTTPClientError.tooLarge(maxBodyBytes)), context: context)
                context.close(promise: nil)
                return
            }
            if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
        case .end:
            guard let h = head else { return }
            var bytes: [UInt8] = []
            if var b = body { bytes = b.readBytes(length: b.readableBytes) ?? [] }
            let response = HTTPResponse(status: Int(h.status.code), headers: HTTPFields(nio: h.headers), body: bytes)
            let keepAlive = h.isKeepAlive
            if !keepAlive { closedFlag.withLock { $0 = true } }
            finish(.success(response), context: context)
            if !keepAlive { context.close(promise: nil) }
        }
    }

    private func finish(_ result: Result<HTTPResponse, Error>, context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        head = nil
        body = nil
        guard let p = promise else { return }
        promise = nil
        p.completeWith(result)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closedFlag.withLock { $0 = true }
        // A response without Content-Length is delimited by the close (decoder emits .end first).
        finish(.failure(HTTPClientError.closed), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let mapped: Error
        if error is HTTPParserError || error is ByteToMessageDecoderError {
            mapped = HTTPClientError.protocolError(String(describing: error))
        } else if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            mapped = HTTPClientError.tls(String(describing: error))
        } else {
            mapped = HTTPClientError.closed
        }
        closedFlag.withLock { $0 = true }
        finish(.failure(mapped), context: context)
        context.close(promise: nil)
    }
}

/// One keep-alive HTTP/1.1 client connection; one request at a time.
public final class HTTPClientConnection: Sendable {
    public let host: String
    public let port: Int
    public let isTLS: Bool
    private let channel: Channel
    private let closedFlag: Locked<Bool>

    private init(host: String, port: Int, isTLS: Bool, channel: Channel, closedFlag: Locked<Bool>) {
        self.host = host
        self.port = port
        self.isTLS = isTLS
        self.channel = channel
        self.closedFlag = closedFlag
    }

    /// Default cap on response bodies.
    public static let defaultMaxResponseBytes = 16 << 20

    /// With `tls`, the connection speaks HTTPS and the server certificate must verify against its trust roots.
    public static func connect(host: String, port: Int, tls: TLSClientContext? = nil, timeout: Duration = .seconds(10),
                               maxResponseBytes: Int = defaultMaxResponseBytes,
                               group: EventLoopGroup = NIOSingletons.posixEventLoopGroup) async throws
        -> HTTPClientConnection
    {
        let closedFlag = Locked(false)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(timeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(try tls.handler(host: host)) }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(
                        HTTPClientResponseHandler(maxBodyBytes: maxResponseBytes, closedFlag: closedFlag))
                }
            }
        do {
            let channel = try await bootstrap.connect(host: host, port: port).get()
            return HTTPClientConnection(host: host, port: port, isTLS: tls != nil, channel: channel, closedFlag: closedFlag)
        } catch let e as ChannelError {
            if case .connectTimeout = e { throw HTTPClientError.timeout }
            throw HTTPClientError.connectFailed("\(host):\(port): \(e)")
        } catch {
            throw HTTPClientError.connectFailed("\(host):\(port): \(error)")
        }
    }

    /// False once the peer or we closed the connection, or the server sent `Connection: close`.
    public var isOpen: Bool { channel.isActive && !closedFlag.withLock { $0 } }

    public var hostHeader: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return port == (isTLS ? 443 : 80) ? h : "\(h):\(port)"
    }

    /// Sends one request and waits for the complete response. Adds Host and Content-Length.
    /// On timeout the connection is closed and `HTTPClientError.timeout` thrown.
    public func send(method: String = "GET", uri: String, headers: HTTPFields = HTTPFields(), body: [UInt8] = [],
                     timeout: Duration = .seconds(30)) async throws -> HTTPResponse {
        guard isOpen else { throw HTTPClientError.closed }
        var h = headers.storage
        if !h.contains(name: "host") { h.add(name: "Host", value: hostHeader) }
        h.remove(name: "transfer-encoding")
        if !body.isEmpty || !["GET", "HEAD", "DELETE", "OPTIONS"].contains(method) {
            h.replaceOrAdd(name: "Content-Length", value: String(body.count))
        } else {
            h.remove(name: "content-length")
        }
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: uri, headers: h)
        let promise = channel.eventLoop.makePromise(of: HTTPResponse.self)
        let request = ClientRequest(head: head, body: body, timeout: TimeAmount(timeout), promise: promise)
        channel.writeAndFlush(request).whenFailure { error in
            promise.fail((error as? HTTPClientError) ?? HTTPClientError.closed)
        }
        return try await promise.futureResult.get()
    }

    public func close() async {
        closedFlag.withLock { $0 = true }
        try? await channel.close()
    }
}

/// One-shot helpers.
public enum HTTPClient {
    /// Sends one request on a fresh connection (`Connection: close`); `timeout` covers connect + response.
    /// `https://` URLs use `tls` (default: the system's trust store).
    public static func send(url: String, method: String = "GET", headers: HTTPFields = HTTPFields(),
                            body: [UInt8] = [], timeout: Duration = .seconds(30), tls: TLSClientContext? = nil) async throws -> HTTPResponse {
        let parts = try parseHTTP(url)
        let deadline = ContinuousClock.now + timeout
        let conn = try await HTTPClientConnection.connect(host: parts.host, port: parts.port, tls: try tlsContext(parts, tls), timeout: timeout)
        var h = headers
        if !h.contains("host") { h.set("Host", parts.hostHeader) }
        h.set("Connection", "close")
        do {
            let response = try await conn.send(method: method, uri: parts.pathAndQuery, headers: h, body: body,
                                               timeout: remaining(deadline))
            await conn.close()
            return response
        } catch {
            await conn.close()
            throw error
        }
    }

    /// CWMP connection request: GET `url`; on 401 with a Digest challenge (or Basic if `allowBasic`),
    /// retries once with credentials, on the same connection if it stayed open, else on a new one.
    /// Returns the final response (200/204 = success, 401 = wrong credentials). `timeout` is overall.
    public static func getWithDigest(url: String, username: String, password: String,
                                     timeout: Duration = .seconds(10), allowBasic: Bool = false,
                                     headers: HTTPFields = HTTPFields(), tls: TLSClientContext? = nil) async throws -> HTTPResponse {
        let parts = try parseHTTP(url)
        let deadline = ContinuousClock.now + timeout
        let context = try tlsContext(parts, tls)
        var conn = try await HTTPClientConnection.connect(host: parts.host, port: parts.port, tls: context, timeout: timeout)
        var base = headers
        if !base.contains("host") { base.set("Host", parts.hostHeader) }
        do {
            let first = try await conn.send(method: "GET", uri: parts.pathAndQuery, headers: base,
                                            timeout: remaining(deadline))
            guard first.status == 401 else {
                await conn.close()
                return first
            }
            let challenges = first.headers.all("www-authenticate")
            var authorization: String? = nil
            if let challenge = DigestChallenge.parse(challenges),
               let creds = Digest.authorize(challenge: challenge, username: username, password: password,
                                            method: "GET", uri: parts.pathAndQuery) {
                authorization = creds.headerValue
            } else if allowBasic,
                      challenges.flatMap({ AuthParams.parse($0) }).contains(where: { $0.scheme.lowercased() == "basic" }) {
                authorization = BasicCredentials(username: username, password: password).headerValue
            }
            guard let authorization else {
                await conn.close()
                return first
            }
            if !conn.isOpen {
                await conn.close()
                conn = try await HTTPClientConnection.connect(host: parts.host, port: parts.port, tls: context,
                                                              timeout: remaining(deadline))
            }
            var h = base
            h.set("Authorization", authorization)
            let second = try await conn.send(method: "GET", uri: parts.pathAndQuery, headers: h,
                                             timeout: remaining(deadline))
            await conn.close()
            return second
        } catch {
            await conn.close()
            throw error
        }
    }

    static func parseHTTP(_ url: String) throws -> URLParts {
        guard let parts = URLParts.parse(url) else { throw HTTPClientError.invalidURL(url) }
        guard parts.scheme == "http" || parts.scheme == "https" else { throw HTTPClientError.unsupportedScheme(parts.scheme) }
        return parts
    }

    /// nil for http; for https the given context or the system's trust store.
    static func tlsContext(_ parts: URLParts, _ given: TLSClientContext?) throws -> TLSClientContext? {
        guard parts.scheme == "https" else { return nil }
        guard let context = given ?? TLSClientContext.system else { throw HTTPClientError.tls("no trust store for https") }
        return context
    }

    static func remaining(_ deadline: ContinuousClock.Instant) throws -> Duration {
        let r = deadline - ContinuousClock.now
        guard r > .zero else { throw HTTPClientError.timeout }
        return r
    }
}
