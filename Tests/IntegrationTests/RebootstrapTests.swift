import Foundation
import Testing
import ACSCore
import CWMP
import HTTPAuth
@testable import Engine
import NetHTTP
import Simulator
import Storage

/// The re-bootstrap hijack (issue 11): someone with a model's onboarding secret and a device's serial sends
/// `0 BOOTSTRAP`. Secrets are withheld from that first session, the real device's next contact with its old
/// credentials flags a credential conflict, and a profile can quarantine re-bootstraps until an operator approves.
@Suite(.serialized) struct RebootstrapTests {
    static let passphrase = "Device.WiFi.AccessPoint.1.Security.KeyPassphrase"

    static func onboardOne(_ server: CorralServer, prefix: String, model: String = "tr181") async throws -> (Simulator, Device, user: String, password: String) {
        let sim = try simulator(port: server.cwmpPort, count: 1, model: model, prefix: prefix)
        try await sim.start()
        let name = "00C0FF-\(prefix)000000"
        try await waitUntil("\(name) onboarded", seconds: 30) { try server.store.device(name: name)?.credentialsConfirmed == true }
        await sim.stop()
        let cpe = try #require(sim.device(serial: "\(prefix)000000"))
        let root = model == "tr098" ? "InternetGatewayDevice." : "Device."
        let user = try #require(cpe.value(root + "ManagementServer.Username"))
        let password = try #require(cpe.value(root + "ManagementServer.Password"))
        return (sim, try #require(try server.store.device(name: name)), user, password)
    }

    @Test func anImpostorsRebootstrapGetsNoSecretsAndTheRealDeviceRaisesAConflict() async throws {
        let server = try CorralServer(config: serverConfig(data: temporaryDirectory("hijack")))
        try await server.start()
        let (_, real, user, password) = try await Self.onboardOne(server, prefix: "HJ-")
        // A WiFi passphrase waits for the device's next session.
        let task = try await TaskService(store: server.store).queue(.setParameterValues([ParameterValue(name: Self.passphrase, value: "s3cret-wifi")]), on: real)

        // The impostor: a factory-fresh CPE with the same serial and the model's onboarding credentials.
        let impostor = try simulator(port: server.cwmpPort, count: 1, model: "tr181", prefix: "HJ-")
        try await impostor.start()
        try await waitUntil("the impostor's first session", seconds: 30) { impostor.stats.snapshot.sessions >= 1 }
        await impostor.stop()
        let taken = try #require(try server.store.device(id: real.id))
        #expect(taken.passwordHA1 != real.passwordHA1, "the re-bootstrap gave out new credentials")
        #expect(taken.supersededPasswordHA1 == real.passwordHA1)
        #expect(try server.store.task(id: task.id)?.state == .pending, "a secret was sent in the first session after a re-bootstrap: \(String(describing: try? server.store.task(id: task.id)))")

        // The real device comes back with the credentials it was given: conflict, refused, flagged.
        var cpe = try await RawCPE.connect(server.cwmpPort)
        let r = try await cpe.postAuthenticated(RawCPE.inform(serial: "HJ-000000", events: ["2 PERIODIC"]), user: user, password: password)
        #expect(r.status == 403)
        #expect(r.bodyString.contains("credential conflict"), "\(r.bodyString)")
        let flagged = try #require(try server.store.device(id: real.id))
        #expect(flagged.credentialConflict)
        #expect(try server.store.task(id: task.id)?.state == .pending)

        // An operator resolves it (the API's resolve-conflict): the flag and the old credentials are gone.
        try await server.store.apply([.updateDeviceSecurity(deviceID: real.id, supersededHA1: "", credentialConflict: false, rebootstrapHold: .none)])
        var again = try await RawCPE.connect(server.cwmpPort)
        let r2 = try await again.postAuthenticated(RawCPE.inform(serial: "HJ-000000", events: ["2 PERIODIC"]), user: user, password: password)
        #expect(r2.status == 401, "old credentials are simply wrong once the conflict is resolved")
        #expect(try server.store.device(id: real.id)?.credentialConflict == false)
        await server.stop()
    }

    @Test func aQuarantineProfileHoldsReBootstrapsUntilAnOperatorApproves() async throws {
        let profiles = temporaryDirectory("quarantine-profiles")
        try """
            return profile {
              name = "guarded", extends = "generic-tr098", match = { data_model = "tr098" }, priority = 10,
              rebootstrap = "quarantine",
            }
            """.write(toFile: profiles + "/guarded.lua", atomically: true, encoding: .utf8)
        var config = serverConfig(data: temporaryDirectory("quarantine"))
        config.profilesDirectory = profiles
        config.profiles["guarded"] = CorralConfig.ProfileOverride(informInterval: 2)
        let server = try CorralServer(config: config)
        try await server.start()
        let (_, real, _, _) = try await Self.onboardOne(server, prefix: "QT-", model: "tr098")
        #expect(real.profile == "guarded")

        // A BOOTSTRAP with the onboarding credentials: refused, marked for approval, credentials untouched.
        var raw = try await RawCPE.connect(server.cwmpPort)
        let r = try await raw.postAuthenticated(RawCPE.inform(serial: "QT-000000", events: ["0 BOOTSTRAP", "1 BOOT"], root: "InternetGatewayDevice."),
                                                user: "corral-tr098", password: "onboard-tr098")
        #expect(r.status == 403)
        #expect(r.bodyString.contains("awaits an operator's approval"), "\(r.bodyString)")
        let held = try #require(try server.store.device(id: real.id))
        #expect(held.rebootstrapHold == .awaitingApproval)
        #expect(held.passwordHA1 == real.passwordHA1)

        // Approved: the next BOOTSTRAP re-onboards, once.
        try await server.store.apply([.updateDeviceSecurity(deviceID: real.id, supersededHA1: "", credentialConflict: false, rebootstrapHold: .approved)])
        var raw2 = try await RawCPE.connect(server.cwmpPort)
        let r2 = try await raw2.postAuthenticated(RawCPE.inform(serial: "QT-000000", events: ["0 BOOTSTRAP", "1 BOOT"], root: "InternetGatewayDevice."),
                                                  user: "corral-tr098", password: "onboard-tr098")
        #expect(r2.status == 200)
        let after = try #require(try server.store.device(id: real.id))
        #expect(after.rebootstrapHold == .none)
        #expect(after.passwordHA1 != real.passwordHA1)
        await server.stop()
    }
}
