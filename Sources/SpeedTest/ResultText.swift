import Foundation

/// The few lines an engineer reads first (CLI, GUI tooltips): pure formatting of a result.
extension DiagnosticResult {
    public var summaryLines: [String] {
        var out: [String] = []
        guard ok else {
            return ["\(test.rawValue): \(state.isEmpty ? "no state reported" : state)"]
        }
        switch test {
        case .download, .upload:
            var l = "\(test.rawValue): " + (throughputBps.map(Self.rate) ?? "no throughput (missing BOM/EOM times)")
            if let b = testBytes, let d = durationUs { l += " (\(b) bytes in \(Self.seconds(d)))" }
            out.append(l)
            var details: [String] = []
            if let f = fullLoadingThroughputBps { details.append("full loading \(Self.rate(f))") }
            if let t = tcpRttUs { details.append("TCP handshake \(Self.ms(t))") }
            if let t = ttfbUs { details.append("first byte after \(Self.ms(t))") }
            if !connections.isEmpty { details.append("\(connections.count) connections") }
            if !details.isEmpty { out.append("  " + details.joined(separator: ", ")) }
            if let s = server, let b = s.bytes {
                out.append("  server saw \(b) bytes" + (s.durationUs.map { " in \(Self.seconds($0))" } ?? "") + (s.throughputBps.map { " (\(Self.rate($0)))" } ?? "")
                           + (s.complete == false ? ", not all transfers complete" : ""))
            }
        case .udpecho, .ping, .traceroute:
            var l = "\(test.rawValue): "
            if let a = avgRttUs { l += "rtt avg \(Self.ms(a))" } else { l += "no round trip" }
            if let a = minRttUs, let b = maxRttUs { l += " (min \(Self.ms(a)), max \(Self.ms(b)))" }
            if let j = jitterUs { l += ", jitter \(Self.ms(Int64(j.rounded())))" }
            if let x = loss { l += ", loss \(Self.percent(x))" }
            out.append(l)
            if upstreamLoss != nil || downstreamLoss != nil {
                out.append("  loss upstream \(upstreamLoss.map(Self.percent) ?? "?"), downstream \(downstreamLoss.map(Self.percent) ?? "?")")
            }
            for h in hops { out.append("  hop \(h.index) \(h.host) \(h.address) \(h.rttMs.map { "\($0) ms" }.joined(separator: " "))") }
        }
        return out
    }

    public static func rate(_ bps: Double) -> String {
        if bps >= 1e9 { return String(format: "%.2f Gbit/s", bps / 1e9) }
        if bps >= 1e6 { return String(format: "%.1f Mbit/s", bps / 1e6) }
        return String(format: "%.0f kbit/s", bps / 1e3)
    }
    public static func ms(_ us: Int64) -> String { String(format: "%.1f ms", Double(us) / 1000) }
    public static func seconds(_ us: Int64) -> String { String(format: "%.3f s", Double(us) / 1e6) }
    public static func percent(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }
}
