import Foundation
import Testing
import ACSCore
import CWMP
import HTTPAuth
@testable import Engine
import NetHTTP
import Storage

/// Sessions that break at awkward moments: the device must never be locked out and tasks must not get stuck.
@Suite(.serialized) struct SessionRecoveryTests {
    /// Answers ACS requests like a minimal CPE until the ACS ends the session; returns the credentials it was given.
    static func answerUntilEnd(_ cpe: inout RawCPE, first: HTTPResponse, ignoring: Set<String> = []) async throws -> (requests: [ACSRequest], user: String?, password: String?) {
        var response = first
        var requests: [ACSRequest] = []
        var user: String?, password: String?
        while response.status == 200, !response.body.isEmpty {
            let env = try CWMPDecoder.decode(response.body, from: .acs)
            guard case .acsRequest(let request) = env.body else { throw Timeout(description: "expected an ACS request") }
            requests.append(request)
            let answer: CPEResponse
            switch request {
            case .setParameterValues(let params, _):
                user = params.first { $0.name.hasSuffix("ManagementServer.Username") }?.value ?? user
                password = params.first { $0.name.hasSuffix("ManagementServer.Password") }?.value ?? password
                answer = .setParameterValues(status: 0)
            case .getParameterValues(let names):
                answer = .getParameterValues(names.map { ParameterValue(name: $0, value: "x") })
            default:
                answer = .reboot
            }
            response = try await cpe.post(CWMPEncoder.encode(Envelope(version: env.version, header: CWMPHeader(id: env.header.id), body: .cpeResponse(answer))))
        }
        #expect(response.status == 204)
        return (requests, user, password)
    }

    func onboard(_ port: Int, serial: String) async throws -> (String, String) {
        var cpe = try await RawCPE.connect(port)
        #expect(try await cpe.postAuthenticated(RawCPE.inform(serial: serial), user: "corral-tr181", password: "onboard-tr181").status == 200)
        let result = try await Self.answerUntilEnd(&cpe, first: try await cpe.post([]))
        return (try #require(result.user), try #require(result.password))
    }

    @Test func cutReonboardingKeepsThePreviousCredentialsValid() async throws {
        let server = try CorralServer(config: serverConfig(data: temporaryDirectory("recovery")))
        try await server.start()
        let (user, oldPassword) = try await onboard(server.cwmpPort, serial: "RE1")
        // BOOTSTRAP (e.g. new ACS URL) with its own credentials: Corral generates new ones...
        var cut = try await RawCPE.connect(server.cwmpPort)
        #expect(try await cut.postAuthenticated(RawCPE.inform(serial: "RE1", events: ["0 BOOTSTRAP"]), user: user, password: oldPassword).status == 200)
        // ...but the session dies before the SPV reaches the CPE, which still has the old ones.
        await cut.connection.close()
        var again = try await RawCPE.connect(server.cwmpPort)
        let r = try await again.postAuthenticated(RawCPE.inform(serial: "RE1", events: ["2 PERIODIC"]), user: user, password: oldPassword)
        #expect(r.status == 200, "locked out with the previous credentials")
        // The swap is simply run again in that session, and then only the newest credentials work.
        let result = try await Self.answerUntilEnd(&again, first: try await again.post([]))
        let newPassword = try #require(result.password)
        #expect(newPassword != oldPassword)
        var old = try await RawCPE.connect(server.cwmpPort)
        #expect(try await old.postAuthenticated(RawCPE.inform(serial: "RE1", events: ["2 PERIODIC"]), user: user, password: oldPassword).status == 401)
        var new = try await RawCPE.connect(server.cwmpPort)
        #expect(try await new.postAuthenticated(RawCPE.inform(serial: "RE1", events: ["2 PERIODIC"]), user: user, password: newPassword).status == 200)
        await server.stop()
    }

    @Test func taskInFlightWhenTheServerDiesIsSentAgain() async throws {
        let data = temporaryDirectory("orphan")
        // Restarted on the same port: one outside the kernel's ephemeral range, which client sockets may take meanwhile.
        var server = try CorralServer(config: serverConfig(data: data, cwmpPort: try restartablePort()))
        try await server.start()
        let port = server.cwmpPort
        let (user, password) = try await onboard(port, serial: "OR1")
        let device = try #require(try server.store.device(oui: "00C0FF", serial: "OR1"))
        let task = try await TaskService(store: server.store).queue(.getParameterValues(["Device.DeviceInfo.UpTime"]), on: device)
        var cpe = try await RawCPE.connect(port)
        #expect(try await cpe.postAuthenticated(RawCPE.inform(serial: "OR1", events: ["6 CONNECTION REQUEST"]), user: user, password: password).status == 200)
        let gpv = try await cpe.post([])
        guard case .acsRequest(.getParameterValues) = try CWMPDecoder.decode(gpv.body, from: .acs).body else { Issue.record("no GPV"); return }
        #expect(try server.store.task(id: task.id)?.state == .sent)
        // The server goes away with the task in flight.
        await server.stop()
        server = try CorralServer(config: serverConfig(data: data, cwmpPort: port))
        try await server.start()
        var next = try await RawCPE.connect(port)
        #expect(try await next.postAuthenticated(RawCPE.inform(serial: "OR1", events: ["2 PERIODIC"]), user: user, password: password).status == 200)
        let result = try await Self.answerUntilEnd(&next, first: try await next.post([]))
        #expect(result.requests == [.getParameterValues(names: ["Device.DeviceInfo.UpTime"])])
        let done = try #require(try server.store.task(id: task.id))
        #expect(done.state == .done)
        #expect(done.attempts == 1)
        await server.stop()
    }

    @Test func replayedDigestAnswerIsRefused() async throws {
        let server = try CorralServer(config: serverConfig(data: temporaryDirectory("replay")))
        try await server.start()
        var cpe = try await RawCPE.connect(server.cwmpPort)
        let challenge = try #require(DigestChallenge.parse(try await cpe.post(RawCPE.inform(serial: "RP1")).headers.all("WWW-Authenticate")))
        let header = try #require(Digest.authorize(challenge: challenge, username: "corral-tr181", password: "onboard-tr181", method: "POST", uri: "/cwmp")).headerValue
        var a = try await RawCPE.connect(server.cwmpPort)
        #expect(try await a.post(RawCPE.inform(serial: "RP1"), authorization: header).status == 200)
        var b = try await RawCPE.connect(server.cwmpPort)
        #expect(try await b.post(RawCPE.inform(serial: "RP2"), authorization: header).status == 401)
        await server.stop()
    }

    @Test func informWithAnInvalidOUIIsRejectedBeforeAnythingIsStored() async throws {
        let server = try CorralServer(config: serverConfig(data: temporaryDirectory("oui")))
        try await server.start()
        var cpe = try await RawCPE.connect(server.cwmpPort)
        let r = try await cpe.postAuthenticated(RawCPE.inform(serial: "tr181", oui: "corral"), user: "corral-tr181", password: "onboard-tr181")
        #expect(r.status == 400)
        #expect(try server.store.deviceCount() == 0)
        // Lower-case hex is accepted and normalised.
        var lower = try await RawCPE.connect(server.cwmpPort)
        #expect(try await lower.postAuthenticated(RawCPE.inform(serial: "LC1", oui: "00c0ff"), user: "corral-tr181", password: "onboard-tr181").status == 200)
        #expect(try server.store.device(name: "00C0FF-LC1") != nil)
        await server.stop()
    }
}
