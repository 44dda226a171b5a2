import Foundation
import Testing
import ACSCore
import CWMP
@testable import Storage

/// Migration 6 (indexes, trigram text index, device tallies) and history retention: the fast paths give exactly the
/// answers of the plain SQL they replace.
@Suite struct ScaleTests {
    func device(_ i: Int, model: String, version: String, description: String = "", org: Int64 = Organisation.rootID) -> Device {
        var d = Device(name: "OUI-\(String(format: "%04d", i))", oui: "OUI", productClass: "P", serialNumber: String(format: "SN%04d", i),
                       manufacturer: "Maker", modelName: model, softwareVersion: version, profile: "generic-tr181",
                       description: description, informInterval: 300, createdAt: 1)
        d.organisationID = org
        return d
    }

    @Test(arguments: StoreEngine.allCases) func textSearchKeepsSubstringSemantics(engine: StoreEngine) async throws {
        let store = try engine.makeStore()
        defer { store.close() }
        let descriptions = ["Core switch room", "core SWITCH", "Caf\u{E9} corner", "CAF\u{C9} CORNER", "100% _uplink_", "quote \"here\"", ""]
        for (i, text) in descriptions.enumerated() {
            _ = try await store.createDevice(device(i, model: "A", version: "1"))
            let d = try #require(try store.device(name: "OUI-\(String(format: "%04d", i))"))
            try await store.apply([.updateMetadata(deviceID: d.id, groups: [], location: "", description: text)])
        }
        // Every answer is checked twice: with the changes not yet in the trigram index, and after syncing it.
        func serials(_ text: String) async throws -> [String] {
            var q = DeviceQuery()
            q.text = text
            let before = try store.devices(q, now: 0).devices.map(\.serialNumber)
            try await store.syncTextIndex(batch: 3)
            while try await store.syncTextIndex(batch: 3) > 0 {}
            let after = try store.devices(q, now: 0).devices.map(\.serialNumber)
            #expect(before == after, "\(text)")
            return after
        }
        // ASCII case-insensitive, any column, substrings of 1, 2 and 3+ characters.
        #expect(try await serials("switch") == ["SN0000", "SN0001"])
        #expect(try await serials("itc") == ["SN0000", "SN0001"])
        #expect(try await serials("sn000") == (0..<7).map { String(format: "SN%04d", $0) })
        #expect(try await serials("OUI-0005") == ["SN0005"])
        #expect(try await serials("N0003") == ["SN0003"])
        #expect(try await serials("%") == ["SN0004"])
        #expect(try await serials("% _") == ["SN0004"])
        #expect(try await serials("_up") == ["SN0004"])
        #expect(try await serials("\"here\"") == ["SN0005"])
        // SQLite's LIKE folds ASCII only: é and É stay distinct, as before the trigram index.
        #expect(try await serials("caf\u{E9}") == ["SN0002"])
        #expect(try await serials("CAF\u{C9}") == ["SN0003"])
        #expect(try await serials("nothing like it") == [])
        // A NUL cannot go into an FTS5 query ("unterminated string", a 500 schemathesis found): such a search scans.
        #expect(try await serials("swi\u{0}tch") == [])
        var nul = DeviceQuery()
        nul.text = "abc\u{0}def"
        #expect(try store.countDevices(nul, now: 0) == 0)

        // The index follows renames and description changes.
        let d = try #require(try store.device(name: "OUI-0000"))
        try await store.apply([.updateMetadata(deviceID: d.id, groups: [], location: "", description: "Lobby")])
        #expect(try await serials("switch") == ["SN0001"])
        #expect(try await serials("lobby") == ["SN0000"])
        var renamed = d
        renamed.name = "OUI-RENAMED"
        try await store.apply([.updateDevice(renamed)])
        #expect(try await serials("renamed") == ["SN0000"])
        #expect(try await serials("OUI-0000") == [])
        var counted = DeviceQuery()
        counted.text = "corner"
        #expect(try store.countDevices(counted, now: 0) == 2)
    }

    @Test(arguments: StoreEngine.allCases) func statusCountsAndGroupByStatusAgree(engine: StoreEngine) async throws {
        let store = try engine.makeStore()
        defer { store.close() }
        // interval 300: online while now <= last_inform + 510.
        for (i, last) in [Int64(10_000), 9_490, 9_489, 5_000, 0, 0].enumerated() {
            var d = try await store.createDevice(device(i, model: "A", version: "1"))
            d.lastInform = last
            try await store.apply([.updateDevice(d)])
        }
        let now: Int64 = 10_000
        var counts: [String: Int] = [:]
        for s in [DeviceStatus.online, .offline, .never] {
            var q = DeviceQuery()
            q.status = s
            counts[s.rawValue] = try store.countDevices(q, now: now)
            for d in try store.devices(q, now: now).devices {
                #expect(DeviceStatus.of(lastInform: d.lastInform, informInterval: d.informInterval, now: now) == s)
            }
        }
        #expect(counts == ["online": 2, "offline": 2, "never": 2])
        #expect(try store.deviceCounts(by: .status, now: now) == [GroupCount(key: "never", count: 2), GroupCount(key: "offline", count: 2),
                                                                 GroupCount(key: "online", count: 2)])
        var online = DeviceQuery()
        online.status = .online
        #expect(try store.deviceCounts(by: .status, where: online, now: now) == [GroupCount(key: "online", count: 2)])
        var offlineByDate = DeviceQuery()
        offlineByDate.status = .offline
        offlineByDate.sort = .lastInform
        offlineByDate.descending = true
        #expect(try store.devices(offlineByDate, now: now).devices.map(\.lastInform) == [9_489, 5_000])
    }

    @Test(arguments: StoreEngine.allCases) func talliesFollowInsertsMovesAndUpgrades(engine: StoreEngine) async throws {
        let store = try engine.makeStore()
        defer { store.close() }
        let child = try await store.createOrganisation(name: "child", parentID: Organisation.rootID, now: 0)
        for i in 0..<10 {
            _ = try await store.createDevice(device(i, model: i < 6 ? "A" : "B", version: i < 3 ? "1" : "2", org: i < 8 ? 1 : child.id))
        }
        _ = try await store.importDevices([(device(10, model: "C", version: "3"), [])], at: 0)
        // What a scan of the devices table says, for every column and subtree.
        func scanned(_ column: DeviceCountColumn, _ path: String) throws -> [(key: String, count: Int)] {
            try store.db.read { c in
                var out: [(key: String, count: Int)] = []
                try c.query("""
                    SELECT \(column.rawValue), count(*) FROM devices
                    WHERE organisation_id IN (SELECT id FROM organisations WHERE path LIKE ? ESCAPE '\\')
                    GROUP BY \(column.rawValue) ORDER BY count(*) DESC, \(column.rawValue)
                    """, [SQLStore.likePrefix(path)]) { out.append((key: $0[0].text, count: Int($0.int(1)))) }
                return out
            }
        }
        func agree() throws {
            for column in DeviceCountColumn.allCases {
                for path in ["/1/", child.path] {
                    let fast = try store.deviceCounts(by: column, under: path)
                    let slow = try scanned(column, path)
                    #expect(fast.map(\.key) == slow.map(\.key) && fast.map(\.count) == slow.map(\.count), "\(column) under \(path)")
                }
            }
        }
        try agree()
        // An upgrade (the session's identity UPDATE), a move to another organisation, a model change.
        var d = try #require(try store.device(name: "OUI-0000"))
        d.softwareVersion = "2"
        d.modelName = "B"
        try await store.apply([.updateDevice(d)])
        var moved = try #require(try store.device(name: "OUI-0001"))
        moved.organisationID = child.id
        try await store.updateDeviceMetadata(moved)
        // A periodic session that changes nothing identity-wise.
        var same = try #require(try store.device(name: "OUI-0002"))
        same.lastInform = 99
        try await store.apply([.updateDevice(same)])
        try agree()
        #expect(try store.deviceCounts(by: .softwareVersion, under: child.path).map(\.count) == [2, 1])
    }

    @Test func jsonArrayOfPathsDecodesBack() throws {
        let strings = ["Device.WiFi.SSID.1.SSID", "quote \" and \\ back", "tab\tnew\nline\u{01}", "é ✓ 𝄞", ""]
        let decoded = try JSONDecoder().decode([String].self, from: Data(SQLStore.jsonArray(strings).utf8))
        #expect(decoded == strings)
        #expect(SQLStore.jsonArray([]) == "[]")
    }

    @Test(arguments: StoreEngine.allCases) func retentionDeletesOldRowsAndKeepsRecentOnes(engine: StoreEngine) async throws {
        let store = try engine.makeStore()
        defer { store.close() }
        let d = try await store.createDevice(device(0, model: "A", version: "1"))
        let day: Int64 = 86_400
        let now: Int64 = 100 * day
        // 1,500 informs from 40 days ago, then 1,000 from yesterday; KPI samples from 100 and 10 days ago.
        var writes: [StoreWrite] = []
        for i in 0..<2_500 {
            let at = i < 1_500 ? now - 40 * day + Int64(i) : now - day + Int64(i)
            writes.append(.inform(deviceID: d.id, InformRecord(at: at, events: ["2 PERIODIC"], retryCount: 0, remote: "")))
        }
        var samples: [KPISample] = []
        for i in 0..<300 { samples.append(KPISample(deviceID: d.id, name: "rssi", at: i < 200 ? now - 100 * day : now - 10 * day, value: Double(i))) }
        writes.append(.automation(.kpiSamples(samples)))
        try await store.apply(writes)

        // Small batches: several calls, each bounded.
        var calls = 0, deleted = 0
        while true {
            let n = try await store.pruneHistory(.informs, olderThan: now - 30 * day, batch: 400)
            deleted += n
            calls += 1
            if n < 400 { break }
        }
        #expect(deleted == 1_500)
        #expect(calls == 4)
        #expect(try store.informs(deviceID: d.id, limit: 10_000).count == 1_000)
        #expect(try store.informs(deviceID: d.id, limit: 10_000).allSatisfy { $0.at >= now - 30 * day })
        #expect(try await store.pruneHistory(.informs, olderThan: now - 30 * day, batch: 400) == 0)

        #expect(try await store.pruneHistory(.kpiSamples, olderThan: now - 90 * day, batch: 1000) == 200)
        #expect(try store.kpiSamples(deviceID: d.id, name: "rssi", limit: 1000).count == 100)
    }
}
