import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// Corral's TR-143 HTTP test server: `GET /download/<bytes>`, `GET /download?seconds=<s>`, `PUT /upload/<name>`.
/// No auth (TR-143 forbids it for the test), no disk: downloads are slices of one pre-filled buffer (no copy per
/// request), uploads are counted and dropped. Writes follow the socket's writability, so a slow reader costs one
/// connection's socket buffer, not memory.
public final class HTTPTestServer: Sendable {
    public struct Limits: Sendable {
        /// Largest download or upload, in bytes.
        public var maxBytes: Int64 = 1 << 34
        public var maxSeconds: Int = 999
        public var maxConnections: Int = 512
        /// Connections from one client address at once (a test uses at most 64).
        public var maxConnectionsPerAddress: Int = 64
        /// A connection with neither reads nor writes for this long is closed (slow or dead clients).
        public var idleTimeout: TimeAmount = .seconds(30)
        public init() {}
    }

    public let host: String
    public let requestedPort: Int
    public let limits: Limits
    public let log = TransferLog()
    public let stats = SpeedTestStats()
    private let channel = NIOLockedValueBox<Channel?>(nil)
    private let open = NIOLockedValueBox<Int>(0)
    private let perAddress = NIOLockedValueBox<[String: Int]>([:])
    /// Whether a client may use the server (devices with a test under way, configured networks, loopback): an open
    /// download server is free bandwidth for anyone. nil = everyone.
    let allow: (@Sendable (SocketAddress) -> Bool)?

    public init(host: String, port: Int, limits: Limits = Limits(), allow: (@Sendable (SocketAddress) -> Bool)? = nil) {
        self.host = host; requestedPort = port; self.limits = limits; self.allow = allow
    }

    /// Binds and returns the port.
    public func start(group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> Int {
        let payload = Self.pattern
        let limits = self.limits, log = self.log, stats = self.stats, open = self.open, perAddress = self.perAddress, allow = self.allow
        let ch = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { ch in
                let ip = ch.remoteAddress?.ipAddress ?? ""
                if let allow, let remote = ch.remoteAddress, !allow(remote) {
                    stats.add("refused_clients")
                    return ch.close()
                }
                let admitted = open.withLockedValue { n -> Bool in
                    guard n < limits.maxConnections else { return false }
                    let mine = perAddress.withLockedValue { m -> Bool in
                        guard (m[ip] ?? 0) < limits.maxConnectionsPerAddress else { return false }
                        m[ip, default: 0] += 1
                        return true
                    }
                    guard mine else { return false }
                    n += 1
                    return true
                }
                guard admitted else {
                    stats.add("refused_connections")
                    return ch.close()
                }
                ch.closeFuture.whenComplete { _ in
                    open.withLockedValue { $0 -= 1 }
                    perAddress.withLockedValue { m in
                        m[ip, default: 1] -= 1
                        if m[ip] == 0 { m[ip] = nil }
                    }
                }
                return ch.eventLoop.makeCompletedFuture {
                    let sync = ch.pipeline.syncOperations
                    try sync.addHandler(IdleStateHandler(allTimeout: limits.idleTimeout))
                    try sync.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                    try sync.addHandler(TestRequestHandler(payload: payload, limits: limits, log: log, stats: stats))
                }
            }
            .bind(host: host, port: requestedPort).get()
        channel.withLockedValue { $0 = ch }
        return ch.localAddress?.port ?? 0
    }

    public func stop() async {
        let ch = channel.withLockedValue { $0 }
        try? await ch?.close()
    }

    public var openConnections: Int { open.withLockedValue { $0 } }

    /// 1 MiB of bytes that do not compress (a link with compression must not flatter the result).
    static let chunkSize = 1 << 20
    static let pattern: ByteBuffer = {
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        var bytes = [UInt8](repeating: 0, count: chunkSize)
        for i in 0..<chunkSize {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            bytes[i] = UInt8(truncatingIfNeeded: x)
        }
        return ByteBuffer(bytes: bytes)
    }()
}

/// What a request line asks for; pure, so the parsing rules can be tested without sockets.
public enum TestRequest: Equatable, Sendable {
    case download(bytes: Int64, tag: String)
    case timedDownload(seconds: Int, tag: String)
    case upload(name: String)
    case problem(status: Int, reason: String)

    public static func parse(method: String, uri: String, limits: HTTPTestServer.Limits) -> TestRequest {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts[0])
        var query: [String: String] = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                query[String(kv[0])] = kv.count > 1 ? String(kv[1]) : ""
            }
        }
        let tag = String((query["tag"] ?? "").prefix(64).filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        if path == "/download" || path == "/download/" {
            guard method == "GET" else { return .problem(status: 405, reason: "downloads are GET") }
            // TR-143 4.3 suggests "?time=<s>"; "seconds" is ours.
            guard let s = query["seconds"] ?? query["time"], let secs = Int(s), secs > 0 else {
                return .problem(status: 400, reason: "GET /download/<bytes> or /download?seconds=<s>")
            }
            guard secs <= limits.maxSeconds else { return .problem(status: 400, reason: "at most \(limits.maxSeconds) seconds") }
            return .timedDownload(seconds: secs, tag: tag)
        }
        if path.hasPrefix("/download/") {
            guard method == "GET" else { return .problem(status: 405, reason: "downloads are GET") }
            guard let n = Int64(path.dropFirst("/download/".count)), n >= 0 else { return .problem(status: 404, reason: "no such test file") }
            guard n <= limits.maxBytes else { return .problem(status: 400, reason: "at most \(limits.maxBytes) bytes") }
            return .download(bytes: n, tag: tag)
        }
        if path.hasPrefix("/upload/") {
            guard method == "PUT" || method == "POST" else { return .problem(status: 405, reason: "uploads are PUT") }
            let name = String(path.dropFirst("/upload/".count).prefix(64).filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." })
            return .upload(name: name)
        }
        return .problem(status: 404, reason: "not a test URL: use /download/<bytes>, /download?seconds=<s> or PUT /upload/<name>")
    }
}

/// One connection: a state machine of idle → streaming a download / counting an upload → idle (keep-alive).
final class TestRequestHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = Never
    typealias OutboundOut = HTTPServerResponsePart

    enum State {
        case idle
        /// Download requested; the body starts once the request's end arrived.
        case awaitingEnd(TestRequest, keepAlive: Bool, version: HTTPVersion)
        case streaming(remaining: Int64?, deadline: NIODeadline?, sent: Int64, start: Int64, tag: String, keepAlive: Bool)
        case receiving(name: String, bytes: Int64, start: Int64, keepAlive: Bool)
        /// An answer already went out (error); the rest of the request body is dropped and the connection closed.
        case discarding
    }

    private let payload: ByteBuffer
    private let limits: HTTPTestServer.Limits
    private let log: TransferLog
    private let stats: SpeedTestStats
    private var state = State.idle
    private var pumping = false
    private var client = ""

    init(payload: ByteBuffer, limits: HTTPTestServer.Limits, log: TransferLog, stats: SpeedTestStats) {
        self.payload = payload; self.limits = limits; self.log = log; self.stats = stats
    }

    func channelActive(context: ChannelHandlerContext) {
        client = context.remoteAddress?.ipAddress ?? ""
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .idle):
            let request = TestRequest.parse(method: head.method.rawValue, uri: head.uri, limits: limits)
            switch request {
            case .problem(let status, let reason):
                stats.add("bad_requests")
                respond(context, status: HTTPResponseStatus(statusCode: status), body: reason + "\n", close: true)
                state = .discarding
            case .upload(let name):
                let length = head.headers.first(name: "content-length").flatMap { Int64($0) }
                let chunked = head.headers[canonicalForm: "transfer-encoding"].contains { $0.lowercased() == "chunked" }
                if length == nil && !chunked {
                    respond(context, status: .lengthRequired, body: "an upload needs Content-Length or chunked encoding\n", close: true)
                    state = .discarding
                } else if let length, length > limits.maxBytes {
                    stats.add("oversized_uploads")
                    respond(context, status: .payloadTooLarge, body: "at most \(limits.maxBytes) bytes\n", close: true)
                    state = .discarding
                } else {
                    state = .receiving(name: name, bytes: 0, start: 0, keepAlive: head.isKeepAlive)
                    if head.headers.first(name: "expect")?.lowercased() == "100-continue" {
                        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .continue))), promise: nil)
                    }
                }
            default:
                state = .awaitingEnd(request, keepAlive: head.isKeepAlive, version: head.version)
            }
        case (.body(let buf), .receiving(let name, let bytes, let start, let keepAlive)):
            let total = bytes + Int64(buf.readableBytes)
            if total > limits.maxBytes {
                stats.add("oversized_uploads")
                record(.upload, tag: name, bytes: total, start: start, complete: false)
                respond(context, status: .payloadTooLarge, body: "at most \(limits.maxBytes) bytes\n", close: true)
                state = .discarding
            } else {
                state = .receiving(name: name, bytes: total, start: start == 0 ? Clock.wallMicros() : start, keepAlive: keepAlive)
            }
        case (.end, .receiving(let name, let bytes, let start, let keepAlive)):
            // Answer right after the last byte: the CPE's EOMTime is when this arrives.
            record(.upload, tag: name, bytes: bytes, start: start == 0 ? Clock.wallMicros() : start, complete: true)
            stats.add("upload_bytes", bytes)
            stats.add("uploads")
            state = .idle
            var headers = HTTPHeaders()
            headers.add(name: "connection", value: keepAlive ? "keep-alive" : "close")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .noContent, headers: headers))), promise: nil)
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !keepAlive { let ch = context.channel; done.whenComplete { _ in ch.close(promise: nil) } }
        case (.end, .awaitingEnd(let request, let keepAlive, let version)):
            startDownload(context, request, keepAlive: keepAlive, version: version)
        case (.body, .awaitingEnd), (.body, .discarding), (.end, .discarding):
            break   // a GET with a body, or the rest of a refused request
        default:
            // A request while a download still streams: the pipelining handler holds those, so this is a broken client.
            context.close(promise: nil)
        }
    }

    /// HTTP/1.0 clients (older CPEs) get an HTTP/1.0 answer; a timed stream to them has no chunked framing (they
    /// cannot parse it): it ends when the connection closes.
    private func startDownload(_ context: ChannelHandlerContext, _ request: TestRequest, keepAlive: Bool, version: HTTPVersion) {
        let old = version.major == 1 && version.minor == 0
        var keepAlive = keepAlive
        if case .timedDownload = request, old { keepAlive = false }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/octet-stream")
        headers.add(name: "cache-control", value: "no-store")
        headers.add(name: "connection", value: keepAlive ? "keep-alive" : "close")
        let now = Clock.wallMicros()
        switch request {
        case .download(let bytes, let tag):
            headers.add(name: "content-length", value: String(bytes))
            state = .streaming(remaining: bytes, deadline: nil, sent: 0, start: now, tag: tag, keepAlive: keepAlive)
        case .timedDownload(let seconds, let tag):
            // No length: the HTTP/1.1 encoder sends it chunked, and it ends when the time is up.
            state = .streaming(remaining: nil, deadline: .now() + .seconds(Int64(seconds)), sent: 0, start: now, tag: tag, keepAlive: keepAlive)
        default:
            return
        }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: old ? .http1_0 : .http1_1, status: .ok, headers: headers))), promise: nil)
        pump(context)
    }

    /// Writes while the socket takes it; resumes on channelWritabilityChanged. A flush can fire that event from
    /// inside this loop: the nested call returns at once and this loop carries on with the current state.
    private func pump(_ context: ChannelHandlerContext) {
        guard !pumping else { return }
        pumping = true
        defer { pumping = false }
        while context.channel.isWritable, case .streaming(var remaining, let deadline, var sent, let start, let tag, let keepAlive) = state {
            if let deadline, NIODeadline.now() >= deadline { remaining = 0 }
            if remaining == 0 {
                state = .idle
                record(.download, tag: tag, bytes: sent, start: start, complete: true)
                stats.add("download_bytes", sent)
                stats.add("downloads")
                let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
                if !keepAlive { let ch = context.channel; done.whenComplete { _ in ch.close(promise: nil) } }
                return
            }
            let n = Int(min(Int64(HTTPTestServer.chunkSize), remaining ?? Int64(HTTPTestServer.chunkSize)))
            sent += Int64(n)
            if let r = remaining { remaining = r - Int64(n) }
            state = .streaming(remaining: remaining, deadline: deadline, sent: sent, start: start, tag: tag, keepAlive: keepAlive)
            // Flush per chunk: writability only changes once bytes are handed to the socket.
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(payload.getSlice(at: 0, length: n)!))), promise: nil)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { pump(context) }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            stats.add("idle_closed")
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .streaming(_, _, let sent, let start, let tag, _):
            record(.download, tag: tag, bytes: sent, start: start, complete: false)
        case .receiving(let name, let bytes, let start, _) where bytes > 0:
            record(.upload, tag: name, bytes: bytes, start: start, complete: false)
        default: break
        }
        state = .idle
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func record(_ direction: TransferRecord.Direction, tag: String, bytes: Int64, start: Int64, complete: Bool) {
        log.append(TransferRecord(direction: direction, tag: tag, client: client, bytes: bytes, startMicros: start,
                                  durationMicros: max(0, Clock.wallMicros() - start), complete: complete))
    }

    private func respond(_ context: ChannelHandlerContext, status: HTTPResponseStatus, body: String, close: Bool) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain; charset=utf-8")
        headers.add(name: "content-length", value: String(body.utf8.count))
        headers.add(name: "connection", value: close ? "close" : "keep-alive")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if close { let ch = context.channel; done.whenComplete { _ in ch.close(promise: nil) } }
    }
}
