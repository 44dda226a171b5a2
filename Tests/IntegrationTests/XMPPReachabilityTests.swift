import Foundation
import Testing
import ACSCore
import CWMP
@testable import Engine
import NetHTTP
import Simulator
import Storage
import TestSupport
import XMPP

/// Annex K connection requests through a real XMPP server (Debian's prosody, started by scripts/xmpp-lab): simulated
/// CPEs register their own accounts and are woken only over XMPP; failures are clear and fall back. (Through a real
/// NAT: NATReachabilityTests.)
@Suite(.serialized, .enabled(if: XMPPLab.available, "needs prosody (scripts/install-deps)"))
struct XMPPReachabilityTests {
    static func xmppProfile() -> String {
        """
        return profile {
          name = "xmpp-tr181", extends = "generic-tr181", match = { data_model = "tr181", product_class = "SimRouter" },
          wake = { "xmpp", "http" },
        }
        """
    }

    /// prosody, a server logged in to it as acs@corral.test, and simulated CPEs with XMPP accounts.
    static func start(_ tag: String, count: Int, httpCR: Bool, lab: XMPPLab, settings: XMPPSettings? = nil) async throws -> (CorralServer, Simulator) {
        let data = temporaryDirectory(tag)
        let profiles = temporaryDirectory(tag + "-profiles")
        try xmppProfile().write(toFile: profiles + "/xmpp.lua", atomically: true, encoding: .utf8)
        var config = serverConfig(data: data)
        config.profilesDirectory = profiles
        config.profiles["xmpp-tr181"] = CorralConfig.ProfileOverride(onboardingUsername: nil, onboardingPassword: nil, informInterval: 600)
        config.xmpp = settings ?? lab.acsSettings
        let server = try CorralServer(config: config)
        try await server.start()
        var sc = SimulatorConfig(acsURL: "http://127.0.0.1:\(server.cwmpPort)/cwmp", count: count, model: "tr181")
        sc.serialPrefix = tag.uppercased() + "-"
        sc.dataModelDirectory = Paths.datamodels
        sc.httpConnectionRequests = httpCR
        sc.xmppServer = "127.0.0.1:\(lab.port)"
        sc.xmppDomain = XMPPLab.domain
        sc.xmppKeepAlive = 2
        let sim = try Simulator(config: sc)
        try await sim.start()
        return (server, sim)
    }

    static func jid(_ server: CorralServer, _ d: Device) -> String {
        (try? server.store.parameters(deviceID: d.id, prefix: "Device.ManagementServer.ConnReqJabberID").first?.value) ?? ""
    }

    @Test func xmppConnectionRequestWakesCPEsThatHaveNoOtherPath() async throws {
        let lab = try XMPPLab.start("xmppcr")
        defer { lab.stop() }
        let (server, sim) = try await Self.start("xmppcr", count: 3, httpCR: false, lab: lab)
        try await waitUntil("Corral logged in to prosody", seconds: 20) { server.xmpp?.status.connected == true }
        #expect(server.xmpp?.status.jid == "acs@\(XMPPLab.domain)/corral")
        try await waitUntil("3 devices onboarded with their JIDs read", seconds: 40) {
            let all = try server.store.devices(limit: 10, offset: 0)
            return all.count == 3 && all.allSatisfy { $0.credentialsConfirmed && Self.jid(server, $0).hasSuffix("@\(XMPPLab.domain)/cwmp") }
        }
        let device = try #require(try server.store.device(name: "00C0FF-XMPPCR-000000"))
        #expect(device.connectionRequestURL.isEmpty)
        #expect(Self.jid(server, device) == "xmppcr-000000@\(XMPPLab.domain)/cwmp")

        let service = TaskService(store: server.store)
        let task = try await service.queue(.getParameterValues(["Device.DeviceInfo.UpTime"]), on: device)
        let attempt = await server.waker.wake(device)
        #expect(attempt.woke == .xmpp, "\(attempt.summary)")
        #expect(attempt.tried.map(\.method) == [.xmpp])
        let report = server.waker.report(for: device)
        #expect(report.supportedMethods.contains("XMPP"), "\(report.lines)")
        #expect(report.lastWake?.wokeBy == "xmpp")
        let done = try await service.wait(for: task.id, timeout: .seconds(20))
        #expect(done?.state == .done)
        #expect(try server.store.informs(deviceID: device.id, limit: 3).contains { $0.events.contains(EventCode.connectionRequest) })

        for name in ["00C0FF-XMPPCR-000001", "00C0FF-XMPPCR-000002"] {
            let d = try #require(try server.store.device(name: name))
            let a = await server.waker.wake(d)
            #expect(a.woke == .xmpp, "\(name): \(a.summary)")
        }
        // The device refuses wrong connection-request credentials (Annex K not-authorized).
        let refused = await server.xmpp!.connectionRequest(to: Self.jid(server, device), username: device.connectionRequestUsername, password: "wrong")
        #expect(refused == .notAuthorized)
        let metrics = String(decoding: try await HTTPClient.send(url: "http://127.0.0.1:\(server.httpPort)/metrics").body, as: UTF8.self)
        #expect(metrics.contains("corral_wakeups_total{method=\"xmpp\"} 3"), "\(metrics)")
        #expect(metrics.contains("corral_xmpp_connection_requests_total{outcome=\"accepted\"} 3"))
        #expect(metrics.contains("corral_xmpp_connection_requests_total{outcome=\"not_authorized\"} 1"))
        #expect(metrics.contains("corral_xmpp_connected 1"))
        await sim.stop()
        await server.stop()
    }

    @Test func anOfflineJIDFallsBackToHTTPAndSessionsComeBackAfterAServerRestart() async throws {
        let lab = try XMPPLab.start("xmppfb")
        defer { lab.stop() }
        let (server, sim) = try await Self.start("xmppfb", count: 1, httpCR: true, lab: lab)
        try await waitUntil("onboarded with a JID", seconds: 40) {
            guard let d = try server.store.device(name: "00C0FF-XMPPFB-000000") else { return false }
            return d.credentialsConfirmed && !Self.jid(server, d).isEmpty
        }
        let device = try #require(try server.store.device(name: "00C0FF-XMPPFB-000000"))
        let realJID = Self.jid(server, device)
        // The stored JID goes stale (the CPE's XMPP client is gone): prosody answers service-unavailable, HTTP wakes it.
        try await server.store.apply([.parameters(deviceID: device.id, values: [
            ParameterValue(name: "Device.ManagementServer.ConnReqJabberID", value: "nobody@\(XMPPLab.domain)/cwmp")], at: Int64(Date().timeIntervalSince1970))])
        let attempt = await server.waker.wake(device)
        #expect(attempt.tried.map(\.method) == [.xmpp, .http], "\(attempt.summary)")
        #expect(attempt.tried.first?.outcome.contains("service-unavailable") == true, "\(attempt.summary)")
        #expect(attempt.woke == .http)
        try await server.store.apply([.parameters(deviceID: device.id, values: [
            ParameterValue(name: "Device.ManagementServer.ConnReqJabberID", value: realJID)], at: Int64(Date().timeIntervalSince1970))])

        // The XMPP server goes down: Corral says why, falls back at once, and logs in again when it is back.
        lab.stop()
        try await waitUntil("Corral notices the lost session", seconds: 20) { server.xmpp?.status.connected == false }
        let down = await server.waker.wake(device)
        #expect(down.tried.first?.outcome.contains("not logged in to the XMPP server") == true, "\(down.summary)")
        #expect(down.woke == .http)
        try lab.restart()
        try await waitUntil("Corral logged in again", seconds: 40) { server.xmpp?.status.connected == true }
        // The CPE logs in again by itself (its pings notice the loss); wrong credentials prove it answers.
        let deadline = Date().addingTimeInterval(40)
        var back = false
        while !back, Date() < deadline {
            back = await server.xmpp!.connectionRequest(to: realJID, username: "x", password: "y") == .notAuthorized
            if !back { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(back, "the CPE's XMPP session did not come back")
        let again = await server.waker.wake(device)
        #expect(again.woke == .xmpp, "\(again.summary)")
        await sim.stop()
        await server.stop()
    }

    @Test func loginFailuresAreClear() async throws {
        let lab = try XMPPLab.start("xmpplf")
        defer { lab.stop() }
        // Wrong password: SASL not-authorized, reported, retried with backoff.
        var wrong = lab.acsSettings
        wrong.password = "not-the-password"
        let bad = try #require(try CorralConfig.withXMPP(wrong).xmppService())
        bad.start()
        try await waitUntil("the refusal is reported", seconds: 20) { bad.status.lastError.contains("XMPP login refused: not-authorized") }
        #expect(bad.status.connected == false)
        await bad.stop()
        // A certificate from an unknown CA: TLS refused (the lab's certificate is self-signed; no CA given = system roots).
        var untrusted = lab.acsSettings
        untrusted.ca = nil
        let tls = try #require(try CorralConfig.withXMPP(untrusted).xmppService())
        let outcome = await tls.connectionRequest(to: "x@\(XMPPLab.domain)/cwmp", username: "u", password: "p")
        guard case .failed(let why) = outcome else { Issue.record("expected a failure, got \(outcome)"); return }
        #expect(why.contains("TLS"), "\(why)")
        // Nobody listening.
        var closed = lab.acsSettings
        closed.server = "127.0.0.1:\(try freeTCPPort())"
        let none = try #require(try CorralConfig.withXMPP(closed).xmppService())
        let o2 = await none.connectionRequest(to: "x@\(XMPPLab.domain)/cwmp", username: "u", password: "p")
        guard case .failed(let why2) = o2 else { Issue.record("expected a failure, got \(o2)"); return }
        #expect(why2.contains("cannot connect to the XMPP server"), "\(why2)")
        // Settings that cannot work are refused at start-up, naming the setting.
        #expect(throws: ConfigError.self) { try CorralConfig.withXMPP(XMPPSettings(server: "nohost:99999", jid: "a@b", password: "p")).xmppService() }
        #expect(throws: ConfigError.self) { try CorralConfig.withXMPP(XMPPSettings(server: "h:5222", jid: "no-at-sign", password: "p")).xmppService() }
        #expect(throws: ConfigError.self) { try CorralConfig.withXMPP(XMPPSettings(server: "h:5222", jid: "a@b")).xmppService() }
    }
}

extension CorralConfig {
    static func withXMPP(_ s: XMPPSettings) -> CorralConfig {
        var c = CorralConfig()
        c.xmpp = s
        return c
    }
}

/// A private prosody (scripts/xmpp-lab) on a free loopback port, with the account acs@corral.test.
struct XMPPLab {
    static let domain = "corral.test"
    static let acsPassword = "acs-secret"
    let dir: String
    let port: Int
    static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/prosody") }
    static var script: String { Paths.packageRoot + "/scripts/xmpp-lab" }

    static func start(_ tag: String) throws -> XMPPLab {
        let lab = XMPPLab(dir: temporaryDirectory(tag + "-prosody"), port: try freeTCPPort())
        try lab.restart()
        return lab
    }

    func restart() throws {
        let r = try NATLab.exec(["/bin/bash", Self.script, "start", dir, String(port), "127.0.0.1", Self.domain], env: ["XMPP_LAB_ACS_PASSWORD": Self.acsPassword])
        guard r.status == 0 else { throw Timeout(description: "xmpp-lab start failed: \(r.output)") }
    }

    func stop() { _ = try? NATLab.exec(["/bin/bash", Self.script, "stop", dir], env: [:]) }

    /// The lab's self-signed certificate is its own CA.
    var acsSettings: XMPPSettings {
        var s = XMPPSettings(server: "127.0.0.1:\(port)", jid: "acs@\(Self.domain)", password: Self.acsPassword)
        s.ca = certificate
        s.keepAlive = 2
        return s
    }

    var certificate: String { dir + "/certs/\(Self.domain).crt" }
}

/// A free TCP port on loopback (bound, read, released).
func freeTCPPort() throws -> Int { try Ports.free() }
