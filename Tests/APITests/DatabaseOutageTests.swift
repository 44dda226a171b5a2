import Foundation
import Testing
import ACSCore
@testable import API
import Engine
import Storage
import TestSupport

/// The PostgreSQL database going away and coming back (a restart, a failover): the API answers a clear 503
/// problem with Retry-After meanwhile, and everything resumes by itself when the database returns.
@Suite(.serialized, .stopsLiveServers) struct DatabaseOutageTests {
    @Test func theAPIAnswers503WhileTheDatabaseIsDownAndWorkResumes() async throws {
        let pg = try PostgresServer()   // its own server: this test stops it
        let url = try pg.newDatabase("outage")
        let live = try await LiveServer { $0.databaseURL = url }
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1))
        let sim = try live.simulator(count: 5, prefix: "DB-")
        try await sim.start()
        try await waitUntil("5 devices onboarded", seconds: 60) {
            let all = try live.store.devices(limit: 10, offset: 0)
            return all.count == 5 && all.allSatisfy(\.credentialsConfirmed)
        }
        #expect(try await admin.get("/devices").status == 200)
        let device = try #require(try live.store.device(name: "00C0FF-DB-000001"))
        let informs = try live.store.informs(deviceID: device.id, limit: 1000).count

        try pg.stop()
        let down = try await admin.get("/devices")
        #expect(down.status == 503, "\(down.text)")
        #expect((down.json["type"] as? String)?.hasSuffix("database-unavailable") == true, "\(down.text)")
        #expect(down.headers.first("Retry-After") == "5")
        // The devices' sessions meanwhile are refused with 503 + Retry-After (their failures are counted).
        try await Task.sleep(for: .seconds(3))

        try pg.start()
        var back = 0
        for _ in 0..<100 where back != 200 {
            back = try await admin.get("/devices").status
            if back != 200 { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(back == 200)
        try await waitUntil("the device informs again into the database", seconds: 30) {
            try live.store.informs(deviceID: device.id, limit: 1000).count > informs
        }
        // Written again: a task queued after the outage.
        let task = try await TaskService(store: live.store).queue(.reboot, on: device)
        #expect(try live.store.task(id: task.id)?.state == .pending)
        await sim.stop()
        await live.stop()
        try? pg.stop()
    }
}
