import ACSCore
import Foundation
import Storage
import Testing
@testable import Scripting

/// A run scoped to an organisation subtree (API and WebGUI runs): no query of the script reaches outside it.
@Suite struct ScopeTests {
    static let now: Int64 = 1_750_000_000

    final class Rows: ReportOutput {
        var rows: [[LuaValue]] = []
        func begin(title: String?, columns: [String]) {}
        func row(_ values: [LuaValue]) { rows.append(values) }
        func end() {}
    }

    func fleet() async throws -> (SQLStore, Organisation, [Device], [Device]) {
        let store = try SQLStore(directory: NSTemporaryDirectory() + "corral-scope-" + UUID().uuidString.prefix(8))
        let a = try await store.createOrganisation(name: "A", parentID: 1, now: 1)
        let a1 = try await store.createOrganisation(name: "A1", parentID: a.id, now: 1)
        let b = try await store.createOrganisation(name: "B", parentID: 1, now: 1)
        var inside: [Device] = [], outside: [Device] = []
        for (i, org) in [a.id, a1.id, b.id, b.id, 1].enumerated() {
            var d = Device(name: "00C0FF-S\(i)", oui: "00C0FF", productClass: "GW", serialNumber: "S\(i)", modelName: "M\(i % 2)",
                           profile: "generic-tr181", dataModel: .tr181, createdAt: 1)
            d.organisationID = org
            d = try await store.createDevice(d)
            if org == a.id || org == a1.id { inside.append(d) } else { outside.append(d) }
        }
        return (store, a, inside, outside)
    }

    @Test func everyPopulationQueryOfAScopedReportStaysInTheSubtree() async throws {
        let (store, a, inside, outside) = try await fleet()
        let registry = ProfileLibrary.load(directory: nil).0.registry
        let ids = (inside + outside).map { String($0.id) }.joined(separator: ", ")
        let source = """
            report { columns = { "what", "n" } }
            local n = 0
            for dev in devices {} do n = n + 1 end
            emit { what = "devices", n = n }
            emit { what = "count", n = count {} }
            local groups = 0
            for _, g in ipairs(count_by("model")) do groups = groups + g.count end
            emit { what = "count_by", n = groups }
            local s = 0
            for _, g in ipairs(count_by("status")) do s = s + g.count end
            emit { what = "status", n = s }
            emit { what = "ids", n = count { ids = { \(ids) } } }
            """
        let out = Rows()
        _ = try ReportRunner.run(source: source, name: "scope.lua", store: store, registry: registry, now: Self.now, output: out, scope: a.path)
        #expect(out.rows.map { $0[1] } == Array(repeating: LuaValue.int(Int64(inside.count)), count: 5), "\(out.rows)")
        // Unscoped (the CLI): the whole population.
        let all = Rows()
        _ = try ReportRunner.run(source: source, name: "all.lua", store: store, registry: registry, now: Self.now, output: all)
        #expect(all.rows.map { $0[1] } == Array(repeating: LuaValue.int(5), count: 5))
        store.close()
    }

    @Test func aScopedCampaignTargetsOnlyItsSubtreeAndIdsAreCapped() async throws {
        let (store, a, inside, outside) = try await fleet()
        let registry = ProfileLibrary.load(directory: nil).0.registry
        let source = """
            campaign { name = "all", target = { ids = { \((inside + outside).map { String($0.id) }.joined(separator: ",")) } },
                       apply = function(dev) dev:set("wifi.ssid", "x" .. count {}) end }
            """
        let script = try CampaignScript(source: source, name: "c.lua", store: store, registry: registry, now: Self.now, scope: a.path)
        var targeted: [Int64] = []
        try script.targets { targeted.append($0.id) }
        #expect(targeted == inside.map(\.id))
        #expect(try script.actions(for: inside[0], now: Self.now).map(\.description) == ["set Device.WiFi.SSID.1.SSID=x2"])

        // A dry run lists the first few targets and counts the rest in SQL (scoped, honouring limit).
        var first: [Int64] = []
        try script.targets(max: 1) { first.append($0.id) }
        #expect(first == [inside[0].id])
        #expect(try script.targetCount() == inside.count)
        let limited = try CampaignScript(source: #"campaign { name = "l", target = { limit = 1 }, apply = function(dev) end }"#, name: "l.lua",
                                         store: store, registry: registry, now: Self.now, scope: a.path)
        #expect(try limited.targetCount() == 1)

        let many = "campaign { name = 'many', target = { ids = { " + (1...10_001).map(String.init).joined(separator: ",") + " } }, apply = function(dev) end }"
        let big = try CampaignScript(source: many, name: "many.lua", store: store, registry: registry, now: Self.now)
        #expect(throws: QueryError.self) { try big.targets { _ in } }
        store.close()
    }
}
