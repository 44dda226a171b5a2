import Foundation
import NIOCore
import Testing
@testable import SpeedTest

/// Blocking loopback client: what a CPE does, byte for byte.
final class RawClient {
    let fd: Int32
    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(port).bigEndian)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let r = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard r == 0 else { close(fd); throw CocoaError(.fileReadUnknown) }
    }
    deinit { close(fd) }
    func send(_ s: String) { send(Array(s.utf8)) }
    func send(_ b: [UInt8]) { b.withUnsafeBytes { _ = Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
    /// Reads a response head and its body (Content-Length or chunked, counted not kept); nil on close/timeout.
    func response() -> (status: Int, headers: [String: String], bodyBytes: Int, body: String)? {
        var buf = [UInt8]()
        func fill() -> Bool {
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let n = recv(fd, &chunk, chunk.count, 0)
            guard n > 0 else { return false }
            buf += chunk[0..<n]
            return true
        }
        func line() -> String? {
            while true {
                if let i = buf.firstIndex(of: 10) {
                    let l = String(decoding: buf[..<i], as: UTF8.self).trimmingCharacters(in: .newlines)
                    buf.removeFirst(i + 1)
                    return l
                }
                guard fill() else { return nil }
            }
        }
        guard let statusLine = line(), let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else { return nil }
        var headers: [String: String] = [:]
        while let l = line(), !l.isEmpty {
            let kv = l.split(separator: ":", maxSplits: 1)
            headers[kv[0].lowercased()] = kv.count > 1 ? kv[1].trimmingCharacters(in: .whitespaces) : ""
        }
        var count = 0, text = [UInt8]()
        func take(_ n: Int) -> Bool {
            var left = n
            while left > 0 {
                if buf.isEmpty, !fill() { return false }
                let k = min(left, buf.count)
                if text.count < 4096 { text += buf[0..<min(k, 4096 - text.count)] }
                buf.removeFirst(k); left -= k; count += k
            }
            return true
        }
        if status == 100 { return (status, headers, 0, "") }
        if let cl = headers["content-length"], let n = Int(cl) {
            guard take(n) else { return nil }
        } else if headers["transfer-encoding"] == "chunked" {
            while let l = line(), let n = Int(l, radix: 16) {
                if n == 0 { _ = line(); break }
                guard take(n) else { return nil }
                _ = line()
            }
        }
        return (status, headers, count, String(decoding: text, as: UTF8.self))
    }
}

@Suite(.serialized) struct HTTPTestServerTests {
    func server(_ limits: HTTPTestServer.Limits = .init()) async throws -> (HTTPTestServer, Int) {
        let s = HTTPTestServer(host: "127.0.0.1", port: 0, limits: limits)
        return (s, try await s.start())
    }

    @Test func strangersAreRefusedAndOneAddressCannotTakeEverySlot() async throws {
        var limits = HTTPTestServer.Limits()
        limits.maxConnectionsPerAddress = 2
        let refusing = HTTPTestServer(host: "127.0.0.1", port: 0, limits: limits) { _ in false }
        let p1 = try await refusing.start()
        defer { Task { await refusing.stop() } }
        let c = try RawClient(port: p1)
        c.send("GET /download/10 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(c.response() == nil)
        #expect(refusing.stats["refused_clients"] == 1)
        let (s, port) = try await server(limits)
        defer { Task { await s.stop() } }
        let held = try (0..<2).map { _ in try RawClient(port: port) }
        let third = try RawClient(port: port)
        third.send("GET /download/10 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(third.response() == nil)
        #expect(s.stats["refused_connections"] == 1)
        held[0].send("GET /download/10 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(held[0].response()?.bodyBytes == 10)
    }

    @Test func anHTTP10ClientGetsATimedStreamWithoutChunks() async throws {
        let (s, port) = try await server()
        defer { Task { await s.stop() } }
        let c = try RawClient(port: port)
        c.send("GET /download?seconds=1 HTTP/1.0\r\n\r\n")
        // Read raw to the close: an HTTP/1.0 head, no Transfer-Encoding, the body ends with the connection.
        var all = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = recv(c.fd, &buf, buf.count, 0)
            if n <= 0 { break }
            if all.count < 4096 { all += buf[0..<min(n, 4096)] }
        }
        let head = String(decoding: all.prefix(400), as: UTF8.self).lowercased()
        #expect(head.hasPrefix("http/1.0 200") && !head.contains("transfer-encoding"), "\(head)")
    }

    @Test func downloadsExactBytesKeepAliveAndRecordsThem() async throws {
        let (s, port) = try await server()
        defer { Task { await s.stop() } }
        let c = try RawClient(port: port)
        c.send("GET /download/3000001?tag=abc HTTP/1.1\r\nHost: x\r\n\r\n")
        let r = try #require(c.response())
        #expect(r.status == 200 && r.headers["content-length"] == "3000001" && r.bodyBytes == 3_000_001)
        // Same connection, next test.
        c.send("GET /download/0 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(c.response()?.bodyBytes == 0)
        try await Task.sleep(for: .milliseconds(50))
        let rec = s.log.records(tag: "abc")
        #expect(rec.count == 1 && rec[0].bytes == 3_000_001 && rec[0].complete && rec[0].client == "127.0.0.1" && rec[0].direction == .download)
    }

    @Test func timedDownloadStreamsForTheDuration() async throws {
        let (s, port) = try await server()
        defer { Task { await s.stop() } }
        let c = try RawClient(port: port)
        let start = Date()
        c.send("GET /download?seconds=1&tag=t1 HTTP/1.1\r\nHost: x\r\n\r\n")
        let r = try #require(c.response())
        let took = Date().timeIntervalSince(start)
        #expect(r.status == 200 && r.headers["transfer-encoding"] == "chunked" && r.bodyBytes > 1_000_000)
        #expect(took >= 0.95 && took < 5)
    }

    @Test func uploadsAreCountedAndAnsweredAfterTheLastByte() async throws {
        let (s, port) = try await server()
        defer { Task { await s.stop() } }
        let c = try RawClient(port: port)
        c.send("PUT /upload/up1 HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\nExpect: 100-continue\r\n\r\n")
        #expect(c.response()?.status == 100)
        c.send([UInt8](repeating: 7, count: 200_000))
        #expect(c.response()?.status == 204)
        try await Task.sleep(for: .milliseconds(50))
        #expect(s.log.records(tag: "up1").first?.bytes == 200_000)
        // Chunked works too.
        c.send("PUT /upload/up2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        #expect(c.response()?.status == 204)
    }

    @Test func badRequestsGetClearAnswersAndTheServerKeepsServing() async throws {
        var limits = HTTPTestServer.Limits()
        limits.maxBytes = 1000
        let (s, port) = try await server(limits)
        defer { Task { await s.stop() } }
        for (req, status) in [("PUT /upload/x HTTP/1.1\r\nHost: x\r\n\r\n", 411),
                              ("PUT /upload/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", 413),
                              ("GET /download/5000 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
                              ("GET /download/abc HTTP/1.1\r\nHost: x\r\n\r\n", 404),
                              ("GET /download?seconds=1000 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
                              ("POST /download/10 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405),
                              ("GET /etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 404)] {
            let c = try RawClient(port: port)
            c.send(req)
            #expect(c.response()?.status == status, "\(req)")
        }
        // A chunked upload running past the cap is cut with 413.
        let c = try RawClient(port: port)
        c.send("PUT /upload/big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n" + String(repeating: "a", count: 2000) + "\r\n")
        #expect(c.response()?.status == 413)
        let ok = try RawClient(port: port)
        ok.send("GET /download/10 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(ok.response()?.bodyBytes == 10)
    }

    @Test func aClientThatNeverReadsCostsOneSocketBufferNotMemory() async throws {
        var limits = HTTPTestServer.Limits()
        limits.idleTimeout = .milliseconds(500)
        let (s, port) = try await server(limits)
        defer { Task { await s.stop() } }
        let stalled = try RawClient(port: port)
        stalled.send("GET /download/8000000000?tag=stall HTTP/1.1\r\nHost: x\r\n\r\n")
        try await Task.sleep(for: .milliseconds(1500))
        // Writes stopped when the socket filled; with nothing moving the idle timer closed it.
        #expect(s.stats["idle_closed"] >= 1)
        let rec = try #require(s.log.records(tag: "stall").first)
        // What the server handed to the socket: its buffers' worth, not the 8 GB asked for (memory stays bounded).
        #expect(!rec.complete && rec.bytes > 0 && rec.bytes < 64 << 20, "\(rec.bytes) bytes written to a client that reads nothing")
        #expect(s.openConnections == 0)
        let ok = try RawClient(port: port)
        ok.send("GET /download/10 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(ok.response()?.bodyBytes == 10)
    }
}

@Suite(.serialized) struct UDPEchoServerTests {
    func udp(_ port: Int, _ payload: [UInt8], from sock: Int32) -> [UInt8]? {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(port).bigEndian)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = payload.withUnsafeBytes { b in withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            sendto(sock, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } }
        var buf = [UInt8](repeating: 0, count: 2048)
        let n = recv(sock, &buf, buf.count, 0)
        return n < 0 ? nil : Array(buf[0..<n])
    }

    func socketWithTimeout(ms: Int) -> Int32 {
        let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var tv = timeval(tv_sec: 0, tv_usec: Int(ms) * 1000)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return s
    }

    @Test func echoPlusCountersPerSourceAndTheServersView() async throws {
        let server = UDPEchoServer(host: "127.0.0.1", port: 0) { _ in true }
        let port = try await server.start()
        defer { Task { await server.stop() } }
        let s = socketWithTimeout(ms: 2000)
        defer { close(s) }
        for i in 1...5 {
            let reply = try #require(udp(port, EchoPlusHeader(testGenSN: UInt32(100 + i), testIterationNumber: UInt32(i)).datagram(size: 64), from: s))
            let h = try #require(EchoPlusHeader(reply))
            #expect(reply.count == 64 && h.testGenSN == UInt32(100 + i) && h.testIterationNumber == UInt32(i) && h.testRespSN == UInt32(i))
            #expect(h.testRespReplyTimeStamp &- h.testRespRecvTimeStamp < 20_000)
        }
        #expect(udp(port, Array("plain".utf8), from: s) == Array("plain".utf8))
        // Another source has its own counter.
        let other = socketWithTimeout(ms: 2000)
        defer { close(other) }
        #expect(EchoPlusHeader(try #require(udp(port, EchoPlusHeader(testGenSN: 1, testIterationNumber: 1).datagram(size: 24), from: other)))?.testRespSN == 1)
        let view = server.sessions(client: "127.0.0.1", sinceMicros: 0)
        #expect(view.map(\.received).reduce(0, +) == 7 && view.contains { $0.lastIteration == 5 })
    }

    @Test func strangersAndFloodsAreNotAnswered() async throws {
        let refused = UDPEchoServer(host: "127.0.0.1", port: 0) { _ in false }
        let p1 = try await refused.start()
        defer { Task { await refused.stop() } }
        let s = socketWithTimeout(ms: 200)
        defer { close(s) }
        #expect(udp(p1, Array("x".utf8), from: s) == nil)
        #expect(refused.stats["refused"] == 1)
        // Strangers from many ports (a spoofed flood looks like this): counted, never remembered.
        for _ in 0..<20 {
            let t = socketWithTimeout(ms: 1)
            _ = udp(p1, Array("y".utf8), from: t)
            close(t)
        }
        for _ in 0..<100 where refused.stats["refused"] < 21 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(refused.stats["refused"] == 21)
        #expect(refused.state.withLockedValue { $0.sources.count + $0.buckets.count } == 0)

        let limited = UDPEchoServer(host: "127.0.0.1", port: 0, packetsPerSecondPerAddress: 10) { _ in true }
        let p2 = try await limited.start()
        defer { Task { await limited.stop() } }
        let f = socketWithTimeout(ms: 100)
        defer { close(f) }
        // 40 packets at once: the burst of 10 is answered, the rest dropped and counted as failures.
        var answered = udp(p2, EchoPlusHeader(testGenSN: 0, testIterationNumber: 1).datagram(size: 24), from: f) == nil ? 0 : 1
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(p2).bigEndian)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        for i in 1..<40 {
            let d = EchoPlusHeader(testGenSN: UInt32(i), testIterationNumber: 1).datagram(size: 24)
            _ = d.withUnsafeBytes { b in withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(f, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } }
        }
        var buf = [UInt8](repeating: 0, count: 64)
        while recv(f, &buf, buf.count, 0) > 0 { answered += 1 }
        #expect(answered >= 10 && answered < 20, "\(answered) answered, \(limited.stats.snapshot)")
        #expect(limited.stats["rate_limited"] > 0)
    }
}
