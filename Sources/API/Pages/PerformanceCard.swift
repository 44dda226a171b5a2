import ACSCore
import Foundation
import GUI
import SpeedTest
import Storage

/// The device page's "Performance test" card: run a TR-143 test, the last results, throughput and RTT over time.
extension DevicePage {
    /// Outside the polled part, so a refresh does not wipe what the engineer is typing.
    static func performanceForm(_ ctx: RequestContext, _ d: Device) -> Markup {
        var form: Markup = .empty
        if ctx.can("diagnostic.create") {
            let tests: [(String, String)] = [("download", "Download"), ("upload", "Upload")] + (d.dataModel == .tr098 ? [] : [("udpecho", "UDP echo (delay, jitter, loss)")])
                + [("ping", "Ping"), ("traceroute", "Traceroute")]
            let opts: [Markup] = tests.map { "<option value=\"\($0.0)\">\($0.1)</option>" }
            form = PageKit.apiForm("/api/v1/devices/\(d.id)/diagnostics", body: #"{"connection_request":true}"#, cls: "row", label: "Run a performance test", """
                <label for="pt-test">Test<select id="pt-test" name="test">\(opts)</select></label>
                <label for="pt-size">Bytes<input id="pt-size" name="size" data-kind="int" type="number" min="1" placeholder="10000000" size="10"></label>
                <label for="pt-seconds">Seconds<input id="pt-seconds" name="seconds" data-kind="int" type="number" min="1" max="999" placeholder="size-based" size="6"></label>
                <label for="pt-conns">Connections<input id="pt-conns" name="connections" data-kind="int" type="number" min="1" max="64" placeholder="1" size="4"></label>
                <button type="submit" id="act-diagnose">Run test</button>
                """)
        }
        return form
    }

    static func performance(_ ctx: RequestContext, _ d: Device) throws -> Markup {
        var q = DiagnosticQuery(deviceID: d.id, limit: 60)
        q.organisationPath = ctx.me.organisation.path
        let rows = try ctx.store.diagnosticResults(q)
        let decoded = rows.map { ($0, try? JSONDecoder().decode(DiagnosticResult.self, from: Data($0.result.utf8))) }
        let table: Markup
        if rows.isEmpty {
            table = "<p class=\"muted\">No test results yet.</p>"
        } else {
            let trs: [Markup] = decoded.prefix(8).map { r, res in
                let line = res?.summaryLines.first ?? r.state
                return "<tr><td>\(Layout.ago(r.at, now: Time.now, iso: Time.iso(r.at)))</td><td>\(r.test)</td><td class=\"\(r.ok ? "ok" : "bad")\">\(r.state)</td><td>\(line)</td></tr>"
            }
            table = "<table id=\"perf-results\"><thead><tr><th>When</th><th>Test</th><th>State</th><th>Result</th></tr></thead><tbody>\(trs)</tbody></table>"
        }
        // Oldest first for the charts.
        let ok = rows.filter(\.ok).reversed()
        let throughput = ok.filter { $0.test == "download" }.compactMap { r in r.throughputBps.map { (at: r.at, value: $0 / 1e6) } }
        let upload = ok.filter { $0.test == "upload" }.compactMap { r in r.throughputBps.map { (at: r.at, value: $0 / 1e6) } }
        let rtt = ok.filter { $0.test == "udpecho" || $0.test == "ping" }.compactMap { r in r.avgRttUs.map { (at: r.at, value: Double($0) / 1000) } }
        let jitter = ok.filter { $0.test == "udpecho" }.compactMap { r in r.jitterUs.map { (at: r.at, value: $0 / 1000) } }
        var charts: [Markup] = []
        func chart(_ pts: [(at: Int64, value: Double)], _ title: String, _ unit: String, id: String) {
            guard pts.count >= 2 else { return }
            let top = max(1, (pts.map(\.value).max() ?? 1) * 1.1)
            charts.append("<div class=\"stack\" id=\"\(id)\"><h3>\(title)</h3>\(Charts.line(pts, title: title, unit: unit, range: 0...top))</div>")
        }
        chart(throughput, "Download throughput (Mbit/s)", " Mbit/s", id: "perf-download")
        chart(upload, "Upload throughput (Mbit/s)", " Mbit/s", id: "perf-upload")
        chart(rtt, "Round trip (ms)", " ms", id: "perf-rtt")
        chart(jitter, "Jitter (ms)", " ms", id: "perf-jitter")
        let history: Markup = charts.isEmpty ? .empty : "<div class=\"grid2 perf\">\(charts)</div>"
        return "\(table)\(history)"
    }
}
