import Foundation
import Testing
import ACSCore
@testable import Engine
import Scripting
import Simulator
import Storage

/// Profiles and automations reloaded while serving: the next sessions run the new hooks, a broken profile set
/// changes nothing, a broken automation file keeps its previous version, and every accepted version is stored with
/// who and when (and audited with its text).
@Suite(.serialized) struct ReloadTests {
    static func profile(_ ssid: String) -> String {
        """
        return profile {
          name = "reload-tr181", extends = "generic-tr181", match = { data_model = "tr181", product_class = "SimRouter" },
          description = "\(ssid)",
          on = { inform = function(dev) dev:set("wifi.ssid", "\(ssid)") end },
        }
        """
    }

    @Test func reloadsInstallOnlyWhatValidatesAndKeepVersions() async throws {
        let data = temporaryDirectory("reload")
        let profiles = temporaryDirectory("reload-profiles")
        let automations = temporaryDirectory("reload-automations")
        defer { for d in [data, profiles, automations] { try? FileManager.default.removeItem(atPath: d) } }
        try Self.profile("v1").write(toFile: profiles + "/reload.lua", atomically: true, encoding: .utf8)
        try "every('1h', function() end)".write(toFile: automations + "/tick.lua", atomically: true, encoding: .utf8)
        var config = serverConfig(data: data)
        config.profilesDirectory = profiles
        config.automationsDirectory = automations
        config.watchScripts = false
        config.profiles["reload-tr181"] = CorralConfig.ProfileOverride(onboardingUsername: nil, onboardingPassword: nil, informInterval: 2)
        let server = try CorralServer(config: config)
        try await server.start()
        let watcher = server.reloader.watch(every: .milliseconds(200))
        defer { watcher.cancel() }
        let sim = try simulator(port: server.cwmpPort, count: 1, model: "tr181", prefix: "RLD-")
        try await sim.start()
        let cpe = try #require(sim.device(serial: "RLD-000000"))
        try await waitUntil("the v1 hook's SSID", seconds: 30) { cpe.value("Device.WiFi.SSID.1.SSID") == "v1" }
        var versions = try server.store.scriptVersions(kind: nil, name: nil, beforeID: nil, limit: 10)
        #expect(versions.map { "\($0.kind.rawValue) \($0.name) \($0.createdBy)" }.sorted() == ["automation tick.lua start", "profile reload.lua start"])

        // A file change is picked up by the watcher: the next sessions run v2.
        try Self.profile("v2").write(toFile: profiles + "/reload.lua", atomically: true, encoding: .utf8)
        try await waitUntil("the v2 hook's SSID on the CPE", seconds: 30) { cpe.value("Device.WiFi.SSID.1.SSID") == "v2" }
        #expect(server.profiles.profile(named: "reload-tr181")?.description == "v2")
        try await waitUntil("the v2 version stored", seconds: 10) {
            try server.store.latestScriptVersions(kind: .profile)["reload.lua"]?.createdBy == "file change"
        }
        var aq = AuditQuery()
        aq.action = "profile.version"
        let audit = try server.store.audit(aq)
        #expect(audit.first?.before?.contains("\"v1\"") == true && audit.first?.after?.contains("\"v2\"") == true)

        // A broken profile set changes nothing; a broken automation file keeps its previous version.
        try "return profile { name = 'broken', extends = 'nope' }".write(toFile: profiles + "/broken.lua", atomically: true, encoding: .utf8)
        let refused = await server.reloader.reload(by: "test")
        #expect(!refused.accepted && refused.problems.contains { $0.contains("broken.lua") }, "\(refused)")
        #expect(server.profiles.profile(named: "broken") == nil && server.profiles.profile(named: "reload-tr181")?.description == "v2")
        try FileManager.default.removeItem(atPath: profiles + "/broken.lua")
        try "every('1h', function() end)\non('device.boot', function(dev) dev:reboot() end)".write(toFile: automations + "/tick.lua", atomically: true, encoding: .utf8)
        let added = await server.reloader.reload(by: "test")
        #expect(added.accepted && added.changed == ["automations/tick.lua"], "\(added)")
        #expect(server.automations.statuses.first { $0.file == "tick.lua" }?.handlers.count == 2)
        try "this is not lua".write(toFile: automations + "/tick.lua", atomically: true, encoding: .utf8)
        let kept = await server.reloader.reload(by: "test")
        #expect(kept.accepted && kept.changed.isEmpty && kept.problems.contains { $0.contains("previous one keeps running") }, "\(kept)")
        #expect(server.automations.statuses.first { $0.file == "tick.lua" }?.handlers.count == 2)
        versions = try server.store.scriptVersions(kind: .automation, name: "tick.lua", beforeID: nil, limit: 10)
        #expect(versions.map(\.createdBy) == ["test", "start"], "the refused text is no version")
        await sim.stop()
        await server.stop()
    }
}
