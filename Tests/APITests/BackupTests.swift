import CWMP
import Foundation
import HTTPAuth
import Testing
import ACSCore
@testable import API
import Engine
import NetHTTP
import Storage

/// Configuration backups end to end (issue 14): the CPE uploads to Corral with its transfer credentials, once per
/// task; backups are listed, read, compared and restored.
@Suite(.serialized, .stopsLiveServers) struct BackupTests {
    static func int(_ v: Any?) -> Int { (v as? Int) ?? (v as? NSNumber)?.intValue ?? -1 }

    @Test func backupChangeBackupDiffAndRestore() async throws {
        let live = try await LiveServer()
        let sim = try live.simulator(count: 1, prefix: "BK-")
        try await sim.start()
        try await waitUntil("onboarded", seconds: 30) {
            try live.store.devices(limit: 2, offset: 0).first.map { $0.credentialsConfirmed && !$0.connectionRequestURL.isEmpty } == true
        }
        let d = try #require(try live.store.devices(limit: 1, offset: 0).first)
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1))
        func waitForDone(_ id: Int64) async throws {
            try await waitUntil("task \(id) done", seconds: 30) { try live.store.task(id: id)?.state == .done }
        }
        func backup() async throws -> Int {
            let r = try await admin.send("POST", "/devices/\(d.id)/backup", json: ["file_type": "config", "connection_request": true, "timeout": 30])
            // Accepted (UploadResponse status 1), then done with the CPE's TransferComplete in its next session.
            #expect(r.status == 200, "\(r.text)")
            try await waitForDone(Int64(Self.int(r.json["id"])))
            let list = try #require(try await admin.get("/devices/\(d.id)/backups").json["backups"] as? [[String: Any]])
            return Self.int(list.first?["id"])
        }
        let first = try await backup()
        let content = try await admin.get("/backups/\(first)/content")
        #expect(content.status == 200 && content.text.contains("Device.WiFi.SSID.1.SSID="), "\(content.text)")
        #expect(content.headers.first("Content-Type")?.hasPrefix("text/plain") == true)

        // The configuration changes; the next backup shows where.
        let set = try await admin.send("POST", "/devices/\(d.id)/tasks", json: ["action": "set", "connection_request": true,
                                                                                 "parameters": [["path": "Device.WiFi.SSID.1.SSID", "value": "changed-ssid"]]])
        #expect(set.json["state"] as? String == "done", "\(set.text)")
        let second = try await backup()
        #expect(second > first)
        let diff = try await admin.get("/backups/\(second)/diff").json
        #expect(diff["text"] as? Bool == true && diff["same"] as? Bool == false && Self.int(diff["from"]) == first)
        #expect((diff["diff"] as? String)?.contains("+Device.WiFi.SSID.1.SSID=changed-ssid") == true, "\(diff)")

        // Restore the first: a Download of "3 Vendor Configuration File" the device fetches with its credentials.
        let restore = try await admin.send("POST", "/backups/\(first)/restore", json: ["connection_request": true, "timeout": 30])
        try await waitForDone(Int64(Self.int(restore.json["id"])))
        let request = try #require(restore.json["request"] as? [String: Any])
        #expect(request["file_type"] as? String == "3 Vendor Configuration File")
        let url = try #require(request["url"] as? String)
        #expect(try await HTTPClient.send(url: url).status == 401, "the configuration is for its device only")

        // The upload URL was good for one file.
        let transfers = try #require(live.api.services.config.transfers)
        let basic = BasicCredentials(username: transfers.username(d.id), password: transfers.password(d.id)).headerValue
        let task = try #require(try live.store.backup(id: Int64(first))?.taskID)
        let again = try await HTTPClient.send(url: live.base + "/uploads/\(task)", method: "PUT", headers: ["Authorization": basic], body: Array("x".utf8))
        #expect(again.status == 403 || again.status == 409, "\(again.status)")
        #expect(try await HTTPClient.send(url: live.base + "/uploads/\(task)", method: "PUT", body: Array("x".utf8)).status == 401)
        #expect(try live.store.backups(deviceID: d.id, limit: 10).count == 2)
        await sim.stop()
    }
}
