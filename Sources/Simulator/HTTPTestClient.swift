import Foundation
import NIOCore
import NIOPosix
import NetHTTP

/// One connection of a TR-143 HTTP test, as the CPE measured it.
struct ConnectionReport: Sendable {
    var openRequest: Date?
    var openResponse: Date?
    var rom: Date?
    var bom: Date?
    var eom: Date?
    /// Body bytes received (download) or sent (upload).
    var testBytes = 0
    /// Everything read from / written to the socket (heads, chunk framing, body).
    var bytesReceived = 0
    var bytesSent = 0
    var localIP: String?
    /// A DiagnosticsState error value ("Error_TransferFailed"…); nil = this connection succeeded.
    var error: String?
}

/// A minimal streaming HTTP/1.1 client for TR-143 download (GET) and upload (PUT) tests: one request per connection,
/// bodies counted and never kept, link shaping applied (see `LinkPacer`, `PacedResponseReader`).
enum HTTPTestClient {
    enum Request: Sendable {
        case get
        /// PUT of `length` bytes with Content-Length; nil = chunked until the test's time is up.
        case put(length: Int?)
    }

    static let connectTimeout = TimeAmount.seconds(10)

    static func exchange(_ request: Request, to address: SocketAddress, url: URLParts, test: TransferContext) async -> ConnectionReport {
        var r = ConnectionReport()
        let upload: Bool
        if case .put = request { upload = true } else { upload = false }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let reader = PacedResponseReader(loop: loop, test: test, countsBody: !upload)
        let chunk = LinkPacer.chunkSize(test.link)
        var bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(connectTimeout)
            .channelOption(ChannelOptions.autoRead, value: false)
            .channelOption(ChannelOptions.maxMessagesPerRead, value: 1)
            .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: chunk))
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    // An upload whose writes stop completing (the server stopped reading) is a stall too.
                    if upload { try ch.pipeline.syncOperations.addHandler(IdleStateHandler(writeTimeout: test.idleLimit)) }
                    try ch.pipeline.syncOperations.addHandler(reader)
                }
            }
        if let rate = test.link.bytesPerSecond {
            // A small receive window keeps the server's view close to the paced one (it cannot run far ahead).
            bootstrap = bootstrap.channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: SocketOptionValue(min(4 << 20, max(16_384, Int(rate * 0.05)))))
        }

        r.openRequest = Date()
        let channel: Channel
        do {
            channel = try await bootstrap.connect(to: address).get()
        } catch {
            r.error = "Error_InitConnectionFailed"
            return r
        }
        defer { channel.close(promise: nil) }
        // The SYN-ACK comes back one shaped round trip later.
        if test.link.latencyMs > 0 { try? await Task.sleep(for: test.link.latency) }
        r.openResponse = Date()
        r.localIP = channel.localAddress?.ipAddress
        guard test.register(channel, reader: upload ? nil : reader) else {
            // The test ended (time up or hard stop) while this connection was opening.
            if test.aborted { r.error = "Error_Timeout" }
            return r
        }

        var head = (upload ? "PUT " : "GET ") + url.pathAndQuery + " HTTP/1.1\r\nHost: \(url.hostHeader)\r\nUser-Agent: Corral-Sim TR-143\r\nAccept: */*\r\n"
        if case .put(let length) = request {
            head += "Content-Type: application/octet-stream\r\n" + (length.map { "Content-Length: \($0)\r\n" } ?? "Transfer-Encoding: chunked\r\n")
        }
        head += "\r\n"
        r.rom = Date()
        do {
            try await channel.writeAndFlush(channel.allocator.buffer(string: head)).get()
            r.bytesSent += head.utf8.count
        } catch {
            r.error = upload ? "Error_NoTransferComplete" : "Error_InitConnectionFailed"
            return r
        }

        if case .put(let length) = request {
            if !(await sendBody(length: length, chunk: chunk, on: channel, test: test, into: &r)) {
                channel.close(promise: nil)
                let out = await reader.outcome()
                r.bytesReceived = out.bytesRead
                r.error = test.aborted || out.end == .timedOut ? "Error_Timeout" : "Error_NoTransferComplete"
                return r
            }
        }
        // The response needs a round trip over the shaped link from now (request, or last body byte).
        reader.start(at: .now() + .nanoseconds(Int64(test.link.latencyMs * 1_000_000)))
        let out = await reader.outcome()
        r.bytesReceived = out.bytesRead
        if upload {
            r.eom = out.completeAt ?? out.headAt
            r.error = uploadError(out, aborted: test.aborted)
        } else {
            r.testBytes = out.bodyBytes
            r.bom = out.firstBodyByte
            r.eom = out.lastBodyByte
            r.error = downloadError(out, timeBased: test.duration != nil, aborted: test.aborted)
        }
        return r
    }

    /// Writes the PUT body, paced; false when the connection failed (or the test was aborted) on the way.
    private static func sendBody(length: Int?, chunk: Int, on channel: Channel, test: TransferContext, into r: inout ConnectionReport) async -> Bool {
        let block = channel.allocator.buffer(repeating: 0x5A, count: chunk)
        var framed = channel.allocator.buffer(capacity: chunk + 12)
        framed.writeString(String(chunk, radix: 16) + "\r\n")
        framed.writeImmutableBuffer(block)
        framed.writeString("\r\n")
        let total = length ?? Int.max
        var sent = 0
        do {
            while sent < total {
                if test.aborted { return false }
                // A time-based upload stops when its time is up; a size-based one sends everything.
                if length == nil, test.shouldStop { break }
                let n = min(chunk, total - sent)
                let wait = test.pacer.reserve(n)
                if wait > .zero { try? await Task.sleep(for: .nanoseconds(wait.nanoseconds)) }
                let buffer: ByteBuffer
                if length != nil {
                    buffer = n == chunk ? block : block.getSlice(at: block.readerIndex, length: n)!
                } else {
                    buffer = framed
                }
                if r.bom == nil { r.bom = Date() }
                try await channel.writeAndFlush(buffer).get()
                sent += n
                r.bytesSent += buffer.readableBytes
                r.testBytes = sent
                test.bodyBytes(n, at: Date())
            }
            if length == nil {
                try await channel.writeAndFlush(channel.allocator.buffer(string: "0\r\n\r\n")).get()
                r.bytesSent += 5
            }
        } catch {
            return false
        }
        return true
    }

    static func downloadError(_ out: StreamOutcome, timeBased: Bool, aborted: Bool) -> String? {
        if aborted { return "Error_Timeout" }
        if let s = out.status, !(200..<300).contains(s) { return "Error_TransferFailed" }
        switch out.end {
        case .complete:
            return nil
        case .stopped:
            // The time is up: fine once data flowed.
            return out.status == nil ? "Error_NoResponse" : nil
        case .closed:
            if out.status == nil { return "Error_NoResponse" }
            // A time-based stream may end (server side) just before the client's clock does.
            if timeBased && out.bodyBytes > 0 { return nil }
            if case .length = out.framing { return "Error_IncorrectSize" }
            return "Error_TransferFailed"
        case .timedOut:
            return out.status == nil ? "Error_NoResponse" : "Error_Timeout"
        case .failed:
            return "Error_TransferFailed"
        }
    }

    static func uploadError(_ out: StreamOutcome, aborted: Bool) -> String? {
        if aborted { return "Error_Timeout" }
        guard let s = out.status else { return out.end == .timedOut ? "Error_Timeout" : "Error_NoResponse" }
        guard (200..<300).contains(s) else { return "Error_NoTransferComplete" }
        // The 2xx head is what counts; a body after it that never completes is not the upload's problem.
        return nil
    }
}
