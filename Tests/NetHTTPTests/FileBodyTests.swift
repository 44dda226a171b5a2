import Foundation
import HTTPAuth
import Testing
@testable import NetHTTP

/// Response bodies sent from files (sendfile over TCP, chunks over TLS, ranges, HEAD) and request bodies spooled to
/// disk (`ServerLimits.spool`): bytes intact, limits, and no file left behind.
@Suite struct FileBodyTests {
    @Test func aWholeFileArrivesIntactAndTheConnectionStaysUsable() async throws {
        let f = try Scratch("filebody", fileSize: (3 << 20) + 17)
        defer { f.remove() }
        try await withServer(handler: fileHandler(f)) { port, _ in
            let c = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port)
            let r = try await c.send(uri: "/file")
            #expect(r.status == 200 && r.body.count == f.bytes.count)
            #expect(r.headers.first("content-length") == String(f.bytes.count))
            #expect(hex(SHA256.hash(r.body)) == hex(SHA256.hash(f.bytes)))
            // The next response parses on the same connection only if the file response ended where it said.
            let small = try await c.send(uri: "/small")
            #expect(small.bodyString == "small")
            await c.close()
        }
    }

    @Test func aRangeSendsExactlyThoseBytes() async throws {
        let f = try Scratch("filebody-range", fileSize: 10_000)
        defer { f.remove() }
        try await withServer(handler: fileHandler(f)) { port, _ in
            let c = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port)
            let r = try await c.send(uri: "/range")
            #expect(r.headers.first("content-length") == "5000")
            #expect(r.body == Array(f.bytes[1000..<6000]))
            await c.close()
        }
    }

    @Test func headGetsTheFileLengthAndNoBody() async throws {
        let f = try Scratch("filebody-head", fileSize: (1 << 20) + 3)
        defer { f.remove() }
        try await withServer(handler: fileHandler(f)) { port, _ in
            let c = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port)
            let head = try await c.send(method: "HEAD", uri: "/file")
            #expect(head.status == 200 && head.body.isEmpty)
            #expect(head.headers.first("content-length") == String(f.bytes.count))
            // Body bytes sent after the HEAD response would be read as this response and corrupt it.
            let next = try await c.send(uri: "/range")
            #expect(next.body == Array(f.bytes[1000..<6000]))
            await c.close()
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs openssl"))
    func overTLSTheFileArrivesIntact() async throws {
        let f = try Scratch("filebody-tls", fileSize: (3 << 20) + 17)
        defer { f.remove() }
        let certs = f.dir + "/certs"
        try makeCertificates(in: certs)
        let identity = try TLSServerIdentity(certificatePath: certs + "/server.crt", keyPath: certs + "/server.key")
        let server = HTTPServer(host: "127.0.0.1", port: 0, tls: identity, handler: fileHandler(f))
        let port = try await server.start()
        do {
            let c = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port, tls: TLSClientContext(caPath: certs + "/ca.crt"))
            let r = try await c.send(uri: "/file")
            #expect(r.headers.first("content-length") == String(f.bytes.count))
            #expect(hex(SHA256.hash(r.body)) == hex(SHA256.hash(f.bytes)))
            // Chunk reads start at the offset, and the connection is still in step after the big response.
            let range = try await c.send(uri: "/range")
            #expect(range.body == Array(f.bytes[1000..<6000]))
            await c.close()
        } catch {
            try await server.shutdown()
            throw error
        }
        try await server.shutdown()
    }

    @Test func aMissingFileIsA500ThenCloseAndTheServerGoesOn() async throws {
        let f = try Scratch("filebody-missing")
        defer { f.remove() }
        try await withServer(handler: fileHandler(f)) { port, _ in
            // The file is opened before the head goes out, so the client gets a real status, not a cut body.
            for method in ["GET", "HEAD"] {
                let c = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port)
                let r = try await c.send(method: method, uri: "/missing", timeout: .seconds(5))
                #expect(r.status == 500, "\(method)")
                #expect(r.headers.first("Connection")?.lowercased() == "close")
                await c.close()
            }
            let next = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port)
            #expect(try await next.send(uri: "/small").bodyString == "small")
            await next.close()
        }
    }

    @Test func aSpooledUploadIsOnDiskNotInMemoryAndRemovedAfterTheResponse() async throws {
        let s = try Scratch("spool")
        defer { s.remove() }
        let dir = s.dir
        var limits = ServerLimits(maxBodyBytes: 64 << 10)
        limits.bodyLimit = { _, _, _ in 8 << 20 }
        limits.spool = { _, path, _ in path == "/up" ? dir : nil }
        let sent = pseudoRandomBytes(2 << 20, seed: 2)
        try await withServer(limits: limits, handler: spoolReporter()) { port, _ in
            let c = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port)
            // 2 MiB: over maxBodyBytes, so accepted only because a spooled body answers to bodyLimit alone.
            let r = try await c.send(method: "POST", uri: "/up", body: sent)
            #expect(r.status == 200)
            #expect(r.headers.first("x-body-empty") == "true")
            #expect(r.headers.first("x-spool-path")?.hasPrefix(dir + "/spool-") == true)
            #expect(r.headers.first("x-size") == String(sent.count))
            #expect(r.headers.first("x-sha256") == hex(SHA256.hash(sent)))
            #expect(r.headers.first("x-file-sha256") == hex(SHA256.hash(sent)))
            // Removed off the event loop once the handler is done.
            try await waitUntilTrue(seconds: 3) { spoolFiles(dir).isEmpty }
            #expect(spoolFiles(dir).isEmpty)

            // Other routes buffer in memory, capped by maxBodyBytes (a declared 2 MiB is refused from the head).
            let small = try await c.send(method: "POST", uri: "/other", body: [1, 2, 3])
            #expect(small.headers.first("x-body-empty") == "false" && small.headers.first("x-size") == nil)
            let raw = try await RawConnection(port: port)
            try await raw.send("POST /other HTTP/1.1\r\nHost: x\r\nContent-Length: \(2 << 20)\r\n\r\n")
            #expect(await raw.wait { text, closed in closed && text.hasPrefix("HTTP/1.1 413") }, "\(raw.text)")
            await raw.close()
            await c.close()
        }
    }

    /// A disk that fills during an upload: 507 as soon as a write fails, the partial file removed, the server still
    /// serving. A real full file system: a 1 MiB tmpfs (needs root, as CI has; skipped otherwise).
    @Test(.enabled(if: getuid() == 0)) func aDiskThatFillsDuringAnUploadIs507AndLeavesNothing() async throws {
        let s = try Scratch("spool-full")
        defer { _ = try? runMount(["umount", s.dir]); s.remove() }
        try runMount(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", s.dir])
        let dir = s.dir
        var limits = ServerLimits(maxBodyBytes: 64 << 10)
        limits.bodyLimit = { _, _, _ in 64 << 20 }
        limits.spool = { _, _, _ in dir }
        try await withServer(limits: limits, handler: spoolReporter()) { port, _ in
            let raw = try await RawConnection(port: port)
            try await raw.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: \(8 << 20)\r\n\r\n")
            // Write until the server answers (it stops reading once it knows): far less than the 8 MiB declared.
            let chunk = String(repeating: "x", count: 64 << 10)
            for _ in 0..<128 {
                if raw.text.hasPrefix("HTTP/1.1") { break }
                try? await raw.send(chunk)
            }
            #expect(await raw.wait { text, _ in text.hasPrefix("HTTP/1.1 507") }, "\(raw.text.prefix(200))")
            await raw.close()
            try await waitUntilTrue(seconds: 3) { spoolFiles(dir).isEmpty }
            #expect(spoolFiles(dir).isEmpty)
            let c = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port)
            #expect(try await c.send(method: "POST", uri: "/up", body: [1, 2, 3]).status == 200)
            await c.close()
        }
    }

    @Test func aSpooledUploadOverItsLimitLeavesNoFile() async throws {
        let s = try Scratch("spool-limit")
        defer { s.remove() }
        let dir = s.dir
        var limits = ServerLimits(maxBodyBytes: 64 << 10)
        limits.bodyLimit = { _, _, _ in 1 << 20 }
        limits.spool = { _, _, _ in dir }
        try await withServer(limits: limits, handler: spoolReporter()) { port, _ in
            // Declared over the limit: 413 from the head.
            let raw = try await RawConnection(port: port)
            try await raw.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: \(2 << 20)\r\n\r\n")
            #expect(await raw.wait { text, closed in closed && text.hasPrefix("HTTP/1.1 413") }, "\(raw.text)")
            await raw.close()
            try await waitUntilTrue(seconds: 3) { spoolFiles(dir).isEmpty }
            #expect(spoolFiles(dir).isEmpty)

            // Chunked: exactly the limit is accepted and spooled, then one byte more is refused mid-body.
            let raw2 = try await RawConnection(port: port)
            try await raw2.send("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n"
                                + String(repeating: "a", count: 1 << 20) + "\r\n")
            try await waitUntilTrue(seconds: 3) { !spoolFiles(dir).isEmpty }
            #expect(spoolFiles(dir).count == 1, "a spool file while the body arrives")
            try await raw2.send("1\r\nb\r\n")
            #expect(await raw2.wait { text, closed in closed && text.hasPrefix("HTTP/1.1 413") }, "\(raw2.text)")
            await raw2.close()
            try await waitUntilTrue(seconds: 3) { spoolFiles(dir).isEmpty }
            #expect(spoolFiles(dir).isEmpty)
        }
    }

    @Test func aSpoolFileTheHandlerMovedAwayIsKept() async throws {
        let s = try Scratch("spool-keep")
        defer { s.remove() }
        let dir = s.dir, kept = s.dir + "/kept.bin"
        var limits = ServerLimits()
        limits.spool = { _, _, _ in dir }
        let sent = pseudoRandomBytes(300 << 10, seed: 3)
        try await withServer(limits: limits, handler: spoolReporter(keep: kept)) { port, _ in
            let r = try await HTTPClient.send(url: "http://127.0.0.1:\(port)/up", method: "POST", body: sent)
            #expect(r.status == 200 && r.headers.first("x-size") == String(sent.count))
            // The server's removal of the spool path runs off the loop after the handler: let it have run.
            try await Task.sleep(for: .milliseconds(300))
            #expect(spoolFiles(dir).isEmpty)
            let onDisk = FileManager.default.contents(atPath: kept).map { [UInt8]($0) }
            #expect(onDisk == sent, "kept \(onDisk?.count ?? -1) bytes")
        }
    }
}

/// A scratch directory (removed by `remove()`); with `fileSize`, holding `data.bin` of that many pseudo-random bytes.
private struct Scratch {
    let dir: String
    let bytes: [UInt8]
    var file: String { dir + "/data.bin" }

    init(_ tag: String, fileSize: Int = 0) throws {
        dir = NSTemporaryDirectory() + "corral-\(tag)-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        bytes = pseudoRandomBytes(fileSize)
        if fileSize > 0 { try Data(bytes).write(to: URL(fileURLWithPath: file)) }
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }
}

/// xorshift64: reproducible, and no repeating pattern a misplaced or repeated chunk could hide behind.
private func pseudoRandomBytes(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var x = seed
    return (0..<count).map { _ in
        x ^= x << 13; x ^= x >> 7; x ^= x << 17
        return UInt8(truncatingIfNeeded: x >> 32)
    }
}

/// /file: all of data.bin; /range: its bytes 1000..<6000; /missing: a file that is not there; else a small body.
private func fileHandler(_ s: Scratch) -> @Sendable (HTTPRequest) async -> HTTPResponse {
    { r in
        switch r.path {
        case "/file": return HTTPResponse(file: FileBody(path: s.file, length: Int64(s.bytes.count)))
        case "/range": return HTTPResponse(file: FileBody(path: s.file, offset: 1000, length: 5000))
        case "/missing": return HTTPResponse(file: FileBody(path: s.dir + "/missing.bin", length: 100))
        default: return HTTPResponse(text: "small")
        }
    }
}

/// Reports (as headers) what the handler saw of a spooled body, hashing the spool file itself; moves it to `keep`.
private func spoolReporter(keep: String? = nil) -> @Sendable (HTTPRequest) async -> HTTPResponse {
    { r in
        var h: HTTPFields = ["X-Body-Empty": String(r.body.isEmpty)]
        if let s = r.spooled {
            let onDisk = FileManager.default.contents(atPath: s.path).map { [UInt8]($0) } ?? []
            h.set("X-Spool-Path", s.path)
            h.set("X-Size", String(s.size))
            h.set("X-SHA256", hex(s.sha256))
            h.set("X-File-SHA256", hex(SHA256.hash(onDisk)))
            if let keep { try? FileManager.default.moveItem(atPath: s.path, toPath: keep) }
        }
        return HTTPResponse(headers: h)
    }
}

private func spoolFiles(_ dir: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix("spool-") && $0.hasSuffix(".part") }
}

/// A CA and a certificate for 127.0.0.1 from scripts/tls-certs, as the integration tests make them.
private func makeCertificates(in dir: String) throws {
    var root = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { root.deleteLastPathComponent() }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/bash")
    p.arguments = [root.path + "/scripts/tls-certs", "server", dir]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    try #require(p.terminationStatus == 0, "scripts/tls-certs failed")
}

private func runMount(_ args: [String]) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    try p.run()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "\(args.joined(separator: " ")) failed"]) }
}

