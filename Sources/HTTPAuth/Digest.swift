import Foundation

// HTTP Digest authentication (RFC 2617): MD5 / MD5-sess, qop=auth and the legacy no-qop branch.

/// A Digest challenge (server side: build `WWW-Authenticate`; client side: parse it).
public struct DigestChallenge: Sendable, Equatable {
    public var realm: String
    public var nonce: String
    public var opaque: String?
    /// Offered qop values as written, e.g. "auth" or "auth,auth-int"; nil = legacy RFC 2069 mode.
    public var qop: String?
    public var algorithm: String?
    public var stale: Bool

    public init(realm: String, nonce: String, opaque: String? = nil, qop: String? = "auth",
                algorithm: String? = "MD5", stale: Bool = false) {
        self.realm = realm
        self.nonce = nonce
        self.opaque = opaque
        self.qop = qop
        self.algorithm = algorithm
        self.stale = stale
    }

    /// The value of a `WWW-Authenticate` header.
    public var headerValue: String {
        var parts = ["realm=" + AuthParams.quote(realm)]
        if let qop { parts.append("qop=" + AuthParams.quote(qop)) }
        parts.append("nonce=" + AuthParams.quote(nonce))
        if let opaque { parts.append("opaque=" + AuthParams.quote(opaque)) }
        if let algorithm { parts.append("algorithm=" + algorithm) }
        if stale { parts.append("stale=true") }
        return "Digest " + parts.joined(separator: ", ")
    }

    /// The qop the client will use: "auth" if offered, nil if no qop was offered (legacy),
    /// or nil with `supported == false` if only unsupported values (auth-int) were offered.
    public var selectedQop: (qop: String?, supported: Bool) {
        guard let qop else { return (nil, true) }
        let options = qop.split(separator: ",").map { asciiTrimmed($0).lowercased() }
        if options.contains("auth") { return ("auth", true) }
        if options.allSatisfy({ $0.isEmpty }) { return (nil, true) }
        return (nil, false)
    }

    /// Finds the Digest challenge among the values of one or more `WWW-Authenticate` headers.
    public static func parse(_ headerValues: [String]) -> DigestChallenge? {
        for value in headerValues {
            for ch in AuthParams.parse(value) where ch.scheme.lowercased() == "digest" {
                guard let realm = ch.params["realm"], let nonce = ch.params["nonce"] else { continue }
                return DigestChallenge(
                    realm: realm, nonce: nonce, opaque: ch.params["opaque"], qop: ch.params["qop"],
                    algorithm: ch.params["algorithm"], stale: ch.params["stale"]?.lowercased() == "true")
            }
        }
        return nil
    }

    public static func parse(_ headerValue: String) -> DigestChallenge? { parse([headerValue]) }
}

/// `Authorization: Digest …` credentials.
public struct DigestCredentials: Sendable, Equatable {
    public var username: String
    public var realm: String
    public var nonce: String
    public var uri: String
    public var response: String
    public var qop: String?
    public var nc: String?
    public var cnonce: String?
    public var opaque: String?
    public var algorithm: String?

    public init(username: String, realm: String, nonce: String, uri: String, response: String,
                qop: String? = nil, nc: String? = nil, cnonce: String? = nil, opaque: String? = nil,
                algorithm: String? = nil) {
        self.username = username
        self.realm = realm
        self.nonce = nonce
        self.uri = uri
        self.response = response
        self.qop = qop
        self.nc = nc
        self.cnonce = cnonce
        self.opaque = opaque
        self.algorithm = algorithm
    }

    /// Parses an `Authorization` header value starting with `Digest`.
    public static func parse(_ header: String) -> DigestCredentials? {
        guard let ch = AuthParams.parse(header).first, ch.scheme.lowercased() == "digest" else { return nil }
        let p = ch.params
        guard let username = p["username"], let realm = p["realm"], let nonce = p["nonce"],
              let uri = p["uri"], let response = p["response"] else { return nil }
        return DigestCredentials(
            username: username, realm: realm, nonce: nonce, uri: uri, response: response,
            qop: p["qop"], nc: p["nc"], cnonce: p["cnonce"], opaque: p["opaque"], algorithm: p["algorithm"])
    }

    /// The value of an `Authorization` header. `qop`, `nc` and `cnonce` appear only when `qop` is set.
    public var headerValue: String {
        var parts = [
            "username=" + AuthParams.quote(username),
            "realm=" + AuthParams.quote(realm),
            "nonce=" + AuthParams.quote(nonce),
            "uri=" + AuthParams.quote(uri),
        ]
        if let algorithm { parts.append("algorithm=" + algorithm) }
        parts.append("response=" + AuthParams.quote(response))
        if let opaque { parts.append("opaque=" + AuthParams.quote(opaque)) }
        if let qop {
            parts.append("qop=" + qop)
            parts.append("nc=" + (nc ?? "00000001"))
            parts.append("cnonce=" + AuthParams.quote(cnonce ?? ""))
        }
        return "Digest " + parts.joined(separator: ", ")
    }
}

public enum Digest {
    /// HA1 = MD5(username:realm:password), lower-case hex. Can be stored instead of the password.
    public static func ha1(username: String, realm: String, password: String) -> String {
        MD5.hex("\(username):\(realm):\(password)")
    }

    /// The request-digest of RFC 2617 3.2.2.1. `qop == nil` is the RFC 2069 branch.
    /// `algorithm` "MD5-sess" derives the session HA1 from `ha1`, nonce and cnonce.
    public static func response(ha1: String, nonce: String, method: String, uri: String,
                                qop: String? = nil, nc: String? = nil, cnonce: String? = nil,
                                algorithm: String? = nil) -> String {
        var key = ha1
        if algorithm?.lowercased() == "md5-sess" {
            key = MD5.hex("\(ha1):\(nonce):\(cnonce ?? "")")
        }
        let ha2 = MD5.hex("\(method):\(uri)")
        if let qop {
            return MD5.hex("\(key):\(nonce):\(nc ?? ""):\(cnonce ?? ""):\(qop):\(ha2)")
        }
        return MD5.hex("\(key):\(nonce):\(ha2)")
    }

    /// Verifies credentials given the password. Only the response is checked: the caller checks the
    /// realm, the nonce (see `NonceSource`) and, if wanted, that `uri` matches the request.
    public static func verify(credentials: DigestCredentials, password: String, method: String) -> Bool {
        verify(credentials: credentials,
               ha1: ha1(username: credentials.username, realm: credentials.realm, password: password),
               method: method)
    }

    /// Verifies credentials given a precomputed HA1 = MD5(user:realm:pass) (hex).
    public static func verify(credentials c: DigestCredentials, ha1: String, method: String) -> Bool {
        if let alg = c.algorithm?.lowercased(), alg != "md5", alg != "md5-sess" { return false }
        if let qop = c.qop {
            // Only qop=auth; auth-int would need the body hash.
            guard qop.lowercased() == "auth", c.nc != nil, c.cnonce != nil else { return false }
        }
        let expected = response(ha1: ha1.lowercased(), nonce: c.nonce, method: method, uri: c.uri,
                                qop: c.qop?.lowercased(), nc: c.nc, cnonce: c.cnonce, algorithm: c.algorithm)
        return constantTimeEquals(expected, c.response.lowercased())
    }

    /// Client side: credentials answering `challenge`. qop=auth is used when offered (also from a list
    /// like "auth,auth-int"); without qop the legacy response is computed and no cnonce/nc is sent.
    /// Returns nil if the challenge requires something unsupported (only auth-int, or a non-MD5 algorithm).
    public static func authorize(challenge: DigestChallenge, username: String, password: String,
                                 method: String, uri: String, cnonce: String? = nil,
                                 nc: UInt32 = 1) -> DigestCredentials? {
        if let alg = challenge.algorithm?.lowercased(), alg != "md5", alg != "md5-sess" { return nil }
        let (qop, supported) = challenge.selectedQop
        guard supported else { return nil }
        let ha1 = ha1(username: username, realm: challenge.realm, password: password)
        var cn: String? = nil
        var ncString: String? = nil
        if qop != nil || challenge.algorithm?.lowercased() == "md5-sess" {
            cn = cnonce ?? randomHex(bytes: 8)
        }
        if qop != nil {
            let h = String(nc, radix: 16)
            ncString = String(repeating: "0", count: max(0, 8 - h.count)) + h
        }
        let resp = response(ha1: ha1, nonce: challenge.nonce, method: method, uri: uri,
                            qop: qop, nc: ncString, cnonce: cn, algorithm: challenge.algorithm)
        return DigestCredentials(
            username: username, realm: challenge.realm, nonce: challenge.nonce, uri: uri, response: resp,
            qop: qop, nc: ncString, cnonce: qop != nil ? cn : nil, opaque: challenge.opaque,
            algorithm: challenge.algorithm)
    }

    /// Random lower-case hex string from the system CSPRNG.
    public static func randomHex(bytes: Int) -> String {
        var g = SystemRandomNumberGenerator()
        return hex((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &g) })
    }
}
