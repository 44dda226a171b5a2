import Foundation
import HTTPAuth
import Testing
@testable import NetHTTP

/// A CPE-like connection-request endpoint protected by Digest.
func digestHandler(user: String, password: String, realm: String = "cpe", qop: String?,
                   closeAfter401: Bool = false, log: Locked<[String]>? = nil)
    -> @Sendable (HTTPRequest) async -> HTTPResponse
{
    let nonces = NonceSource(secret: Array("test".utf8), lifetime: 60)
    return { r in
        log?.withLock { $0.append("\(r.connectionID) \(r.headers.first("authorization") ?? "-")") }
        if let auth = r.headers.first("authorization"), case .digest(let c)? = AuthorizationHeader.parse(auth),
           c.username == user, c.realm == realm, c.uri == r.uri, nonces.check(c.nonce) == .valid,
           (qop == nil) == (c.qop == nil),
           Digest.verify(credentials: c, password: password, method: r.method) {
            return HTTPResponse(status: 200, text: "ok")
        }
        var h = HTTPFields()
        h.add("WWW-Authenticate", "Basic realm=\"\(realm)\"")
        h.add("WWW-Authenticate", DigestChallenge(realm: realm, nonce: nonces.make(), opaque: "xyz", qop: qop).headerValue)
        if closeAfter401 { h.set("Connection", "close") }
        return HTTPResponse(status: 401, headers: h)
    }
}

@Suite struct ClientTests {
    @Test func getWithDigestQopAuth() async throws {
        let log = Locked<[String]>([])
        try await withServer(handler: digestHandler(user: "acs", password: "s3cret", qop: "auth,auth-int", log: log)) { port, _ in
            let r = try await HTTPClient.getWithDigest(url: "http://127.0.0.1:\(port)/cr/abc?x=1", username: "acs",
                                                       password: "s3cret", timeout: .seconds(5))
            #expect(r.status == 200)
            let entries = log.withLock { $0 }
            #expect(entries.count == 2)
            // Same connection reused for the authenticated retry.
            #expect(entries.map { $0.split(separator: " ")[0] }.count == 2)
            #expect(entries[0].split(separator: " ")[0] == entries[1].split(separator: " ")[0])
            #expect(entries[1].contains("qop=auth,") && entries[1].contains("nc=00000001") && entries[1].contains("cnonce="))
            #expect(entries[1].contains("uri=\"/cr/abc?x=1\""))

            let wrong = try await HTTPClient.getWithDigest(url: "http://127.0.0.1:\(port)/cr", username: "acs",
                                                           password: "nope", timeout: .seconds(5))
            #expect(wrong.status == 401)
        }
    }

    @Test func getWithDigestLegacyNoQopAndReconnect() async throws {
        let log = Locked<[String]>([])
        try await withServer(handler: digestHandler(user: "u", password: "p", qop: nil, closeAfter401: true, log: log)) { port, _ in
            let r = try await HTTPClient.getWithDigest(url: "http://127.0.0.1:\(port)/", username: "u", password: "p")
            #expect(r.status == 200)
            let entries = log.withLock { $0 }
            #expect(entries.count == 2)
            #expect(entries[0].split(separator: " ")[0] != entries[1].split(separator: " ")[0]) // new connection
            #expect(!entries[1].contains("qop") && !entries[1].contains("cnonce") && !entries[1].contains("nc="))
        }
    }

    @Test func basicOnlyWhenAllowed() async throws {
        let handler: @Sendable (HTTPRequest) async -> HTTPResponse = { r in
            if r.headers.first("authorization") == BasicCredentials(username: "u", password: "p").headerValue {
                return HTTPResponse(status: 204)
            }
            return HTTPResponse(status: 401, headers: ["WWW-Authenticate": "Basic realm=\"x\""])
        }
        try await withServer(handler: handler) { port, _ in
            let url = "http://127.0.0.1:\(port)/"
            let denied = try await HTTPClient.getWithDigest(url: url, username: "u", password: "p")
            #expect(denied.status == 401)
            let allowed = try await HTTPClient.getWithDigest(url: url, username: "u", password: "p", allowBasic: true)
            #expect(allowed.status == 204)
        }
    }

    @Test func responseTimeout() async throws {
        try await withServer(handler: { _ in
            try? await Task.sleep(for: .seconds(2))
            return HTTPResponse(status: 200)
        }) { port, _ in
            let c = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port)
            let start = ContinuousClock.now
            await #expect(throws: HTTPClientError.timeout) {
                _ = try await c.send(uri: "/", timeout: .milliseconds(200))
            }
            #expect(ContinuousClock.now - start < .seconds(1))
            #expect(!c.isOpen)
            await #expect(throws: HTTPClientError.timeout) {
                _ = try await HTTPClient.getWithDigest(url: "http://127.0.0.1:\(port)/", username: "u", password: "p",
                                                       timeout: .milliseconds(200))
            }
        }
    }

    @Test func connectFailures() async throws {
        // Grab a free port, then close the server so nothing listens there.
        let s = HTTPServer(host: "127.0.0.1", port: 0, handler: echoHandler)
        let port = try await s.start()
        try await s.shutdown()
        do {
            _ = try await HTTPClient.send(url: "http://127.0.0.1:\(port)/", timeout: .seconds(2))
            Issue.record("expected failure")
        } catch let e as HTTPClientError {
            guard case .connectFailed = e else { Issue.record("unexpected \(e)"); return }
            #expect(e.description.contains("connect failed"))
        }
        await #expect(throws: HTTPClientError.invalidURL("nope")) { _ = try await HTTPClient.send(url: "nope") }
        await #expect(throws: HTTPClientError.invalidURL("ftp://127.0.0.1/")) { _ = try await HTTPClient.send(url: "ftp://127.0.0.1/") }
        // https is spoken (TLSTests); here nobody listens.
        await #expect(throws: HTTPClientError.self) { _ = try await HTTPClient.send(url: "https://127.0.0.1:\(port)/", timeout: .seconds(2)) }
    }

    @Test func responseTooLargeAndChunkedResponse() async throws {
        let big = [UInt8](repeating: 65, count: 2 << 20)
        try await withServer(handler: { _ in HTTPResponse(body: big) }) { port, _ in
            let c = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port, maxResponseBytes: 1 << 20)
            await #expect(throws: HTTPClientError.tooLarge(1 << 20)) { _ = try await c.send(uri: "/") }
            let ok = try await HTTPClient.send(url: "http://127.0.0.1:\(port)/")
            #expect(ok.body.count == 2 << 20)
        }
    }

    @Test func urlParts() {
        #expect(URLParts.parse("http://10.0.0.1:7547/cr?x=1") ==
                URLParts(scheme: "http", host: "10.0.0.1", port: 7547, pathAndQuery: "/cr?x=1"))
        #expect(URLParts.parse("HTTP://host") == URLParts(scheme: "http", host: "host", port: 80, pathAndQuery: "/"))
        #expect(URLParts.parse("https://host/a") == URLParts(scheme: "https", host: "host", port: 443, pathAndQuery: "/a"))
        #expect(URLParts.parse("http://[2001:db8::1]:30005/path") ==
                URLParts(scheme: "http", host: "2001:db8::1", port: 30005, pathAndQuery: "/path"))
        #expect(URLParts.parse("http://[::1]/")?.host == "::1")
        #expect(URLParts.parse("http://[::1]/")?.hostHeader == "[::1]")
        #expect(URLParts.parse("http://h:8080?q")?.pathAndQuery == "/?q")
        #expect(URLParts.parse("http://h:8080?q")?.hostHeader == "h:8080")
        #expect(URLParts.parse("http://user:pw@h:81/x#frag") ==
                URLParts(scheme: "http", host: "h", port: 81, pathAndQuery: "/x"))
        #expect(URLParts.parse("ftp://h/") == nil)
        #expect(URLParts.parse("http://") == nil)
        #expect(URLParts.parse("http://h:99999/") == nil)
        #expect(URLParts.parse("http://h:abc/") == nil)
        #expect(URLParts.parse("http://2001:db8::1/") == nil)
        #expect(URLParts.parse("/relative") == nil)
    }
}
