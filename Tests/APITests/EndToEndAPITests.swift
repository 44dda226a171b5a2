import Foundation
import Testing
import ACSCore
@testable import API
import Engine
import NetHTTP
import Storage

/// The API driving real simulated CPEs over CWMP on loopback.
@Suite(.serialized, .stopsLiveServers) struct EndToEndAPITests {
    @Test func tokenSetsWiFiSSIDOnASimulatedCPENow() async throws {
        let live = try await LiveServer()
        let sim = try live.simulator(count: 2, prefix: "API-")
        try await sim.start()
        try await waitUntil("2 devices onboarded", seconds: 30) {
            let all = try live.store.devices(limit: 10, offset: 0)
            return all.count == 2 && all.allSatisfy { $0.credentialsConfirmed && !$0.connectionRequestURL.isEmpty }
        }

        // An admin creates an operator token for the CRM through the API; the CRM uses it.
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1))
        let created = try await admin.send("POST", "/tokens", json: ["name": "crm", "role": "operator"])
        #expect(created.status == 201)
        let secret = try #require(created.json["token"] as? String)
        #expect(secret.hasPrefix("crl_"))
        let crm = APIClient(port: live.server.httpPort, token: secret)

        let page = try await crm.get("/devices?q=API-000001")
        let device = try #require((page.json["devices"] as? [[String: Any]])?.first)
        let id = try #require(device["id"] as? Int)
        let r = try await crm.send("POST", "/devices/\(id)/tasks", json: [
            "action": "set", "parameters": [["path": "Device.WiFi.SSID.1.SSID", "value": "Guest-From-API"]],
            "connection_request": true, "timeout": 20,
        ])
        #expect(r.status == 200, "\(r.text)")
        #expect(r.json["state"] as? String == "done", "\(r.text)")
        #expect(sim.device(serial: "API-000001")?.value("Device.WiFi.SSID.1.SSID") == "Guest-From-API")
        #expect(sim.device(serial: "API-000000")?.value("Device.WiFi.SSID.1.SSID") != "Guest-From-API")

        // The stored value, the task, and the audit entry (who, what, the parameters) are visible through the API.
        let params = try await crm.get("/devices/\(id)/parameters?prefix=Device.WiFi.SSID.1.SSID").json["parameters"] as? [[String: Any]]
        #expect(params?.first?["value"] as? String == "Guest-From-API")
        let taskID = try #require(r.json["id"] as? Int)
        #expect(try await crm.get("/tasks/\(taskID)").json["state"] as? String == "done")
        let audit = try await admin.get("/audit?action=task.create").json["entries"] as? [[String: Any]] ?? []
        let entry = try #require(audit.first)
        #expect((entry["actor"] as? String)?.contains("token crm") == true)
        #expect((entry["after"] as? String)?.contains("Guest-From-API") == true)
        #expect(entry["remote"] as? String == "127.0.0.1")

        // The same through the device profile's aliases (generic-tr181: wifi.ssid, wifi.channel); an unknown alias is a 422
        // naming the profile's aliases, and nothing is queued.
        let byAlias = try await crm.send("POST", "/devices/\(id)/tasks", json: [
            "action": "set", "parameters": [["path": "wifi.ssid", "value": "Alias-From-API"]], "connection_request": true, "timeout": 20,
        ])
        #expect(byAlias.json["state"] as? String == "done", "\(byAlias.text)")
        #expect(sim.device(serial: "API-000001")?.value("Device.WiFi.SSID.1.SSID") == "Alias-From-API")
        let read = try await crm.send("POST", "/devices/\(id)/tasks", json: ["action": "get", "paths": ["wifi.ssid", "wifi.channel"], "connection_request": true])
        let values = (read.json["result"] as? [String: Any])?["values"] as? [[String: Any]] ?? []
        #expect(values.map { $0["path"] as? String ?? "" }.sorted() == ["Device.WiFi.Radio.1.Channel", "Device.WiFi.SSID.1.SSID"], "\(read.text)")
        let tasksBefore = try live.store.tasks(deviceID: Int64(id), states: []).count
        let unknown = try await crm.send("POST", "/devices/\(id)/tasks", json: ["action": "get", "paths": ["wifi.nonsense"]])
        #expect(unknown.status == 422 && unknown.text.contains("generic-tr181") && unknown.text.contains("wifi.ssid"), "\(unknown.text)")
        #expect(try live.store.tasks(deviceID: Int64(id), states: []).count == tasksBefore)

        // A viewer may read but not change; a fault comes back as state "fault" with the CPE's code.
        let viewer = APIClient(port: live.server.httpPort, token: try await live.token(role: .viewer, org: 1))
        #expect(try await viewer.send("POST", "/devices/\(id)/tasks", json: ["action": "reboot"]).status == 403)
        let bad = try await crm.send("POST", "/devices/\(id)/tasks", json: [
            "action": "set", "parameters": [["path": "Device.DeviceInfo.NoSuchThing", "value": "x"]], "connection_request": true, "timeout": 20,
        ])
        #expect(bad.json["state"] as? String == "fault", "\(bad.text)")
        let faults = try await crm.get("/faults?device_id=\(id)").json["faults"] as? [[String: Any]] ?? []
        // SPV faults are 9003 with the per-parameter reason (9005: no such parameter).
        #expect(faults.first?["code"] as? Int == 9003)
        #expect((faults.first?["detail"] as? String)?.contains("9005") == true)
        for c in [admin, crm, viewer] { await c.close() }
    }

    @Test func csvImportThenOnboardingLandsInTheOrganisation() async throws {
        let live = try await LiveServer()
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .superadmin, org: 1))
        let acme = try await admin.send("POST", "/organisations", json: ["name": "Acme"])
        let acmeID = try #require(acme.json["id"] as? Int)
        let north = try await admin.send("POST", "/organisations", json: ["name": "North", "parent_id": acmeID])
        let northID = try #require(north.json["id"] as? Int)

        let csv = """
            serial,oui,organisation,groups,tags,location,description,profile
            PRE-000000,,Acme/North,pilot;fibre,vip,"Street 1, Town",Mrs Smith,generic-tr181
            PRE-000001,00C0FF,Acme,,,,,
            """
        let imported = try await admin.send("POST", "/preprovisioning/import", body: Array(csv.utf8), contentType: "text/csv")
        #expect(imported.status == 200, "\(imported.text)")
        #expect(imported.json["pending"] as? Int == 2)
        // Errors are reported by line and nothing is imported.
        let broken = try await admin.send("POST", "/preprovisioning/import", body: Array("serial,organisation\nX1,Nowhere\n".utf8), contentType: "text/csv")
        #expect(broken.status == 422)
        #expect(broken.text.contains("line 2"))
        #expect((try await admin.get("/preprovisioning").json["entries"] as? [Any])?.count == 2)

        let sim = try live.simulator(count: 3, prefix: "PRE-")
        try await sim.start()
        try await waitUntil("3 devices onboarded", seconds: 30) {
            try live.store.devices(limit: 10, offset: 0).filter(\.credentialsConfirmed).count == 3
        }
        let d0 = try #require(try live.store.device(name: "00C0FF-PRE-000000"))
        #expect(d0.organisationID == Int64(northID))
        #expect(d0.groups == ["pilot", "fibre"])
        #expect(d0.tags == ["vip"])
        #expect(d0.location == "Street 1, Town")
        #expect(d0.description == "Mrs Smith")
        #expect(try live.store.device(name: "00C0FF-PRE-000001")?.organisationID == Int64(acmeID))
        #expect(try live.store.device(name: "00C0FF-PRE-000002")?.organisationID == Organisation.rootID)
        // Consumed: nothing is pending any more.
        #expect((try await admin.get("/preprovisioning").json["entries"] as? [Any])?.isEmpty == true)

        // An admin of Acme sees exactly its two devices; the export is importable again (same columns).
        let acmeAdmin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: Int64(acmeID)))
        #expect((try await acmeAdmin.get("/devices").json["devices"] as? [Any])?.count == 2)
        #expect(try await acmeAdmin.get("/devices?organisation_id=\(northID)&group=pilot&tag=vip").text.contains("PRE-000000"))
        let export = try await acmeAdmin.get("/preprovisioning/export").text
        #expect(export.hasPrefix("serial,oui,organisation,groups,tags,location,description,profile\r\n"))
        #expect(export.contains("PRE-000000,00C0FF,North,pilot;fibre,vip,\"Street 1, Town\",Mrs Smith,generic-tr181"))
        let reimport = try await acmeAdmin.send("POST", "/preprovisioning/import", body: Array(export.utf8), contentType: "text/csv")
        #expect(reimport.json["updated_devices"] as? Int == 2, "\(reimport.text)")
        for c in [admin, acmeAdmin] { await c.close() }
    }
}
