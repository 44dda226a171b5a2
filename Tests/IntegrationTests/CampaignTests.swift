import Foundation
import Testing
import ACSCore
import CWMP
@testable import Engine
import Scripting
import Simulator
import Storage

/// Campaigns against simulated CPEs: the stop rule, waves, a server restart in the middle.
@Suite(.serialized) struct CampaignTests {
    static var registry: ProfileRegistry { ProfileLibrary.load(directory: nil).0.registry }
    static var now: Int64 { Int64(Date().timeIntervalSince1970) }

    func onboard(_ server: CorralServer, _ count: Int, prefix: String) async throws -> Simulator {
        let sim = try simulator(port: server.cwmpPort, count: count, model: "tr181", prefix: prefix)
        try await sim.start()
        try await waitUntil("\(count) devices onboarded", seconds: 40) {
            let all = try server.store.devices(limit: 100, offset: 0)
            return all.count == count && all.allSatisfy { $0.credentialsConfirmed && !$0.modelName.isEmpty }
        }
        return sim
    }

    @Test func aCampaignWhoseScriptCannotStartIsStoppedOnceWithItsReason() async throws {
        let data = temporaryDirectory("camp-broken")
        defer { try? FileManager.default.removeItem(atPath: data) }
        let store = try SQLStore(directory: data)
        defer { store.close() }
        let d = try await store.createDevice(Device(name: "00C0FF-B1", oui: "00C0FF", productClass: "P", serialNumber: "B1", createdAt: 1))
        // Saved as running (as after an upgrade or a hand edit), but its top level fails every time it is loaded.
        var record = CampaignRecord(name: "broken", scriptName: "broken.lua", script: "campaign { name = 'broken' }\nerror('cannot start')",
                                    perMinute: 60, concurrent: 1, failureRate: 1, minDevices: 1, connectionRequest: false, createdAt: Self.now)
        record.state = .running
        let c = try await store.createCampaign(record, targets: [(deviceID: d.id, wave: 0)])
        let runner = CampaignRunner(store: store, registry: Self.registry)
        for i in 0..<3 { await runner.step(now: Double(Self.now + Int64(i))) }
        let after = try #require(try store.campaign(id: c.id))
        #expect(after.state == .stopped)
        #expect(after.stopReason.contains("script failed to start") && after.stopReason.contains("cannot start"), "\(after.stopReason)")
    }

    @Test func stopRuleTripsOnCPEFaults() async throws {
        let server = try CorralServer(config: serverConfig(data: temporaryDirectory("camp-stop")))
        try await server.start()
        let sim = try await onboard(server, 12, prefix: "CS-")
        // Even serials get channel 300, outside the CPE's 1..255 range: fault 9007. Serial order alternates.
        let source = """
            campaign {
              name = "channel test",
              target = { profile = "generic-tr181", order = "serial" },
              rate = { per_minute = 600, concurrent = 2 },
              waves = { 2 },
              stop_if = { failure_rate = 0.3, min_devices = 4 },
              connection_request = true,
              apply = function(dev)
                local n = tonumber(dev.serial:sub(-1))
                dev:set("wifi.channel", n % 2 == 0 and 300 or 11)
              end,
            }
            """
        let service = CampaignService(store: server.store, registry: Self.registry)
        // Dry run: every device and its change, nothing written.
        var planned: [String: String] = [:]
        let n = try service.dryRun(source: source, name: "channel.lua", now: Self.now) { d, r in planned[d.serialNumber] = (try? r.get())?.map(\.description).joined() }
        #expect(n == 12)
        #expect(planned["CS-000003"] == "set Device.WiFi.Radio.1.Channel=11")
        #expect(try server.store.campaigns(states: []).isEmpty)

        let c = try await service.start(source: source, name: "channel.lua", now: Self.now)
        try await waitUntil("the stop rule", seconds: 40) { try server.store.campaign(id: c.id)?.state.isFinal == true }
        let final = try #require(try server.store.campaign(id: c.id))
        let p = try server.store.campaignProgress(campaignID: c.id)
        #expect(final.state == .stopped, "\(final.stopReason)")
        #expect(final.stopReason.hasPrefix("stop rule:"))
        #expect(p.count(.failed) >= 2)
        #expect(p.count(.skipped) >= 4, "\(p.counts)")
        let failed = try server.store.campaignDevices(campaignID: c.id, states: [.failed], limit: 20)
        #expect(failed.allSatisfy { $0.error.contains("9007") }, "\(failed.map(\.error))")
        // Nothing started after the stop: skipped devices have no tasks and kept their channel.
        let skipped = try server.store.campaignDevices(campaignID: c.id, states: [.skipped], limit: 20)
        #expect(skipped.allSatisfy { $0.taskIDs.isEmpty })
        print(CampaignService.progressLine(final, p))
        await sim.stop()
        await server.stop()
    }

    @Test func campaignSurvivesAServerRestart() async throws {
        let data = temporaryDirectory("camp-restart")
        // Restarted on the same port: one outside the kernel's ephemeral range, which client sockets may take meanwhile.
        var server = try CorralServer(config: serverConfig(data: data, cwmpPort: try restartablePort()))
        try await server.start()
        let port = server.cwmpPort
        let sim = try await onboard(server, 6, prefix: "CR-")
        let source = """
            campaign {
              name = "rename",
              target = { profile = "generic-tr181", order = "serial" },
              rate = { per_minute = 60, concurrent = 1 },
              waves = { 1 },
              connection_request = true,
              apply = function(dev) dev:set("wifi.ssid", "Renamed-" .. dev.serial:sub(-2)) end,
            }
            """
        let c = try await CampaignService(store: server.store, registry: Self.registry).start(source: source, name: "rename.lua", now: Self.now)
        try await waitUntil("two devices done", seconds: 30) { try server.store.campaignProgress(campaignID: c.id).count(.done) >= 2 }
        await server.stop()
        let paused = try SQLStore(directory: data)
        #expect(try paused.campaign(id: c.id)?.state == .running)
        let doneAtStop = try paused.campaignProgress(campaignID: c.id).count(.done)
        #expect(doneAtStop < 6)
        paused.close()

        server = try CorralServer(config: serverConfig(data: data, cwmpPort: port))
        try await server.start()
        try await waitUntil("campaign done after the restart", seconds: 60) { try server.store.campaign(id: c.id)?.state == .done }
        #expect(try server.store.campaignProgress(campaignID: c.id).count(.done) == 6)
        for i in 0..<6 {
            #expect(sim.device(serial: String(format: "CR-%06d", i))?.value("Device.WiFi.SSID.1.SSID") == String(format: "Renamed-%02d", i))
        }
        await sim.stop()
        await server.stop()
    }

    @Test func pauseResumeAndCancel() async throws {
        let server = try CorralServer(config: serverConfig(data: temporaryDirectory("camp-control")))
        try await server.start()
        let sim = try await onboard(server, 4, prefix: "CC-")
        let service = CampaignService(store: server.store, registry: Self.registry)
        let c = try await service.start(source: """
            campaign { name = "slow", target = {}, rate = { per_minute = 1, concurrent = 1 },
                       apply = function(dev) dev:set("wifi.ssid", "Slow") end }
            """, name: "slow.lua", now: Self.now)
        #expect(try await service.control(c.id, .pause, now: Self.now).state == .paused)
        await #expect(throws: ScriptError.self) { try await service.control(c.id, .pause, now: Self.now) }
        #expect(try await service.control(c.id, .resume, now: Self.now).state == .running)
        try await waitUntil("one device started", seconds: 10) { try server.store.campaignProgress(campaignID: c.id).count(.pending) < 4 }
        #expect(try await service.control(c.id, .cancel, now: Self.now).state == .cancelled)
        try await waitUntil("pending devices skipped", seconds: 10) { try server.store.campaignProgress(campaignID: c.id).count(.pending) == 0 }
        #expect(try server.store.campaignProgress(campaignID: c.id).count(.skipped) == 3)
        await sim.stop()
        await server.stop()
    }
}
