/// One CWMP HTTP message as the engine sees it: no HTTP library types cross this line.
public struct CWMPExchange: Sendable {
    public var body: [UInt8]
    public var cookieHeader: String?
    public var authorization: String?
    public var remoteAddress: String
    /// Identifies the TCP connection: the fallback session key for CPEs that drop cookies.
    public var connectionID: UInt64
    public var isTLS: Bool
    /// Request URI (path and query): a Digest answer must be for this URI.
    public var uri: String
    /// The names of the verified client certificate (mutual TLS); nil when none was presented.
    public var clientCertificateNames: [String]?
    public init(body: [UInt8], cookieHeader: String?, authorization: String?, remoteAddress: String, connectionID: UInt64,
                isTLS: Bool = false, uri: String = "/") {
        self.body = body; self.cookieHeader = cookieHeader; self.authorization = authorization; self.uri = uri
        self.remoteAddress = remoteAddress; self.connectionID = connectionID; self.isTLS = isTLS
    }
}

public struct CWMPReply: Sendable, Equatable {
    public var status: Int
    public var body: [UInt8]
    public var headers: [(String, String)]
    public init(status: Int, body: [UInt8] = [], headers: [(String, String)] = []) {
        self.status = status; self.body = body; self.headers = headers
    }
    public static func == (a: CWMPReply, b: CWMPReply) -> Bool {
        a.status == b.status && a.body == b.body && a.headers.map { $0.0 + ":" + $0.1 } == b.headers.map { $0.0 + ":" + $0.1 }
    }

    static func text(_ status: Int, _ message: String, headers: [(String, String)] = []) -> CWMPReply {
        CWMPReply(status: status, body: Array((message + "\n").utf8), headers: [("Content-Type", "text/plain; charset=utf-8")] + headers)
    }
}

enum Cookies {
    static let name = "corral_session"

    /// Our session cookie from a Cookie header; CPEs separate cookies with ";" and sometimes ",".
    static func session(from header: String?) -> String? {
        guard let header else { return nil }
        for part in header.split(whereSeparator: { $0 == ";" || $0 == "," }) {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2, trimmed(kv[0]) == name {
                return String(trimmed(kv[1]))
            }
        }
        return nil
    }

    /// Spaces and tabs only (Foundation's trimmingCharacters bridges through NSString on Linux: slow).
    private static func trimmed(_ s: Substring) -> Substring {
        var s = s
        while let f = s.utf8.first, f == 0x20 || f == 0x09 { s = s.dropFirst() }
        while let l = s.utf8.last, l == 0x20 || l == 0x09 { s = s.dropLast() }
        return s
    }

    static func setCookie(_ token: String) -> (String, String) { ("Set-Cookie", "\(name)=\(token); Path=/; HttpOnly") }
}
