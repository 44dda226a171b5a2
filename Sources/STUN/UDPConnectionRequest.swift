import HTTPAuth

/// TR-069 Annex G UDP connection request: an HTTP GET line in one datagram, signed with HMAC-SHA1 keyed with the
/// ConnectionRequestPassword over ts‖id‖un‖cn.
public struct UDPConnectionRequest: Sendable, Equatable {
    public var host: String
    public var port: UInt16
    public var timestamp: UInt64
    public var messageID: UInt32
    public var username: String
    public var cnonce: String
    public var signature: String

    public init(host: String, port: UInt16, timestamp: UInt64, messageID: UInt32, username: String, cnonce: String, password: String) {
        self.host = host; self.port = port; self.timestamp = timestamp; self.messageID = messageID
        self.username = username; self.cnonce = cnonce
        signature = Self.sign(timestamp: timestamp, messageID: messageID, username: username, cnonce: cnonce, password: password)
    }

    public static func sign(timestamp: UInt64, messageID: UInt32, username: String, cnonce: String, password: String) -> String {
        hex(HMAC.sha1(key: Array(password.utf8), message: Array("\(timestamp)\(messageID)\(username)\(cnonce)".utf8)))
    }

    var authority: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public func encode() -> [UInt8] {
        let q = "ts=\(timestamp)&id=\(messageID)&un=\(Self.escape(username))&cn=\(Self.escape(cnonce))&sig=\(signature)"
        return Array("GET http://\(authority)?\(q) HTTP/1.1\r\nHost: \(authority)\r\n\r\n".utf8)
    }

    public func verify(password: String) -> Bool {
        let expected = Self.sign(timestamp: timestamp, messageID: messageID, username: username, cnonce: cnonce, password: password)
        return STUNMessage.constantTimeEqual(Array(expected.utf8), Array(signature.lowercased().utf8))
    }

    public enum ParseError: Error, Equatable { case notARequest, missing(String), badValue(String) }

    /// Parses what a CPE receives. Lenient about the URI form (absolute or just "?query") and header case.
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> UDPConnectionRequest {
        guard bytes.count <= 2048 else { throw .notARequest }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let line = text.split(separator: "\r\n", omittingEmptySubsequences: false).first,
              line.hasPrefix("GET "), line.hasSuffix(" HTTP/1.1") else { throw .notARequest }
        let uri = line.dropFirst(4).dropLast(9)
        guard let q = uri.firstIndex(of: "?") else { throw .missing("query") }
        var fields: [String: String] = [:]
        for pair in uri[uri.index(after: q)...].split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2 else { continue }
            fields[String(kv[0])] = unescape(String(kv[1]))
        }
        func need(_ k: String) throws(ParseError) -> String {
            guard let v = fields[k] else { throw .missing(k) }
            return v
        }
        guard let ts = UInt64(try need("ts")) else { throw .badValue("ts") }
        guard let id = UInt32(try need("id")) else { throw .badValue("id") }
        var hostPort = uri[..<q]
        if hostPort.hasPrefix("http://") { hostPort = hostPort.dropFirst(7) }
        let ep = Endpoint(String(hostPort))
        var r = UDPConnectionRequest(host: ep?.host ?? String(hostPort), port: ep?.port ?? 0, timestamp: ts, messageID: id,
                                     username: try need("un"), cnonce: try need("cn"), password: "")
        r.signature = try need("sig")
        return r
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            let c = Character(Unicode.Scalar(b))
            if c.isLetter && b < 128 || c.isNumber && b < 128 || "-._~".contains(c) { out.append(c) } else { out += String(format: "%%%02X", b) }
        }
        return out
    }

    static func unescape(_ s: String) -> String {
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%"), it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v); it = it.dropFirst(2)
            } else if b == UInt8(ascii: "+") {
                bytes.append(0x20)
            } else { bytes.append(b) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// What a CPE keeps to refuse replays (TR-069 Annex G.2.1.3): a request is taken only if its ts is newer than the
/// last accepted one and its id differs from the last one.
public struct UDPConnectionRequestGuard: Sendable {
    public private(set) var lastTimestamp: UInt64 = 0
    public private(set) var lastID: UInt32?
    public init() {}

    public enum Outcome: Sendable, Equatable { case accept, duplicate, stale, badSignature, wrongUser }

    public mutating func check(_ r: UDPConnectionRequest, username: String, password: String) -> Outcome {
        if r.messageID == lastID { return .duplicate }
        guard r.username == username else { return .wrongUser }
        guard r.verify(password: password) else { return .badSignature }
        guard r.timestamp > lastTimestamp else { return .stale }
        lastTimestamp = r.timestamp
        lastID = r.messageID
        return .accept
    }
}
