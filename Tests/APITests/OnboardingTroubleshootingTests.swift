import ACSCore
import Foundation
import HTTPAuth
import Testing
@testable import API
@testable import Engine
import Simulator
import Storage

/// Onboarding troubleshooting (issue 16): refused first contacts are recorded with a reason and a hint, bounded under
/// a flood; a device that lost its credentials without a factory reset is recovered; a device can be deleted.
@Suite(.serialized, .stopsLiveServers) struct OnboardingTroubleshootingTests {
    static func attempts(_ admin: APIClient, _ query: String = "") async throws -> [[String: Any]] {
        try await admin.get("/onboarding-attempts\(query)").json["attempts"] as? [[String: Any]] ?? []
    }

    @Test func wrongAndUnknownCredentialsAreRecordedWithHints() async throws {
        let live = try await LiveServer()
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1))
        let wrong = try live.simulator(count: 1, prefix: "BADPW-") { $0.password = "not-the-password" }
        let unknown = try live.simulator(count: 1, prefix: "NOUSER-") { $0.username = "nobody-here"; $0.password = "x" }
        try await wrong.start()
        try await unknown.start()
        try await waitUntil("both refusals recorded", seconds: 30) {
            let a = try live.store.onboardingAttempts(organisationPath: "/1/", deviceID: nil, search: "", limit: 50)
            return a.contains { $0.reason == .wrongPassword } && a.contains { $0.reason == .unknownUsername }
        }
        let list = try await Self.attempts(admin)
        let pw = try #require(list.first { $0["reason"] as? String == "wrong_password" })
        #expect((pw["serial"] as? String)?.hasPrefix("BADPW-") == true && pw["oui"] as? String == "00C0FF", "\(pw)")
        #expect(pw["address"] as? String == "127.0.0.1" && (pw["hint"] as? String)?.contains("password") == true)
        let user = try #require(list.first { $0["reason"] as? String == "unknown_username" })
        #expect(user["username"] as? String == "nobody-here" && (user["serial"] as? String)?.hasPrefix("NOUSER-") == true, "\(user)")
        #expect(try await admin.get("/onboarding-attempts").json["not_listed"] as? String == OnboardingAttempt.noAttemptHint)
        // Search narrows; neither device exists.
        #expect(try await Self.attempts(admin, "?search=NOUSER").allSatisfy { ($0["serial"] as? String)?.hasPrefix("NOUSER") == true })
        #expect(try live.store.deviceCount() == 0)
        // A sub-organisation sees no attempts of unknown devices (they belong to nobody yet).
        let sub = try await live.store.createOrganisation(name: "sub", parentID: 1, now: 1)
        let subAdmin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: sub.id))
        #expect(try await Self.attempts(subAdmin).isEmpty)
        await wrong.stop()
        await unknown.stop()
    }

    @Test func aDeviceThatLostItsCredentialsIsRecoveredThenDeleted() async throws {
        let live = try await LiveServer()
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1))
        let sim = try live.simulator(count: 1, prefix: "LOST-")
        try await sim.start()
        try await waitUntil("onboarded", seconds: 30) { try live.store.devices(limit: 1, offset: 0).first?.credentialsConfirmed == true }
        let before = try #require(try live.store.devices(limit: 1, offset: 0).first)
        let cpe = try #require(sim.device(serial: before.serialNumber))

        // Its own credentials are gone, no BOOTSTRAP: refused, and recorded against the device with the way out.
        cpe.loseCredentials()
        try await waitUntil("refusal recorded", seconds: 30) {
            try live.store.onboardingAttempts(organisationPath: "/1/", deviceID: before.id, search: "", limit: 5).contains { $0.reason == .ownCredentialsRequired }
        }
        let refused = try #require(try await Self.attempts(admin, "?device_id=\(before.id)").first)
        #expect(refused["reason"] as? String == "own_credentials_required" && (refused["hint"] as? String)?.contains("reset-credentials") == true)
        #expect((refused["device_id"] as? NSNumber)?.int64Value == before.id)

        // Credential recovery: the next Inform with the onboarding credentials onboards it again, as the same device.
        let reset = try await admin.send("POST", "/devices/\(before.id)/reset-credentials")
        #expect(reset.status == 200, "\(reset.text)")
        try await waitUntil("re-onboarded with new credentials", seconds: 30) {
            let d = try live.store.device(id: before.id)
            return d?.credentialsConfirmed == true && d?.passwordHA1 != before.passwordHA1
        }
        let after = try #require(try live.store.device(id: before.id))
        let count = try live.store.deviceCount()
        #expect(after.name == before.name && after.description == before.description && count == 1)
        let audit = try await admin.get("/audit?action=device.reset_credentials").text
        #expect(audit.contains("device.reset_credentials"), "\(audit)")

        // Deleted: gone with its history; an attempt naming it keeps its row but no longer points at it.
        #expect(try await admin.send("DELETE", "/devices/\(before.id)").status == 204)
        #expect(try await admin.get("/devices/\(before.id)").status == 404)
        #expect(try live.store.device(id: before.id) == nil)
        #expect(try live.store.informs(deviceID: before.id, limit: 5).isEmpty)
        #expect(try live.store.tasks(deviceID: before.id, states: []).isEmpty)
        let kept = try live.store.onboardingAttempts(organisationPath: "/1/", deviceID: nil, search: "LOST-", limit: 5)
        #expect(!kept.isEmpty && kept.allSatisfy { $0.deviceID == nil })
        await sim.stop()
    }

    @Test func aFloodIsMergedSampledAndBounded() async throws {
        // Repeats merge into one entry; distinct attempts beyond the capacity are counted as dropped, not kept.
        var buffer = OnboardingAttemptBuffer(capacity: 3, detailsPerSecond: 2)
        for _ in 0..<5 { buffer.add(OnboardingAttempt(at: 1, address: "10.0.0.1", oui: "00C0FF", serial: "A", username: "u", reason: .wrongPassword)) }
        for i in 0..<10 { buffer.add(OnboardingAttempt(at: 2, address: "10.0.0.\(i + 2)", username: "u", reason: .unknownUsername)) }
        #expect(buffer.mayRead(now: 5) && buffer.mayRead(now: 5) && !buffer.mayRead(now: 5) && buffer.mayRead(now: 6))
        let (kept, dropped) = buffer.drain()
        #expect(kept.count == 3 && kept[0].count == 5 && dropped == 8)
        #expect(buffer.drain().attempts.isEmpty)

        // The table keeps at most maxRows rows (the least recent go), and repeats add to their row's count.
        let dir = temporaryDirectory("attempts")
        let store = try SQLStore(path: dir + "/corral.db")
        defer { store.close(); try? FileManager.default.removeItem(atPath: dir) }
        let now: Int64 = 1_000_000
        let flood = (0..<(OnboardingAttempt.maxRows + 500)).map {
            OnboardingAttempt(at: now - 1000 + Int64($0 / 100), address: "10.1.\($0 / 250).\($0 % 250)", serial: "S\($0)", reason: .unknownUsername)
        }
        for chunk in stride(from: 0, to: flood.count, by: 2000) {
            try await store.recordOnboardingAttempts(Array(flood[chunk..<min(chunk + 2000, flood.count)]), now: now)
        }
        let all = try store.onboardingAttempts(organisationPath: "/1/", deviceID: nil, search: "", limit: 1000)
        #expect(all.count == 1000)
        #expect(try store.onboardingAttempts(organisationPath: "/1/", deviceID: nil, search: "S0", limit: 5).isEmpty, "the oldest went first")
        try await store.recordOnboardingAttempts([OnboardingAttempt(at: now, address: "10.1.41.150", serial: "S10400", reason: .unknownUsername, count: 7)], now: now)
        let row = try #require(try store.onboardingAttempts(organisationPath: "/1/", deviceID: nil, search: "S10400", limit: 1).first)
        #expect(row.count == 8 && row.lastAt == now)
        // Old rows expire.
        try await store.recordOnboardingAttempts([], now: now + OnboardingAttempt.keepSeconds + 2000)
        #expect(try store.onboardingAttempts(organisationPath: "/1/", deviceID: nil, search: "", limit: 5).isEmpty)
    }
}
