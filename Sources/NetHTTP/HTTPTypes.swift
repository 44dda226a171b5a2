import Foundation
import NIOCore
import NIOHTTP1

/// Ordered HTTP header fields with case-insensitive lookup (wraps NIO's `HTTPHeaders`, no conversion cost).
public struct HTTPFields: Sendable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    @usableFromInline var storage: HTTPHeaders

    public init() { storage = HTTPHeaders() }
    public init(_ pairs: [(String, String)]) { storage = HTTPHeaders(pairs) }
    public init(dictionaryLiteral elements: (String, String)...) { storage = HTTPHeaders(elements) }
    init(nio: HTTPHeaders) { storage = nio }

    /// First value of `name` (case-insensitive), nil if absent.
    public func first(_ name: String) -> String? { storage.first(name: name) }
    /// All values of `name` in order (each header line is one value; commas are not split).
    public func all(_ name: String) -> [String] { storage[name] }
    public func contains(_ name: String) -> Bool { storage.contains(name: name) }
    public subscript(name: String) -> String? { storage.first(name: name) }

    public mutating func add(_ name: String, _ value: String) { storage.add(name: name, value: value) }
    public mutating func set(_ name: String, _ value: String) { storage.replaceOrAdd(name: name, value: value) }
    public mutating func remove(_ name: String) { storage.remove(name: name) }

    public var count: Int { storage.count }
    public var isEmpty: Bool { storage.isEmpty }
    public func makeIterator() -> AnyIterator<(name: String, value: String)> {
        var it = storage.makeIterator()
        return AnyIterator { it.next() }
    }
    public var description: String { storage.description }
}

public struct HTTPRequest: Sendable {
    public var method: String
    /// Request target as sent (path + optional query).
    public var uri: String
    public var path: String
    public var query: String?
    public var headers: HTTPFields
    public var body: [UInt8]
    /// Peer IP address (no port).
    public var remoteAddress: String?
    public var remotePort: Int?
    /// Unique per TCP connection within a process (stable across keep-alive requests).
    public var connectionID: UInt64
    public var isTLS: Bool
    /// With TLS and `client_ca`: the client certificate the handshake verified (nil: none presented).
    public var clientCertificate: PeerCertificate?
    /// (major, minor), e.g. (1, 1).
    public var version: (major: Int, minor: Int)
    /// The body, when `ServerLimits.spool` sent it to a file instead of memory (`body` is then empty). The file is
    /// removed after the response unless the handler moved it away.
    public var spooled: SpooledBody?

    public init(method: String, uri: String, headers: HTTPFields = HTTPFields(), body: [UInt8] = [],
                remoteAddress: String? = nil, remotePort: Int? = nil, connectionID: UInt64 = 0,
                isTLS: Bool = false, version: (major: Int, minor: Int) = (1, 1)) {
        self.method = method
        self.uri = uri
        if let q = uri.firstIndex(of: "?") {
            path = String(uri[..<q])
            query = String(uri[uri.index(after: q)...])
        } else {
            path = uri
            query = nil
        }
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
        self.remotePort = remotePort
        self.connectionID = connectionID
        self.isTLS = isTLS
        self.version = version
    }

    public var bodyString: String { String(decoding: body, as: UTF8.self) }
}

/// A request body written to disk as it arrived: its file, size and SHA-256 (hashed on the way).
public struct SpooledBody: Sendable {
    public var path: String
    public var size: Int64
    public var sha256: [UInt8]
    public init(path: String, size: Int64, sha256: [UInt8]) { self.path = path; self.size = size; self.sha256 = sha256 }
}

/// A response body sent from a file and never held in memory: sendfile over plain TCP, 64 KiB chunks over TLS,
/// one piece in flight at a time (a client that stops reading costs nothing but its socket buffer).
public struct FileBody: Sendable, Equatable {
    public var path: String
    public var offset: Int64
    public var length: Int64
    public init(path: String, offset: Int64 = 0, length: Int64) { self.path = path; self.offset = offset; self.length = length }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPFields
    public var body: [UInt8]
    /// Sent instead of `body` (Content-Length is its length; a HEAD request gets the headers only).
    public var file: FileBody?
    /// Sent instead of `body`, as produced (`StreamBody`); the connection closes after it.
    public var stream: StreamBody?

    public init(status: Int = 200, headers: HTTPFields = HTTPFields(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A body sent from a file (`FileBody`).
    public init(status: Int = 200, headers: HTTPFields = HTTPFields(), file: FileBody) {
        self.init(status: status, headers: headers)
        self.file = file
    }

    /// A body written as it is produced (`StreamBody`).
    public init(status: Int = 200, headers: HTTPFields = HTTPFields(), stream: StreamBody) {
        self.init(status: status, headers: headers)
        self.stream = stream
    }

    /// Text body; sets Content-Type unless `contentType` is nil or the header is already present.
    public init(status: Int = 200, headers: HTTPFields = HTTPFields(), text: String,
                contentType: String? = "text/plain; charset=utf-8") {
        self.init(status: status, headers: headers, body: Array(text.utf8))
        if let contentType, !self.headers.contains("content-type") { self.headers.set("Content-Type", contentType) }
    }

    public var bodyString: String { String(decoding: body, as: UTF8.self) }
}

public struct ServerLimits: Sendable {
    /// Largest accepted request body (Content-Length or chunked total); larger → 413 and close.
    public var maxBodyBytes: Int
    /// Largest accepted request head (all header names + values); larger → 431 (or 400) and close.
    public var maxHeaderBytes: Int
    /// A keep-alive connection with no request in progress is closed after this.
    public var idleTimeout: Duration
    /// A request must arrive completely (head and body) within this, counted from its first byte (with TLS the
    /// handshake's first byte: handshake and first request share it).
    public var bodyTimeout: Duration
    /// A new connection that sends nothing for this long is closed (a stalled TLS handshake, a port scan).
    public var firstByteTimeout: Duration
    /// Further connections are closed right after accept. nil = unlimited.
    public var maxConnections: Int?
    /// Connections from one address at once; more are closed right after accept. nil = unlimited (CWMP: many CPEs
    /// share a carrier-grade NAT address).
    public var maxConnectionsPerAddress: Int?
    /// Addresses the per-address limit does not apply to (trusted reverse proxies carry many clients).
    public var unlimitedAddress: (@Sendable (String) -> Bool)?
    /// The body limit of one request, decided from its head before any of the body is read (method, path, headers);
    /// capped by `maxBodyBytes`. nil = `maxBodyBytes` for every request.
    public var bodyLimit: (@Sendable (_ method: String, _ path: String, _ headers: HTTPFields) -> Int)?
    /// Request bodies buffered at once across all connections of the server; a request that would go over is
    /// answered 503 (memory before authentication stays bounded). nil = unlimited.
    public var maxBufferedBodyBytes: Int?
    /// A request answered from its head alone, before any of its body is read (then the connection closes): e.g.
    /// an upload without valid credentials, or one the disk has no room for. nil = read it.
    public var refuse: (@Sendable (_ method: String, _ path: String, _ headers: HTTPFields) -> HTTPResponse?)?
    /// Requests whose body goes to a file instead of memory (large uploads), decided from the head: the directory
    /// to spool into, or nil to buffer as usual. A spooled body's limit is `bodyLimit` alone (not `maxBodyBytes`),
    /// its timeout counts from the last byte received (not the first), and a full disk answers 507.
    public var spool: (@Sendable (_ method: String, _ path: String, _ headers: HTTPFields) -> String?)?
    /// The response the server itself sends when it refuses a request (400, 413, 417, 431, 503) before any handler
    /// runs; nil = an empty body. The operator port answers RFC 9457 problem+json like the API does.
    public var refusal: (@Sendable (_ status: Int) -> HTTPResponse)?
    /// On `shutdown()`, in-flight requests get this long before connections are force-closed.
    public var shutdownGrace: Duration
    /// Told of each failed TLS handshake (the client's address and the TLS error): a CPE with the wrong CA, clock or
    /// scheme never gets as far as a request.
    public var tlsFailure: (@Sendable (_ address: String, _ error: String) -> Void)?
    /// A streamed body's client that takes no bytes for this long is dropped.
    public var streamStallTimeout: Duration = .seconds(30)

    public init(maxBodyBytes: Int = 4 << 20, maxHeaderBytes: Int = 64 << 10, idleTimeout: Duration = .seconds(60),
                bodyTimeout: Duration = .seconds(30), firstByteTimeout: Duration = .seconds(10), maxConnections: Int? = nil,
                shutdownGrace: Duration = .seconds(10)) {
        self.firstByteTimeout = firstByteTimeout
        self.maxBodyBytes = maxBodyBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.idleTimeout = idleTimeout
        self.bodyTimeout = bodyTimeout
        self.maxConnections = maxConnections
        self.shutdownGrace = shutdownGrace
    }
}

public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidURL(String)
    case unsupportedScheme(String)
    case connectFailed(String)
    case timeout
    /// The connection closed before a complete response arrived (or was already closed).
    case closed
    /// The response body exceeded the client's limit.
    case tooLarge(Int)
    /// A request is already in flight on this connection.
    case busy
    case protocolError(String)
    /// The TLS handshake or record layer failed (certificate not trusted, wrong name, protocol mismatch…).
    case tls(String)

    public var description: String {
        switch self {
        case .invalidURL(let u): return "invalid URL: \(u)"
        case .unsupportedScheme(let s): return "unsupported URL scheme: \(s) (http or https)"
        case .connectFailed(let why): return "connect failed: \(why)"
        case .timeout: return "timed out"
        case .closed: return "connection closed before a complete response"
        case .tooLarge(let limit): return "response larger than \(limit) bytes"
        case .busy: return "a request is already in flight on this connection"
        case .protocolError(let why): return "HTTP protocol error: \(why)"
        case .tls(let why): return "TLS failed: \(why)"
        }
    }
}

/// Parts of an absolute http(s) URL.
public struct URLParts: Sendable, Equatable {
    public var scheme: String
    /// Host name or IP; IPv6 literals without brackets.
    public var host: String
    public var port: Int
    /// Path plus "?query", at least "/".
    public var pathAndQuery: String

    public init(scheme: String, host: String, port: Int, pathAndQuery: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.pathAndQuery = pathAndQuery
    }

    /// `host` or `[v6]`, plus `:port` when not the scheme default: the Host header value.
    public var hostHeader: String {
        let h = host.contains(":") ? "[\(host)]" : host
        let defaultPort = scheme == "https" ? 443 : 80
        return port == defaultPort ? h : "\(h):\(port)"
    }

    public static func parse(_ url: String) -> URLParts? {
        let trimmed = url.trimmingCharacters(in: .whitespaces)
        guard let sep = trimmed.range(of: "://") else { return nil }
        let scheme = trimmed[..<sep.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        let rest = trimmed[sep.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        var pathAndQuery = String(rest[authorityEnd...])
        if let hash = pathAndQuery.firstIndex(of: "#") { pathAndQuery = String(pathAndQuery[..<hash]) }
        if pathAndQuery.isEmpty || pathAndQuery.first == "?" { pathAndQuery = "/" + pathAndQuery }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var host: Substring
        var portText: Substring? = nil
        if authority.first == "[" {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { return nil }
                portText = after.dropFirst()
            }
        } else {
            if let colon = authority.lastIndex(of: ":") {
                host = authority[..<colon]
                portText = authority[authority.index(after: colon)...]
            } else {
                host = authority
            }
            if host.contains(":") { return nil }
        }
        guard !host.isEmpty else { return nil }
        var port = scheme == "https" ? 443 : 80
        if let portText, !portText.isEmpty {
            guard let p = Int(portText), p > 0, p < 65536 else { return nil }
            port = p
        }
        return URLParts(scheme: scheme, host: String(host), port: port, pathAndQuery: pathAndQuery)
    }
}

/// Small lock-protected box (Foundation's NSLock; works on macOS 14 and Linux).
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
