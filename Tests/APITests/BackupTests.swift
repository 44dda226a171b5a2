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
        #expect(try await HTTPClient.send(url: url).status == 401)
        // The configuration is for its own device only: another device's transfer credentials, or a viewer, get 403.
        let transfers = try #require(live.api.services.config.transfers)
        let other = try await live.store.createDevice(Device(name: "00C0FF-OTHER", oui: "00C0FF", productClass: "P", serialNumber: "OTHER", createdAt: 1))
        let otherBasic = BasicCredentials(username: transfers.username(other.id), password: transfers.password(other.id, generation: other.passwordHA1)).headerValue
        #expect(try await HTTPClient.send(url: url, headers: ["Authorization": otherBasic]).status == 403)
        let viewer = try await live.token(role: .viewer, org: 1)
        #expect(try await HTTPClient.send(url: url, headers: ["Authorization": "Bearer \(viewer)"]).status == 403)
        #expect(try await HTTPClient.send(url: url, headers: ["Authorization": "Bearer \(admin.token ?? "")"]).status == 200)

        // The upload URL was good for one file.
        let basic = BasicCredentials(username: transfers.username(d.id), password: transfers.password(d.id, generation: d.passwordHA1)).headerValue
        let task = try #require(try live.store.backup(id: Int64(first))?.taskID)
        let again = try await HTTPClient.send(url: live.base + "/uploads/\(task)", method: "PUT", headers: ["Authorization": basic], body: Array("x".utf8))
        #expect(again.status == 403 || again.status == 409, "\(again.status)")
        #expect(try await HTTPClient.send(url: live.base + "/uploads/\(task)", method: "PUT", body: Array("x".utf8)).status == 401)
        #expect(try live.store.backups(deviceID: d.id, limit: 10).count == 2)
        await sim.stop()
    }
}

/// The other transfer RPCs as tasks (issue 14 item 5), against a simulated CPE that queues like a real one.
@Suite(.serialized, .stopsLiveServers) struct TransferRPCTests {
    static func int(_ v: Any?) -> Int { (v as? Int) ?? (v as? NSNumber)?.intValue ?? -1 }

    @Test func scheduleDownloadQueuedTransfersAndCancel() async throws {
        let live = try await LiveServer()
        let sim = try live.simulator(count: 1, prefix: "SD-")
        try await sim.start()
        try await waitUntil("onboarded", seconds: 30) {
            try live.store.devices(limit: 2, offset: 0).first.map { $0.credentialsConfirmed && !$0.connectionRequestURL.isEmpty } == true
        }
        let d = try #require(try live.store.devices(limit: 1, offset: 0).first)
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1))
        let image = Array("CORRAL-FIRMWARE 4.4\n".utf8) + Array(repeating: 1, count: 50_000)
        let file = Self.int(try await admin.send("POST", "/firmware?name=sd-4.4.bin&version=4.4", body: image).json["id"])

        // A window far away: queued on the CPE, listed, then cancelled (and its task with it).
        let later = try await admin.send("POST", "/devices/\(d.id)/download", json: ["file_id": file, "window_start": 3600, "window_end": 7200,
                                                                                    "connection_request": true])
        #expect(later.json["state"] as? String == "waiting" && later.json["action"] as? String == "schedule_download", "\(later.text)")
        let laterID = Self.int(later.json["id"])
        let queued = try await admin.send("POST", "/devices/\(d.id)/tasks", json: ["action": "queued_transfers", "connection_request": true])
        let values = try #require((queued.json["result"] as? [String: Any])?["values"] as? [[String: Any]])
        let listed = Dictionary(uniqueKeysWithValues: values.compactMap { v in (v["path"] as? String).map { ($0, v["value"] as? String ?? "") } })
        #expect(listed["QueuedTransfers.1.CommandKey"] == "corral-\(laterID)" && listed["QueuedTransfers.1.State"] == "1", "\(queued.text)")
        #expect(listed["QueuedTransfers.1.FileType"] == "1 Firmware Upgrade Image")
        let cancel = try await admin.send("POST", "/devices/\(d.id)/tasks", json: ["action": "cancel_transfer", "command_key": "corral-\(laterID)",
                                                                                 "connection_request": true])
        #expect(cancel.json["state"] as? String == "done", "\(cancel.text)")
        #expect(try live.store.task(id: Int64(laterID))?.state == .cancelled)
        let none = try await admin.send("POST", "/devices/\(d.id)/tasks", json: ["action": "cancel_transfer", "command_key": "corral-\(laterID)",
                                                                               "connection_request": true])
        #expect(none.json["state"] as? String == "fault" && (none.json["fault"] as? [String: Any]).map { Self.int($0["code"]) } == 9021, "\(none.text)")

        // A window opening now: the CPE fetches the image with its transfer credentials and boots into it.
        let soon = try await admin.send("POST", "/devices/\(d.id)/download", json: ["file_id": file, "window_start": 1, "window_end": 600,
                                                                                   "connection_request": true])
        let soonID = Int64(Self.int(soon.json["id"]))
        try await waitUntil("the scheduled download done", seconds: 30) { try live.store.task(id: soonID)?.state == .done }
        try await waitUntil("running 4.4", seconds: 10) { try live.store.device(id: d.id)?.softwareVersion == "4.4" }
        #expect(try await admin.send("POST", "/devices/\(d.id)/download", json: ["file_id": file, "window_start": 10, "window_end": 20]).status == 422)
        // An image for another model is refused, as a rollout would skip this device.
        let other = Self.int(try await admin.send("POST", "/firmware?name=x9-1.0.bin&version=1.0&model=X9*", body: Array(repeating: 2, count: 1000)).json["id"])
        let refused = try await admin.send("POST", "/devices/\(d.id)/download", json: ["file_id": other])
        #expect(refused.status == 422 && refused.text.contains("model X9*"), "\(refused.text)")
        await sim.stop()
    }
}
