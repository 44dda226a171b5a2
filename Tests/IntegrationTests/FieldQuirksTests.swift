import Foundation
import Testing
import ACSCore
import CWMP
@testable import Engine
import Simulator
import Storage

/// Behaviours of independent CPE implementations (issue 17), each reproduced by a simulator quirk.
@Suite(.serialized) struct FieldQuirksTests {
    /// `switches`: the quirk switches of a profile for the simulated devices (nil: the generic profile).
    func start(_ quirks: Set<SimQuirk>, prefix: String, model: String = "tr181", switches: [String]? = nil,
               onboarded: Bool = true) async throws -> (CorralServer, Simulator, Device) {
        var config = serverConfig(data: temporaryDirectory("quirk"), informInterval: 300)
        if let switches {
            let profiles = temporaryDirectory("quirk-profiles")
            try """
                return profile {
                  name = "quirky", extends = "generic-tr181", match = { data_model = "tr181" }, priority = 10, inform_interval = 300,
                  quirks = { \(switches.map { "\($0) = true" }.joined(separator: ", ")) },
                }
                """.write(toFile: profiles + "/quirky.lua", atomically: true, encoding: .utf8)
            config.profilesDirectory = profiles
        }
        let server = try CorralServer(config: config)
        try await server.start()
        var c = SimulatorConfig(acsURL: "http://127.0.0.1:\(server.cwmpPort)/cwmp", count: 1, model: model)
        c.serialPrefix = prefix
        c.dataModelDirectory = Paths.datamodels
        c.httpTimeoutSeconds = 10
        c.quirks = quirks
        let sim = try Simulator(config: c)
        try await sim.start()
        if onboarded {
            try await waitUntil("onboarded", seconds: 30) { try server.store.devices(limit: 5, offset: 0).first?.credentialsConfirmed == true }
        } else {
            try await waitUntil("device created", seconds: 30) { try server.store.devices(limit: 5, offset: 0).first != nil }
        }
        if switches != nil { #expect(try server.store.devices(limit: 5, offset: 0).first?.profile == "quirky") }
        return (server, sim, try #require(try server.store.devices(limit: 5, offset: 0).first))
    }

    @Test func rebootWithAnEmptyCommandKeyIsConfirmed() async throws {
        let (server, sim, d) = try await start([.emptyCommandKey], prefix: "EK-")
        defer { Task { await sim.stop(); await server.stop() } }
        let t = try await runNow(.reboot, on: d, store: server.store)
        #expect(t.state == .done, "\(t.state) \(String(describing: t.fault))")
        let events = try server.store.informs(deviceID: d.id, limit: 3).flatMap(\.events)
        #expect(events.contains("M Reboot"))
    }

    @Test func factoryResetAnsweredWithBootOnOnboardingCredentialsIsTheReset() async throws {
        let (server, sim, d) = try await start([.bootNotBootstrap], prefix: "BB-")
        defer { Task { await sim.stop(); await server.stop() } }
        try await server.store.apply([.updateMetadata(deviceID: d.id, groups: ["lab"], location: "bench 3", description: d.description)])
        let read = "Device.NAT.PortMappingNumberOfEntries"
        _ = try await runNow(.getParameterValues([read]), on: d, store: server.store)
        #expect(try server.store.parameters(deviceID: d.id, prefix: read).first?.updatedAt ?? 0 > 0)
        let t = try await runNow(.factoryReset, on: d, store: server.store, seconds: 30)
        #expect(t.state == .done, "\(t.state) \(String(describing: t.fault))")
        try await waitUntil("re-onboarded with new credentials", seconds: 30) {
            let now = try server.store.device(id: d.id)
            return now?.credentialsConfirmed == true && now?.passwordHA1 != d.passwordHA1
        }
        let after = try #require(try server.store.device(id: d.id))
        #expect(after.id == d.id && after.groups == ["lab"] && after.location == "bench 3")
        // What Corral knew from before the reset is stale until read again.
        #expect(try server.store.parameters(deviceID: d.id, prefix: read).first?.updatedAt == 0)
        let (_, show, _) = try await runCorral(["devices", "show", d.name, "--data", server.config.dataDirectory])
        #expect(show.contains("\(read) = 0  [unsignedInt]  (\(ManagementPaths.staleNote))"), "\(show)")
        #expect(try server.store.devices(limit: 5, offset: 0).count == 1)
    }

    @Test func onboardingReadsSurviveAMissingModelName() async throws {
        let (server, sim, d) = try await start([.missingModelName], prefix: "MM-")
        defer { Task { await sim.stop(); await server.stop() } }
        // The per-path reads go in the data model's order: the absence may be stored after the other values.
        try await waitUntil("device info read and the absence remembered", seconds: 20) {
            guard let now = try server.store.device(id: d.id), !now.hardwareVersion.isEmpty else { return false }
            return try server.store.absentPaths(deviceID: d.id, softwareVersion: now.softwareVersion, since: 0).contains("Device.DeviceInfo.ModelName")
        }
        let now = try #require(try server.store.device(id: d.id))
        #expect(now.modelName.isEmpty && !now.softwareVersion.isEmpty && !now.manufacturer.isEmpty)
        #expect(try server.store.faults(deviceID: d.id, limit: 10).isEmpty)
    }

    @Test func theStoreFollowsAddsDeletesAndRereads() async throws {
        let (server, sim, d) = try await start([], prefix: "SF-")
        defer { Task { await sim.stop(); await server.stop() } }
        let add = try await runNow(.addObject("Device.NAT.PortMapping."), on: d, store: server.store)
        let n = try #require(add.result?.instanceNumber)
        _ = try await runNow(.refresh("Device.NAT.PortMapping."), on: d, store: server.store)
        let instance = "Device.NAT.PortMapping.\(n)."
        #expect(try !server.store.parameters(deviceID: d.id, prefix: instance).isEmpty)
        let del = try await runNow(.deleteObject(instance), on: d, store: server.store)
        #expect(del.state == .done)
        #expect(try server.store.parameters(deviceID: d.id, prefix: instance).isEmpty)
        // A stored value the CPE no longer has goes with the next read of its object.
        try await server.store.apply([.parameters(deviceID: d.id, values: [ParameterValue(name: "Device.NAT.PortMapping.99.Enable", value: "true")], at: 1)])
        _ = try await runNow(.refresh("Device.NAT.PortMapping."), on: d, store: server.store)
        #expect(try server.store.parameters(deviceID: d.id, prefix: "Device.NAT.PortMapping.99.").isEmpty)
    }

    @Test func basicFirstCPEsAreNotThrottled() async throws {
        let (server, sim, d) = try await start([.basicFirst], prefix: "BF-")
        defer { Task { await sim.stop(); await server.stop() } }
        // Several sessions, each starting with a refused Basic: all open, and the address is never throttled.
        for _ in 0..<4 {
            let t = try await runNow(.getParameterValues(["Device.DeviceInfo.UpTime"]), on: d, store: server.store)
            #expect(t.state == .done)
        }
        let (wait, _) = server.cwmp.authThrottle.wait(user: nil, address: "127.0.0.1", now: Int64(Date().timeIntervalSince1970))
        #expect(wait == 0)
    }

    @Test func echoedPasswordsAreMaskedForPeople() async throws {
        let (server, sim, d) = try await start([.echoPasswords], prefix: "EP-")
        defer { Task { await sim.stop(); await server.stop() } }
        let path = "Device.ManagementServer.ConnectionRequestPassword"
        let t = try await runNow(.getParameterValues([path]), on: d, store: server.store)
        let echoed = try #require(t.result?.values.first { $0.name == path }?.value)
        #expect(!echoed.isEmpty)   // the CPE did echo it
        #expect(ManagementPaths.shown(path, echoed) == "********")
        let (_, text, _) = try await runCorral(["devices", "show", d.name, "--data", server.config.dataDirectory])
        #expect(text.contains(path + " = ********"), "\(text)")
        #expect(!text.contains(echoed), "the CLI printed a secret")
        let (_, json, _) = try await runCorral(["devices", "show", d.name, "--json", "--data", server.config.dataDirectory])
        #expect(!json.contains(echoed), "the CLI printed a secret as JSON")
    }

    @Test func aValueNeverReadIsTypedFromTheDataModel() async throws {
        let (server, sim, d) = try await start([], prefix: "TY-")
        defer { Task { await sim.stop(); await server.stop() } }
        let path = "Device.Time.Enable"
        #expect(try server.store.parameters(deviceID: d.id, prefix: path).isEmpty)
        // boolean in TR-181: as xsd:string the CPE would answer 9006.
        let (status, out, err) = try await runCorral(["task", d.name, "set", "\(path)=true", "--now", "--data", server.config.dataDirectory])
        #expect(status == 0, "\(out)\n\(err)")
        #expect(out.contains(": done"), "\(out)")
        // A fault reads "fault <code> <message>", once.
        let (bad, badOut, _) = try await runCorral(["task", d.name, "get", "Device.NoSuch.Thing", "--now", "--data", server.config.dataDirectory])
        #expect(bad == 1 && badOut.contains("fault 9005 ") && !badOut.contains("fault fault"), "\(badOut)")
        let (_, show, _) = try await runCorral(["devices", "show", d.name, "--data", server.config.dataDirectory])
        #expect(show.contains("get fault 9005 ") && !show.contains("fault fault"), "\(show)")
    }

    // Quirk switches (profile `quirks = { ... }`): what Corral cannot detect by itself.

    @Test func noCookiesKeepsASessionAcrossConnections() async throws {
        // Without the switch the cookie-less CPE's empty POST on a new connection starts nothing: it never onboards.
        let (plain, plainSim, d0) = try await start([.noCookies], prefix: "NC-", onboarded: false)
        try await waitUntil("a failed session", seconds: 20) { plainSim.stats.failures > 0 }
        #expect(try plain.store.device(id: d0.id)?.credentialsConfirmed == false)
        await plainSim.stop(); await plain.stop()

        let (server, sim, d) = try await start([.noCookies], prefix: "NC-", switches: ["no_cookies"])
        defer { Task { await sim.stop(); await server.stop() } }
        let t = try await runNow(.getParameterValues(["Device.DeviceInfo.UpTime"]), on: d, store: server.store)
        #expect(t.state == .done, "\(t.state) \(String(describing: t.fault))")
        #expect(sim.stats.failures == 0, "\(sim.stats.recentErrors)")
    }

    @Test func aSilentRebootIsConfirmedByTheNextSessionWithTheSwitch() async throws {
        let (plain, plainSim, d0) = try await start([.silentReboot], prefix: "SR-")
        // Without the switch nothing in the CPE's next Inform says it rebooted: the task keeps waiting.
        let service = TaskService(store: plain.store)
        let waiting = try await service.queue(.reboot, on: d0)
        try await ConnectionRequester.send(to: d0)
        try await waitUntil("the session after the reboot", seconds: 20) {
            try plain.store.informs(deviceID: d0.id, limit: 1).first.map { $0.events.contains("2 PERIODIC") && !$0.events.contains("1 BOOT") } == true
        }
        #expect(try plain.store.task(id: waiting.id)?.state == .waiting)
        await plainSim.stop(); await plain.stop()

        let (server, sim, d) = try await start([.silentReboot], prefix: "SR-", switches: ["reboot_without_commandkey"])
        defer { Task { await sim.stop(); await server.stop() } }
        let t = try await runNow(.reboot, on: d, store: server.store)
        #expect(t.state == .done, "\(t.state) \(String(describing: t.fault))")
        #expect(try server.store.informs(deviceID: d.id, limit: 1).first.map { $0.events.contains("2 PERIODIC") && !$0.events.contains("1 BOOT") } == true)
    }

    @Test func stringValuesAreSentAsStringsWithTheSwitch() async throws {
        // Without the switch the onboarding write (typed boolean and unsignedInt) is refused with 9006.
        let (plain, plainSim, d0) = try await start([.stringValues], prefix: "SV-", onboarded: false)
        try await waitUntil("the 9006 fault", seconds: 20) {
            try plain.store.faults(deviceID: d0.id, limit: 10).contains { $0.code == 9003 || $0.code == 9006 }
        }
        #expect(try plain.store.device(id: d0.id)?.credentialsConfirmed == false)
        await plainSim.stop(); await plain.stop()

        let (server, sim, d) = try await start([.stringValues], prefix: "SV-", switches: ["string_values"])
        defer { Task { await sim.stop(); await server.stop() } }
        let (status, out, err) = try await runCorral(["task", d.name, "set", "Device.Time.Enable=true", "--now", "--data", server.config.dataDirectory])
        #expect(status == 0 && out.contains(": done"), "\(out)\n\(err)")
        // Stored with the type the data model gives it, whatever went over the wire.
        #expect(try server.store.parameters(deviceID: d.id, prefix: "Device.Time.Enable").first?.value == "true")
    }
}

/// `no_cookies` continuation is bound to what only that CPE has: its own credentials, or on shared onboarding
/// credentials the Digest nonce its Inform used (another CPE behind the same address has its own).
@Suite struct NoCookiesBindingTests {
    func session(_ id: Int64, noCookies: Bool, user: String, nonce: String, address: String = "198.51.100.7") -> SessionContext {
        var d = Device(name: "00C0FF-NC\(id)", oui: "00C0FF", productClass: "P", serialNumber: "NC\(id)", createdAt: 1)
        d.id = id
        let s = SessionContext(token: "t\(id)", connectionID: UInt64(id), remoteAddress: address, quirks: ProfileQuirks(noCookies: noCookies),
                               machine: CWMPSession(), device: d, now: 1)
        s.onboardingUsername = user
        s.onboardingNonce = nonce
        return s
    }

    @Test func onlyTheNonceOfItsInformContinuesASessionOnSharedCredentials() {
        let table = SessionTable()
        _ = table.insert(session(1, noCookies: true, user: "corral-tr181", nonce: "nonce-a"))
        _ = table.insert(session(2, noCookies: true, user: "corral-tr181", nonce: "nonce-b"))
        _ = table.insert(session(3, noCookies: false, user: "", nonce: ""))
        #expect(table.findWithoutCookie(deviceID: nil, onboardingUsername: "corral-tr181", nonce: "nonce-a", address: "198.51.100.7")?.device.id == 1)
        #expect(table.findWithoutCookie(deviceID: nil, onboardingUsername: "corral-tr181", nonce: "nonce-b", address: "198.51.100.7")?.device.id == 2)
        // A neighbour with a nonce of its own, the right nonce from elsewhere, or no nonce (Basic): nothing.
        #expect(table.findWithoutCookie(deviceID: nil, onboardingUsername: "corral-tr181", nonce: "nonce-c", address: "198.51.100.7") == nil)
        #expect(table.findWithoutCookie(deviceID: nil, onboardingUsername: "corral-tr181", nonce: "nonce-a", address: "198.51.100.8") == nil)
        #expect(table.findWithoutCookie(deviceID: nil, onboardingUsername: "corral-tr181", nonce: "", address: "198.51.100.7") == nil)
        // Its own credentials continue its session, and only where the profile has the switch.
        #expect(table.findWithoutCookie(deviceID: 1, onboardingUsername: "", nonce: "", address: "203.0.113.1")?.device.id == 1)
        #expect(table.findWithoutCookie(deviceID: 3, onboardingUsername: "", nonce: "", address: "198.51.100.7") == nil)
    }
}
