import Testing
@testable import HTTPAuth

@Suite struct DigestTests {
    static let rfcHeader = """
        Digest username="Mufasa",
                     realm="testrealm@host.com",
                     nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
                     uri="/dir/index.html",
                     qop=auth,
                     nc=00000001,
                     cnonce="0a4f113b",
                     response="6629fae49393a05397450978507c4ef1",
                     opaque="5ccc069c403ebaf9f0171e9517f40e41"
        """

    @Test func rfc2617Example() throws {
        let c = try #require(DigestCredentials.parse(Self.rfcHeader))
        #expect(c.username == "Mufasa")
        #expect(c.realm == "testrealm@host.com")
        #expect(c.nonce == "dcd98b7102dd2f0e8b11d0f600bfb0c093")
        #expect(c.uri == "/dir/index.html")
        #expect(c.qop == "auth")
        #expect(c.nc == "00000001")
        #expect(c.cnonce == "0a4f113b")
        #expect(c.opaque == "5ccc069c403ebaf9f0171e9517f40e41")
        #expect(c.response == "6629fae49393a05397450978507c4ef1")
        #expect(Digest.verify(credentials: c, password: "Circle Of Life", method: "GET"))
        #expect(!Digest.verify(credentials: c, password: "circle of life", method: "GET"))
        #expect(!Digest.verify(credentials: c, password: "Circle Of Life", method: "POST"))
        let ha1 = Digest.ha1(username: "Mufasa", realm: "testrealm@host.com", password: "Circle Of Life")
        #expect(Digest.verify(credentials: c, ha1: ha1, method: "GET"))
        #expect(Digest.verify(credentials: c, ha1: ha1.uppercased(), method: "GET"))

        // Client side with the RFC's cnonce reproduces the RFC response.
        let challenge = DigestChallenge(realm: "testrealm@host.com", nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                                        opaque: "5ccc069c403ebaf9f0171e9517f40e41", qop: "auth,auth-int",
                                        algorithm: nil)
        let mine = try #require(Digest.authorize(challenge: challenge, username: "Mufasa", password: "Circle Of Life",
                                                 method: "GET", uri: "/dir/index.html", cnonce: "0a4f113b"))
        #expect(mine.response == "6629fae49393a05397450978507c4ef1")
        #expect(mine.qop == "auth")
    }

    @Test func clientServerRoundTrip() throws {
        let nonces = NonceSource(secret: Array("server secret".utf8), lifetime: 300)
        let challenge = DigestChallenge(realm: "Corral", nonce: nonces.make(), opaque: "op")
        // The client sees the challenge among other schemes.
        let www = "Basic realm=\"x\", " + challenge.headerValue + ", Negotiate"
        let parsed = try #require(DigestChallenge.parse(www))
        #expect(parsed == challenge)
        let creds = try #require(Digest.authorize(challenge: parsed, username: "000102-SN1", password: "p@ss:w\"rd",
                                                  method: "POST", uri: "/cwmp?x=1"))
        #expect(creds.nc == "00000001")
        #expect(creds.cnonce?.count == 16)
        let header = creds.headerValue
        guard case .digest(let server)? = AuthorizationHeader.parse(header) else {
            Issue.record("not parsed as digest: \(header)"); return
        }
        #expect(server == creds)
        #expect(nonces.check(server.nonce) == .valid)
        #expect(Digest.verify(credentials: server, password: "p@ss:w\"rd", method: "POST"))
        #expect(!Digest.verify(credentials: server, password: "wrong", method: "POST"))
        var tampered = server
        tampered.uri = "/other"
        #expect(!Digest.verify(credentials: tampered, password: "p@ss:w\"rd", method: "POST"))
        tampered = server
        tampered.nc = "00000002"
        #expect(!Digest.verify(credentials: tampered, password: "p@ss:w\"rd", method: "POST"))
    }

    @Test func legacyNoQop() throws {
        let challenge = try #require(DigestChallenge.parse("Digest realm=\"cpe\", nonce=\"abc123\""))
        #expect(challenge.qop == nil)
        let creds = try #require(Digest.authorize(challenge: challenge, username: "u", password: "p",
                                                  method: "GET", uri: "/cr?a=b"))
        #expect(creds.qop == nil && creds.nc == nil && creds.cnonce == nil)
        let header = creds.headerValue
        #expect(!header.contains("qop"))
        #expect(!header.contains("cnonce"))
        #expect(!header.contains("nc="))
        // RFC 2069: MD5(HA1:nonce:HA2)
        let expected = MD5.hex(MD5.hex("u:cpe:p") + ":abc123:" + MD5.hex("GET:/cr?a=b"))
        #expect(creds.response == expected)
        let back = try #require(DigestCredentials.parse(header))
        #expect(Digest.verify(credentials: back, password: "p", method: "GET"))
    }

    @Test func unsupportedChallenges() {
        let onlyAuthInt = DigestChallenge(realm: "r", nonce: "n", qop: "auth-int")
        #expect(Digest.authorize(challenge: onlyAuthInt, username: "u", password: "p", method: "GET", uri: "/") == nil)
        let sha = DigestChallenge(realm: "r", nonce: "n", algorithm: "SHA-256")
        #expect(Digest.authorize(challenge: sha, username: "u", password: "p", method: "GET", uri: "/") == nil)
        #expect(DigestChallenge.parse("Basic realm=\"x\"") == nil)
        #expect(DigestChallenge.parse("Digest realm=\"x\"") == nil) // no nonce
    }

    @Test func md5SessRoundTrip() throws {
        let ch = DigestChallenge(realm: "r", nonce: "n1", qop: "auth", algorithm: "MD5-sess")
        let c = try #require(Digest.authorize(challenge: ch, username: "u", password: "p", method: "GET", uri: "/"))
        #expect(c.algorithm == "MD5-sess")
        let parsed = try #require(DigestCredentials.parse(c.headerValue))
        #expect(Digest.verify(credentials: parsed, password: "p", method: "GET"))
        #expect(!Digest.verify(credentials: parsed, password: "q", method: "GET"))
    }

    @Test func challengeHeaderAndStale() throws {
        let ch = DigestChallenge(realm: "Corral ACS", nonce: "abc", opaque: "o", stale: true)
        #expect(ch.headerValue == "Digest realm=\"Corral ACS\", qop=\"auth\", nonce=\"abc\", opaque=\"o\", algorithm=MD5, stale=true")
        let back = try #require(DigestChallenge.parse(ch.headerValue))
        #expect(back.stale)
        #expect(back.qop == "auth")
        // Several WWW-Authenticate header values.
        let multi = try #require(DigestChallenge.parse(["Basic realm=\"a\"", "digest realm=b,nonce=c, qop=auth"]))
        #expect(multi.realm == "b" && multi.nonce == "c" && multi.qop == "auth")
    }

    @Test func parsingEdgeCases() throws {
        // No spaces, unquoted values, commas and escaped quotes inside quotes, upper-case names, extra commas.
        let h = #"DIGEST USERNAME="a,b\"c",realm=R , nonce = "n,1",,uri="/x?y=1,2",response=ABCDEF,qop="auth",nc=00000001,cnonce=cn, extra="z""#
        let c = try #require(DigestCredentials.parse(h))
        #expect(c.username == "a,b\"c")
        #expect(c.realm == "R")
        #expect(c.nonce == "n,1")
        #expect(c.uri == "/x?y=1,2")
        #expect(c.response == "ABCDEF")
        #expect(c.qop == "auth")
        #expect(c.cnonce == "cn")
        // Quoting survives a round trip.
        let again = try #require(DigestCredentials.parse(c.headerValue))
        #expect(again.username == c.username)
        // Missing mandatory fields or wrong scheme.
        #expect(DigestCredentials.parse(#"Digest username="u", realm="r", nonce="n", uri="/""#) == nil)
        #expect(DigestCredentials.parse("Basic dTpw") == nil)
        #expect(DigestCredentials.parse("") == nil)
        #expect(DigestCredentials.parse("Digest") == nil)
        #expect(DigestCredentials.parse("Digest \"unterminated") == nil)
        // Wrong qop in credentials.
        var bad = c
        bad.qop = "auth-int"
        #expect(!Digest.verify(credentials: bad, password: "x", method: "GET"))
    }

    @Test func basic() throws {
        let b = BasicCredentials(username: "Aladdin", password: "open sesame")
        #expect(b.headerValue == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        #expect(AuthorizationHeader.parse("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==") == .basic(username: "Aladdin", password: "open sesame"))
        #expect(AuthorizationHeader.parse("basic   QWxhZGRpbjpvcGVuIHNlc2FtZQ==  ") == .basic(username: "Aladdin", password: "open sesame"))
        let colon = BasicCredentials(username: "u", password: "a:b:c")
        #expect(BasicCredentials.parse(colon.headerValue) == colon)
        #expect(BasicCredentials.parse("Basic !!!") == nil)
        #expect(BasicCredentials.parse("Basic bm9jb2xvbg==") == nil) // "nocolon"
        #expect(AuthorizationHeader.parse("Bearer abc") == nil)
        #expect(AuthorizationHeader.parse("Basic") == nil)
        #expect(b.matches(username: "Aladdin", password: "open sesame"))
        #expect(!b.matches(username: "Aladdin", password: "open sesamE"))
        #expect(basicChallenge(realm: "Corral") == "Basic realm=\"Corral\"")
        // Token68 form is preserved in the generic parser.
        let chs = AuthParams.parse("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==, Digest realm=\"r\", nonce=\"n\"")
        #expect(chs.count == 2)
        #expect(chs[0].token68 == "QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        #expect(chs[1].params["realm"] == "r")
    }

    @Test func nonces() {
        let src = NonceSource(secret: Array("k1".utf8), lifetime: 60)
        let t0 = 1_700_000_000.0
        let n = src.make(now: t0)
        #expect(n.count == 64)
        #expect(src.make(now: t0) != n) // random part
        #expect(src.check(n, now: t0) == .valid)
        #expect(src.check(n, now: t0 + 59) == .valid)
        #expect(src.check(n, now: t0 + 61) == .stale)
        #expect(src.check(n, now: t0 - 3600) == .invalid) // from the future
        // Same secret, new instance (server restart) accepts it; another secret does not.
        #expect(NonceSource(secret: Array("k1".utf8), lifetime: 60).check(n, now: t0 + 1) == .valid)
        #expect(NonceSource(secret: Array("k2".utf8), lifetime: 60).check(n, now: t0 + 1) == .invalid)
        // Tampering with the timestamp is detected.
        var chars = Array(n)
        chars[15] = chars[15] == "0" ? "1" : "0"
        #expect(src.check(String(chars), now: t0) == .invalid)
        #expect(src.check("", now: t0) == .invalid)
        #expect(src.check(String(repeating: "g", count: 64), now: t0) == .invalid)
        #expect(src.check(n.uppercased(), now: t0) == .valid)
    }
}
