import Engine
import ACSCore
import API
import ArgumentParser
import Foundation
import Storage

/// Times what operators and reports do over a large population (run after `corral bench populate`): inventory pages
/// (filter + sort + page, and the next page by cursor), group-bys, a KPI statistic per model, a streaming scan.
struct BenchQuery: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "query", abstract: "Time inventory queries, group-bys and a streaming scan (JSON).")
    @OptionGroup var store: StoreOptions
    @Option(help: "Runs per query (the median is reported).") var runs = 5
    @Option(help: "Page size.") var page = 50

    func run() throws {
        let config = try ConfigLoading.load(store)
        let s = try StoreOpener.open(config)
        defer { s.close() }
        let now = Int64(Date().timeIntervalSince1970)
        var timings: [String: Double] = [:]
        var rows: [String: Int] = [:]
        let clock = ContinuousClock()

        func time(_ name: String, runs: Int? = nil, _ body: () throws -> Int) throws {
            var ms: [Double] = []
            var n = 0
            for _ in 0..<(runs ?? self.runs) {
                let t0 = clock.now
                n = try body()
                ms.append(BenchStats.ms(clock.now - t0))
            }
            timings[name] = (BenchStats.median(ms) * 100).rounded() / 100
            rows[name] = n
        }
        func q(_ configure: (inout DeviceQuery) -> Void) -> DeviceQuery {
            var query = DeviceQuery()
            query.limit = page
            configure(&query)
            return query
        }

        // Inventory: what a device list page asks for.
        let inventory: [(String, DeviceQuery)] = [
            ("inventory_model_sort_last_inform", q { $0.model = "AG-3000"; $0.sort = .lastInform; $0.descending = true }),
            ("inventory_version_sort_name", q { $0.softwareVersion = "3.1.9"; $0.sort = .name }),
            ("inventory_online_profile_sort_id", q { $0.status = .online; $0.profile = "generic-tr098" }),
            ("inventory_offline_sort_last_inform", q { $0.status = .offline; $0.sort = .lastInform; $0.descending = true }),
            ("inventory_group_model_sort_serial", q { $0.group = "coast"; $0.model = "FX-G240"; $0.sort = .serial }),
            ("inventory_weak_rssi_sort_id", q {
                $0.parameters = [.init(paths: ["Device.WiFi.AccessPoint.1.AssociatedDevice.1.SignalStrength",
                                               "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.AssociatedDevice.1.X_RSSI"],
                                       op: .lt, value: "-85")]
            }),
        ]
        for (name, query) in inventory {
            try time(name) { try s.devices(query, now: now).devices.count }
            // The next page, by cursor.
            if let cursor = try s.devices(query, now: now).nextCursor {
                var next = query
                next.cursor = cursor
                try time(name + "_page2") { try s.devices(next, now: now).devices.count }
            }
        }
        try time("inventory_text_search_serial", runs: 3) { try s.devices(q { $0.text = "ON0004242" }, now: now).devices.count }
        // A common substring (every device's description) and a short one: the first page comes from a scan either way.
        try time("inventory_text_search_common", runs: 3) { try s.devices(q { $0.text = "generated" }, now: now).devices.count }
        try time("inventory_text_search_2_chars", runs: 3) { try s.devices(q { $0.text = "42" }, now: now).devices.count }
        try time("count_text_search_serial", runs: 3) { try s.countDevices(q { $0.text = "ON00042" }, now: now) }
        try time("count_matching_model_version") { try s.countDevices(q { $0.model = "AG-3000"; $0.softwareVersion = "3.2.1" }, now: now) }

        // Analytics.
        // The WebGUI dashboard of the root organisation, uncached (status tiles, six charts).
        let profiles = config.profileLibrary().0.registry
        try time("dashboard_root", runs: 3) { try DashboardPage.renderCharts(store: s, path: "/1/", profiles: profiles, now: now).utf8.count }

        try time("groupby_software_version") { try s.deviceCounts(by: .softwareVersion, now: now).count }
        try time("groupby_model") { try s.deviceCounts(by: .model, now: now).count }
        try time("groupby_status") { try s.deviceCounts(by: .status, now: now).count }
        try time("groupby_version_of_model") { try s.deviceCounts(by: .softwareVersion, where: q { $0.model = "FX-G240" }, now: now).count }
        try time("rssi_stats_by_model", runs: 3) {
            try s.parameterStatistics(paths: ["Device.WiFi.AccessPoint.1.AssociatedDevice.1.SignalStrength",
                                              "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.AssociatedDevice.1.X_RSSI"],
                                      by: .model, now: now).count
        }

        // Streaming scan: every device through the reader, as a report (Lua, export) would see them.
        try time("stream_scan_all", runs: 1) {
            var n = 0
            try s.forEachDevice(DeviceQuery(), now: now) { _ in n += 1; return true }
            return n
        }

        let inventoryKeys = inventory.map(\.0)
        let groupKeys = ["groupby_software_version", "groupby_model", "groupby_status", "groupby_version_of_model"]
        let textKeys = ["inventory_text_search_serial", "inventory_text_search_common", "inventory_text_search_2_chars"]
        try BenchStats.printJSON([
            "devices": try s.deviceCount(), "timings_ms": timings, "rows": rows,
            // The goals: the slowest of the typical inventory pages, and the slowest device-column group-by.
            "inventory_query_ms": inventoryKeys.compactMap { timings[$0] }.max() ?? 0,
            "groupby_ms": groupKeys.compactMap { timings[$0] }.max() ?? 0,
            "text_search_ms": textKeys.compactMap { timings[$0] }.max() ?? 0,
            "dashboard_ms": timings["dashboard_root"] ?? 0,
        ])
    }
}
