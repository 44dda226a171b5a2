import Foundation
import Testing
import ACSCore
import CWMP
import DataModel
@testable import Engine
import NetHTTP
import Simulator
import Storage

/// A live server on a real socket with a real SQLite file, driven by the simulator over CWMP only.
@Suite(.serialized) struct EndToEndTests {
    @Test func fleetOnboardsAndIsManagedAcrossARestart() async throws {
        let data = temporaryDirectory("e2e")
        // Restarted on the same port: one outside the kernel's ephemeral range, which client sockets may take meanwhile.
        var server = try CorralServer(config: serverConfig(data: data, cwmpPort: try restartablePort()))
        try await server.start()
        let port = server.cwmpPort
        let sim181 = try simulator(port: port, count: 50, model: "tr181", prefix: "T181-")
        let sim098 = try simulator(port: port, count: 50, model: "tr098", prefix: "T098-")
        try await sim181.start()
        try await sim098.start()
        defer { Task { await sim181.stop(); await sim098.stop() } }

        // 1. All 100 onboard: named OUI-Serial, bound to their profile, with their own unique credentials.
        try await waitUntil("100 devices onboarded", seconds: 60) {
            let all = try server.store.devices(limit: 200, offset: 0)
            // Onboarded = credentials confirmed and identity read (the GPV after the SPV, same session).
            return all.count == 100 && all.allSatisfy { $0.credentialsConfirmed && !$0.modelName.isEmpty }
        }
        let devices = try server.store.devices(limit: 200, offset: 0)
        #expect(Set(devices.map(\.passwordHA1)).count == 100)
        #expect(Set(devices.map(\.connectionRequestPassword)).count == 100)
        for d in devices {
            #expect(d.name == "\(d.oui)-\(d.serialNumber)")
            #expect(d.description.hasPrefix("Onboarded "))
            #expect(d.profile == (d.serialNumber.hasPrefix("T181-") ? "generic-tr181" : "generic-tr098"))
            #expect(d.dataModel == (d.serialNumber.hasPrefix("T181-") ? .tr181 : .tr098))
            #expect(!d.modelName.isEmpty)
        }
        // The virtual CPEs now hold the credentials the ACS generated, not the onboarding ones.
        let cpe = try #require(sim181.device(serial: "T181-000007"))
        #expect(cpe.value("Device.ManagementServer.Username") == "00C0FF-T181-000007")
        #expect(cpe.value("Device.ManagementServer.PeriodicInformInterval") == "2")

        // 2. They keep informing with their own credentials (the profile set a 2 s interval).
        let before = Dictionary(uniqueKeysWithValues: devices.map { ($0.id, try! server.store.informs(deviceID: $0.id, limit: 100).count) })
        try await waitUntil("every device informs again", seconds: 30) {
            try devices.allSatisfy { try server.store.informs(deviceID: $0.id, limit: 100).count > before[$0.id]! }
        }
        #expect(sim181.stats.snapshot.failures == 0, "\(sim181.stats.errors)")
        #expect(sim098.stats.snapshot.failures == 0, "\(sim098.stats.errors)")

        // 3. Set the WiFi SSID now (connection request, Digest): applied on the simulated CPE.
        let d181 = try #require(try server.store.device(name: "00C0FF-T181-000007"))
        let spv = try await runNow(.setParameterValues([ParameterValue(name: "Device.WiFi.SSID.1.SSID", value: "Corral-Test")]), on: d181, store: server.store)
        #expect(spv.state == .done)
        #expect(cpe.value("Device.WiFi.SSID.1.SSID") == "Corral-Test")
        #expect(try server.store.parameters(deviceID: d181.id, prefix: "Device.WiFi.SSID.1.SSID").first?.value == "Corral-Test")

        let d098 = try #require(try server.store.device(name: "00C0FF-T098-000003"))
        let ssid098 = "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID"
        #expect(try await runNow(.setParameterValues([ParameterValue(name: ssid098, value: "IGD-Test")]), on: d098, store: server.store).state == .done)
        #expect(sim098.device(serial: "T098-000003")?.value(ssid098) == "IGD-Test")

        // 4. A GPV of a missing path is recorded as fault 9005 against the task.
        let gpv = try await runNow(.getParameterValues(["Device.No.Such.Parameter"]), on: d181, store: server.store)
        #expect(gpv.state == .fault)
        #expect(gpv.fault?.code == 9005)
        #expect(try server.store.faults(deviceID: d181.id, limit: 10).contains { $0.code == 9005 && $0.taskID == gpv.id })

        // 5. Reboot: confirmed by "1 BOOT" + "M Reboot" with the task's command key.
        let bootBefore = try #require(try server.store.device(id: d181.id)).lastBoot
        let reboot = try await runNow(.reboot, on: d181, store: server.store)
        #expect(reboot.state == .done)
        #expect(try #require(try server.store.device(id: d181.id)).lastBoot >= bootBefore)
        #expect(try server.store.informs(deviceID: d181.id, limit: 10).contains { $0.events.contains("M Reboot") })

        // 6. Factory reset: BOOTSTRAP with the model credentials, re-onboarded as the same device, metadata kept.
        try await server.store.apply([.updateMetadata(deviceID: d181.id, groups: ["pilot"], location: "Lab 2", description: "Onboarded earlier; rack 4")])
        let oldHA1 = try #require(try server.store.device(id: d181.id)).passwordHA1
        let reset = try await runNow(.factoryReset, on: d181, store: server.store)
        #expect(reset.state == .done)
        try await waitUntil("re-onboarding after factory reset", seconds: 20) {
            let d = try server.store.device(id: d181.id)
            return d?.credentialsConfirmed == true && d?.passwordHA1 != oldHA1
        }
        let after = try #require(try server.store.device(name: "00C0FF-T181-000007"))
        #expect(after.id == d181.id)
        #expect(after.groups == ["pilot"])
        #expect(after.location == "Lab 2")
        #expect(after.description == "Onboarded earlier; rack 4")
        // The reset really wiped the CPE: its SSID is back to the factory value.
        #expect(cpe.value("Device.WiFi.SSID.1.SSID") == "Corral-0007")
        #expect(try server.store.deviceCount() == 100)

        // 7. Restart the server in the middle: nothing is lost, devices carry on with their own credentials.
        let failuresBefore = sim181.stats.snapshot.failures + sim098.stats.snapshot.failures
        await server.stop()
        server = try CorralServer(config: serverConfig(data: data, cwmpPort: port))
        try await server.start()
        #expect(try server.store.deviceCount() == 100)
        #expect(try server.store.task(id: spv.id)?.state == .done)
        #expect(try server.store.device(id: d181.id)?.location == "Lab 2")
        let informsAtRestart = try server.store.informs(deviceID: d098.id, limit: 1000).count
        try await waitUntil("devices inform the restarted server", seconds: 40) {
            try server.store.informs(deviceID: d098.id, limit: 1000).count > informsAtRestart
        }
        let spv2 = try await runNow(.setParameterValues([ParameterValue(name: ssid098, value: "After-Restart")]), on: d098, store: server.store)
        #expect(spv2.state == .done)
        #expect(sim098.device(serial: "T098-000003")?.value(ssid098) == "After-Restart")
        // Sessions cut by the restart fail at most once per device and then recover (CWMP retry).
        #expect(sim181.stats.snapshot.failures + sim098.stats.snapshot.failures - failuresBefore <= 100)
        await sim181.stop()
        await sim098.stop()
        await server.stop()
    }
}
