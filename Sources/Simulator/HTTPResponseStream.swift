import Foundation

/// Incremental HTTP/1.1 response parser that counts the body instead of keeping it (a speed test may move
/// gigabytes). Handles Content-Length, chunked and read-until-close bodies; skips interim 1xx responses. Pure.
struct HTTPResponseStream: Sendable {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    enum Framing: Sendable, Equatable { case length(Int), chunked, untilClose }

    private enum State: Sendable {
        case head
        case body(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkEnd(remaining: Int)   // the CRLF after a chunk's data
        case trailers
        case untilClose
        case done
    }

    private var state = State.head
    /// Bytes of the head (or of a chunk-size/trailer line) not yet complete.
    private var line: [UInt8] = []
    private(set) var status: Int?
    private(set) var framing: Framing?
    private(set) var contentLength: Int?
    /// Response bytes that are not body: heads, chunk framing, trailers.
    private(set) var overheadBytes = 0
    private(set) var bodyBytes = 0
    /// The (final) response head has been read.
    var headComplete: Bool { status != nil }
    var isComplete: Bool { if case .done = state { true } else { false } }

    static let maxHead = 64 * 1024

    /// Feeds bytes; returns how many of them were body bytes.
    mutating func consume(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        var i = 0
        var body = 0
        let n = bytes.count
        while i < n {
            switch state {
            case .head:
                // Heads are small: byte by byte until the blank line.
                let b = bytes[i]; i += 1
                line.append(b)
                if line.count > Self.maxHead { throw Malformed(description: "response head over \(Self.maxHead) bytes") }
                if b == 0x0A, line.count >= 4, line[line.count - 2] == 0x0D, line[line.count - 3] == 0x0A, line[line.count - 4] == 0x0D {
                    overheadBytes += line.count
                    try parseHead(line)
                    line.removeAll(keepingCapacity: true)
                }
            case .body(let remaining):
                let take = min(remaining, n - i)
                i += take; body += take
                state = remaining - take == 0 ? .done : .body(remaining: remaining - take)
            case .chunkSize, .trailers:
                let b = bytes[i]; i += 1
                line.append(b)
                if line.count > 4096 { throw Malformed(description: "chunk line over 4096 bytes") }
                guard b == 0x0A else { continue }
                overheadBytes += line.count
                let text = line.prefix { $0 != 0x3B && $0 != 0x0D && $0 != 0x0A }   // up to ";ext" or CRLF
                let blank = line.count <= 2
                line.removeAll(keepingCapacity: true)
                if case .trailers = state {
                    if blank { state = .done }
                    continue
                }
                guard let size = Int(String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else {
                    throw Malformed(description: "bad chunk size")
                }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let take = min(remaining, n - i)
                i += take; body += take
                state = remaining - take == 0 ? .chunkEnd(remaining: 2) : .chunkData(remaining: remaining - take)
            case .chunkEnd(let remaining):
                let take = min(remaining, n - i)
                i += take; overheadBytes += take
                state = remaining - take == 0 ? .chunkSize : .chunkEnd(remaining: remaining - take)
            case .untilClose:
                body += n - i
                i = n
            case .done:
                // Bytes after the response (the server must not send any): counted, not parsed.
                overheadBytes += n - i
                i = n
            }
        }
        bodyBytes += body
        return body
    }

    /// The peer closed: a read-until-close body ends here; anything else is cut short.
    mutating func closed() -> Bool {
        if case .untilClose = state { state = .done }
        return isComplete
    }

    private mutating func parseHead(_ head: [UInt8]) throws {
        let text = String(decoding: head, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: true).makeIterator()
        guard let statusLine = lines.next(), statusLine.hasPrefix("HTTP/1."),
              let code = statusLine.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap({ Int($0) }) else {
            throw Malformed(description: "bad status line")
        }
        var length: Int?
        var chunked = false
        while let l = lines.next() {
            guard let colon = l.firstIndex(of: ":") else { continue }
            let name = l[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = l[l.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "content-length" {
                guard let v = Int(value), v >= 0 else { throw Malformed(description: "bad Content-Length") }
                length = v
            } else if name == "transfer-encoding", value.lowercased().contains("chunked") {
                chunked = true
            }
        }
        // 1xx (100 Continue) precedes the real response; 101 would switch protocols, which a test never asks for.
        if (100..<200).contains(code) && code != 101 { return }
        status = code
        contentLength = length
        if code == 204 || code == 304 {
            framing = .length(0)
            state = .done
        } else if chunked {
            framing = .chunked
            state = .chunkSize
        } else if let length {
            framing = .length(length)
            state = length == 0 ? .done : .body(remaining: length)
        } else {
            framing = .untilClose
            state = .untilClose
        }
    }
}
