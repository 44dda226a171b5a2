import Foundation
import Testing
import ACSCore
@testable import API
import Engine
import NetHTTP
import Storage

/// What sits in front of the operator port: reverse proxies, browsers on other sites, metrics scrapers; and the
/// account rules (password choice, token lifetime) the API enforces.
@Suite(.serialized, .stopsLiveServers) struct EdgeSecurityTests {
    @Test func pagesElsewhereCannotPostHere() async throws {
        let live = try await LiveServer()
        _ = try await live.user("olga", role: .operator, org: 1)
        let c = APIClient(port: live.server.httpPort)
        let login: [String: Any] = ["username": "olga", "password": "correct-horse-battery"]
        let evil = try await c.send("POST", "/auth/login", json: login, extra: [("Origin", "https://evil.example")])
        #expect(evil.status == 403 && evil.text.contains("cross-origin"), "\(evil.status) \(evil.text)")
        #expect(try await c.send("POST", "/auth/login", json: login, extra: [("Origin", "null")]).status == 403)
        let same = try await c.send("POST", "/auth/login", json: login, extra: [("Origin", "http://127.0.0.1:\(live.server.httpPort)")])
        #expect(same.status == 200, "\(same.status) \(same.text)")
        // Scripts send no Origin at all: unaffected.
        #expect(try await c.send("POST", "/auth/login", json: login).status == 200)
    }

    /// Five wrong passwords from one client lock that client out, not the user: through a trusted proxy the client is
    /// the X-Forwarded-For address; from anyone else the header is ignored.
    @Test func trustedProxiesNameTheClient() async throws {
        for trusted in [true, false] {
            let live = try await LiveServer { if trusted { $0.trustedProxies = ["127.0.0.0/8"] } }
            _ = try await live.user("pia", role: .operator, org: 1)
            let c = APIClient(port: live.server.httpPort)
            func login(_ password: String, from address: String) async throws -> APIClient.Reply {
                try await c.send("POST", "/auth/login", json: ["username": "pia", "password": password],
                                 extra: [("X-Forwarded-For", "198.18.0.1, \(address)"), ("X-Forwarded-Proto", "https")])
            }
            for _ in 0..<5 { #expect(try await login("wrong-password-x", from: "203.0.113.5").status == 401) }
            #expect(try await login("correct-horse-battery", from: "203.0.113.5").status == 429)
            let other = try await login("correct-horse-battery", from: "192.0.2.44")
            #expect(other.status == (trusted ? 200 : 429), "trusted \(trusted): \(other.status) \(other.text)")
            if trusted {
                // The proxy said https: the cookie is Secure and HSTS is on, though the proxy spoke plain HTTP to Corral.
                #expect(other.headers.first("Set-Cookie")?.contains("; Secure") == true)
                #expect(other.headers.first("Strict-Transport-Security") != nil)
                let audit = try live.store.audit(AuditQuery())
                #expect(audit.contains { $0.remote == "192.0.2.44" }, "\(audit.map(\.remote))")
            }
        }
        #expect(throws: ConfigError.self) {
            var c = CorralConfig()
            c.dataDirectory = temporaryDirectory("badproxy")
            c.trustedProxies = ["10.0.0.0/33"]
            _ = try CorralServer(config: c)
        }
    }

    @Test func metricsNeedTheTokenOrTheirOwnPort() async throws {
        let live = try await LiveServer { $0.metricsToken = "scrape-me-please" }
        let port = live.server.httpPort
        #expect(try rawStatus(port: port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") == 401)
        #expect(try rawStatus(port: port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer nope\r\n\r\n") == 401)
        let ok = try rawAnswer(port: port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer scrape-me-please\r\n\r\n")
        #expect(ok.hasPrefix("HTTP/1.1 200") && ok.contains("corral_devices"), "\(ok.prefix(200))")

        let split = try await LiveServer { $0.metricsPort = 0; $0.metricsHost = "127.0.0.1" }
        #expect(split.server.metricsPort > 0)
        #expect(try rawStatus(port: split.server.httpPort, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") == 404)
        #expect(try rawAnswer(port: split.server.metricsPort, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").contains("corral_active_sessions"))
        #expect(try rawStatus(port: split.server.metricsPort, "GET /api/v1/devices HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") == 404)
    }

    @Test func weakPasswordsAndEverlastingTokensAreRefused() async throws {
        let live = try await LiveServer()
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .superadmin, org: 1))
        let weak = try await admin.send("POST", "/users", json: ["username": "quinn", "password": "Password2024!", "role": "viewer"])
        #expect(weak.status == 422 && weak.text.contains("too common"), "\(weak.text)")
        let named = try await admin.send("POST", "/users", json: ["username": "quinn", "password": "quinn-is-great-99", "role": "viewer"])
        #expect(named.status == 422 && named.text.contains("username"), "\(named.text)")
        #expect(try await admin.send("POST", "/users", json: ["username": "quinn", "password": "tangerine walrus 7", "role": "viewer"]).status == 201)

        #expect(try await admin.send("POST", "/tokens", json: ["name": "forever", "role": "viewer", "expires_in_days": 0]).status == 422)
        let long = try await admin.send("POST", "/tokens", json: ["name": "long", "role": "superadmin", "expires_in_days": 365])
        #expect(long.status == 422 && long.text.contains("90"), "\(long.text)")
        let fine = try await admin.send("POST", "/tokens", json: ["name": "year", "role": "viewer", "expires_in_days": 365])
        #expect(fine.status == 201, "\(fine.text)")
        let dflt = try await admin.send("POST", "/tokens", json: ["name": "default", "role": "superadmin"])
        #expect(dflt.status == 201, "\(dflt.text)")
    }
}
