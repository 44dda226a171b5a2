import Foundation
import Testing
import ACSCore
import CWMP
@testable import Engine
import Scripting
import Simulator
import Storage

/// Profiles provisioning real simulated CPEs over CWMP: hooks that suspend on reads, desired values, KPIs, faults.
@Suite(.serialized) struct ProvisioningTests {
    @Test func lteRouterIsProvisionedByItsProfile() async throws {
        let data = temporaryDirectory("prov-lte")
        var config = serverConfig(data: data)
        config.profilesDirectory = Paths.packageRoot + "/profiles"
        config.secrets = ["acme-r1-onboarding": "r1-secret"]
        config.profiles["acme-lte-r1"] = CorralConfig.ProfileOverride(onboardingUsername: nil, onboardingPassword: nil, informInterval: 2)
        // KPI samples reach automations as `kpi` events (written only because a handler listens).
        let automations = temporaryDirectory("prov-lte-automations")
        defer { try? FileManager.default.removeItem(atPath: automations) }
        try """
            on("kpi", { name = "lte.sinr" }, function(dev, event)
              if event.data.value > 0 then dev:tag("sinr-positive") end
            end)
            """.write(toFile: automations + "/kpi.lua", atomically: true, encoding: .utf8)
        config.automationsDirectory = automations
        let server = try CorralServer(config: config)
        try await server.start()
        var sc = SimulatorConfig(acsURL: "http://127.0.0.1:\(server.cwmpPort)/cwmp", count: 3, model: Paths.packageRoot + "/profiles/fixtures/acme-lte-r1.json")
        sc.serialPrefix = "LTE-"
        sc.username = "acme-r1"
        sc.password = "r1-secret"
        sc.jitter = 0.2
        sc.httpTimeoutSeconds = 10
        let sim = try Simulator(config: sc)
        try await sim.start()

        try await waitUntil("3 routers onboarded on their profile", seconds: 30) {
            let all = try server.store.devices(limit: 10, offset: 0)
            return all.count == 3 && all.allSatisfy { $0.credentialsConfirmed && $0.profile == "acme-lte-r1" }
        }
        let cpe = try #require(sim.device(serial: "LTE-000001"))
        // Desired values (APN, NTP, STUN) and the bootstrap hook's SSID reach the CPE.
        try await waitUntil("desired values on the CPE", seconds: 20) {
            cpe.value("Device.Cellular.AccessPoint.1.APN") == "internet" && cpe.value("Device.WiFi.SSID.1.SSID") == "ACME-0001"
        }
        #expect(cpe.value("Device.Time.NTPServer1") == "pool.ntp.org")
        #expect(["true", "1"].contains(cpe.value("Device.ManagementServer.STUNEnable") ?? ""))
        #expect(cpe.value("Device.ManagementServer.STUNServerAddress") == "stun.corral.example")
        #expect(cpe.value("Device.ManagementServer.STUNMinimumKeepAlivePeriod") == "60")

        let device = try #require(try server.store.device(name: "00D09E-LTE-000001"))
        // The inform hook suspended on the cell ID (never read), the engine read it, and the hook went on.
        try await waitUntil("cell ID read by the suspended hook", seconds: 20) {
            try server.store.parameterValues(deviceIDs: [device.id], paths: ["Device.Cellular.Interface.1.X_ACME_CellID"])[device.id] != nil
        }
        // KPIs sampled on each Inform, from the standard and the vendor path.
        try await waitUntil("KPI samples", seconds: 20) {
            try server.store.kpiSamples(deviceID: device.id, name: "lte.sinr", limit: 10).count >= 2
        }
        // The fixture's SINR 13 and RSSI -71, wandering by at most 2 per session (the simulator's radio drift).
        for (name, start) in [("lte.sinr", 13.0), ("lte.rssi", -71.0)] {
            let samples = try server.store.kpiSamples(deviceID: device.id, name: name, limit: 100).reversed().map(\.value)
            let first = try #require(samples.first)
            #expect(abs(first - start) <= 2, "\(name): first sample \(first)")
            #expect(zip(samples, samples.dropFirst()).allSatisfy { abs($0 - $1) <= 2 }, "\(name): \(samples)")
        }
        #expect(try server.store.faults(deviceID: device.id, limit: 20).filter { $0.source == "provision" }.isEmpty)
        #expect(try server.store.provisionStates(deviceID: device.id).isEmpty)
        try await waitUntil("the kpi handler's tag", seconds: 20) { try server.store.device(id: device.id)?.tags == ["sinr-positive"] }
        #expect(try server.store.events(deviceID: device.id, limit: 200).filter { $0.kind == "kpi" }.allSatisfy { $0.data.contains("\"name\":\"lte.") })

        // Idempotent: a customer's SSID change survives later sessions (the SSID is only set on bootstrap).
        cpe.withModel { _ = $0.force("Device.WiFi.SSID.1.SSID", "Customer") }
        let informs = try server.store.informs(deviceID: device.id, limit: 100).count
        try await waitUntil("two more sessions", seconds: 20) { try server.store.informs(deviceID: device.id, limit: 100).count >= informs + 2 }
        #expect(cpe.value("Device.WiFi.SSID.1.SSID") == "Customer")
        #expect(sim.stats.snapshot.failures == 0, "\(sim.stats.errors)")
        await sim.stop()
        await server.stop()
    }

    @Test func provisionFaultsAreRecordedWithBackoff() async throws {
        let data = temporaryDirectory("prov-fault")
        let profiles = temporaryDirectory("prov-fault-profiles")
        try """
            -- More specific than generic-tr181 for the simulator's routers, with the same onboarding credentials.
            return profile {
              name = "strict-tr181", extends = "generic-tr181", match = { data_model = "tr181", product_class = "SimRouter" },
              desired = { ["Device.DeviceInfo.Manufacturer"] = "Nope" },   -- read-only on the CPE: fault 9008
              on = { inform = function(dev) dev:set("wifi.ssid", "Strict-" .. dev.serial:sub(-2)) end },
            }
            """.write(toFile: profiles + "/strict.lua", atomically: true, encoding: .utf8)
        var config = serverConfig(data: data)
        config.profilesDirectory = profiles
        config.profiles["strict-tr181"] = CorralConfig.ProfileOverride(onboardingUsername: nil, onboardingPassword: nil, informInterval: 2)
        let server = try CorralServer(config: config)
        try await server.start()
        let sim = try simulator(port: server.cwmpPort, count: 2, model: "tr181", prefix: "STR-")
        try await sim.start()

        try await waitUntil("onboarded on the strict profile", seconds: 30) {
            let all = try server.store.devices(limit: 10, offset: 0)
            return all.count == 2 && all.allSatisfy { $0.credentialsConfirmed && $0.profile == "strict-tr181" }
        }
        let device = try #require(try server.store.device(name: "00C0FF-STR-000001"))
        try await waitUntil("a provision fault", seconds: 20) { !(try server.store.provisionStates(deviceID: device.id)).isEmpty }
        let state = try #require(try server.store.provisionStates(deviceID: device.id).first)
        #expect(state.script == "strict-tr181:desired")
        #expect(state.lastError.contains("9008"), "\(state.lastError)")
        #expect(state.nextRetry > state.updatedAt)
        let fault = try #require(try server.store.faults(deviceID: device.id, limit: 20).first { $0.source == "provision" })
        #expect(fault.detail.hasPrefix("strict-tr181:desired, attempt 1"))
        // Only the faulty value was refused: the hook's SSID, in the same SetParameterValues batch, was re-sent and applied.
        let cpe = try #require(sim.device(serial: "STR-000001"))
        try await waitUntil("the hook's write applied", seconds: 20) { cpe.value("Device.WiFi.SSID.1.SSID") == "Strict-01" }
        #expect(cpe.value("Device.DeviceInfo.Manufacturer") != "Nope")
        // In backoff, later sessions do not retry it (one attempt until the 30 s backoff passes).
        let informs = try server.store.informs(deviceID: device.id, limit: 100).count
        try await waitUntil("two more sessions", seconds: 20) { try server.store.informs(deviceID: device.id, limit: 100).count >= informs + 2 }
        let after = try server.store.provisionStates(deviceID: device.id)
        let faultLog = try server.store.faults(deviceID: device.id, limit: 20).map { "\($0.at) \($0.detail)" }
        #expect(after.first?.attempts == 1, "\(after) faults: \(faultLog)")
        await sim.stop()
        await server.stop()
    }

    /// Objects end to end on simulated CPEs: an instance count held declaratively, a subtree read, a virtual parameter
    /// stored and filterable like any other, and a vendor path the CPE lacks remembered as absent.
    @Test func objectsAndVirtualParametersOnRealCPEs() async throws {
        let data = temporaryDirectory("prov-objects")
        let profiles = temporaryDirectory("prov-objects-profiles")
        defer { for d in [data, profiles] { try? FileManager.default.removeItem(atPath: d) } }
        try """
            return profile {
              name = "objects-tr181", extends = "generic-tr181", match = { data_model = "tr181", product_class = "SimRouter" },
              kpis = { "Device.DeviceInfo.X_NOPE_Signal" },
              virtual = {
                ["wifi.ssid_count"] = function(dev)
                  local n = 0
                  for k in pairs(dev:get("Device.WiFi.SSID.") or {}) do if k:match("^%d+%.SSID$") then n = n + 1 end end
                  return n
                end,
              },
              on = {
                inform = function(dev)
                  local ids = dev:instances("Device.WiFi.SSID.", { count = 3 })
                  dev:set("Device.WiFi.SSID." .. ids[#ids] .. ".SSID", "Guest-" .. dev.serial:sub(-2))
                end,
              },
            }
            """.write(toFile: profiles + "/objects.lua", atomically: true, encoding: .utf8)
        var config = serverConfig(data: data)
        config.profilesDirectory = profiles
        config.profiles["objects-tr181"] = CorralConfig.ProfileOverride(onboardingUsername: nil, onboardingPassword: nil, informInterval: 2)
        let server = try CorralServer(config: config)
        try await server.start()
        let sim = try simulator(port: server.cwmpPort, count: 2, model: "tr181", prefix: "OBJ-")
        try await sim.start()
        let cpe = try #require(sim.device(serial: "OBJ-000001"))
        func ssids() -> Int { cpe.withModel { m in (1...20).filter { m["Device.WiFi.SSID.\($0).SSID"] != nil }.count } }
        try await waitUntil("three SSIDs on the CPE, the last one named", seconds: 40) {
            ssids() == 3 && cpe.withModel { m in (1...20).contains { m["Device.WiFi.SSID.\($0).SSID"] == "Guest-01" } }
        }
        let device = try #require(try server.store.device(name: "00C0FF-OBJ-000001"))
        try await waitUntil("the virtual parameter reaches 3", seconds: 20) {
            try server.store.parameterValues(deviceIDs: [device.id], paths: ["VirtualParameters.wifi.ssid_count"])[device.id]?["VirtualParameters.wifi.ssid_count"]?.value == "3"
        }
        // Filterable like a parameter: the alias works in reports' where clauses.
        let access = StoreScriptAccess(store: server.store, registry: server.profiles, now: Int64(Date().timeIntervalSince1970))
        var filter = LuaTable()
        filter.fields["where"] = .string("wifi.ssid_count >= 3")
        filter.keys = ["where"]
        try await waitUntil("both devices counted by the virtual parameter", seconds: 20) { try access.count(filter) == 2 }
        #expect(try server.store.absentPaths(deviceID: device.id, softwareVersion: device.softwareVersion, since: 0) == ["Device.DeviceInfo.X_NOPE_Signal"])
        // Held, not repeated: later sessions leave the count alone and record no provision fault.
        let informs = try server.store.informs(deviceID: device.id, limit: 100).count
        try await waitUntil("two more sessions", seconds: 20) { try server.store.informs(deviceID: device.id, limit: 100).count >= informs + 2 }
        #expect(ssids() == 3)
        #expect(try server.store.faults(deviceID: device.id, limit: 20).filter { $0.source == "provision" }.isEmpty)
        #expect(sim.stats.snapshot.failures == 0, "\(sim.stats.errors)")
        await sim.stop()
        await server.stop()
    }
}
