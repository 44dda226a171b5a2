import ACSCore
import CWMP
import Foundation
import Testing
@testable import SpeedTest

@Suite struct EchoPlusTests {
    @Test func replyRewritesOnlyTheServerFields() {
        var r = EchoPlusResponder()
        let h = EchoPlusHeader(testGenSN: 7, testIterationNumber: 3)
        var p = h.datagram(size: 40)
        p[30] = 0xAB
        #expect(r.reply(to: &p, receivedMicros: 100, replyMicros: 112))
        let back = EchoPlusHeader(p)!
        #expect(back.testGenSN == 7 && back.testIterationNumber == 3)
        #expect(back.testRespSN == 1 && back.testRespRecvTimeStamp == 100 && back.testRespReplyTimeStamp == 112 && back.testRespReplyFailureCount == 0)
        #expect(p.count == 40 && p[30] == 0xAB)
        r.recordFailure()
        var q = h.datagram(size: 24)
        _ = r.reply(to: &q, receivedMicros: UInt32.max, replyMicros: 5)
        #expect(EchoPlusHeader(q)!.testRespSN == 2 && EchoPlusHeader(q)!.testRespReplyFailureCount == 1)
    }

    @Test func shortDatagramsAreAPlainEcho() {
        var r = EchoPlusResponder()
        var p: [UInt8] = Array("hello".utf8)
        #expect(!r.reply(to: &p, receivedMicros: 1, replyMicros: 2))
        #expect(p == Array("hello".utf8) && r.respondedCount == 0)
        #expect(EchoPlusHeader([UInt8](repeating: 0, count: 23)) == nil)
    }
}

@Suite struct PlannerTests {
    let servers = DiagnosticServers(baseURL: "http://acs.example:8081/", echoHost: "acs.example", echoPort: 8862)

    @Test func tr181DownloadWithEveryInputThenTheMinimalSet() throws {
        let s = try DiagnosticsPlanner.spec(test: .download, options: DiagnosticOptions(seconds: 10, connections: 4), kind: .tr181,
                                            vendorObject: nil, servers: servers, tag: "tx")
        #expect(s.plan.object == "Device.IP.Diagnostics.DownloadDiagnostics.")
        let v = Dictionary(uniqueKeysWithValues: s.plan.values.map { ($0.name.replacingOccurrences(of: s.plan.object, with: ""), $0) })
        #expect(v["DownloadURL"]?.value == "http://acs.example:8081/download?seconds=10&tag=tx")
        #expect(v["TimeBasedTestDuration"]?.value == "10" && v["TimeBasedTestDuration"]?.type == .unsignedInt)
        #expect(v["NumberOfConnections"]?.value == "4" && v["EnablePerConnectionResults"]?.value == "true")
        #expect(s.plan.values.last?.name.hasSuffix("DiagnosticsState") == true && s.plan.values.last?.value == "Requested")
        // A CPE before TR-181 2.9 answers 9005: the same object with only DownloadURL.
        let next = try #require(s.next())
        #expect(next.plan.values.map(\.name) == ["Device.IP.Diagnostics.DownloadDiagnostics.DownloadURL", "Device.IP.Diagnostics.DownloadDiagnostics.DiagnosticsState"])
        #expect(next.next() == nil)
    }

    @Test func tr098AndVendorObjectsAndRefusals() throws {
        let up = try DiagnosticsPlanner.spec(test: .upload, options: DiagnosticOptions(size: 5000), kind: .tr098,
                                             vendorObject: "InternetGatewayDevice.X_ACME_Upload.", servers: servers, tag: "u1")
        #expect(up.plan.object == "InternetGatewayDevice.X_ACME_Upload.")
        #expect(up.fallbacks.map(\.object) == ["InternetGatewayDevice.UploadDiagnostics."])
        #expect(up.fallbacks[0].values.contains(ParameterValue(name: "InternetGatewayDevice.UploadDiagnostics.UploadURL", value: "http://acs.example:8081/upload/u1")))
        #expect(up.fallbacks[0].values.contains(ParameterValue(name: "InternetGatewayDevice.UploadDiagnostics.TestFileLength", value: "5000", type: .unsignedInt)))
        #expect(throws: DiagnosticPlanError.self) { try DiagnosticsPlanner.spec(test: .udpecho, options: .init(), kind: .tr098, vendorObject: nil, servers: servers, tag: "x") }
        #expect(throws: DiagnosticPlanError.self) { try DiagnosticsPlanner.spec(test: .ping, options: .init(), kind: nil, vendorObject: nil, servers: servers, tag: "x") }
        #expect(throws: DiagnosticPlanError.self) { try DiagnosticsPlanner.spec(test: .download, options: .init(size: 0), kind: .tr181, vendorObject: nil, servers: servers, tag: "x") }
        #expect(throws: DiagnosticPlanError.self) { try DiagnosticsPlanner.spec(test: .download, options: .init(host: "example.com"), kind: .tr181, vendorObject: nil, servers: servers, tag: "x") }
        let ping = try DiagnosticsPlanner.spec(test: .ping, options: .init(count: 3), kind: .tr098, vendorObject: nil, servers: servers, tag: "p")
        #expect(ping.plan.object == "InternetGatewayDevice.IPPingDiagnostics.")
        #expect(ping.plan.values.first == ParameterValue(name: "InternetGatewayDevice.IPPingDiagnostics.Host", value: "acs.example"))
    }

    @Test func a9005MovesToTheNextPlanAndTheLastOneFaults() throws {
        let s = try DiagnosticsPlanner.spec(test: .udpecho, options: .init(), kind: .tr181, vendorObject: nil, servers: servers, tag: "e")
        let task = DeviceTask(id: 1, deviceID: 1, kind: .diagnostics(s), state: .sent)
        let f = CWMPFault(code: 9003, string: "Invalid arguments", setParameterValuesFaults: [
            CWMPFault.ParameterFault(parameterName: "Device.IP.Diagnostics.UDPEchoDiagnostics.EnableIndividualPacketResults", code: 9005, string: "Invalid parameter name")])
        guard case .replan(.diagnostics(let next), _) = TaskPlanner.outcome(for: task, fault: f) else { Issue.record("no replan"); return }
        #expect(!next.plan.values.contains { $0.name.hasSuffix("EnableIndividualPacketResults") })
        let last = DeviceTask(id: 1, deviceID: 1, kind: .diagnostics(next), state: .sent)
        #expect(TaskPlanner.outcome(for: last, fault: f) == .fault(f))
        #expect(TaskPlanner.diagnosticsObject(of: task) == "Device.IP.Diagnostics.UDPEchoDiagnostics.")
        #expect(TaskPlanner.outcome(for: task, response: .setParameterValues(status: 0)) == .waiting(TaskResult(status: 0)))
    }
}

@Suite struct ResultTests {
    func values(_ object: String, _ pairs: [String: String]) -> [ParameterValue] {
        pairs.map { ParameterValue(name: object + $0.key, value: $0.value) }
    }

    @Test func downloadGoodputTimesAndConnections() {
        let o = "Device.IP.Diagnostics.DownloadDiagnostics."
        let r = DiagnosticResult.compute(test: .download, object: o, values: values(o, [
            "DiagnosticsState": "Complete", "ROMTime": "2026-12-06T10:00:00.100000Z", "BOMTime": "2026-12-06T10:00:00.150000Z",
            "EOMTime": "2026-12-06T10:00:02.150000Z", "TestBytesReceived": "25000000", "TotalBytesReceived": "25100000",
            "TCPOpenRequestTime": "2026-12-06T10:00:00.080000Z", "TCPOpenResponseTime": "2026-12-06T10:00:00.100250Z",
            "PeriodOfFullLoading": "1000000", "TestBytesReceivedUnderFullLoading": "12500000",
            "PerConnectionResult.1.BOMTime": "2026-12-06T10:00:00.150000Z", "PerConnectionResult.1.EOMTime": "2026-12-06T10:00:01.150000Z",
            "PerConnectionResult.1.TestBytesReceived": "12500000", "PerConnectionResult.2.TestBytesReceived": "12500000",
            "IncrementalResult.1.TestBytesReceived": "1000000", "IncrementalResult.1.StartTime": "2026-12-06T10:00:00.150000Z",
            "IncrementalResult.1.EndTime": "2026-12-06T10:00:01.150000Z"]))
        #expect(r.ok && r.state == "Complete")
        #expect(r.throughputBps == 100_000_000)   // 25 MB × 8 / 2 s
        #expect(r.fullLoadingThroughputBps == 100_000_000)
        #expect(r.durationUs == 2_000_000 && r.ttfbUs == 50_000 && r.tcpRttUs == 20_250)
        #expect(r.connections.count == 2 && r.connections[0].throughputBps == 100_000_000 && r.connections[1].throughputBps == nil)
        #expect(r.intervals.first?.throughputBps == 8_000_000)
        #expect(r.raw["TestBytesReceived"] == "25000000")
    }

    @Test func tr098CompletedUploadUsesTheFileLength() {
        let o = "InternetGatewayDevice.UploadDiagnostics."
        let r = DiagnosticResult.compute(test: .upload, object: o, values: values(o, [
            "DiagnosticsState": "Completed", "TestFileLength": "1000000", "BOMTime": "2026-12-06T10:00:00Z", "EOMTime": "2026-12-06T10:00:01Z"]))
        #expect(r.ok && r.throughputBps == 8_000_000)
        let failed = DiagnosticResult.compute(test: .upload, object: o, values: values(o, ["DiagnosticsState": "Error_NoTransferComplete"]))
        #expect(!failed.ok && failed.throughputBps == nil && failed.summaryLines == ["upload: Error_NoTransferComplete"])
    }

    @Test func udpEchoRoundTripsJitterAndLossDirections() {
        let o = "Device.IP.Diagnostics.UDPEchoDiagnostics."
        var p: [String: String] = ["DiagnosticsState": "Complete", "SuccessCount": "3", "FailureCount": "1", "NumberOfRepetitions": "4"]
        // Packet i sent at 10:00:0i, answered after 10+i ms on the wire plus 100 µs server turnaround; packet 3 lost.
        // Its reply had TestRespSN 3 (it reached the server), so that loss was on the way back.
        for (i, sn) in [(1, 1), (2, 2), (4, 4)] {
            let rtt = 10_000 + i * 1000 + 100
            p["IndividualPacketResult.\(i).PacketSuccess"] = "true"
            p["IndividualPacketResult.\(i).PacketSendTime"] = "2026-12-06T10:00:0\(i).000000Z"
            p["IndividualPacketResult.\(i).PacketReceiveTime"] = String(format: "2026-12-06T10:00:0\(i).%06dZ", rtt)
            p["IndividualPacketResult.\(i).TestRespSN"] = String(sn)
            p["IndividualPacketResult.\(i).TestRespRcvTimeStamp"] = String(UInt32.max - 40)   // the 32-bit clock wraps
            p["IndividualPacketResult.\(i).TestRespReplyTimeStamp"] = "59"
        }
        p["IndividualPacketResult.3.PacketSuccess"] = "false"
        let r = DiagnosticResult.compute(test: .udpecho, object: o, values: values(o, p))
        #expect(r.packets.compactMap(\.rttUs) == [11_000, 12_000, 14_000])
        #expect(r.avgRttUs == 12_333 && r.minRttUs == 11_000 && r.maxRttUs == 14_000)
        #expect(r.jitterUs == 1000)   // only 1→2 are successive
        #expect(r.loss == 0.25 && r.upstreamLoss == 0 && r.downstreamLoss == 0.25)
        // The server's own count wins when there is one: it saw 3 of 4, replied 3, the CPE got 3.
        let s = DiagnosticResult.compute(test: .udpecho, object: o, values: values(o, p), server: .init(packetsReceived: 3, packetsReplied: 3))
        #expect(s.upstreamLoss == 0.25 && s.downstreamLoss == 0)
    }

    @Test func pingInMillisecondsOrDetailedMicroseconds() {
        let o = "InternetGatewayDevice.IPPingDiagnostics."
        let r = DiagnosticResult.compute(test: .ping, object: o, values: values(o, [
            "DiagnosticsState": "Complete", "SuccessCount": "9", "FailureCount": "1", "AverageResponseTime": "12", "MinimumResponseTmie": "10", "MaximumResponseTime": "20"]))
        #expect(r.avgRttUs == 12_000 && r.minRttUs == 10_000 && r.maxRttUs == 20_000 && r.loss == 0.1 && r.sent == 10)
        let d = "Device.IP.Diagnostics.IPPing."
        let t = DiagnosticResult.compute(test: .ping, object: d, values: values(d, [
            "DiagnosticsState": "Complete", "SuccessCount": "1", "FailureCount": "0", "AverageResponseTime": "12", "AverageResponseTimeDetailed": "11873"]))
        #expect(t.avgRttUs == 11_873)
    }

    @Test func microsecondTimes() {
        #expect(DiagnosticResult.micros("1970-01-01T00:00:01.5Z") == 1_500_000)
        #expect(DiagnosticResult.micros("1970-01-01T00:00:01.1234567Z") == 1_123_456)
        #expect(DiagnosticResult.micros("0001-01-01T00:00:00Z") == nil)
        #expect(DiagnosticResult.micros("garbage") == nil)
    }
}
