import Foundation
import HTTPAuth
import Testing
@testable import NetHTTP

@Suite struct ServerTests {
    @Test func roundTripKeepAliveAndConnectionIDs() async throws {
        try await withServer(handler: echoHandler) { port, server in
            let c = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port)
            var ids = Set<String>()
            for i in 0..<5 {
                var h = HTTPFields()
                h.add("X-Test", "a\(i)")
                h.add("x-test", "b")
                let r = try await c.send(method: "GET", uri: "/p/\(i)?q=\(i)&z", headers: h)
                #expect(r.status == 200)
                #expect(r.headers.first("x-method") == "GET")
                #expect(r.headers.first("X-PATH") == "/p/\(i)")
                #expect(r.headers.first("x-query") == "q=\(i)&z")
                #expect(r.headers.first("x-test") == "a\(i)")
                #expect(r.headers.first("x-test-all") == "a\(i)|b")
                #expect(r.headers.first("x-remote") == "127.0.0.1")
                #expect(r.headers.first("content-length") == "0")
                ids.insert(r.headers.first("x-conn") ?? "")
            }
            let post = try await c.send(method: "POST", uri: "/cwmp", body: Array("<Inform/>".utf8))
            #expect(post.status == 200)
            #expect(post.bodyString == "<Inform/>")
            #expect(post.headers.first("content-length") == "9")
            ids.insert(post.headers.first("x-conn") ?? "")
            #expect(ids.count == 1)
            #expect(c.isOpen)

            let c2 = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port)
            let other = try await c2.send(uri: "/")
            #expect(other.headers.first("x-conn") != ids.first)
            #expect(server.connectionCount == 2)
            await c.close()
            await c2.close()
            #expect(!c.isOpen)
        }
    }

    @Test func oneShotClientAndLargeBody() async throws {
        try await withServer(handler: echoHandler) { port, _ in
            let big = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let r = try await HTTPClient.send(url: "http://127.0.0.1:\(port)/up?x=1", method: "PUT", body: big)
            #expect(r.status == 200)
            #expect(r.body == big)
            #expect(r.headers.first("x-query") == "x=1")
            #expect(r.headers.first("connection")?.lowercased() == "close")
        }
    }

    @Test func contentLengthTooLargeIsRejectedImmediately() async throws {
        try await withServer(handler: echoHandler) { port, _ in
            let raw = try await RawConnection(port: port)
            let start = ContinuousClock.now
            try await raw.send("POST /cwmp HTTP/1.1\r\nHost: x\r\nContent-Length: 52428800\r\n\r\n")
            let ok = await raw.wait(timeout: .seconds(3)) { text, closed in closed && text.contains("\r\n\r\n") }
            #expect(ok)
            #expect(ContinuousClock.now - start < .seconds(2))
            #expect(raw.text.hasPrefix("HTTP/1.1 413"))
            #expect(raw.text.lowercased().contains("connection: close"))
            await raw.close()
        }
    }

    @Test func perRouteBodyLimitsAreDecidedFromTheHeadBeforeReading() async throws {
        var limits = ServerLimits(maxBodyBytes: 8 << 20)
        limits.bodyLimit = { method, path, headers in
            path == "/upload" && headers.first("Authorization") != nil ? 8 << 20 : 1024
        }
        try await withServer(limits: limits, handler: echoHandler) { port, _ in
            // A login-sized route refuses a large declared body at once, before a byte of it arrives.
            let raw = try await RawConnection(port: port)
            try await raw.send("POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 262144000\r\n\r\n")
            #expect(await raw.wait(timeout: .seconds(3)) { text, closed in closed && text.contains("\r\n\r\n") })
            #expect(raw.text.hasPrefix("HTTP/1.1 413"))
            await raw.close()
            let small = try await HTTPClient.send(url: "http://127.0.0.1:\(port)/login", method: "POST", body: Array(repeating: 0x61, count: 1000))
            #expect(small.status == 200)
            // Uploads may be large only with credentials in the head.
            let anonymous = try await HTTPClient.send(url: "http://127.0.0.1:\(port)/upload", method: "POST", body: Array(repeating: 0x61, count: 4096))
            #expect(anonymous.status == 413)
            var h = HTTPFields()
            h.set("Authorization", "Bearer x")
            let upload = try await HTTPClient.send(url: "http://127.0.0.1:\(port)/upload", method: "POST", headers: h, body: Array(repeating: 0x61, count: 1 << 20))
            #expect(upload.status == 200 && upload.body.count == 1 << 20)
        }
    }

    @Test func connectionsPerAddressAndBufferedBodiesAreBounded() async throws {
        var limits = ServerLimits(maxBodyBytes: 1 << 20)
        limits.maxConnectionsPerAddress = 4
        limits.maxBufferedBodyBytes = 64 << 10
        try await withServer(limits: limits, handler: echoHandler) { port, server in
            // Four connections each holding 20 KiB of a declared 100 KiB body: the fourth goes over the 64 KiB budget.
            var held: [RawConnection] = []
            for _ in 0..<4 {
                let raw = try await RawConnection(port: port)
                try await raw.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 102400\r\n\r\n" + String(repeating: "a", count: 20 << 10))
                held.append(raw)
            }
            let refused = await held[3].wait(timeout: .seconds(3)) { text, closed in closed && text.hasPrefix("HTTP/1.1 503") }
            #expect(refused, "\(held[3].text)")
            // Three are still open: a fourth connection from the address is accepted, a fifth is closed at once.
            let fourth = try await RawConnection(port: port)
            let fifth = try await RawConnection(port: port)
            #expect(await fifth.wait(timeout: .seconds(3)) { _, closed in closed })
            #expect(!fourth.collector.closed.withLock { $0 })
            #expect(!held[0].collector.closed.withLock { $0 })
            for r in held + [fourth, fifth] { await r.close() }
            // Once they are gone the budget is free again.
            try await waitUntilTrue(seconds: 3) { server.connectionCount == 0 }
            let ok = try await HTTPClient.send(url: "http://127.0.0.1:\(port)/x", method: "POST", body: Array(repeating: 0x61, count: 60 << 10))
            #expect(ok.status == 200)
        }
    }

    @Test func chunkedUploadAndChunkedLimit() async throws {
        try await withServer(limits: ServerLimits(maxBodyBytes: 100), handler: echoHandler) { port, _ in
            let raw = try await RawConnection(port: port)
            try await raw.send("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
            try await Task.sleep(for: .milliseconds(20))
            try await raw.send("6\r\n world\r\n0\r\n\r\n")
            #expect(await raw.wait { text, _ in text.hasSuffix("hello world") })
            let lower = raw.text.lowercased()
            #expect(lower.contains("content-length: 11"))
            #expect(!lower.contains("transfer-encoding"))
            #expect(!raw.isClosed)
            await raw.close()

            // Over the limit with chunks: 413 and close once the running total exceeds 100 bytes.
            let raw2 = try await RawConnection(port: port)
            let chunk = String(repeating: "x", count: 60)
            try await raw2.send("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3c\r\n\(chunk)\r\n3c\r\n\(chunk)\r\n")
            #expect(await raw2.wait { _, closed in closed })
            #expect(raw2.text.hasPrefix("HTTP/1.1 413"))
            await raw2.close()
        }
    }

    @Test func expectContinue() async throws {
        try await withServer(limits: ServerLimits(maxBodyBytes: 1000), handler: echoHandler) { port, _ in
            let raw = try await RawConnection(port: port)
            try await raw.send("POST /cwmp HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            #expect(await raw.wait { text, _ in text.contains("\r\n\r\n") })
            #expect(raw.text.hasPrefix("HTTP/1.1 100 Continue\r\n"))
            try await Task.sleep(for: .milliseconds(50))
            #expect(count("HTTP/1.1", in: raw.text) == 1) // no final response before the body
            try await raw.send("hello")
            #expect(await raw.wait { text, _ in text.hasSuffix("hello") })
            #expect(raw.text.contains("HTTP/1.1 200 OK"))
            await raw.close()

            // Declared length too large: no 100, but 413 and close.
            let raw2 = try await RawConnection(port: port)
            try await raw2.send("POST /cwmp HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n")
            #expect(await raw2.wait { _, closed in closed })
            #expect(raw2.text.hasPrefix("HTTP/1.1 413"))
            #expect(!raw2.text.contains("100 Continue"))
            await raw2.close()
        }
    }

    @Test func malformedRequestGets400AndServerKeepsServing() async throws {
        try await withServer(handler: echoHandler) { port, _ in
            for garbage in ["GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\nHost x\r\nBad Header\r\n\r\n",
                            "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", "\u{1}\u{2}\u{3}\r\n\r\n"] {
                let raw = try await RawConnection(port: port)
                try await raw.send(garbage)
                #expect(await raw.wait { _, closed in closed }, "not closed for \(garbage.debugDescription)")
                #expect(raw.text.hasPrefix("HTTP/1.1 400"), "got \(raw.text.debugDescription)")
                await raw.close()
            }
            let r = try await HTTPClient.send(url: "http://127.0.0.1:\(port)/ok")
            #expect(r.status == 200)
        }
    }

    @Test func pipelinedRequestsAnsweredInOrder() async throws {
        let handler: @Sendable (HTTPRequest) async -> HTTPResponse = { r in
            // The first request is the slowest: order must still be kept.
            if r.path == "/1" { try? await Task.sleep(for: .milliseconds(100)) }
            return HTTPResponse(text: "body" + r.path)
        }
        try await withServer(handler: handler) { port, _ in
            let raw = try await RawConnection(port: port)
            try await raw.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await raw.wait { text, _ in text.contains("body/3") })
            let t = raw.text
            let i1 = try #require(t.range(of: "body/1")).lowerBound
            let i2 = try #require(t.range(of: "body/2")).lowerBound
            let i3 = try #require(t.range(of: "body/3")).lowerBound
            #expect(i1 < i2 && i2 < i3)
            await raw.close()
        }
    }

    @Test func http10ClosesUnlessKeepAlive() async throws {
        try await withServer(handler: echoHandler) { port, _ in
            let raw = try await RawConnection(port: port)
            try await raw.send("GET / HTTP/1.0\r\n\r\n")
            #expect(await raw.wait { _, closed in closed })
            #expect(raw.text.hasPrefix("HTTP/1.0 200"))
            await raw.close()

            let raw2 = try await RawConnection(port: port)
            try await raw2.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(await raw2.wait { text, _ in text.contains("\r\n\r\n") })
            try await Task.sleep(for: .milliseconds(50))
            #expect(!raw2.isClosed)
            #expect(raw2.text.lowercased().contains("connection: keep-alive"))
            await raw2.close()
        }
    }

    @Test func handlerCanAskToClose() async throws {
        try await withServer(handler: { _ in HTTPResponse(status: 204, headers: ["Connection": "close"]) }) { port, _ in
            let c = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port)
            let r = try await c.send(uri: "/")
            #expect(r.status == 204)
            #expect(!c.isOpen)
            await #expect(throws: HTTPClientError.closed) { try await c.send(uri: "/") }
        }
    }

    @Test func idleTimeoutClosesKeepAliveConnection() async throws {
        let limits = ServerLimits(idleTimeout: .milliseconds(800), bodyTimeout: .seconds(5))
        try await withServer(limits: limits, handler: echoHandler) { port, _ in
            let c = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port)
            _ = try await c.send(uri: "/")
            try await Task.sleep(for: .milliseconds(500))
            _ = try await c.send(uri: "/") // activity resets the idle timer
            try await Task.sleep(for: .milliseconds(500))
            _ = try await c.send(uri: "/")
            #expect(c.isOpen)
            let start = ContinuousClock.now
            while c.isOpen && ContinuousClock.now - start < .seconds(3) { try await Task.sleep(for: .milliseconds(10)) }
            #expect(!c.isOpen)
            #expect(ContinuousClock.now - start > .milliseconds(600))
        }
    }

    @Test func slowlorisTimeouts() async throws {
        let limits = ServerLimits(idleTimeout: .seconds(5), bodyTimeout: .milliseconds(300))
        try await withServer(limits: limits, handler: echoHandler) { port, _ in
            // Headers trickling in: closed after bodyTimeout even though bytes keep arriving.
            let raw = try await RawConnection(port: port)
            let start = ContinuousClock.now
            try await raw.send("POST / HTTP/1.1\r\n")
            for i in 0..<8 where !raw.isClosed {
                try await Task.sleep(for: .milliseconds(100))
                try? await raw.send("X-\(i): y\r\n")
            }
            #expect(await raw.wait(timeout: .seconds(2)) { _, closed in closed })
            #expect(ContinuousClock.now - start < .seconds(1))
            await raw.close()

            // Body trickling in.
            let raw2 = try await RawConnection(port: port)
            let start2 = ContinuousClock.now
            try await raw2.send("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc")
            #expect(await raw2.wait(timeout: .seconds(2)) { _, closed in closed })
            #expect(ContinuousClock.now - start2 < .seconds(1))
            await raw2.close()

            // A connection that sends a complete request in time is served, then kept open while idle.
            let c = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port)
            _ = try await c.send(uri: "/")
            try await Task.sleep(for: .milliseconds(500))
            #expect(c.isOpen)
            await c.close()
        }
    }

    @Test func slowHandlerDoesNotBlockOthers() async throws {
        // The slow handler waits until the fast requests are done: they can only finish if it does not block them.
        let gate = Gate()
        let handler: @Sendable (HTTPRequest) async -> HTTPResponse = { r in
            if r.path == "/slow" { await gate.wait() }
            return HTTPResponse(text: r.path)
        }
        try await withServer(handler: handler) { port, _ in
            async let slow = HTTPClient.send(url: "http://127.0.0.1:\(port)/slow", timeout: .seconds(20))
            try await Task.sleep(for: .milliseconds(50))
            for _ in 0..<5 {
                let r = try await HTTPClient.send(url: "http://127.0.0.1:\(port)/fast", timeout: .seconds(5))
                #expect(r.bodyString == "/fast")
            }
            await gate.open()
            let slowBody = try await slow.bodyString
            #expect(slowBody == "/slow")
        }
    }

    @Test func maxConnections() async throws {
        try await withServer(limits: ServerLimits(maxConnections: 2), handler: echoHandler) { port, server in
            let a = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port)
            let b = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port)
            _ = try await a.send(uri: "/")
            _ = try await b.send(uri: "/")
            let raw = try await RawConnection(port: port)
            #expect(await raw.wait { _, closed in closed })
            #expect(server.connectionCount == 2)
            await a.close()
            await b.close()
            await raw.close()
        }
    }

    @Test func gracefulShutdownFinishesInFlight() async throws {
        let started = Locked(false)
        let server = HTTPServer(host: "127.0.0.1", port: 0, handler: { r in
            if r.path == "/warmup" { return HTTPResponse(status: 204) }
            started.withLock { $0 = true }
            try? await Task.sleep(for: .milliseconds(300))
            return HTTPResponse(text: "done")
        })
        let port = try await server.start()
        let idle = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port)
        _ = try await idle.send(uri: "/warmup")
        async let inFlight = HTTPClient.send(url: "http://127.0.0.1:\(port)/")
        while !started.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
        try await server.shutdown()
        let r = try await inFlight
        #expect(r.bodyString == "done")
        var waited = 0
        while idle.isOpen && waited < 200 { try await Task.sleep(for: .milliseconds(5)); waited += 1 }
        #expect(!idle.isOpen)
        await #expect(throws: HTTPClientError.self) {
            _ = try await HTTPClient.send(url: "http://127.0.0.1:\(port)/", timeout: .seconds(2))
        }
    }

    @Test func concurrentClients() async throws {
        try await withServer(handler: echoHandler) { port, _ in
            let ok = try await withThrowingTaskGroup(of: Int.self) { group in
                for client in 0..<200 {
                    group.addTask {
                        let c = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port)
                        var good = 0
                        for i in 0..<5 {
                            let body = Array("c\(client)-r\(i)".utf8)
                            let r = try await c.send(method: "POST", uri: "/cwmp", body: body)
                            if r.status == 200 && r.body == body { good += 1 }
                        }
                        await c.close()
                        return good
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(ok == 1000)
        }
    }
}

/// Suspends waiters until opened.
actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }
    func open() {
        isOpen = true
        for w in waiters { w.resume() }
        waiters.removeAll()
    }
}

func waitUntilTrue(seconds: Double, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while !condition() && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
}
