import Foundation
import NetHTTP

/// Download and upload diagnostics (TR-143 HTTP): K connections in parallel, size- or time-based.
extension Diagnostics {
    static let maxConnections = 64

    static func transfer(upload: Bool, input: Inputs, test: TransferContext) async -> DiagnosticsResult {
        let urlString = input.string(upload ? "UploadURL" : "DownloadURL")
        guard let url = URLParts.parse(urlString) else { return .error(urlString.isEmpty ? "Error_InitConnectionFailed" : "Error_Other") }
        // HTTP only: TLS and FTP are not simulated.
        guard url.scheme == "http" else { return .error("Error_Other") }
        guard let address = await resolve(url.host, port: url.port) else { return .error("Error_CannotResolveHostName") }

        let connections = min(maxConnections, input.int("NumberOfConnections", default: 1))
        let request: HTTPTestClient.Request
        if upload {
            // Every connection sends TestFileLength bytes; a time-based upload sends until its time is up.
            request = .put(length: test.duration == nil ? input.int("TestFileLength", default: 0) : nil)
        } else {
            request = .get
        }
        let reports = await withTaskGroup(of: (Int, ConnectionReport).self) { g in
            for i in 0..<connections {
                g.addTask { (i, await HTTPTestClient.exchange(request, to: address, url: url, test: test)) }
            }
            var out = [ConnectionReport](repeating: ConnectionReport(), count: connections)
            for await (i, r) in g { out[i] = r }
            return out
        }
        // The test fails if any connection fails (TR-143).
        if let e = reports.lazy.compactMap(\.error).first { return .error(e) }
        return transferResult(upload: upload, reports: reports, input: input, test: test)
    }

    static func transferResult(upload: Bool, reports: [ConnectionReport], input: Inputs, test: TransferContext) -> DiagnosticsResult {
        let dir = upload ? "Sent" : "Received"
        let boms = reports.compactMap(\.bom), eoms = reports.compactMap(\.eom)
        let bom = boms.min(), eom = eoms.max()
        var v: [(String, String)] = [
            ("ROMTime", dateTime(reports.compactMap(\.rom).min())),
            ("BOMTime", dateTime(bom)),
            ("EOMTime", dateTime(eom)),
            ("TestBytes" + dir, String(reports.reduce(0) { $0 + $1.testBytes })),
            ("TotalBytesReceived", String(reports.reduce(0) { $0 + $1.bytesReceived })),
            ("TotalBytesSent", String(reports.reduce(0) { $0 + $1.bytesSent })),
            // TR-181: the latest across connections.
            ("TCPOpenRequestTime", dateTime(reports.compactMap(\.openRequest).max())),
            ("TCPOpenResponseTime", dateTime(reports.compactMap(\.openResponse).max())),
        ]
        if let ip = reports.lazy.compactMap(\.localIP).first { v.append(("IPAddressUsed", ip)) }
        if reports.count > 1, let latestBOM = boms.max(), let earliestEOM = eoms.min(), boms.count == reports.count {
            // Full loading: every connection is moving data.
            let loaded = latestBOM < earliestEOM ? test.meter.bytes(at: earliestEOM) - test.meter.bytes(at: latestBOM) : 0
            v += [("TestBytes\(dir)UnderFullLoading", String(loaded)),
                  // Test traffic only flows one way; the other way carries nothing the client can count in between.
                  ("TotalBytesReceivedUnderFullLoading", String(upload ? 0 : loaded)),
                  ("TotalBytesSentUnderFullLoading", String(upload ? loaded : 0)),
                  ("PeriodOfFullLoading", String(latestBOM < earliestEOM ? micros(latestBOM, earliestEOM) : 0))]
        }
        var tables: [(String, [[(String, String)]])] = []
        if input.bool("EnablePerConnectionResults") {
            tables.append(("PerConnectionResult", reports.map { r in
                [("ROMTime", dateTime(r.rom)), ("BOMTime", dateTime(r.bom)), ("EOMTime", dateTime(r.eom)),
                 ("TestBytes" + dir, String(r.testBytes)), ("TotalBytesReceived", String(r.bytesReceived)),
                 ("TotalBytesSent", String(r.bytesSent)), ("TCPOpenRequestTime", dateTime(r.openRequest)),
                 ("TCPOpenResponseTime", dateTime(r.openResponse))]
            }))
        }
        let interval = input.int("TimeBasedTestMeasurementInterval", default: 0)
        if let duration = test.duration, interval > 0, let bom, let eom {
            // Segments cover the test's time, not the wait for the upload's response after it.
            let end = min(eom, bom.addingTimeInterval(duration))
            let maxRows = input.int(upload ? "UploadDiagnosticsMaxIncrementalResult" : "DownloadDiagnosticsMaxIncrementalResult", default: 999)
            let offset = Double(input.int("TimeBasedTestMeasurementOffset", default: 0))
            var rows: [[(String, String)]] = []
            var start = bom.addingTimeInterval(offset)
            while start < end, rows.count < maxRows {
                let stop = min(start.addingTimeInterval(Double(interval)), end)
                let bytes = String(test.meter.bytes(at: stop) - test.meter.bytes(at: start))
                rows.append([("TestBytes" + dir, bytes), ("TotalBytesReceived", upload ? "0" : bytes),
                             ("TotalBytesSent", upload ? bytes : "0"), ("StartTime", dateTime(start)), ("EndTime", dateTime(stop))])
                start = stop
            }
            tables.append(("IncrementalResult", rows))
        }
        return DiagnosticsResult(state: "Complete", values: v, tables: tables)
    }
}
