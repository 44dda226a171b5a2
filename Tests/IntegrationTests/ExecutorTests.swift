import Foundation
import Testing
import ACSCore
@testable import Engine
import NetHTTP
import Simulator
import Storage

/// Blocking work off the event loops (issue 12): Lua runs on its own lowest-priority pool, sessions and API calls on
/// theirs, and /healthz on the event loop.
@Suite(.serialized) struct ExecutorTests {
    /// 50 devices whose profile hook starts spinning until its budget ends, while 200 others keep their periodic
    /// sessions. All 250 are onboarded first, so the measured window holds only the spinning, not an onboarding burst.
    @Test func spinningHooksDoNotStallOtherDevicesOrHealth() async throws {
        let data = temporaryDirectory("spin")
        let profiles = temporaryDirectory("spin-profiles")
        defer { for d in [data, profiles] { try? FileManager.default.removeItem(atPath: d) } }
        try """
            -- Devices of product class SpinBox: once an operator sets their location to "spin", the inform hook loops.
            return profile {
              name = "spin-box", extends = "generic-tr181", match = { data_model = "tr181", product_class = "SpinBox" },
              on = { inform = function(dev)
                if dev.location == "spin" then local n = 0 while true do n = n + 1 end end
              end },
            }
            """.write(toFile: profiles + "/spin.lua", atomically: true, encoding: .utf8)
        var config = serverConfig(data: data)
        config.profilesDirectory = profiles
        config.profiles["spin-box"] = CorralConfig.ProfileOverride(onboardingUsername: nil, onboardingPassword: nil, informInterval: 2)
        let server = try CorralServer(config: config)
        try await server.start()
        let calm = try simulator(port: server.cwmpPort, count: 200, model: "tr181", prefix: "CALM-")
        var sc = SimulatorConfig(acsURL: "http://127.0.0.1:\(server.cwmpPort)/cwmp", count: 50, model: "tr181")
        sc.serialPrefix = "SPIN-"
        sc.productClass = "SpinBox"
        sc.dataModelDirectory = Paths.datamodels
        sc.jitter = 0.2
        sc.httpTimeoutSeconds = 10
        let spin = try Simulator(config: sc)
        try await calm.start()
        try await spin.start()
        try await waitUntil("250 devices onboarded", seconds: 120) {
            calm.stats.snapshot.firstSessions >= 200 && spin.stats.snapshot.firstSessions >= 50
        }
        try await Task.sleep(for: .seconds(2))
        calm.stats.resetDurations()
        try await Task.sleep(for: .seconds(6))
        let baseline = try #require(calm.stats.sessionMilliseconds(quantile: 0.99))
        let baselineCount = calm.stats.recordedSessions

        // The operator's change: from their next Inform on, the 50 SpinBox hooks loop.
        calm.stats.resetDurations()
        let spinners = try server.store.devices(limit: 1000, offset: 0).filter { $0.serialNumber.hasPrefix("SPIN-") }
        #expect(spinners.count == 50 && spinners.allSatisfy { $0.profile == "spin-box" })
        for var d in spinners {
            d.location = "spin"
            try await server.store.updateDeviceMetadata(d)
        }
        var health: [Double] = []
        let until = Date().addingTimeInterval(6)
        while Date() < until {
            let t = Date()
            let c = try await HTTPClientConnection.connect(host: "127.0.0.1", port: server.httpPort)
            let r = try await c.send(method: "GET", uri: "/healthz", headers: HTTPFields(), body: [], timeout: .seconds(10))
            await c.close()
            #expect(r.status == 200)
            health.append(Date().timeIntervalSince(t) * 1000)
            try await Task.sleep(for: .milliseconds(100))
        }
        let during = try #require(calm.stats.sessionMilliseconds(quantile: 0.99))
        let duringCount = calm.stats.recordedSessions
        health.sort()
        let healthMedian = health[health.count / 2], healthMax = health.last ?? 0
        let faulted = try spinners.filter { d in
            try server.store.faults(deviceID: d.id, limit: 10).contains { $0.source == "provision" && $0.message.contains("instruction limit") }
        }.count
        print("executors: calm p99 \(Int(baseline)) ms (\(baselineCount) sessions) -> \(Int(during)) ms (\(duringCount)) while \(faulted) hooks spun to their limit; /healthz median \(String(format: "%.1f", healthMedian)) ms, max \(Int(healthMax)) ms")

        // The spinning devices' provisioning faults with the script's limit (a session may have written the device
        // back between the metadata change and its next Inform, so a few may only spin later).
        #expect(faulted >= 40, "\(faulted) of 50 spinning hooks faulted")
        #expect(healthMedian < 50, "/healthz median \(healthMedian) ms")
        #expect(healthMax < 1000, "/healthz max \(healthMax) ms")
        // The calm fleet kept its rhythm: as many sessions, and p99 within 2× its baseline (+50 ms on a busy machine).
        #expect(Double(duringCount) >= Double(baselineCount) * 0.8, "\(duringCount) sessions during vs \(baselineCount) before")
        #expect(during <= baseline * 2 + 50, "p99 \(during) ms during vs \(baseline) ms before")
        #expect(calm.stats.snapshot.failures == 0, "\(calm.stats.errors)")
        await spin.stop()
        await calm.stop()
        await server.stop()
    }
}
