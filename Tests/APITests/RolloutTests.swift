import CWMP
import Foundation
import Testing
import ACSCore
@testable import API
import Engine
import NetHTTP
import Simulator
import Storage

/// Firmware rollouts end to end (issue 14): simulated CPEs download a real image from Corral's file server, reboot
/// into it (or fail to), and the runner counts a device upgraded only when it informs on the new version.
@Suite(.serialized, .stopsLiveServers) struct RolloutTests {
    static func int(_ v: Any?) -> Int { (v as? Int) ?? (v as? NSNumber)?.intValue ?? -1 }

    /// A server with a fast runner, `count` onboarded simulated CPEs, and an image of `version` stored.
    func fleet(_ count: Int, prefix: String, sim configure: (inout SimulatorConfig) -> Void = { _ in })
        async throws -> (LiveServer, Simulator, APIClient) {
        let live = try await LiveServer { $0.rolloutTick = 0.3 }
        live.server.rollouts.unreachableAfter = 20
        let sim = try live.simulator(count: count, prefix: prefix, configure: configure)
        try await sim.start()
        try await waitUntil("\(count) devices onboarded", seconds: 60) {
            let all = try live.store.devices(limit: count + 1, offset: 0)
            return all.count == count && all.allSatisfy { $0.credentialsConfirmed && !$0.connectionRequestURL.isEmpty && !$0.softwareVersion.isEmpty }
        }
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1))
        return (live, sim, admin)
    }

    func addImage(_ admin: APIClient, version: String) async throws {
        // The simulator reads the version from the image's first line.
        let body = Array("CORRAL-FIRMWARE \(version)\n".utf8) + (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let r = try await admin.send("POST", "/firmware?name=img-\(version).bin&version=\(version)&profile=generic-tr181", body: body)
        #expect(r.status == 201, "\(r.text)")
    }

    func waitFor(_ admin: APIClient, _ id: Int, state: String, seconds: Double = 90) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        var last: [String: Any] = [:]
        while Date() < deadline {
            last = try await admin.get("/rollouts/\(id)").json
            if last["state"] as? String == state { return last }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("rollout \(id) not \(state) within \(seconds) s: \(last)")
        return last
    }

    @Test func aRolloutUpgradesEveryDeviceWaveByWaveAndRollsBack() async throws {
        let (live, _, admin) = try await fleet(10, prefix: "RO-")
        let old = try #require(try live.store.devices(limit: 1, offset: 0).first?.softwareVersion)
        try await addImage(admin, version: "9.9")
        let start = try await admin.send("POST", "/rollouts", json: ["version": "9.9", "waves": "10%,50%,100%", "concurrency": 3,
                                                                     "max_failure_rate": 0.2, "target": "profile=generic-tr181"])
        #expect(start.status == 201, "\(start.text)")
        let id = Self.int(start.json["id"])
        #expect(Self.int(start.json["pending"]) == 10)
        let waves = try #require(start.json["by_wave"] as? [[String: Any]])
        #expect(waves.map { Self.int($0["total"]) } == [1, 4, 5])

        let done = try await waitFor(admin, id, state: "finished")
        #expect(Self.int(done["upgraded"]) == 10 && Self.int(done["failed"]) == 0, "\(done)")
        #expect(try live.store.devices(limit: 20, offset: 0).allSatisfy { $0.softwareVersion == "9.9" })
        let events = try live.store.events(deviceID: nil, limit: 1000).map(\.kind)
        #expect(events.filter { $0 == "rollout.wave" }.count == 2 && events.contains("rollout.started") && events.contains("rollout.finished"))
        // Another rollout to the same version has nothing to do.
        let again = try await admin.send("POST", "/rollouts", json: ["version": "9.9"])
        #expect(Self.int(again.json["skipped"]) == 10 && again.json["state"] as? String == "finished", "\(again.text)")

        // Back to where they were: the previous image must be stored.
        let noImage = try await admin.send("POST", "/rollouts/\(id)/rollback")
        #expect(noImage.status == 409 && noImage.text.contains(old), "\(noImage.text)")
        try await addImage(admin, version: old)
        let back = try await admin.send("POST", "/rollouts/\(id)/rollback")
        #expect(back.status == 201, "\(back.text)")
        #expect(back.json["version"] as? String == old && Self.int(back.json["rollback_of"]) == id)
        let backDone = try await waitFor(admin, Self.int(back.json["id"]), state: "finished")
        #expect(Self.int(backDone["upgraded"]) == 10, "\(backDone)")
        #expect(try live.store.devices(limit: 20, offset: 0).allSatisfy { $0.softwareVersion == old })
    }

    @Test func badImagesStopTheRolloutAfterTheFirstWave() async throws {
        let (live, _, admin) = try await fleet(6, prefix: "RB-") { $0.badImageRate = 1; $0.failureSeed = 1 }
        try await addImage(admin, version: "6.6")
        let start = try await admin.send("POST", "/rollouts", json: ["version": "6.6", "waves": "33%,100%", "max_failure_rate": 0.05])
        #expect(start.status == 201, "\(start.text)")
        let id = Self.int(start.json["id"])
        let stopped = try await waitFor(admin, id, state: "stopped")
        // The first wave (2 devices) came back on the old version; the second never started.
        #expect(Self.int(stopped["failed"]) == 2 && Self.int(stopped["upgraded"]) == 0, "\(stopped)")
        #expect(Self.int(stopped["pending"]) == 4 && Self.int(stopped["current_wave"]) == 1)
        let failures = try #require(stopped["failures"] as? [[String: Any]])
        #expect(failures.count == 2 && failures.allSatisfy { ($0["reason"] as? String)?.hasPrefix("came back on") == true }, "\(failures)")
        #expect((stopped["reason"] as? String)?.contains("failure rate") == true)
        #expect(try live.store.events(deviceID: nil, limit: 1000).contains { $0.kind == "rollout.stopped" })
        // An operator looks and resumes: the same failures do not stop it again; the next wave's do.
        #expect(try await admin.send("POST", "/rollouts/\(id)/resume").json["state"] as? String == "running")
        try await waitUntil("the second wave under way", seconds: 30) { try live.store.rollout(id: Int64(id))?.wave == 1 }
        let again = try await waitFor(admin, id, state: "stopped")
        #expect(Self.int(again["current_wave"]) == 2 && (again["reason"] as? String)?.contains("in wave 2") == true, "\(again)")
        #expect(Self.int(again["failed"]) >= 3, "\(again)")
        // Cancelled: nothing more is sent.
        #expect(try await admin.send("POST", "/rollouts/\(id)/cancel").json["state"] as? String == "cancelled")
        let after = try await admin.get("/rollouts/\(id)").json
        #expect(Self.int(after["sent"]) == 0 && Self.int(after["pending"]) == 0, "\(after)")
        #expect(try await admin.send("POST", "/rollouts/\(id)/resume").status == 409)
    }

    @Test func offlineDevicesAreRetriedWithBackoffAndDoNotHoldTheWaveBack() async throws {
        let (live, _, admin) = try await fleet(2, prefix: "RF-")
        live.server.rollouts.unreachableAfter = 1
        live.server.rollouts.retryBase = 1
        // A device of the same profile that never connects.
        var d = Device(name: "00C0FF-OFF1", oui: "00C0FF", productClass: "P", serialNumber: "OFF1", createdAt: 1)
        d.profile = "generic-tr181"; d.softwareVersion = "1.0.0"
        let off = try await live.store.createDevice(d)
        try await addImage(admin, version: "7.7")
        let start = try await admin.send("POST", "/rollouts", json: ["version": "7.7"])
        #expect(start.status == 201 && Self.int(start.json["pending"]) == 3, "\(start.text)")
        let id = Int64(Self.int(start.json["id"]))
        try await waitUntil("the offline device tried three times", seconds: 40) {
            try live.store.rolloutDevices(rolloutID: id, states: [.pending], maxWave: .max, dueBy: nil, limit: 10)
                .contains { $0.deviceID == off.id && $0.attempts >= RolloutRules.deferAfterAttempts }
        }
        let now = try await admin.get("/rollouts/\(id)").json
        // The others are through; the rollout keeps trying the offline one until it is cancelled.
        #expect(Self.int(now["upgraded"]) == 2 && now["state"] as? String == "running", "\(now)")
        let row = try #require(try live.store.rolloutDevices(rolloutID: id, states: [.pending], maxWave: .max, dueBy: nil, limit: 10).first)
        // Backed off: after three tries at least 4 s (1, 2, 4 with a 1 s base) after its last try.
        #expect(row.reason.hasPrefix("offline") && row.nextAt >= row.sentAt + RolloutRules.unreachableAfter / 900 + 4, "\(row)")
        // Its withdrawn downloads were cancelled, not left for its next Inform.
        #expect(try live.store.tasks(deviceID: off.id, states: [.pending]).isEmpty)
        #expect(try await admin.send("POST", "/rollouts/\(id)/cancel").json["state"] as? String == "cancelled")
    }

    @Test func devicesThatScheduleTheirOwnTransfersGetAScheduleDownloadForTheRestOfTheWindow() async throws {
        let profiles = NSTemporaryDirectory() + "corral-sched-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: profiles, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: profiles) }
        try """
            return profile { name = "scheduler", extends = "generic-tr181", match = { data_model = "tr181" }, priority = 10, schedule_download = true }
            """.write(toFile: profiles + "/scheduler.lua", atomically: true, encoding: .utf8)
        let live = try await LiveServer { $0.rolloutTick = 0.3; $0.profilesDirectory = profiles }
        let sim = try live.simulator(count: 2, prefix: "RS-")
        try await sim.start()
        try await waitUntil("2 devices onboarded", seconds: 60) {
            let all = try live.store.devices(limit: 3, offset: 0)
            return all.count == 2 && all.allSatisfy { $0.credentialsConfirmed && $0.profile == "scheduler" && !$0.connectionRequestURL.isEmpty }
        }
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1))
        // For any profile (the devices are on "scheduler").
        let image = Array("CORRAL-FIRMWARE 5.5\n".utf8) + Array(repeating: 5, count: 100_000)
        #expect(try await admin.send("POST", "/firmware?name=img-5.5.bin&version=5.5", body: image).status == 201)
        // A window around now (UTC), so it is open.
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.hour, .minute], from: Date())
        let m = (c.hour ?? 0) * 60 + (c.minute ?? 0)
        func hhmm(_ x: Int) -> String { String(format: "%02d:%02d", ((x + 1440) % 1440) / 60, ((x + 1440) % 1440) % 60) }
        let start = try await admin.send("POST", "/rollouts", json: ["version": "5.5", "window": "\(hhmm(m - 60))-\(hhmm(m + 60))"])
        #expect(start.status == 201, "\(start.text)")
        let done = try await waitFor(admin, Self.int(start.json["id"]), state: "finished")
        #expect(Self.int(done["upgraded"]) == 2, "\(done)")
        for d in try live.store.devices(limit: 3, offset: 0) {
            let kinds = try live.store.tasks(deviceID: d.id, states: [.done]).map(\.kind)
            #expect(kinds.contains { if case .scheduleDownload(_, _, _, _, 0, let end) = $0 { return end > 3000 && end <= 3660 } else { return false } }, "\(kinds)")
        }
    }

    @Test func badRequestsAreRefusedWithTheReason() async throws {
        let live = try await LiveServer()
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1))
        func problem(_ body: [String: Any]) async throws -> String {
            let r = try await admin.send("POST", "/rollouts", json: body)
            #expect(r.status == 422, "\(r.text)")
            return r.json["detail"] as? String ?? r.text
        }
        #expect(try await problem(["version": "1.0"]).contains("no firmware image of version 1.0"))
        try await addImage(admin, version: "1.0")
        #expect(try await problem(["version": "1.0"]).contains("no device matches"))
        #expect(try await problem(["version": "1.0", "waves": "50%,40%,100%"]).contains("waves"))
        #expect(try await problem(["version": "1.0", "window": "25:00-01:00"]).contains("window"))
        #expect(try await problem(["version": "1.0", "timezone": "Mars/Olympus"]).contains("time zone"))
        #expect(try await problem(["version": "1.0", "target": "colour=red"]).contains("unknown target key"))
        #expect(try live.store.rollouts(under: "/", limit: 10).isEmpty)
    }

    @Test func windowsWavesAndOutcomesFollowTheRules() {
        let w = DailyWindow.parse("22:00-04:00")!
        let utc = TimeZone(identifier: "UTC")!
        // 2026-12-06 23:30 UTC is inside; 12:00 is not, and the window next opens at 22:00 the same day.
        #expect(w.check(at: 1_796_599_800, zone: utc).open)
        let noon = w.check(at: 1_796_558_400, zone: utc)
        #expect(!noon.open && noon.opensAt == 1_796_594_400)
        #expect(DailyWindow.parse("01:00-01:00") == nil && DailyWindow.parse("1-5") == nil)
        // Device-local: 12:00 UTC is 23:00 on a clock at UTC+11 (inside), 04:30 at UTC-07:30 (outside, opens at 22:00 there).
        #expect(w.check(at: 1_796_558_400, deviceOffsetMinutes: 11 * 60).open)
        let west = w.check(at: 1_796_558_400, deviceOffsetMinutes: -450)
        #expect(!west.open && west.opensAt == 1_796_594_400 + 450 * 60)
        #expect(w.check(at: 1_796_558_400, deviceOffsetMinutes: nil).open == noon.open)
        #expect(RolloutRules.utcOffsetMinutes(currentTime: "2026-12-06T16:00:00+01:00") == 60)
        #expect(RolloutRules.utcOffsetMinutes(currentTime: "2026-12-06T09:30:00-05:30") == -330)
        #expect(RolloutRules.utcOffsetMinutes(currentTime: "2026-12-06T15:00:00.123Z") == 0)
        #expect(RolloutRules.utcOffsetMinutes(currentTime: "2026-12-06T15:00:00") == nil)
        #expect(RolloutRules.utcOffsetMinutes(currentTime: "0001-01-01T00:00:00Z") == nil)
        #expect(RolloutRules.parseWaves("10%,50%,100%") == [10, 50, 100] && RolloutRules.parseWaves("50,100") == [50, 100])
        #expect(RolloutRules.parseWaves("10,90") == nil && RolloutRules.parseWaves("60,50,100") == nil)
        #expect((0..<5).map { RolloutRules.wave(position: $0, count: 5, waves: [10, 50, 100]) } == [0, 1, 1, 2, 2])
        #expect(RolloutRules.backoff(attempts: 1) == 300 && RolloutRules.backoff(attempts: 3) == 1200 && RolloutRules.backoff(attempts: 20) == 21_600)

        var d = RolloutDevice(rolloutID: 1, deviceID: 1, wave: 0, state: .sent, previousVersion: "1.0")
        d.sentAt = 1000
        var t = DeviceTask(id: 5, deviceID: 1, kind: .download(url: "u", fileType: "1 Firmware Upgrade Image", fileSize: 1, targetFileName: ""),
                           createdAt: 1000, updatedAt: 1000)
        func resolve(_ version: String, boot: Int64, now: Int64) -> RolloutRules.Resolution? {
            RolloutRules.resolve(d, task: t, softwareVersion: version, lastBoot: boot, version: "2.0", now: now)
        }
        #expect(resolve("1.0", boot: 0, now: 1100) == nil)                        // queued, not yet fetched
        #expect(resolve("1.0", boot: 0, now: 2000) == .retry("offline: did not connect within 900 s"))
        t.state = .done; t.updatedAt = 1200
        #expect(resolve("2.0", boot: 1190, now: 1210) == .upgraded)
        #expect(resolve("1.0", boot: 1190, now: 1210) == .failed("came back on 1.0, not 2.0"))
        #expect(resolve("1.0", boot: 0, now: 1300) == nil)                        // transferred, reboot pending
        #expect(resolve("1.0", boot: 0, now: 5000) == .failed("no boot into 2.0 within 3600 s of the transfer"))
        t.state = .fault; t.fault = CWMPFault(code: 9010, string: "File transfer failure")
        #expect(resolve("1.0", boot: 0, now: 1300) == .failed("download fault 9010 File transfer failure"))
        var tally = RolloutRules.Tally()
        tally.byState = [.upgraded: 9, .failed: 1]
        #expect(!RolloutRules.tooManyFailures(tally, maxRate: 0.1, waveComplete: true))
        tally.byState = [.upgraded: 1, .failed: 1]
        #expect(RolloutRules.tooManyFailures(tally, maxRate: 0.1, waveComplete: true) && !RolloutRules.tooManyFailures(tally, maxRate: 0.1, waveComplete: false))
    }
}
