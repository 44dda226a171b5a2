import ACSCore
import Foundation
import GUI
import NetHTTP
import Scripting
import Storage

/// Fleet overview: status counts and charts; every bar links to the inventory filtered to what it counts.
public enum DashboardPage {
    static func show(_ ctx: RequestContext) async throws -> HTTPResponse {
        // At 1M devices the aggregates take seconds: one computation per subtree serves every viewer for 30 s.
        let charts = try ctx.api.dashboards.value(for: ctx.me.organisation.path, maxAge: 30) { try self.charts(ctx) }
        if PageKit.part(ctx) == "charts" { return PageKit.html(charts) }
        let exposed = BuiltinProfiles.usingPublicSecret(ctx.api.config.profiles)
        let warning = exposed.isEmpty ? "" : """
            <p class="error" id="public-secret-warning" role="alert"><strong>Public onboarding password in use:</strong> \
            profiles \(Markup.escape(exposed.joined(separator: ", "))) still accept the built-in default onboarding password; \
            anyone can onboard or re-bootstrap devices with it. Set their secrets before real devices connect.</p>
            """
        return PageKit.page(ctx, "Dashboard", section: "dashboard", """
            <h1>Dashboard</h1>\(Markup(raw: warning))<div id="dashboard" data-poll="/?part=charts" data-every="30" data-live="device.*" data-live-min="30">\(charts)</div>
            """)
    }

    static func link(_ pairs: [(String, String)]) -> String { "/devices?" + URLText.query(pairs) }

    static func charts(_ ctx: RequestContext) throws -> Markup {
        try charts(store: ctx.store, path: ctx.me.organisation.path, names: try PageKit.organisationNames(ctx), profiles: ctx.api.config.profiles,
                   now: Time.now)
    }

    /// The dashboard's charts for the subtree at `path`, uncached (`corral bench query` times this at 1M devices).
    public static func renderCharts(store: OperatorStore & DiagnosticStore, path: String, profiles: ProfileRegistry, now: Int64) throws -> String {
        var names: [Int64: String] = [:]
        for o in try store.organisations(under: path) { names[o.id] = o.name }
        return try charts(store: store, path: path, names: names, profiles: profiles, now: now).description
    }

    static func charts(store: OperatorStore & DiagnosticStore, path: String, names: [Int64: String], profiles: ProfileRegistry, now: Int64) throws -> Markup {
        // Status: three counts, each a range of an index (devices_offline_at, last_inform); the per-column charts come
        // from device_tallies (migration 6). 3.9 s at 1M devices before (one scan per chart).
        var counts: [DeviceStatus: Int] = [:]
        for s in [DeviceStatus.online, .offline, .never] {
            var q = DeviceQuery()
            q.organisationPath = path
            q.status = s
            counts[s] = try store.countDevices(q, now: now)
        }
        let total = counts.values.reduce(0, +)
        let statusItems = [DeviceStatus.online, .offline, .never].map { ChartItem($0.rawValue, counts[$0] ?? 0, href: link([("status", $0.rawValue)])) }
        let tiles: Markup = "<a class=\"tile\" href=\"/devices\" id=\"count-total\"><span>Devices</span><b>\(total)</b></a>" + statusItems.map { i in
            "<a class=\"tile st-\(i.label)\" href=\"\(i.href ?? "")\" id=\"count-\(i.label)\"><span>\(i.label.capitalized)</span><b>\(i.value)</b></a>"
        }.joined()

        func byColumn(_ c: DeviceCountColumn, _ key: String) throws -> [ChartItem] {
            try store.deviceCounts(by: c, under: path).map { ChartItem($0.key, $0.count, href: link([(key, $0.key)])) }
        }
        let models = try store.deviceCounts(by: .manufacturerModel, under: path).map { row -> ChartItem in
            let parts = row.key.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let (m, model) = (parts.first ?? "", parts.count > 1 ? parts[1] : "")
            return ChartItem([m, model].filter { !$0.isEmpty }.joined(separator: " "), row.count,
                             href: link([("manufacturer", m), ("model", model)]))
        }
        let orgs = try store.deviceCounts(by: .organisation, under: path).map { row in
            ChartItem(names[Int64(row.key) ?? 0] ?? "#\(row.key)", row.count, href: link([("organisation_id", row.key)]))
        }

        // Onboarding: devices created per day over the last 30 days (UTC), zero days included.
        let today = now / 86400
        let perDay = Dictionary(try store.devicesCreatedPerDay(under: path, since: (today - 29) * 86400).map { ($0.day, $0.count) },
                                uniquingKeysWith: +)
        let f = DateFormatter()
        f.dateFormat = "MM-dd"
        f.timeZone = TimeZone(identifier: "UTC")
        var onboarding: [ChartItem] = []
        for day in (today - 29)...today {
            let label = f.string(from: Date(timeIntervalSince1970: Double(day * 86400)))
            let pairs: [(String, String)] = [("created_from", String(day * 86400)), ("created_before", String((day + 1) * 86400))]
            onboarding.append(ChartItem(label, perDay[day] ?? 0, href: link(pairs)))
        }

        func histogram(_ s: Aliases.Signal) throws -> [ChartItem] {
            let paths = profiles.paths(forAlias: s.alias)
            guard !paths.isEmpty else { return [] }
            let values = try store.parameterValueCounts(paths: paths, under: path)
            guard !values.isEmpty else { return [] }
            var items: [ChartItem] = []
            let p = s.alias
            let below = values.filter { $0.value < s.edges[0] }.reduce(0) { $0 + $1.count }
            items.append(ChartItem("< \(s.edges[0])", below, href: link([("param", "\(p)<\(s.edges[0])")])))
            for (i, lo) in s.edges.enumerated() {
                let hi = i + 1 < s.edges.count ? s.edges[i + 1] : nil
                let n = values.filter { $0.value >= lo && (hi == nil || $0.value < hi!) }.reduce(0) { $0 + $1.count }
                var pairs = [("param", "\(p)>=\(lo)")]
                if let hi { pairs.append(("param", "\(p)<\(hi)")) }
                items.append(ChartItem(hi.map { "\(lo)…\($0)" } ?? "≥ \(lo)", n, href: link(pairs)))
            }
            return items
        }

        // TR-143: the median download of the last 24 h per model and per location (where the slow ones are).
        func speeds(_ by: DiagnosticGrouping) throws -> [ChartItem] {
            try store.diagnosticSummary(DiagnosticQuery(test: "download", since: now - 86_400, organisationPath: path), by: by, maxGroups: 12)
                .compactMap { g in
                    g.medianThroughputBps.map { ChartItem("\(g.key.isEmpty ? "(none)" : g.key) · \(g.devices) dev.", Int(($0 / 1e6).rounded()),
                                                          href: by == .model ? link([("model", g.key)]) : link([("location", g.key)])) }
                }
        }
        func card(_ title: String, _ chart: Markup, id: String) -> Markup {
            "<section class=\"card\" id=\"\(id)\"><h2>\(title)</h2>\(chart)</section>"
        }
        return """
            <div class="tiles">\(tiles)</div>
            <section class="card" id="chart-status"><h2>Status</h2>\(Charts.stacked(statusItems, title: "Devices by status"))</section>
            <div class="grid">
            \(card("Manufacturer and model", Charts.bars(models, title: "Devices by manufacturer and model"), id: "chart-model"))
            \(card("Software version", Charts.bars(try byColumn(.softwareVersion, "software_version"), title: "Devices by software version"), id: "chart-software"))
            \(card("Profile", Charts.bars(try byColumn(.profile, "profile"), title: "Devices by profile"), id: "chart-profile"))
            \(card("Organisation", Charts.bars(orgs, title: "Devices by organisation"), id: "chart-organisation"))
            \(card("Onboarded per day (last 30 days, UTC)", Charts.columns(onboarding, title: "Devices onboarded per day"), id: "chart-onboarding"))
            \(card("LTE RSSI (dBm)", Charts.columns(try histogram(Aliases.rssi), title: "LTE RSSI distribution", unit: " dBm"), id: "chart-rssi"))
            \(card("LTE SINR (dB)", Charts.columns(try histogram(Aliases.sinr), title: "LTE SINR distribution", unit: " dB"), id: "chart-sinr"))
            \(card("Download speed by model (median Mbit/s, last 24 h)", Charts.bars(try speeds(.model), title: "Median download speed by model"), id: "chart-speed-model"))
            \(card("Download speed by location (median Mbit/s, last 24 h)", Charts.bars(try speeds(.location), title: "Median download speed by location"), id: "chart-speed-location"))
            </div>
            """
    }
}

/// Rendered dashboards per organisation subtree, reused for a while.
final class DashboardCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: (at: Date, markup: Markup)] = [:]

    func value(for key: String, maxAge: TimeInterval, _ make: () throws -> Markup) throws -> Markup {
        if let e = lock.withLock({ entries[key] }), Date().timeIntervalSince(e.at) < maxAge { return e.markup }
        let m = try make()
        lock.withLock {
            if entries.count > 1000 { entries.removeAll() }
            entries[key] = (Date(), m)
        }
        return m
    }
}
