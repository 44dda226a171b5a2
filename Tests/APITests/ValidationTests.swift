import ACSCore
import Foundation
import Testing
@testable import API
import Engine
import Simulator
import Storage

/// The launch checklist (issue 16): `POST /devices/{id}/validate` against simulated TR-181 and TR-098 devices that
/// pass, a device that cannot be reached (every check that needs it fails at once), one whose CPE refuses the
/// configuration change, and one that lacks a path its profile names and the parameter to change.
@Suite(.serialized, .stopsLiveServers) struct ValidationTests {
    static func int(_ v: Any?) -> Int { (v as? Int) ?? (v as? NSNumber)?.intValue ?? -1 }

    static func onboarded(_ live: LiveServer, _ sim: Simulator, prefix: String) async throws -> Device {
        try await sim.start()
        let name = "00C0FF-\(prefix)000000"
        try await waitUntil("\(name) onboarded", seconds: 30) {
            try live.store.device(name: name).map { $0.credentialsConfirmed && !$0.connectionRequestURL.isEmpty } == true
        }
        return try #require(try live.store.device(name: name))
    }

    static func checks(_ r: APIClient.Reply) -> [String: [String: Any]] {
        let list = r.json["checks"] as? [[String: Any]] ?? []
        return Dictionary(list.map { ($0["name"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
    }

    static func evidence(_ r: APIClient.Reply, _ name: String) -> String { checks(r)[name]?["evidence"] as? String ?? "" }

    @Test func aTR181DevicePassesAndARefusedChangeFailsOnlyThatCheck() async throws {
        let live = try await LiveServer()
        let sim = try live.simulator(count: 1, model: "tr181", prefix: "VA-")
        let d = try await Self.onboarded(live, sim, prefix: "VA-")
        let cpe = try #require(sim.device(serial: d.serialNumber))
        let ssid = "Device.WiFi.SSID.1.SSID"
        let original = try #require(cpe.value(ssid))
        let op = APIClient(port: live.server.httpPort, token: try await live.token(role: .operator, org: 1))

        let r = try await op.send("POST", "/devices/\(d.id)/validate", json: ["timeout": 20])
        #expect(r.status == 201, "\(r.text)")
        #expect(r.json["passed"] as? Bool == true, "\(r.json["lines"] ?? r.text)")
        let lines = r.json["lines"] as? [String] ?? []
        #expect(lines.count == 6 && lines.allSatisfy { $0.hasPrefix("PASS  ") }, "\(lines)")
        #expect((r.json["checks"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
                == ["onboarded", "inventory", "reachable", "reads", "change", "reboot"])
        #expect(Self.evidence(r, "onboarded").contains("username \(d.name)"))
        #expect(Self.evidence(r, "reachable").hasPrefix("http: session after "), "\(Self.evidence(r, "reachable"))")
        #expect(Self.evidence(r, "reads").contains("serial \(d.serialNumber)") && Self.evidence(r, "reads").contains("wifi.ssid"))
        #expect(Self.evidence(r, "change").contains("corral-validate-") && Self.evidence(r, "change").contains("restored"), "\(Self.evidence(r, "change"))")
        #expect(Self.evidence(r, "reboot").contains("M Reboot"))
        #expect(cpe.value(ssid) == original, "the SSID was restored")
        #expect(r.json["created_by"] as? String != nil && r.json["include_factory_reset"] as? Bool == false)

        // Saved: listed, readable, announced.
        let id = Self.int(r.json["id"])
        let one = try await op.get("/validations/\(id)")
        #expect(one.status == 200 && one.json["lines"] as? [String] == lines)
        let events = try live.store.events(after: 0, limit: 10_000).filter { $0.kind == "validate.done" }
        #expect(events.count == 1 && events[0].deviceID == d.id && events[0].data.contains("\"validation_id\":\(id)")
                && events[0].data.contains("\"failed\":0"), "\(events)")

        // The CPE refuses the change (a read-only parameter): that check fails with its fault, the others pass.
        let refused = try await op.send("POST", "/devices/\(d.id)/validate",
                                        json: ["timeout": 20, "set": ["path": "Device.DeviceInfo.Manufacturer", "value": "someone-else"]])
        #expect(refused.status == 201 && refused.json["passed"] as? Bool == false, "\(refused.text)")
        #expect(Self.int(refused.json["failed_checks"]) == 1, "\(refused.json["lines"] ?? refused.text)")
        let change = try #require(Self.checks(refused)["change"])
        #expect(change["passed"] as? Bool == false)
        #expect((change["evidence"] as? String)?.contains("9008") == true, "\(change)")
        #expect(cpe.value("Device.DeviceInfo.Manufacturer") != "someone-else")
        #expect(Self.checks(refused)["reboot"]?["passed"] as? Bool == true)

        let list = try await op.get("/devices/\(d.id)/validations").json["validations"] as? [[String: Any]] ?? []
        #expect(list.map { Self.int($0["id"]) } == [Self.int(refused.json["id"]), id])
        // An operator may not include a factory reset; a secret cannot be the change.
        #expect(try await op.send("POST", "/devices/\(d.id)/validate", json: ["include_factory_reset": true]).status == 403)
        #expect(try await op.send("POST", "/devices/\(d.id)/validate",
                                  json: ["set": ["path": "wifi.password", "value": "x"]]).status == 422)
        // No task of a validation is left behind.
        #expect(try live.store.tasks(deviceID: d.id, states: [.pending, .sent]).isEmpty)
        await op.close()
        await sim.stop()
    }

    @Test func aTR098DevicePassesWithAFactoryReset() async throws {
        let live = try await LiveServer()
        let sim = try live.simulator(count: 1, model: "tr098", prefix: "VB-")
        let d = try await Self.onboarded(live, sim, prefix: "VB-")
        try await live.store.apply([.updateMetadata(deviceID: d.id, groups: ["launch", "lab"], location: "rack 4", description: d.description)])
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1))

        let r = try await admin.send("POST", "/devices/\(d.id)/validate", json: ["include_factory_reset": true, "timeout": 20])
        #expect(r.status == 201, "\(r.text)")
        #expect(r.json["passed"] as? Bool == true, "\(r.json["lines"] ?? r.text)")
        #expect((r.json["lines"] as? [String])?.count == 7 && r.json["include_factory_reset"] as? Bool == true)
        #expect(Self.evidence(r, "change").contains("InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID"))
        #expect(Self.evidence(r, "reads").contains("ntp.server"))
        let reset = Self.evidence(r, "factory-reset")
        #expect(reset.contains("0 BOOTSTRAP") && reset.contains("re-onboarded as ID \(d.id)") && reset.contains("[launch, lab]")
                && reset.contains("rack 4"), "\(reset)")
        let after = try #require(try live.store.device(id: d.id))
        #expect(after.credentialsConfirmed && after.groups == ["launch", "lab"] && after.location == "rack 4" && after.description == d.description)
        await admin.close()
        await sim.stop()
    }

    @Test func aMissingAliasFailsTheReadsAndAMissingParameterTheChange() async throws {
        let live = try await LiveServer()
        let sim = try live.simulator(count: 1, model: "tr181", prefix: "VD-")
        let d = try await Self.onboarded(live, sim, prefix: "VD-")
        let cpe = try #require(sim.device(serial: d.serialNumber))
        // The second SSID goes: alias wifi5.ssid of generic-tr181 (Device.WiFi.SSID.2.SSID) no longer reads.
        let deleted = cpe.withModel { $0.deleteObject("Device.WiFi.SSID.2.") == nil }
        #expect(deleted)
        let op = APIClient(port: live.server.httpPort, token: try await live.token(role: .operator, org: 1))

        let r = try await op.send("POST", "/devices/\(d.id)/validate",
                                  json: ["timeout": 20, "set": ["path": "Device.DeviceInfo.NoSuchParameter", "value": "x"]])
        #expect(r.status == 201 && r.json["passed"] as? Bool == false, "\(r.text)")
        #expect(Self.int(r.json["failed_checks"]) == 2, "\(r.json["lines"] ?? r.text)")
        let checks = Self.checks(r)
        // The reads fail, naming the one alias the CPE lacks (each path read alone).
        let reads = Self.evidence(r, "reads")
        #expect(checks["reads"]?["passed"] as? Bool == false && reads.contains("alias wifi5.ssid (Device.WiFi.SSID.2.SSID): fault 9005"), "\(reads)")
        #expect(!reads.contains("alias wifi.ssid "), "\(reads)")
        // The change fails at its first read: nothing was set, nothing to restore.
        let change = Self.evidence(r, "change")
        #expect(checks["change"]?["passed"] as? Bool == false && change.hasPrefix("reading Device.DeviceInfo.NoSuchParameter: fault 9005"), "\(change)")
        #expect(checks["reachable"]?["passed"] as? Bool == true && checks["reboot"]?["passed"] as? Bool == true, "\(r.json["lines"] ?? "")")
        #expect(try live.store.tasks(deviceID: d.id, states: [.pending, .sent]).isEmpty, "no task of the validation is left behind")
        await op.close()
        await sim.stop()
    }

    @Test func anOfflineDeviceFailsAtOnceWithTheReason() async throws {
        let live = try await LiveServer()
        let sim = try live.simulator(count: 1, model: "tr181", prefix: "VC-")
        let d = try await Self.onboarded(live, sim, prefix: "VC-")
        await sim.stop()
        let op = APIClient(port: live.server.httpPort, token: try await live.token(role: .operator, org: 1))

        let started = Date()
        let r = try await op.send("POST", "/devices/\(d.id)/validate", json: ["timeout": 30])
        #expect(Date().timeIntervalSince(started) < 15, "no hang: \(Date().timeIntervalSince(started)) s")
        #expect(r.status == 201 && r.json["passed"] as? Bool == false, "\(r.text)")
        let checks = Self.checks(r)
        #expect(checks["onboarded"]?["passed"] as? Bool == true && checks["inventory"]?["passed"] as? Bool == true)
        let reach = try #require(checks["reachable"])
        #expect(reach["passed"] as? Bool == false && (reach["evidence"] as? String)?.hasPrefix("http: ") == true, "\(reach)")
        for name in ["reads", "change", "reboot"] {
            #expect(checks[name]?["passed"] as? Bool == false && checks[name]?["evidence"] as? String == "skipped: device not reachable")
        }
        #expect((r.json["lines"] as? [String])?.contains("FAIL  reboot         skipped: device not reachable") == true, "\(r.json["lines"] ?? "")")
        #expect(Self.int(r.json["failed_checks"]) == 4)
        #expect(try live.store.tasks(deviceID: d.id, states: [.pending, .sent, .waiting]).isEmpty, "nothing queued for later")
        let events = try live.store.events(after: 0, limit: 10_000).filter { $0.kind == "validate.done" }
        #expect(events.count == 1 && events[0].data.contains("\"failed\":4") && events[0].data.contains("\"passed\":2"), "\(events)")

        // Deleting the device deletes its reports.
        let id = Int64(Self.int(r.json["id"]))
        _ = try await live.store.deleteDevice(id: d.id)
        #expect(try live.store.validation(id: id) == nil)
        await op.close()
    }
}
