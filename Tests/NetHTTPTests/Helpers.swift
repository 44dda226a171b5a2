import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import NetHTTP

/// Starts a server on 127.0.0.1:0, runs `body` with its port, then shuts it down.
func withServer(limits: ServerLimits = ServerLimits(),
                handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse,
                _ body: (Int, HTTPServer) async throws -> Void) async throws {
    let server = HTTPServer(host: "127.0.0.1", port: 0, limits: limits, handler: handler)
    let port = try await server.start()
    do {
        try await body(port, server)
    } catch {
        try await server.shutdown()
        throw error
    }
    try await server.shutdown()
}

/// Echoes request details as headers and the body back.
@Sendable func echoHandler(_ r: HTTPRequest) async -> HTTPResponse {
    var h = HTTPFields()
    h.set("X-Method", r.method)
    h.set("X-Path", r.path)
    h.set("X-Query", r.query ?? "-")
    h.set("X-Conn", String(r.connectionID))
    h.set("X-Remote", r.remoteAddress ?? "-")
    h.set("X-Test", r.headers.first("x-test") ?? "-")
    h.set("X-Test-All", r.headers.all("X-TEST").joined(separator: "|"))
    return HTTPResponse(status: 200, headers: h, body: r.body)
}

/// Raw TCP connection for protocol-level tests: write bytes, wait for received bytes / close.
final class RawConnection: Sendable {
    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = Locked<[UInt8]>([])
        let closed = Locked(false)
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buf = unwrapInboundIn(data)
            let bytes = buf.readBytes(length: buf.readableBytes) ?? []
            received.withLock { $0 += bytes }
        }
        func channelInactive(context: ChannelHandlerContext) {
            closed.withLock { $0 = true }
        }
    }

    let channel: Channel
    let collector: Collector

    init(port: Int) async throws {
        let collector = Collector()
        self.collector = collector
        channel = try await ClientBootstrap(group: NIOSingletons.posixEventLoopGroup)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(host: "127.0.0.1", port: port).get()
    }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(string: text)).get()
    }

    var text: String { String(decoding: collector.received.withLock { $0 }, as: UTF8.self) }
    var isClosed: Bool { collector.closed.withLock { $0 } }

    /// Polls until `predicate(text)` holds or the timeout passes; returns whether it held.
    func wait(timeout: Duration = .seconds(5), until predicate: (String, Bool) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if predicate(text, isClosed) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return predicate(text, isClosed)
    }

    func close() async { try? await channel.close() }
}

func count(_ needle: String, in haystack: String) -> Int {
    haystack.components(separatedBy: needle).count - 1
}
