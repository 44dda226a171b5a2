import Foundation
import Testing
import ACSCore
@testable import API
import Engine
import NetHTTP
import Storage

/// Campaigns and reports over the REST API: a real server on a socket, real SQLite, simulated CPEs.
@Suite(.serialized, .stopsLiveServers) struct CampaignAPITests {
    static func int(_ v: Any?) -> Int? { (v as? Int) ?? (v as? Int64).map(Int.init) ?? (v as? NSNumber)?.intValue }

    /// A device straight into the store (never connects: its tasks stay pending).
    static func device(_ live: LiveServer, _ serial: String, org: Int64, model: String = "R1", version: String = "1.0") async throws -> Device {
        var d = Device(name: "00C0FF-\(serial)", oui: "00C0FF", productClass: "P", serialNumber: serial, createdAt: 1)
        d.organisationID = org
        d.modelName = model
        d.softwareVersion = version
        d.profile = "generic-tr181"
        return try await live.store.createDevice(d)
    }

    @Test func dryRunThenStartRenamesWiFiOnSimulatedCPEs() async throws {
        let live = try await LiveServer()
        let sim = try live.simulator(count: 4, prefix: "CMP-")
        try await sim.start()
        try await waitUntil("4 devices onboarded", seconds: 40) {
            let all = try live.store.devices(limit: 10, offset: 0)
            return all.count == 4 && all.allSatisfy { $0.credentialsConfirmed && !$0.connectionRequestURL.isEmpty && !$0.modelName.isEmpty }
        }
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1))
        // The library's wifi-rename targets the group "pilot": three of the four devices.
        let devices = try live.store.devices(limit: 10, offset: 0).sorted { $0.serialNumber < $1.serialNumber }
        for d in devices.prefix(3) {
            #expect(try await admin.send("PATCH", "/devices/\(d.id)", json: ["groups": ["pilot"]]).status == 200)
        }

        let library = try await admin.get("/campaign-scripts").json["scripts"] as? [[String: Any]] ?? []
        #expect(library.contains { $0["name"] as? String == "wifi-rename" && ($0["source"] as? String)?.contains("campaign") == true })

        // Dry run: the count and each device's change; nothing is written.
        let dry = try await admin.send("POST", "/campaigns/dry-run", json: ["library": "wifi-rename"])
        #expect(dry.status == 200, "\(dry.text)")
        #expect(Self.int(dry.json["count"]) == 3)
        let preview = dry.json["preview"] as? [[String: Any]] ?? []
        #expect(preview.count == 3)
        let first = try #require(preview.first { $0["serial"] as? String == "CMP-000001" })
        #expect(first["actions"] as? [String] == ["set Device.WiFi.SSID.1.SSID=ACME-0001"], "\(first)")
        #expect((dry.json["campaign"] as? [String: Any])?["name"] as? String == "rename pilot wifi")
        #expect(try live.store.campaigns(states: []).isEmpty)
        #expect(try live.store.tasks(deviceID: devices[1].id, states: []).isEmpty)

        // Start: 201 with the campaign; the server runs it to the end and the CPEs have the new SSID.
        let started = try await admin.send("POST", "/campaigns", json: ["library": "wifi-rename"])
        #expect(started.status == 201, "\(started.text)")
        let id = try #require(Self.int(started.json["id"]))
        #expect(started.json["state"] as? String == "running")
        #expect(Self.int((started.json["progress"] as? [String: Any])?["total"]) == 3)
        var last: [String: Any] = [:]
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            last = try await admin.get("/campaigns/\(id)").json
            if last["state"] as? String == "done" { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(last["state"] as? String == "done", "\(last)")
        let progress = last["progress"] as? [String: Any] ?? [:]
        #expect(Self.int(progress["percent"]) == 100)
        #expect(Self.int(progress["done"]) == 3, "\(last)")
        for i in 0..<3 {
            let serial = String(format: "CMP-%06d", i)
            #expect(sim.device(serial: serial)?.value("Device.WiFi.SSID.1.SSID") == "ACME-" + serial.suffix(4))
        }
        #expect(sim.device(serial: "CMP-000003")?.value("Device.WiFi.SSID.1.SSID")?.hasPrefix("ACME-") == false)
        let done = try await admin.get("/campaigns/\(id)/devices?state=done").json["devices"] as? [[String: Any]] ?? []
        #expect(done.count == 3)
        #expect((done.first?["tasks"] as? [[String: Any]])?.first?["state"] as? String == "done")
        let list = try await admin.get("/campaigns?state=done").json["campaigns"] as? [[String: Any]] ?? []
        #expect(list.map { Self.int($0["id"]) } == [id])

        // A finished campaign cannot be paused: 409 problem.
        let refused = try await admin.send("POST", "/campaigns/\(id)/pause")
        #expect(refused.status == 409)
        #expect(refused.headers.first("Content-Type") == "application/problem+json")
        // Audited: the dry run, the start (with the campaign ID) and the refused pause.
        for action in ["campaign.dry_run", "campaign.start", "campaign.pause"] {
            let entries = try await admin.get("/audit?action=\(action)").json["entries"] as? [[String: Any]] ?? []
            #expect(entries.count == 1, "\(action)")
            if action == "campaign.start" { #expect(entries.first?["object_id"] as? String == String(id)) }
        }
        await admin.close()
    }

    @Test func pauseResumeCancelAndConflicts() async throws {
        let live = try await LiveServer()
        for i in 0..<4 { _ = try await Self.device(live, "PRC-\(i)", org: 1) }
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1))
        let viewer = APIClient(port: live.server.httpPort, token: try await live.token(role: .viewer, org: 1))
        let script = #"campaign { name = "slow", target = {}, rate = { per_minute = 1, concurrent = 1 }, apply = function(dev) dev:set("wifi.ssid", "Slow") end }"#
        let started = try await admin.send("POST", "/campaigns", json: ["script": script, "name": "slow"])
        #expect(started.status == 201, "\(started.text)")
        let id = try #require(Self.int(started.json["id"]))
        #expect(started.json["script_name"] as? String == "slow.lua")
        #expect(try await viewer.send("POST", "/campaigns/\(id)/pause").status == 403)
        #expect(try await admin.send("POST", "/campaigns/\(id)/pause").json["state"] as? String == "paused")
        #expect(try await admin.send("POST", "/campaigns/\(id)/pause").status == 409)
        #expect(try await admin.send("POST", "/campaigns/\(id)/resume").json["state"] as? String == "running")
        #expect(try await admin.send("POST", "/campaigns/\(id)/resume").status == 409)
        let cancelled = try await admin.send("POST", "/campaigns/\(id)/cancel")
        #expect(cancelled.json["state"] as? String == "cancelled")
        #expect(cancelled.json["stop_reason"] as? String == "cancelled by the operator")
        #expect(try await admin.send("POST", "/campaigns/\(id)/cancel").status == 409)
        try await waitUntil("pending devices skipped", seconds: 10) { try live.store.campaignProgress(campaignID: Int64(id)).count(.pending) == 0 }
        let skipped = try await viewer.get("/campaigns/\(id)/devices?state=skipped&limit=2")
        #expect((skipped.json["devices"] as? [Any])?.count == 2)
        let cursor = try #require(skipped.json["next_cursor"] as? String)
        let rest = try await viewer.get("/campaigns/\(id)/devices?state=skipped&limit=2&cursor=\(cursor)").json["devices"] as? [Any]
        #expect((rest?.count ?? 0) >= 1)
        #expect(try await viewer.get("/campaigns/\(id)/devices?state=nonsense").status == 400)
        #expect(try await admin.send("POST", "/campaigns/999999/pause").status == 404)
        for c in [admin, viewer] { await c.close() }
    }

    @Test func aSubtreeAdminTargetsOnlyItsSubtree() async throws {
        let live = try await LiveServer()
        let b = try await live.store.createOrganisation(name: "B", parentID: 1, now: 1)
        let b1 = try await live.store.createOrganisation(name: "B1", parentID: b.id, now: 1)
        let c = try await live.store.createOrganisation(name: "C", parentID: 1, now: 1)
        let inB = [try await Self.device(live, "B-0", org: b.id), try await Self.device(live, "B-1", org: b1.id)]
        let inC = try await Self.device(live, "C-0", org: c.id)
        _ = try await Self.device(live, "ROOT-0", org: 1)
        let adminB = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: b.id))
        let adminC = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: c.id))
        let viewerB1 = APIClient(port: live.server.httpPort, token: try await live.token(role: .viewer, org: b1.id))
        let root = APIClient(port: live.server.httpPort, token: try await live.token(role: .superadmin, org: 1))

        // Every query of the script is confined: devices{}, count{}, count_by, even an explicit ids list.
        let script = """
            campaign { name = "everything", target = {}, rate = { per_minute = 1, concurrent = 1 },
                       apply = function(dev) dev:set("wifi.ssid", "n" .. count {}) end }
            """
        let dry = try await adminB.send("POST", "/campaigns/dry-run", json: ["script": script])
        #expect(Self.int(dry.json["count"]) == 2, "\(dry.text)")
        #expect(Set((dry.json["preview"] as? [[String: Any]] ?? []).compactMap { $0["serial"] as? String }) == ["B-0", "B-1"])
        #expect((dry.json["preview"] as? [[String: Any]])?.first?["actions"] as? [String] == ["set Device.WiFi.SSID.1.SSID=n2"])
        let idsScript = #"campaign { name = "ids", target = { ids = { \#(inC.id), \#(inB[0].id) } }, apply = function(dev) end }"#
        #expect(Self.int(try await adminB.send("POST", "/campaigns/dry-run", json: ["script": idsScript]).json["count"]) == 1)

        let started = try await adminB.send("POST", "/campaigns", json: ["script": script])
        #expect(started.status == 201, "\(started.text)")
        let id = Int64(try #require(Self.int(started.json["id"])))
        #expect(Self.int(started.json["organisation_id"]) == Int(b.id))
        #expect((started.json["created_by"] as? String)?.hasPrefix("u-") == true)
        let targeted = try live.store.campaignDevices(campaignID: id, states: [], limit: 100).map(\.deviceID)
        #expect(Set(targeted) == Set(inB.map(\.id)))
        let stored = try #require(try live.store.campaign(id: id))
        #expect(stored.organisationID == b.id)

        // Outside B: 404 on everything, and absent from lists. B1 (below B) does not see B's campaign either.
        for client in [adminC, viewerB1] {
            #expect(try await client.get("/campaigns/\(id)").status == 404)
            #expect(try await client.get("/campaigns/\(id)/devices").status == 404)
            #expect((try await client.get("/campaigns").json["campaigns"] as? [Any])?.isEmpty == true)
        }
        #expect(try await adminC.send("POST", "/campaigns/\(id)/cancel").status == 404)
        #expect(try await root.get("/campaigns/\(id)").status == 200)
        #expect(try await adminB.send("POST", "/campaigns/\(id)/cancel").status == 200)
        // A C admin's target matches nothing of B: the campaign is refused (400: no device).
        let none = try await adminC.send("POST", "/campaigns", json: ["script": #"campaign { name = "b", target = { text = "B-" }, apply = function(dev) end }"#])
        #expect(none.status == 400, "\(none.text)")

        // Reports are confined the same way.
        let census = try await adminB.send("POST", "/reports/run", json: ["library": "software-census"])
        let rows = census.json["rows"] as? [[Any]] ?? []
        #expect(rows.count == 1, "\(census.text)")
        #expect(Self.int(rows.first?[2]) == 2)
        for client in [adminB, adminC, viewerB1, root] { await client.close() }
    }

    @Test func theLibraryIsReadFromDiskAndMayBeMissing() throws {
        #expect(ScriptLibrary(directory: "/nonexistent-\(UUID().uuidString)").list(.reports).isEmpty)
        let lib = ScriptLibrary(directory: Paths.packageRoot + "/scripts")
        #expect(lib.list(.campaigns).map(\.name).contains("wifi-rename"))
        #expect(lib.entry(.reports, "../campaigns/wifi-rename") == nil)
        let weak = try #require(lib.entry(.reports, "weak-signal"))
        #expect(weak.args.map(\.name) == ["rssi"] && weak.args.first?.default == "-100")
        #expect(weak.description.hasPrefix("LTE devices whose signal is weak"))
        #expect(ScriptLibrary.args("local a = args.x or 'v'\nlocal b = args.y\nlocal c = args.x").map { "\($0.name)=\($0.default ?? "nil")" } == ["x=v", "y=nil"])
    }

    @Test func reportsAnswerJSONAndCSVAndBadLuaIsA400() async throws {
        let live = try await LiveServer()
        for i in 0..<3 { _ = try await Self.device(live, "R-\(i)", org: 1, model: "R1", version: i == 0 ? "2.0" : "1.0") }
        let viewer = APIClient(port: live.server.httpPort, token: try await live.token(role: .viewer, org: 1))
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1))

        let reports = try await viewer.get("/reports").json["reports"] as? [[String: Any]] ?? []
        let offline = try #require(reports.first { $0["name"] as? String == "offline" })
        #expect((offline["args"] as? [[String: Any]])?.first?["name"] as? String == "days")
        #expect((offline["args"] as? [[String: Any]])?.first?["default"] as? String == "7")

        let json = try await viewer.send("POST", "/reports/run", json: ["library": "software-census"])
        #expect(json.status == 200, "\(json.text)")
        #expect(json.json["columns"] as? [String] == ["model", "software_version", "devices", "share"])
        let rows = json.json["rows"] as? [[Any]] ?? []
        #expect(rows.count == 2)
        #expect(rows.first?[1] as? String == "1.0")
        #expect(Self.int(rows.first?[2]) == 2)
        #expect(json.json["truncated"] as? Bool == false)

        let csv = try await viewer.send("POST", "/reports/run", json: ["library": "software-census", "format": "csv"])
        #expect(csv.status == 200)
        #expect(csv.headers.first("Content-Type")?.hasPrefix("text/csv") == true)
        #expect(csv.text.hasPrefix("model,software_version,devices,share\r\n"))
        #expect(csv.text.contains("R1,1.0,2,66.7%"))
        #expect(csv.headers.first("X-Report-Rows") == "2")

        // Arguments reach the script (numbers as numbers).
        let args = try await viewer.send("POST", "/reports/run", json: ["library": "offline", "args": ["days": 30]])
        #expect(args.status == 200, "\(args.text)")
        #expect((args.json["rows"] as? [Any])?.isEmpty == true)

        // Ad-hoc scripts: admin only; Lua errors are 400 problems with Lua's message; the server keeps serving.
        let adhoc = #"report { columns = { "name", "n" } } for dev in devices { order = "serial" } do emit { name = dev.name, n = count {} } end"#
        #expect(try await viewer.send("POST", "/reports/run", json: ["script": adhoc]).status == 403)
        let ran = try await admin.send("POST", "/reports/run", json: ["script": adhoc, "name": "mine"])
        #expect((ran.json["rows"] as? [[Any]])?.map { $0[0] as? String } == ["00C0FF-R-0", "00C0FF-R-1", "00C0FF-R-2"])
        // Past 10,000 rows the JSON answer says it is truncated (and how many rows there were).
        let big = try await admin.send("POST", "/reports/run", json: ["script": "report { columns = { 'i' } }\nfor i = 1, 10001 do emit { i = i } end"])
        #expect((big.json["rows"] as? [Any])?.count == 10_000)
        #expect(big.json["truncated"] as? Bool == true && Self.int(big.json["row_count"]) == 10_001)
        // Device-supplied text a spreadsheet would run as a formula is defused in CSV.
        let formula = try await admin.send("POST", "/reports/run", json: ["script": "report { columns = { 'a', 'b' } }\nemit { a = '=HYPERLINK(1)', b = -3 }",
                                                                          "format": "csv"])
        #expect(formula.text == "a,b\r\n'=HYPERLINK(1),-3\r\n", "\(formula.text)")
        let syntax = try await admin.send("POST", "/reports/run", json: ["script": "report { columns = { 'a' } \nemit {", "name": "broken"])
        #expect(syntax.status == 400)
        #expect(syntax.headers.first("Content-Type") == "application/problem+json")
        #expect((syntax.json["detail"] as? String)?.contains("broken.lua") == true, "\(syntax.text)")
        let runtime = try await admin.send("POST", "/reports/run", json: ["script": "report { columns = { 'a' } }\nerror('boom')"])
        #expect(runtime.status == 400)
        #expect((runtime.json["detail"] as? String)?.contains("boom") == true, "\(runtime.text)")
        let loop = try await admin.send("POST", "/campaigns/dry-run", json: ["script": "while true do end"])
        #expect(loop.status == 400, "\(loop.text)")
        #expect(try await admin.send("POST", "/reports/run", json: ["library": "no-such-report"]).status == 404)
        #expect(try await admin.send("POST", "/reports/run", json: ["library": "../../etc/passwd"]).status == 404)
        #expect(try await admin.send("POST", "/reports/run", json: ["library": "offline", "script": "x"]).status == 422)
        #expect(try await viewer.get("/me").status == 200)
        let audit = try await admin.get("/audit?action=report.run").json["entries"] as? [[String: Any]] ?? []
        #expect(audit.contains { ($0["after"] as? String)?.contains("boom") == true })
        for c in [viewer, admin] { await c.close() }
    }
}

