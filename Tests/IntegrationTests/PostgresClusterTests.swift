import Foundation
import Testing
import ACSCore
import CWMP
@testable import Engine
import Simulator
import PostgresStore
import Storage
import TestSupport

/// Corral nodes sharing one real PostgreSQL database (started by the tests): any node sees what another wrote, a
/// task queued on one node is sent by the node the device's session lands on, one node leads the periodic work and
/// a stopped leader's duties move.
@Suite(.serialized) struct PostgresClusterTests {
    func node(_ url: String, _ tag: String) throws -> CorralServer {
        var config = serverConfig(data: temporaryDirectory(tag))
        config.databaseURL = url
        return try CorralServer(config: config)
    }

    @Test func twoNodesShareTheFleetTasksAndLeadership() async throws {
        let url = try PostgresServer.get().newDatabase("cluster")
        let a = try node(url, "pg-a"), b = try node(url, "pg-b")
        try await a.start()
        try await b.start()
        defer { try? FileManager.default.removeItem(atPath: a.config.dataDirectory); try? FileManager.default.removeItem(atPath: b.config.dataDirectory) }

        // 1. CPEs onboard through node A; node B sees them, unique credentials and all.
        let sim = try simulator(port: a.cwmpPort, count: 20, model: "tr181", prefix: "PG-")
        try await sim.start()
        try await waitUntil("20 devices onboarded, seen from node B", seconds: 60) {
            let all = try b.store.devices(limit: 100, offset: 0)
            return all.count == 20 && all.allSatisfy { $0.credentialsConfirmed && !$0.modelName.isEmpty }
        }
        #expect(Set(try b.store.devices(limit: 100, offset: 0).map(\.passwordHA1)).count == 20)

        // 2. A task queued through node B, for a device whose sessions land on node A: A sends it.
        let device = try #require(try b.store.device(name: "00C0FF-PG-000003"))
        let spv = try await runNow(.setParameterValues([ParameterValue(name: "Device.WiFi.SSID.1.SSID", value: "Cluster")]), on: device, store: b.store, seconds: 40)
        #expect(spv.state == .done)
        #expect(try #require(sim.device(serial: "PG-000003")).value("Device.WiFi.SSID.1.SSID") == "Cluster")
        #expect(try a.store.parameters(deviceID: device.id, prefix: "Device.WiFi.SSID.1.SSID").first?.value == "Cluster")

        // 3. Exactly one node leads; when it stops, the other takes over.
        try await waitUntil("one leader", seconds: 15) { a.leadership.isLeader != b.leadership.isLeader }
        let (leader, follower) = a.leadership.isLeader ? (a, b) : (b, a)
        await leader.stop()
        try await waitUntil("the other node leads", seconds: 15) { follower.leadership.isLeader }

        await sim.stop()
        await follower.stop()
    }

    /// A device has at most one live session across nodes: while its session runs on node A, its Inform on node B is
    /// answered 503 with Retry-After (nothing of it stored); once A's session ends, B takes the next one.
    @Test func aDeviceHasOneLiveSessionAcrossNodes() async throws {
        let url = try PostgresServer.get().newDatabase("leases")
        let a = try node(url, "lease-a"), b = try node(url, "lease-b")
        try await a.start()
        try await b.start()
        defer { try? FileManager.default.removeItem(atPath: a.config.dataDirectory); try? FileManager.default.removeItem(atPath: b.config.dataDirectory) }
        let (user, password) = try await SessionRecoveryTests().onboard(a.cwmpPort, serial: "LEASE1")
        let device = try #require(try b.store.device(name: "00C0FF-LEASE1"))
        #expect(try b.store.sessionLease(deviceID: device.id) == nil, "a finished session leaves no lease")

        var onA = try await RawCPE.connect(a.cwmpPort)
        #expect(try await onA.postAuthenticated(RawCPE.inform(serial: "LEASE1", events: ["2 PERIODIC"]), user: user, password: password).status == 200)
        let lease = try #require(try b.store.sessionLease(deviceID: device.id))
        #expect(lease.node == "\(ProcessInfo.processInfo.hostName):\(a.cwmpPort)")
        let informs = try b.store.informs(deviceID: device.id, limit: 100).count

        var onB = try await RawCPE.connect(b.cwmpPort)
        let refused = try await onB.postAuthenticated(RawCPE.inform(serial: "LEASE1", events: ["6 CONNECTION REQUEST"]), user: user, password: password)
        #expect(refused.status == 503)
        let wait = Int(refused.headers.first("Retry-After") ?? "") ?? 0
        #expect(wait >= 1 && wait <= 20, "Retry-After \(wait): at most the lease (twice the 10 s idle timeout)")
        #expect(try b.store.informs(deviceID: device.id, limit: 100).count == informs, "the refused Inform is not stored")

        // A's session ends: the lease goes, and B runs the device's next session (and then releases it too).
        _ = try await SessionRecoveryTests.answerUntilEnd(&onA, first: try await onA.post([]))
        #expect(try b.store.sessionLease(deviceID: device.id) == nil)
        var again = try await RawCPE.connect(b.cwmpPort)
        #expect(try await again.postAuthenticated(RawCPE.inform(serial: "LEASE1", events: ["6 CONNECTION REQUEST"]), user: user, password: password).status == 200)
        #expect(try a.store.sessionLease(deviceID: device.id)?.node == "\(ProcessInfo.processInfo.hostName):\(b.cwmpPort)")
        _ = try await SessionRecoveryTests.answerUntilEnd(&again, first: try await again.post([]))
        #expect(try a.store.sessionLease(deviceID: device.id) == nil)

        // A session left behind on a node (its CPE went silent) keeps the device until that node's idle timeout.
        var silent = try await RawCPE.connect(a.cwmpPort)
        #expect(try await silent.postAuthenticated(RawCPE.inform(serial: "LEASE1", events: ["2 PERIODIC"]), user: user, password: password).status == 200)
        await silent.connection.close()
        var retry = try await RawCPE.connect(b.cwmpPort)
        #expect(try await retry.postAuthenticated(RawCPE.inform(serial: "LEASE1", events: ["2 PERIODIC"]), user: user, password: password).status == 503)
        _ = await a.cwmp.sweep(now: CWMPService.now() + 11)
        var later = try await RawCPE.connect(b.cwmpPort)
        #expect(try await later.postAuthenticated(RawCPE.inform(serial: "LEASE1", events: ["2 PERIODIC"]), user: user, password: password).status == 200)
        _ = try await SessionRecoveryTests.answerUntilEnd(&later, first: try await later.post([]))
        await a.stop()
        await b.stop()
    }

    /// Profiles and automations follow the cluster: a version accepted on one node (here a file changed and reloaded
    /// on A) is written into the other nodes' directories and runs there (NOTIFY); a removal goes the same way; a node
    /// that starts with a stale file takes the cluster's newest version.
    @Test func scriptVersionsAcceptedOnOneNodeRunOnTheOthers() async throws {
        let url = try PostgresServer.get().newDatabase("scripts")
        var dirs: [String] = []
        defer { for d in dirs { try? FileManager.default.removeItem(atPath: d) } }
        func scriptNode(_ tag: String, stale: String? = nil) throws -> (CorralServer, profiles: String, automations: String) {
            var config = serverConfig(data: temporaryDirectory("scripts-\(tag)"))
            config.databaseURL = url
            config.profilesDirectory = temporaryDirectory("scripts-\(tag)-profiles")
            config.automationsDirectory = temporaryDirectory("scripts-\(tag)-automations")
            config.watchScripts = false
            dirs += [config.dataDirectory, config.profilesDirectory!, config.automationsDirectory!]
            if let stale { try stale.write(toFile: config.profilesDirectory! + "/reload.lua", atomically: true, encoding: .utf8) }
            return (try CorralServer(config: config), config.profilesDirectory!, config.automationsDirectory!)
        }
        let (a, aProfiles, aAutomations) = try scriptNode("a")
        let (b, bProfiles, bAutomations) = try scriptNode("b")
        try await a.start()
        try await b.start()

        try ReloadTests.profile("v1").write(toFile: aProfiles + "/reload.lua", atomically: true, encoding: .utf8)
        try "every('1h', function() end)".write(toFile: aAutomations + "/tick.lua", atomically: true, encoding: .utf8)
        let outcome = await a.reloader.reload(by: "test")
        #expect(outcome.changed.sorted() == ["automations/tick.lua", "profiles/reload.lua"], "\(outcome)")
        try await waitUntil("node B runs A's new profile and automation", seconds: 20) {
            (try? String(contentsOfFile: bProfiles + "/reload.lua", encoding: .utf8)) == ReloadTests.profile("v1")
                && b.catalog.registry.profile(named: "reload-tr181")?.description == "v1"
                && b.automations.loadedTexts["tick.lua"] == "every('1h', function() end)"
        }
        // B records nothing of its own: the version came from A.
        #expect(try b.store.scriptVersions(kind: .profile, name: "reload.lua", beforeID: nil, limit: 10).map(\.createdBy) == ["test"])

        // A node that starts with an older file takes the cluster's version.
        let (c, cProfiles, _) = try scriptNode("c", stale: ReloadTests.profile("stale"))
        try await c.start()
        #expect(try String(contentsOfFile: cProfiles + "/reload.lua", encoding: .utf8) == ReloadTests.profile("v1"))
        #expect(c.catalog.registry.profile(named: "reload-tr181")?.description == "v1")

        // A removal on B reaches A and C.
        try FileManager.default.removeItem(atPath: bAutomations + "/tick.lua")
        #expect(await b.reloader.reload(by: "test-b").changed == ["automations/tick.lua"])
        try await waitUntil("A and C drop the removed automation", seconds: 20) {
            !FileManager.default.fileExists(atPath: aAutomations + "/tick.lua") && a.automations.loadedTexts["tick.lua"] == nil
                && c.automations.loadedTexts["tick.lua"] == nil
        }
        await c.stop()
        await b.stop()
        await a.stop()
    }

    /// A wake-up sent by one node counts once the device's session opens on any node: the watch sees this node's
    /// sessions in memory and the others' through the stored Inform (6 CONNECTION REQUEST), read at a bounded rate.
    @Test func aWakeOnOneNodeSeesTheSessionThatOpensOnAnother() async throws {
        let store = SQLStore(database: try PostgresDatabase.open(url: try PostgresServer.get().newDatabase("watch"), readers: 1))
        defer { store.close() }
        let d = try await store.createDevice(Device(name: "00C0FF-W1", oui: "00C0FF", productClass: "", serialNumber: "W1", createdAt: 1))
        let since = Date().timeIntervalSince1970
        let local = SessionOpenLog()
        let watch = ClusterSessionWatch(local: local, store: store, storeInterval: 0)
        #expect(!watch.sessionOpened(deviceID: d.id, since: since))
        try await store.apply([.inform(deviceID: d.id, InformRecord(at: Int64(since), events: ["2 PERIODIC"], retryCount: 0, remote: ""))])
        #expect(!watch.sessionOpened(deviceID: d.id, since: since), "a periodic Inform is not the wake-up's session")
        try await store.apply([.inform(deviceID: d.id, InformRecord(at: Int64(since) + 1, events: ["6 CONNECTION REQUEST"], retryCount: 0, remote: ""))])
        #expect(watch.sessionOpened(deviceID: d.id, since: since), "opened on another node")
        // Reads are rate-limited per device: within the interval only memory is asked.
        let slow = ClusterSessionWatch(local: local, store: store, storeInterval: 60)
        #expect(slow.sessionOpened(deviceID: d.id, since: since))
        #expect(!slow.sessionOpened(deviceID: d.id, since: since), "no second store read within 60 s")
        local.record(d.id, at: since + 2)
        #expect(slow.sessionOpened(deviceID: d.id, since: since), "this node's own session, from memory")
    }
}

/// `corral migrate`: a SQLite installation moves to PostgreSQL with nothing lost, and its devices carry on there
/// with the credentials they were given.
@Suite(.serialized) struct StoreMigrationTests {
    @Test func aSQLiteInstallationMovesToPostgreSQLAndItsDevicesCarryOn() async throws {
        let data = temporaryDirectory("migrate")
        defer { try? FileManager.default.removeItem(atPath: data) }
        var server: CorralServer? = try CorralServer(config: serverConfig(data: data))
        try await server!.start()
        let sim = try simulator(port: server!.cwmpPort, count: 10, model: "tr181", prefix: "MG-")
        try await sim.start()
        try await waitUntil("10 devices onboarded on SQLite", seconds: 60) {
            let all = try server!.store.devices(limit: 100, offset: 0)
            return all.count == 10 && all.allSatisfy { $0.credentialsConfirmed && !$0.modelName.isEmpty }
        }
        let d = try #require(try server!.store.device(name: "00C0FF-MG-000002"))
        #expect(try await runNow(.setParameterValues([ParameterValue(name: "Device.WiFi.SSID.1.SSID", value: "Before")]), on: d, store: server!.store).state == .done)
        let before = try server!.store.devices(limit: 100, offset: 0)
        let informsBefore = try server!.store.informs(deviceID: d.id, limit: 1000).count
        let paramsBefore = try server!.store.parameters(deviceID: d.id, prefix: "Device.").count
        let cwmpPort = server!.cwmpPort
        await server!.stop()
        server = nil

        let url = try PostgresServer.get().newDatabase("migrate")
        let first = try runCommand([Paths.corralBinary, "migrate", "--from", "sqlite:" + data, "--to", url])
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("row counts match"), "\(first.output)")
        // Twice: refused, nothing changed.
        let second = try runCommand([Paths.corralBinary, "migrate", "--from", "sqlite:" + data, "--to", url])
        #expect(second.status == 1 && second.output.contains("already holds 10 devices"), "\(second.output)")
        // The store commands take --database.
        let listed = try runCommand([Paths.corralBinary, "devices", "--database", url, "--json"])
        #expect(listed.status == 0 && listed.output.contains("00C0FF-MG-000009"), "\(listed.output)")

        var config = serverConfig(data: data, cwmpPort: cwmpPort)
        config.databaseURL = url
        let pg = try CorralServer(config: config)
        try await pg.start()
        let after = try pg.store.devices(limit: 100, offset: 0)
        #expect(after.map(\.name) == before.map(\.name))
        #expect(after.map(\.passwordHA1) == before.map(\.passwordHA1))
        #expect(try pg.store.parameters(deviceID: d.id, prefix: "Device.").count == paramsBefore)
        #expect(try pg.store.parameters(deviceID: d.id, prefix: "Device.WiFi.SSID.1.SSID").first?.value == "Before")
        // The devices go on informing, now into PostgreSQL, with the credentials SQLite gave them.
        try await waitUntil("the device informs into PostgreSQL", seconds: 30) {
            try pg.store.informs(deviceID: d.id, limit: 1000).count > informsBefore
        }
        let newDevice = try await pg.store.createDevice(Device(name: "X-NEW", oui: "X", productClass: "", serialNumber: "NEW", createdAt: 1))
        #expect(newDevice.id > before.map(\.id).max()!, "identity sequences continue after the copied ids")
        // The per-model tallies were counted after the copy, and their triggers run again (the new device counts).
        let tallies = try pg.store.db.read { c in
            (try c.scalar("SELECT sum(n) FROM device_tallies").int, try c.scalar("SELECT count(*) FROM devices").int)
        }
        #expect(tallies.0 == 11 && tallies.1 == 11, "\(tallies)")
        await sim.stop()
        await pg.stop()
    }
}
