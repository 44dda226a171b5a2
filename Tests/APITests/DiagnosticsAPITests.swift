import Foundation
import Testing
import ACSCore
import Engine
import Simulator
import Storage

/// TR-143 through the API: start a test on a simulated CPE, read its result, the fleet summary, the organisation's
/// test server, and the refusals.
@Suite(.serialized, .stopsLiveServers) struct DiagnosticsAPITests {
    static func freePort(_ type: Int32) -> Int {
        let fd = socket(AF_INET, type, 0)
        defer { close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: a.sin_port))
    }

    @Test func runAReadAndSummariseTests() async throws {
        let live = try await LiveServer(informInterval: 300) { c in
            c.speedtestPort = Self.freePort(Int32(SOCK_STREAM.rawValue))
            c.udpEchoPort = Self.freePort(Int32(SOCK_DGRAM.rawValue))
            c.speedtestBaseURL = "http://127.0.0.1:\(c.speedtestPort)"
        }
        let sim = try live.simulator(count: 1, prefix: "TST-")
        try await sim.start()
        try await waitUntil("onboarded", seconds: 30) { try live.store.devices(limit: 5, offset: 0).first?.credentialsConfirmed == true }
        let device = try #require(try live.store.devices(limit: 5, offset: 0).first)
        let op = APIClient(port: live.server.httpPort, token: try await live.token(role: .operator, org: 1))

        // Refusals first: each a clear 4xx, nothing queued.
        for (body, status) in [(["test": "bogus"], 422), (["test": "download", "size": 0], 422),
                               (["test": "download", "host": "example.com"], 422), (["test": "ping", "count": 5000], 422)] as [([String: Any], Int)] {
            let r = try await op.send("POST", "/devices/\(device.id)/diagnostics", json: body)
            #expect(r.status == status, "\(body): \(r.text)")
        }
        #expect(try live.store.tasks(deviceID: device.id, states: []).isEmpty)

        let started = try await op.send("POST", "/devices/\(device.id)/diagnostics",
                                        json: ["test": "download", "size": 300_000, "connection_request": true, "timeout": 30])
        #expect(started.status == 200, "\(started.text)")
        #expect(started.json["action"] as? String == "diagnose")
        let taskID = try #require(started.json["id"] as? Int)
        var result: [String: Any] = [:]
        for _ in 0..<300 where result.isEmpty {
            let r = try await op.get("/diagnostics?task_id=\(taskID)")
            result = ((r.json["results"] as? [[String: Any]]) ?? []).first ?? [:]
            if result.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(result["state"] as? String == "Complete" && result["ok"] as? Bool == true)
        let full = try #require(result["result"] as? [String: Any])
        #expect(full["test_bytes"] as? Int == 300_000)
        #expect((full["throughput_bps"] as? Double ?? 0) > 0)
        #expect(((full["server"] as? [String: Any])?["bytes"] as? Int) == 300_000)
        #expect((full["raw"] as? [String: Any])?["TestBytesReceived"] as? String == "300000")

        let list = try await op.get("/devices/\(device.id)/diagnostics")
        #expect((list.json["results"] as? [[String: Any]])?.count == 1)
        let one = try await op.get("/diagnostics/\(result["id"] as? Int ?? 0)")
        #expect(one.status == 200 && (one.json["summary"] as? [String])?.first?.hasPrefix("download: ") == true)
        let summary = try await op.get("/diagnostics/summary?by=software_version&test=download")
        let groups = try #require(summary.json["groups"] as? [[String: Any]])
        #expect(groups.count == 1 && groups[0]["results"] as? Int == 1 && groups[0]["key"] as? String == device.softwareVersion)
        #expect(try await op.get("/diagnostics/summary?by=colour").status == 400)

        // The organisation names its own test server (an admin may not change its own organisation: a superadmin does);
        // the next test's URL points there.
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .superadmin, org: 1))
        #expect(try await admin.send("PUT", "/organisations/1/speedtest", json: ["speedtest_base_url": "ftp://x"]).status == 422)
        let set = try await admin.send("PUT", "/organisations/1/speedtest", json: ["speedtest_base_url": "http://st.isp.example:9000/"])
        #expect(set.status == 200 && set.json["effective_base_url"] as? String == "http://st.isp.example:9000", "\(set.text)")
        let queued = try await op.send("POST", "/devices/\(device.id)/diagnostics", json: ["test": "download", "size": 1000])
        #expect(queued.status == 201)
        let params = ((queued.json["request"] as? [String: Any])?["parameters"] as? [[String: Any]]) ?? []
        #expect(params.contains { ($0["value"] as? String)?.hasPrefix("http://st.isp.example:9000/download/1000?tag=") == true }, "\(params)")
        await sim.stop()
    }

    /// Lists and summaries are confined to the caller's organisation subtree.
    @Test func resultsOfAnotherOrganisationAreNeitherListedNorSummarised() async throws {
        let live = try await LiveServer()
        let store = live.store
        let a = try await store.createOrganisation(name: "A", parentID: 1, now: 1)
        let b = try await store.createOrganisation(name: "B", parentID: 1, now: 1)
        var ids: [Int64: Int64] = [:]
        for (org, serial) in [(a, "SA"), (b, "SB")] {
            var d = Device(name: "00C0FF-\(serial)", oui: "00C0FF", productClass: "P", serialNumber: serial, modelName: "M-\(serial)", dataModel: .tr181)
            d.organisationID = org.id
            let created = try await store.createDevice(d)
            ids[org.id] = created.id
            try await store.apply([.diagnosticResult(DiagnosticRecord(deviceID: created.id, taskID: nil, test: "download", state: "Complete", ok: true,
                                                                      at: Int64(Date().timeIntervalSince1970), throughputBps: 1e6, avgRttUs: nil,
                                                                      jitterUs: nil, loss: nil, result: "{}"))])
        }
        let viewer = APIClient(port: live.server.httpPort, token: try await live.token(role: .viewer, org: a.id))
        let list = try await viewer.get("/diagnostics")
        let devices = ((list.json["results"] as? [[String: Any]]) ?? []).compactMap { $0["device_id"] as? Int }
        #expect(devices == [Int(ids[a.id]!)], "\(list.text)")
        let summary = try await viewer.get("/diagnostics/summary?by=model")
        let keys = ((summary.json["groups"] as? [[String: Any]]) ?? []).compactMap { $0["key"] as? String }
        #expect(keys == ["M-SA"], "\(summary.text)")
        #expect(try await viewer.get("/devices/\(ids[b.id]!)/diagnostics").status == 404)
        let other = try #require(try store.diagnosticResults(DiagnosticQuery(deviceID: ids[b.id]!, limit: 1)).first)
        #expect(try await viewer.get("/diagnostics/\(other.id)").status == 404)
        // The root's viewer sees both.
        let root = APIClient(port: live.server.httpPort, token: try await live.token(role: .viewer, org: 1))
        #expect(((try await root.get("/diagnostics")).json["results"] as? [[String: Any]])?.count == 2)
    }
}
