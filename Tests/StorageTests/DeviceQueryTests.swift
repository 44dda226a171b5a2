import Foundation
import Testing
import ACSCore
import CWMP
@testable import Storage

@Suite struct DeviceQueryTests {
    /// 30 devices: 3 models, 2 software versions, some in group "pilot", informing at various times.
    func populated(_ engine: StoreEngine) async throws -> SQLStore {
        let store = try engine.makeStore()
        for i in 0..<30 {
            var d = try await store.createDevice(Device(name: "OUI-\(String(format: "%03d", i))", oui: "OUI", productClass: "P",
                                                        serialNumber: String(format: "S%03d", i), modelName: ["A", "B", "C"][i % 3],
                                                        softwareVersion: i < 10 ? "1.0" : "2.0", profile: "generic-tr181",
                                                        description: i == 7 ? "Core switch room" : "", informInterval: 300, createdAt: 1))
            d.lastInform = i < 20 ? 10_000 - Int64(i) : (i < 25 ? 1_000 : 0)
            try await store.apply([.updateDevice(d), .updateMetadata(deviceID: d.id, groups: i % 2 == 0 ? ["pilot", "x"] : ["prod"], location: "", description: d.description),
                                   .parameters(deviceID: d.id, values: [ParameterValue(name: "Device.Cellular.Interface.1.RSSI", value: String(-60 - i), type: .int)], at: 1)])
        }
        return store
    }

    @Test(arguments: StoreEngine.allCases) func filtersCombineAndArePushedDown(engine: StoreEngine) async throws {
        let store = try await populated(engine)
        defer { store.close() }
        var q = DeviceQuery()
        q.model = "A"
        q.softwareVersion = "2.0"
        q.limit = 100
        let page = try store.devices(q, now: 10_000)
        #expect(page.devices.map(\.serialNumber) == ["S012", "S015", "S018", "S021", "S024", "S027"])
        #expect(try store.countDevices(q, now: 10_000) == 6)

        var g = DeviceQuery()
        g.group = "pilot"
        #expect(try store.countDevices(g, now: 10_000) == 15)
        g.group = "pil"
        #expect(try store.countDevices(g, now: 10_000) == 0)
        g.group = "PILOT"
        #expect(try store.countDevices(g, now: 10_000) == 15, "groups match ignoring case")

        var t = DeviceQuery()
        t.text = "switch"
        #expect(try store.devices(t, now: 10_000).devices.map(\.serialNumber) == ["S007"])
        t.text = "100%_"
        #expect(try store.countDevices(t, now: 10_000) == 0)
    }

    @Test(arguments: StoreEngine.allCases) func statusFollowsTheInformInterval(engine: StoreEngine) async throws {
        let store = try await populated(engine)
        defer { store.close() }
        var q = DeviceQuery()
        q.status = .online
        #expect(try store.countDevices(q, now: 10_000) == 20)
        q.status = .offline
        #expect(try store.countDevices(q, now: 10_000) == 5)
        q.status = .never
        #expect(try store.countDevices(q, now: 10_000) == 5)
    }

    @Test(arguments: StoreEngine.allCases) func parameterConditionsCompareNumbers(engine: StoreEngine) async throws {
        let store = try await populated(engine)
        defer { store.close() }
        var q = DeviceQuery()
        q.parameters = [.init(paths: ["Device.Cellular.Interface.1.RSSI", "InternetGatewayDevice.X_RSSI"], op: .lt, value: "-85")]
        // RSSI = -60 - i < -85  <=>  i > 25: 26..29
        #expect(try store.devices(q, now: 0).devices.map(\.serialNumber) == ["S026", "S027", "S028", "S029"])
        q.parameters = [.init(paths: ["Device.Cellular.Interface.1.RSSI"], op: .lt, value: "strong")]
        #expect(throws: QueryError.self) { _ = try store.devices(q, now: 0) }
    }

    /// A long result streamed a batch at a time (PostgreSQL: a server-side cursor), in order, with parameters, stopping
    /// early when asked; the connection is usable afterwards.
    @Test(arguments: StoreEngine.allCases) func streamsInBatchesAndStopsEarly(engine: StoreEngine) async throws {
        let store = try await populated(engine)
        defer { store.close() }
        let expected = try store.devices(limit: 100, offset: 0).map(\.id).filter { $0 > 3 }
        try store.db.read { c in
            var ids: [Int64] = []
            try c.stream("SELECT id FROM devices WHERE id > ? ORDER BY id", [.int(3)], batch: 7) { ids.append($0.int(0)); return true }
            #expect(ids == expected)
            var first: [Int64] = []
            try c.stream("SELECT id FROM devices WHERE id > ? ORDER BY id", [.int(3)], batch: 7) { first.append($0.int(0)); return first.count < 10 }
            #expect(first == Array(expected.prefix(10)))
            #expect(try c.scalar("SELECT count(*) FROM devices").int == 30)
        }
    }

    /// A KPI's count, min, max and mean per model; values that are not numbers read as 0 (SQLite's CAST), on both engines.
    @Test(arguments: StoreEngine.allCases) func parameterStatisticsPerGroup(engine: StoreEngine) async throws {
        let store = try await populated(engine)
        defer { store.close() }
        let stats = try store.parameterStatistics(paths: ["Device.Cellular.Interface.1.RSSI"], by: .model, now: 10_000)
        // Model A: i = 0, 3, …, 27 -> RSSI -60 … -87.
        #expect(stats.map(\.key) == ["A", "B", "C"])
        #expect(stats[0] == GroupStatistics(key: "A", count: 10, min: -87, max: -60, mean: -73.5))
        var q = DeviceQuery()
        q.softwareVersion = "1.0"
        let d = try #require(try store.device(name: "OUI-001"))
        try await store.apply([.parameters(deviceID: d.id, values: [ParameterValue(name: "Device.Cellular.Interface.1.RSSI", value: "N/A")], at: 2)])
        let b = try #require(try store.parameterStatistics(paths: ["Device.Cellular.Interface.1.RSSI"], by: .model, where: q, now: 10_000).first { $0.key == "B" })
        // Model B with version 1.0: i = 1, 4, 7 -> "N/A" (0), -64, -67.
        #expect(b == GroupStatistics(key: "B", count: 3, min: -67, max: 0, mean: -131.0 / 3))
    }

    @Test(arguments: StoreEngine.allCases) func cursorPagesCoverEverythingOnceInOrder(engine: StoreEngine) async throws {
        let store = try await populated(engine)
        defer { store.close() }
        for sort in [DeviceQuery.Sort.id, .lastInform, .model, .name] {
            for descending in [false, true] {
                var q = DeviceQuery()
                q.sort = sort
                q.descending = descending
                q.limit = 7
                var seen: [Device] = []
                var pages = 0
                repeat {
                    let page = try store.devices(q, now: 0)
                    seen += page.devices
                    q.cursor = page.nextCursor
                    pages += 1
                } while q.cursor != nil && pages < 20
                #expect(seen.count == 30, "sort \(sort) desc \(descending)")
                #expect(Set(seen.map(\.id)).count == 30)
                var all: [Device] = []
                try store.forEachDevice(q, now: 0) { all.append($0); return true }
                #expect(all.map(\.id) == seen.map(\.id), "pages and the stream agree for \(sort)")
            }
        }
        var bad = DeviceQuery()
        bad.cursor = "%%%"
        #expect(throws: QueryError.self) { _ = try store.devices(bad, now: 0) }
    }
}
