import Foundation
import Testing
import ACSCore
import CWMP
import HTTPAuth
@testable import Engine
import NetHTTP
import Simulator
import Storage

/// A hand-driven CPE for protocol edge cases: raw HTTP, our codec, Digest.
struct RawCPE {
    let port: Int
    var connection: HTTPClientConnection
    var cookie: String?

    static func connect(_ port: Int) async throws -> RawCPE {
        RawCPE(port: port, connection: try await HTTPClientConnection.connect(host: "127.0.0.1", port: port))
    }

    mutating func post(_ body: [UInt8], authorization: String? = nil, headers extra: [(String, String)] = []) async throws -> HTTPResponse {
        var h = HTTPFields(extra)
        if let cookie { h.set("Cookie", cookie) }
        if let authorization { h.set("Authorization", authorization) }
        if !connection.isOpen { connection = try await HTTPClientConnection.connect(host: "127.0.0.1", port: port) }
        let r = try await connection.send(method: "POST", uri: "/cwmp", headers: h, body: body, timeout: .seconds(10))
        if let c = r.headers.first("Set-Cookie")?.split(separator: ";").first { cookie = String(c) }
        return r
    }

    /// POSTs, answering one Digest challenge with these credentials.
    mutating func postAuthenticated(_ body: [UInt8], user: String, password: String) async throws -> HTTPResponse {
        let first = try await post(body)
        guard first.status == 401 else { return first }
        let challenge = try #require(DigestChallenge.parse(first.headers.all("WWW-Authenticate")))
        let creds = try #require(Digest.authorize(challenge: challenge, username: user, password: password, method: "POST", uri: "/cwmp"))
        return try await post(body, authorization: creds.headerValue)
    }

    static func inform(serial: String, oui: String = "00C0FF", events: [String] = ["0 BOOTSTRAP", "1 BOOT"], root: String = "Device.") -> [UInt8] {
        let i = Inform(deviceId: DeviceID(manufacturer: "Raw", oui: oui, productClass: "RawBox", serialNumber: serial),
                       events: events.map { EventStruct($0) }, currentTime: "2026-11-26T10:00:00Z",
                       parameters: [ParameterValue(name: root + "DeviceInfo.SoftwareVersion", value: "9.9"),
                                    ParameterValue(name: root + "ManagementServer.ConnectionRequestURL", value: "http://127.0.0.1:1/cr")])
        return CWMPEncoder.encode(Envelope(version: .v1_0, header: CWMPHeader(id: "7"), body: .cpeRequest(.inform(i))))
    }
}

@Suite(.serialized) struct CWMPEndpointTests {
    func withServer(maxSessions: Int = 20_000, _ body: (CorralServer) async throws -> Void) async throws {
        var config = serverConfig(data: temporaryDirectory("endpoint"))
        config.maxSessions = maxSessions
        let server = try CorralServer(config: config)
        try await server.start()
        do { try await body(server) } catch { await server.stop(); throw error }
        await server.stop()
    }

    @Test func unauthenticatedInformGetsADigestChallengeAndWrongPasswordsAreRefused() async throws {
        try await withServer { server in
            var cpe = try await RawCPE.connect(server.cwmpPort)
            let r = try await cpe.post(RawCPE.inform(serial: "R1"))
            #expect(r.status == 401)
            let challenge = try #require(DigestChallenge.parse(r.headers.all("WWW-Authenticate")))
            #expect(challenge.realm == "Corral")
            #expect(challenge.qop == "auth")
            let wrong = try await cpe.postAuthenticated(RawCPE.inform(serial: "R1"), user: "corral-tr181", password: "guess")
            #expect(wrong.status == 401)
            #expect(try server.store.deviceCount() == 0)
            let right = try await cpe.postAuthenticated(RawCPE.inform(serial: "R1"), user: "corral-tr181", password: "onboard-tr181")
            #expect(right.status == 200)
            guard case .acsResponse(.inform) = try CWMPDecoder.decode(right.body, from: .acs).body else { Issue.record("no InformResponse"); return }
            // Basic is refused over plain HTTP.
            var basic = try await RawCPE.connect(server.cwmpPort)
            let b = try await basic.post(RawCPE.inform(serial: "R2"), authorization: BasicCredentials(username: "corral-tr181", password: "onboard-tr181").headerValue)
            #expect(b.status == 401)
        }
    }

    @Test func digestGuessingIsThrottledPerUsernameWhileOthersAreServed() async throws {
        try await withServer { server in
            // Ten wrong answers are free; then the username must wait (503 + Retry-After), not even checked.
            var statuses: [Int] = []
            for _ in 0..<14 {
                var cpe = try await RawCPE.connect(server.cwmpPort)
                statuses.append(try await cpe.postAuthenticated(RawCPE.inform(serial: "G1"), user: "corral-tr181", password: "guess").status)
            }
            #expect(statuses.prefix(10).allSatisfy { $0 == 401 }, "\(statuses)")
            #expect(statuses.suffix(3).allSatisfy { $0 == 503 }, "\(statuses)")
            var throttled = try await RawCPE.connect(server.cwmpPort)
            let r = try await throttled.postAuthenticated(RawCPE.inform(serial: "G1"), user: "corral-tr181", password: "onboard-tr181")
            #expect(r.status == 503 && Int(r.headers.first("Retry-After") ?? "") ?? 0 > 0, "even the right password waits: \(r.status)")
            // Another username from the same address is not affected (thousands of CPEs share CGNAT addresses).
            var other = try await RawCPE.connect(server.cwmpPort)
            #expect(try await other.postAuthenticated(RawCPE.inform(serial: "G2", root: "InternetGatewayDevice."), user: "corral-tr098", password: "onboard-tr098").status == 200)
        }
    }

    @Test func onboardedSerialCannotBeTakenWithOtherCredentials() async throws {
        try await withServer { server in
            let sim = try simulator(port: server.cwmpPort, count: 2, model: "tr181", prefix: "OWN-")
            try await sim.start()
            try await waitUntil("2 devices onboarded", seconds: 30) {
                try server.store.devices(limit: 10, offset: 0).filter(\.credentialsConfirmed).count == 2
            }
            await sim.stop()
            let a = try #require(sim.device(serial: "OWN-000000"))
            let aUser = try #require(a.value("Device.ManagementServer.Username"))
            let aPass = try #require(a.value("Device.ManagementServer.Password"))
            // A's own credentials presented with B's serial.
            var raw = try await RawCPE.connect(server.cwmpPort)
            let r1 = try await raw.postAuthenticated(RawCPE.inform(serial: "OWN-000001", events: ["2 PERIODIC"]), user: aUser, password: aPass)
            #expect(r1.status == 401)
            // The shared onboarding credentials for an onboarded serial, without BOOTSTRAP.
            var raw2 = try await RawCPE.connect(server.cwmpPort)
            let r2 = try await raw2.postAuthenticated(RawCPE.inform(serial: "OWN-000001", events: ["2 PERIODIC"]), user: "corral-tr181", password: "onboard-tr181")
            #expect(r2.status == 401)
            // A itself is fine.
            var raw3 = try await RawCPE.connect(server.cwmpPort)
            let r3 = try await raw3.postAuthenticated(RawCPE.inform(serial: "OWN-000000", events: ["2 PERIODIC"]), user: aUser, password: aPass)
            #expect(r3.status == 200)
        }
    }

    @Test func hostileBodiesAreRejectedQuicklyAndTheServerKeepsServing() async throws {
        try await withServer { server in
            let port = server.cwmpPort
            // 50 MB: refused from the Content-Length, before the body is read.
            let clock = ContinuousClock()
            var big = try await RawCPE.connect(port)
            let t0 = clock.now
            let huge = try await big.post(Array(repeating: UInt8(ascii: "a"), count: 50 << 20))
            #expect(huge.status == 413)
            #expect(clock.now - t0 < .seconds(5))

            let bomb = """
                <?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
                <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
                <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
                <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
                <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]><lolz>&lol9;</lolz>
                """
            let deep = String(repeating: "<a>", count: 10_000) + String(repeating: "</a>", count: 10_000)
            let external = """
                <?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
                <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&e;</soap:Body></soap:Envelope>
                """
            for (name, body) in [("entity bomb", bomb), ("deep nesting", deep), ("external entity", external), ("garbage", "\u{1}\u{2}not xml")] {
                var cpe = try await RawCPE.connect(port)
                let t = clock.now
                let r = try await cpe.postAuthenticated(Array(body.utf8), user: "corral-tr181", password: "onboard-tr181")
                #expect(r.status == 400, "\(name) got \(r.status)")
                #expect(!r.bodyString.contains("root:"), "\(name) leaked a file")
                #expect(clock.now - t < .seconds(2), "\(name) took too long")
            }
            // Still serving: a normal CPE onboards.
            var ok = try await RawCPE.connect(port)
            #expect(try await ok.postAuthenticated(RawCPE.inform(serial: "AFTER"), user: "corral-tr181", password: "onboard-tr181").status == 200)
        }
    }

    @Test func unknownCPEMethodGetsFault8000AndTheSessionGoesOn() async throws {
        try await withServer { server in
            var cpe = try await RawCPE.connect(server.cwmpPort)
            #expect(try await cpe.postAuthenticated(RawCPE.inform(serial: "U1"), user: "corral-tr181", password: "onboard-tr181").status == 200)
            let unknown = """
                <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cwmp="urn:dslforum-org:cwmp-1-0">
                <soap:Header><cwmp:ID soap:mustUnderstand="1">55</cwmp:ID></soap:Header>
                <soap:Body><cwmp:X_ACME_Frobnicate/></soap:Body></soap:Envelope>
                """
            let r = try await cpe.post(Array(unknown.utf8))
            #expect(r.status == 200)
            let env = try CWMPDecoder.decode(r.body, from: .acs)
            guard case .fault(let f) = env.body else { Issue.record("no fault"); return }
            #expect(f.code == 8000)
            #expect(env.header.id == "55")
            // The session continues: the empty POST gets the onboarding SPV.
            let next = try await cpe.post([])
            guard case .acsRequest(.setParameterValues(let params, _)) = try CWMPDecoder.decode(next.body, from: .acs).body else {
                Issue.record("expected the onboarding SetParameterValues"); return
            }
            #expect(params.contains { $0.name == "Device.ManagementServer.Password" && $0.value.count == 24 })
        }
    }

    @Test func newSessionsBeyondTheLimitGet503WithRetryAfter() async throws {
        try await withServer(maxSessions: 1) { server in
            var first = try await RawCPE.connect(server.cwmpPort)
            #expect(try await first.postAuthenticated(RawCPE.inform(serial: "L1"), user: "corral-tr181", password: "onboard-tr181").status == 200)
            var second = try await RawCPE.connect(server.cwmpPort)
            let r = try await second.postAuthenticated(RawCPE.inform(serial: "L2"), user: "corral-tr181", password: "onboard-tr181")
            #expect(r.status == 503)
            // Spread over the expected backlog, at most EngineConfig.retryAfterSeconds (60).
            let retryAfter = try #require(r.headers.first("Retry-After").flatMap { Int($0) })
            #expect((1...60).contains(retryAfter))
        }
    }

    @Test func idleSessionsExpireAndLeaveOnboardingUnconfirmed() async throws {
        try await withServer { server in
            var cpe = try await RawCPE.connect(server.cwmpPort)
            #expect(try await cpe.postAuthenticated(RawCPE.inform(serial: "IDLE"), user: "corral-tr181", password: "onboard-tr181").status == 200)
            let spv = try await cpe.post([])
            guard case .acsRequest(.setParameterValues) = try CWMPDecoder.decode(spv.body, from: .acs).body else { Issue.record("no SPV"); return }
            #expect(server.cwmp.activeSessions == 1)
            // The CPE goes silent; the sweeper drops the session after the idle timeout.
            #expect(await server.cwmp.sweep(now: Date().timeIntervalSince1970 + 60) == 1)
            #expect(server.cwmp.activeSessions == 0)
            let d = try #require(try server.store.device(oui: "00C0FF", serial: "IDLE"))
            #expect(!d.credentialsConfirmed)
        }
    }
}
