import Foundation
import Testing
import ACSCore
import CWMP
@testable import Storage

func temporaryDirectory() -> String {
    let dir = NSTemporaryDirectory() + "corral-test-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

@Suite struct SQLiteStoreTests {
    @Test func theDataDirectoryIsOwnerOnlyAndSoIsTheDatabase() async throws {
        let dir = temporaryDirectory() + "/data"
        defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
        let store = try SQLStore(directory: dir)
        _ = try await store.createDevice(Device(name: "00D09E-P1", oui: "00D09E", productClass: "R1", serialNumber: "P1", createdAt: 1))
        func mode(_ p: String) throws -> Int { (try FileManager.default.attributesOfItem(atPath: p)[.posixPermissions] as? Int ?? -1) & 0o777 }
        #expect(try mode(dir) == 0o700)
        for f in ["corral.db", "corral.db-wal", "corral.db-shm"] where FileManager.default.fileExists(atPath: dir + "/" + f) {
            #expect(try mode(dir + "/" + f) == 0o600, "\(f)")
        }
        #expect(FileManager.default.fileExists(atPath: dir + "/corral.db-wal"))
        store.close()
    }

    @Test func textWithANULIsStoredComparedAndReadWhole() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let c = try SQLiteConnection(path: dir + "/t.db")
        try c.execute("CREATE TABLE t (v TEXT)")
        try c.run("INSERT INTO t VALUES (?)", [.text("ab")])
        try c.run("INSERT INTO t VALUES (?)", [.text("ab\u{0}x")])
        try c.run("INSERT INTO t VALUES (?)", [.text("")])
        // Bound with its length, "ab\0x" is not "ab" (bound as a C string it was cut to "ab" and matched it).
        #expect(try c.scalar("SELECT count(*) FROM t WHERE v = ?", [.text("ab\u{0}x")]) == .int(1))
        #expect(try c.scalar("SELECT count(*) FROM t WHERE v = ?", [.text("ab")]) == .int(1))
        var read: [String] = []
        try c.query("SELECT v FROM t ORDER BY rowid") { read.append($0.text(0)) }
        #expect(read == ["ab", "ab\u{0}x", ""])
    }

    @Test func devicesRoundTripAndSurviveReopen() async throws {
        let dir = temporaryDirectory()
        var id: Int64 = 0
        do {
            let store = try SQLStore(directory: dir)
            let d = try await store.createDevice(Device(name: "00D09E-SN1", oui: "00D09E", productClass: "R1", serialNumber: "SN1",
                                                        groups: ["pilot", "north"], description: "Onboarded now", createdAt: 100))
            id = d.id
            var updated = d
            updated.softwareVersion = "2.0"
            updated.username = "00D09E-SN1"
            updated.lastInform = 200
            try await store.apply([.updateDevice(updated),
                                   .parameters(deviceID: d.id, values: [ParameterValue(name: "Device.WiFi.SSID.1.SSID", value: "home")], at: 200)])
            store.close()
        }
        let store = try SQLStore(directory: dir)
        defer { store.close() }
        let d = try #require(try store.device(id: id))
        #expect(d.softwareVersion == "2.0")
        #expect(d.groups == ["pilot", "north"])
        #expect(try store.device(username: "00D09E-SN1")?.id == id)
        #expect(try store.device(oui: "00D09E", serial: "SN1")?.id == id)
        #expect(try store.parameters(deviceID: id, prefix: "Device.WiFi.").map(\.value) == ["home"])
        #expect(try store.parameters(deviceID: id, prefix: "Device.X").isEmpty)
    }

    @Test(arguments: StoreEngine.allCases) func sessionUpdatesDoNotOverwriteOperatorMetadata(engine: StoreEngine) async throws {
        let store = try engine.makeStore()
        defer { store.close() }
        let d = try await store.createDevice(Device(name: "A-1", oui: "A", productClass: "", serialNumber: "1", createdAt: 1))
        try await store.apply([.updateMetadata(deviceID: d.id, groups: ["g"], location: "Oslo", description: "lab")])
        var stale = d
        stale.lastInform = 99
        try await store.apply([.updateDevice(stale)])
        let now = try #require(try store.device(id: d.id))
        #expect(now.location == "Oslo")
        #expect(now.groups == ["g"])
        #expect(now.lastInform == 99)
    }

    @Test(arguments: StoreEngine.allCases) func emptySecretValuesKeepTheACSCopy(engine: StoreEngine) async throws {
        let store = try engine.makeStore()
        defer { store.close() }
        let d = try await store.createDevice(Device(name: "A-2", oui: "A", productClass: "", serialNumber: "2", createdAt: 1))
        let path = "Device.WiFi.AccessPoint.1.Security.KeyPassphrase"
        try await store.apply([.parameters(deviceID: d.id, values: [ParameterValue(name: path, value: "s3cret")], at: 1)])
        try await store.apply([.parameters(deviceID: d.id, values: [ParameterValue(name: path, value: "")], at: 2)])
        #expect(try store.parameters(deviceID: d.id, prefix: path).first?.value == "s3cret")
    }

    @Test(arguments: StoreEngine.allCases) func tasksGetCommandKeysAndStateChanges(engine: StoreEngine) async throws {
        let store = try engine.makeStore()
        defer { store.close() }
        let d = try await store.createDevice(Device(name: "A-3", oui: "A", productClass: "", serialNumber: "3", createdAt: 1))
        var t = try await store.createTask(DeviceTask(deviceID: d.id, kind: .setParameterValues([ParameterValue(name: "Device.X", value: "1", type: .int)])))
        #expect(t.commandKey == "corral-\(t.id)")
        #expect(try store.tasks(deviceID: d.id, states: [.pending]).map(\.id) == [t.id])
        t.state = .fault
        t.fault = CWMPFault(code: 9003, string: "Invalid arguments", setParameterValuesFaults: [.init(parameterName: "Device.X", code: 9007, string: "bad")])
        try await store.apply([.updateTask(t), .fault(FaultRecord(deviceID: d.id, taskID: t.id, source: "task", code: 9003, message: "Invalid arguments", at: 5))])
        #expect(try store.tasks(deviceID: d.id, states: [.pending]).isEmpty)
        let back = try #require(try store.task(id: t.id))
        #expect(back.fault == t.fault)
        #expect(back.kind == t.kind)
        #expect(try store.faults(deviceID: d.id, limit: 10).first?.taskID == t.id)
    }

    @Test(arguments: StoreEngine.allCases) func groupCommitBatchesConcurrentWritesAndIsolatesFailures(engine: StoreEngine) async throws {
        let store = try engine.makeStore()
        defer { store.close() }
        let d = try await store.createDevice(Device(name: "A-4", oui: "A", productClass: "", serialNumber: "4", createdAt: 1))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<500 {
                group.addTask {
                    try await store.apply([.inform(deviceID: d.id, InformRecord(at: Int64(i), events: ["2 PERIODIC"], retryCount: 0, remote: ""))])
                }
            }
            try await group.waitForAll()
        }
        #expect(try store.informs(deviceID: d.id, limit: 1000).count == 500)
        // A failing write (duplicate name) does not undo the others committed in the same group.
        let refused = await #expect(throws: (any Error).self) {
            _ = try await store.createDevice(Device(name: "A-4", oui: "B", productClass: "", serialNumber: "x", createdAt: 1))
        }
        #expect((refused as? any DatabaseFault)?.isConstraintViolation == true, "\(String(describing: refused))")
        #expect(try store.deviceCount() == 1)
    }

    /// A read run again and again (PostgreSQL prepares it and sends its values as literals) finds text with quotes,
    /// backslashes and any Unicode, and the same rows each time.
    @Test(arguments: StoreEngine.allCases) func repeatedReadsFindAnyText(engine: StoreEngine) async throws {
        let store = try engine.makeStore()
        defer { store.close() }
        let names = ["O'Brien", "back\\slash \\' quote", "ünï 中文 🐄", "x' OR '1'='1", "$1"]
        for (i, n) in names.enumerated() {
            _ = try await store.createDevice(Device(name: n, oui: "Q", productClass: "", serialNumber: "Q\(i)", createdAt: 1))
        }
        for _ in 0..<4 {
            for (i, n) in names.enumerated() {
                #expect(try store.device(name: n)?.serialNumber == "Q\(i)", "\(n)")
            }
            #expect(try store.device(name: "nobody") == nil)
        }
    }

    /// Several nodes on one database: a node takes a device's session lease only when it is free, expired or its own;
    /// a refused take writes nothing of its batch; only the holding session renews or releases it.
    @Test(arguments: StoreEngine.allCases) func sessionLeasesAdmitOneNodePerDevice(engine: StoreEngine) async throws {
        let store = try engine.makeStore()
        defer { store.close() }
        let d = try await store.createDevice(Device(name: "L-1", oui: "L", productClass: "", serialNumber: "1", createdAt: 1))
        let inform = StoreWrite.inform(deviceID: d.id, InformRecord(at: 100, events: ["2 PERIODIC"], retryCount: 0, remote: ""))
        try await store.apply([.takeLease(SessionLease(deviceID: d.id, node: "a:7547", token: "t1", expiresAt: 160), now: 100), inform])
        #expect(try store.sessionLease(deviceID: d.id) == SessionLease(deviceID: d.id, node: "a:7547", token: "t1", expiresAt: 160))

        // Node B while A's lease is live: refused, with A's name and expiry, and the Inform in the same batch is not stored.
        let refused = await #expect(throws: LeaseHeld.self) {
            try await store.apply([.takeLease(SessionLease(deviceID: d.id, node: "b:7547", token: "t2", expiresAt: 170), now: 110), inform])
        }
        #expect(refused == LeaseHeld(node: "a:7547", expiresAt: 160))
        #expect(try store.informs(deviceID: d.id, limit: 10).count == 1)
        #expect(try store.liveSessionLeases(now: 110) == ["a:7547": 1])

        // A renews its own lease; B's token renews nothing; then B is still refused past the first expiry.
        try await store.apply([.renewLease(deviceID: d.id, token: "t1", expiresAt: 200), .renewLease(deviceID: d.id, token: "t2", expiresAt: 999)])
        #expect(try store.sessionLease(deviceID: d.id)?.expiresAt == 200)
        await #expect(throws: LeaseHeld.self) {
            try await store.apply([.takeLease(SessionLease(deviceID: d.id, node: "b:7547", token: "t2", expiresAt: 230), now: 170)])
        }
        // A new session on the same node replaces the old one's lease (the CPE gave that one up).
        try await store.apply([.takeLease(SessionLease(deviceID: d.id, node: "a:7547", token: "t3", expiresAt: 240), now: 180)])
        // The old session's release does not free the new one's lease; the new one's does.
        try await store.apply([.releaseLease(deviceID: d.id, token: "t1")])
        #expect(try store.sessionLease(deviceID: d.id)?.token == "t3")
        try await store.apply([.releaseLease(deviceID: d.id, token: "t3")])
        #expect(try store.sessionLease(deviceID: d.id) == nil)
        try await store.apply([.takeLease(SessionLease(deviceID: d.id, node: "b:7547", token: "t4", expiresAt: 250), now: 190)])

        // A node that died leaves its lease behind: another node takes it once it expired.
        await #expect(throws: LeaseHeld.self) {
            try await store.apply([.takeLease(SessionLease(deviceID: d.id, node: "c:7547", token: "t5", expiresAt: 300), now: 249)])
        }
        try await store.apply([.takeLease(SessionLease(deviceID: d.id, node: "c:7547", token: "t5", expiresAt: 310), now: 250)])
        #expect(try store.sessionLease(deviceID: d.id)?.node == "c:7547")
        #expect(try store.liveSessionLeases(now: 250) == ["c:7547": 1])
    }
}

@Suite struct StoreSafetyTests {
    /// A `param=…~<long value>` filter once ran 11–44 s: reads stop at the task's deadline, and the reader stays usable.
    @Test func readsStopAtTheirDeadline() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLStore(directory: dir)
        defer { store.close() }
        let slow = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500000000) SELECT count(*) FROM c"
        let started = DeadlineBox.now()
        do {
            _ = try ReadDeadline.$seconds.withValue(0.2) { try store.db.read { c in try c.scalar(slow) } }
            Issue.record("the query should have been interrupted")
        } catch let e as SQLiteError {
            #expect(e.isTimeLimit, "\(e)")
        }
        #expect(DeadlineBox.now() - started < 5)
        for _ in 0..<8 {   // every pooled reader answers afterwards
            #expect(try ReadDeadline.$seconds.withValue(5) { try store.db.read { c in try c.scalar("SELECT 41 + 1").int } } == 42)
        }
    }

    @Test func integrityCheckFindsACorruptedPage() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var store: SQLStore? = try SQLStore(directory: dir)
        for i in 0..<400 {
            _ = try await store!.createDevice(Device(name: "00D09E-C\(i)", oui: "00D09E", productClass: String(repeating: "p", count: 200),
                                                     serialNumber: "C\(i)", createdAt: 1))
        }
        #expect(try store!.integrityProblems(quick: true) == [])
        #expect(try store!.integrityProblems(quick: false) == [])
        store!.close()
        store = nil
        // Scribble over the headers of a few b-tree pages near the end of the file, where the devices just written
        // are (the schema's pages come first: the file must still open and migrate).
        let path = dir + "/corral.db"
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        #expect(size > 64 * 1024)
        let h = try #require(FileHandle(forWritingAtPath: path))
        for k in 2...5 {
            try h.seek(toOffset: UInt64(size / 4096 * 4096 - k * 4 * 4096))
            h.write(Data(repeating: 0xA5, count: 12))
        }
        try h.close()
        let reopened = try SQLStore(directory: dir)
        defer { reopened.close() }
        let problems = (try? reopened.integrityProblems(quick: false)) ?? ["unreadable"]
        #expect(!problems.isEmpty)
    }
}
