import Foundation
import Testing
import ACSCore
@testable import Engine
import Storage

/// History retention: the periodic job's pass deletes informs, events and KPI samples past their retention, in batches,
/// and keeps the recent ones; the defaults and the config keys.
@Suite struct RetentionTests {
    @Test func aPassDeletesOldHistoryAndKeepsRecentRows() async throws {
        let store = try SQLStore(directory: temporaryDirectory("retention"))
        defer { store.close() }
        let d = try await store.createDevice(Device(name: "OUI-R1", oui: "OUI", productClass: "P", serialNumber: "R1", createdAt: 1))
        let day: Int64 = 86_400
        let now: Int64 = 400 * day
        var writes: [StoreWrite] = []
        for (i, age) in [45, 31, 29, 1].enumerated() {
            for k in 0..<250 {
                writes.append(.inform(deviceID: d.id, InformRecord(at: now - Int64(age) * day + Int64(k), events: ["2 PERIODIC"],
                                                                   retryCount: i, remote: "")))
            }
        }
        writes.append(.automation(.kpiSamples([120, 91, 89, 0].map { KPISample(deviceID: d.id, name: "rssi", at: now - $0 * day, value: -70) })))
        for age in [40, 31, 2] { writes.append(.automation(.event(EventRecord(at: now - Int64(age) * day, kind: "device.boot", deviceID: d.id)))) }
        try await store.apply(writes)

        var policy = HistoryRetention.Policy(informDays: 30, kpiDays: 90)
        policy.batch = 100
        policy.pause = .milliseconds(1)
        let deleted = try await HistoryRetention(store: store, policy: policy).prune(now: now)
        #expect(deleted == [.informs: 500, .kpiSamples: 2, .events: 2, .alerts: 0, .diagnosticResults: 0])
        #expect(try store.events(deviceID: d.id, limit: 10).map(\.at) == [now - 2 * day])
        let left = try store.informs(deviceID: d.id, limit: 10_000)
        #expect(left.count == 500)
        #expect(left.allSatisfy { $0.at >= now - 30 * day })
        #expect(try store.kpiSamples(deviceID: d.id, name: "rssi", limit: 10).map(\.at).sorted() == [now - 89 * day, now])

        // 0 keeps a table forever.
        let none = try await HistoryRetention(store: store, policy: .init(informDays: 0, kpiDays: 0)).prune(now: now + 1000 * day)
        #expect(none.isEmpty)
        #expect(try store.informs(deviceID: d.id, limit: 10_000).count == 500)
    }

    @Test func retentionDefaultsAndConfigKeys() throws {
        let d = CorralConfig()
        #expect(d.informRetentionDays == 30)
        #expect(d.kpiRetentionDays == 90)
        let c = try JSONDecoder().decode(CorralConfig.self, from: Data(#"{"inform_retention_days": 7, "kpi_retention_days": 0}"#.utf8))
        #expect(c.informRetentionDays == 7)
        #expect(c.kpiRetentionDays == 0)
    }
}
