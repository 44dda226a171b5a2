import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import NetHTTP

/// Streamed response bodies (`StreamBody`, for Server-Sent Events): chunks arrive as written, the response ends
/// when the producer returns, a client that never reads is dropped after the stall limit without holding anyone
/// else, and a shutdown ends open streams.
@Suite struct StreamBodyTests {
    final class Outcome: @unchecked Sendable {
        let lock = NSLock()
        var writes = 0
        var refusedAt: ContinuousClock.Instant?
        var ended = false
    }

    @Test func chunksArriveAsWrittenAndTheResponseEnds() async throws {
        try await withServer(handler: { r in
            if r.path == "/plain" { return HTTPResponse(text: "plain") }
            return HTTPResponse(headers: ["Content-Type": "text/event-stream"], stream: StreamBody { w in
                for i in 0..<3 {
                    _ = await w.write(Array("data: \(i)\n\n".utf8))
                    try? await Task.sleep(for: .milliseconds(50))
                }
            })
        }) { port, _ in
            let raw = try await RawConnection(port: port)
            try await raw.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
            // The first chunk comes as it is written (the producer is still writing).
            #expect(await raw.wait { t, _ in t.contains("data: 0") })
            #expect(await raw.wait { _, closed in closed }, "the connection closes when the stream ends")
            let text = raw.text
            #expect(text.contains("transfer-encoding: chunked") && text.contains("connection: close") && !text.contains("content-length"))
            #expect(text.contains("data: 0") && text.contains("data: 1") && text.contains("data: 2") && text.hasSuffix("0\r\n\r\n"))
            // Other requests meanwhile and after are served as usual.
            let c = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port)
            #expect(try await c.send(uri: "/plain").bodyString == "plain")
            await c.close()
        }
    }

    @Test func aClientThatNeverReadsIsDroppedAfterTheStallLimit() async throws {
        var limits = ServerLimits()
        limits.streamStallTimeout = .seconds(1)
        let outcome = Outcome()
        let chunk = [UInt8](repeating: 0x61, count: 64 << 10)
        try await withServer(limits: limits, handler: { r in
            if r.path == "/plain" { return HTTPResponse(text: "plain") }
            return HTTPResponse(stream: StreamBody { w in
                // Bounded: 4 GiB would never fit a socket's buffers; the writer must give up long before.
                for _ in 0..<65_536 {
                    guard await w.write(chunk) else {
                        outcome.lock.withLock { outcome.refusedAt = .now }
                        break
                    }
                    outcome.lock.withLock { outcome.writes += 1 }
                }
                outcome.lock.withLock { outcome.ended = true }
            })
        }) { port, _ in
            let channel = try await ClientBootstrap(group: NIOSingletons.posixEventLoopGroup)
                .channelOption(.autoRead, value: false)
                .connect(host: "127.0.0.1", port: port).get()
            try await channel.writeAndFlush(channel.allocator.buffer(string: "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")).get()
            let started = ContinuousClock.now
            try await waitFor(seconds: 20) { outcome.lock.withLock { outcome.ended } }
            let (writes, refusedAt) = outcome.lock.withLock { (outcome.writes, outcome.refusedAt) }
            #expect(refusedAt != nil && writes < 4096, "the socket buffers filled, then the writer gave up (\(writes) chunks)")
            #expect(refusedAt.map { $0 - started < .seconds(10) } == true)
            // The server serves others throughout.
            let c = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port)
            #expect(try await c.send(uri: "/plain").bodyString == "plain")
            await c.close()
            try? await channel.close()
        }
    }

    @Test func shutdownEndsOpenStreams() async throws {
        let outcome = Outcome()
        let server = HTTPServer(host: "127.0.0.1", port: 0) { _ in
            HTTPResponse(stream: StreamBody { w in
                while await w.write(Array(": ping\n\n".utf8)) { try? await Task.sleep(for: .milliseconds(20)) }
                outcome.lock.withLock { outcome.ended = true }
            })
        }
        let port = try await server.start()
        let raw = try await RawConnection(port: port)
        try await raw.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await raw.wait { t, _ in t.contains(": ping") })
        let started = ContinuousClock.now
        try await server.shutdown()
        #expect(ContinuousClock.now - started < .seconds(5), "no wait for the shutdown grace")
        try await waitFor(seconds: 5) { outcome.lock.withLock { outcome.ended } }
        #expect(await raw.wait { _, closed in closed })
    }

    func waitFor(seconds: Double, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            guard Date() < deadline else { Issue.record("timed out"); return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
