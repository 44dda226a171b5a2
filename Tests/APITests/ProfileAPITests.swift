import Foundation
import Testing
import ACSCore
@testable import API
import Storage

/// Profiles over the API: what viewers and admins see, and validation of candidate files in the sandbox.
@Suite(.serialized, .stopsLiveServers) struct ProfileAPITests {
    @Test func viewersSeeRulesAndAliasesAdminsAlsoTheSource() async throws {
        let live = try await LiveServer()
        let viewer = APIClient(port: live.server.httpPort, token: try await live.token(role: .viewer, org: 1))
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1))
        let seen = try await viewer.get("/profiles/generic-tr181").json
        #expect((seen["aliases"] as? [String: String])?["wifi.ssid"] == "Device.WiFi.SSID.1.SSID")
        #expect(seen["file"] as? String == "builtin:generic-tr181.lua")
        #expect(seen["onboarding"] as? Bool == true)
        #expect(seen["script"] == nil)
        #expect(!(try await viewer.get("/profiles/generic-tr181").text.contains("onboard-tr181")))   // the default password
        let full = try await admin.get("/profiles/generic-tr181").json
        #expect((full["script"] as? String)?.contains("return profile {") == true)
        #expect(try await viewer.get("/profiles/nope").status == 404)
        await viewer.close()
        await admin.close()
    }

    @Test func validationReportsProblemsAndInstallsNothing() async throws {
        let live = try await LiveServer()
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1))
        func validate(_ script: String, file: String? = nil) async throws -> (Int, [String: Any]) {
            var body: [String: Any] = ["script": script]
            if let file { body["file"] = file }
            let r = try await admin.send("POST", "/profiles/validate", json: body)
            return (r.status, r.json)
        }
        func problems(_ j: [String: Any]) -> [(String, String)] {
            (j["problems"] as? [[String: Any]] ?? []).map { ($0["kind"] as? String ?? "", $0["message"] as? String ?? "") }
        }

        // A valid child of a built-in: inherited aliases plus its own, and its KPIs.
        let (s1, ok) = try await validate("""
            return profile {
              name = "r2", extends = "generic-tr181", match = { oui = "001122" },
              aliases = { ["lte.sinr"] = "Device.Cellular.Interface.1.X_R2_SINR" },
              kpis = { "lte.rssi", "lte.sinr" },
            }
            """, file: "r2.lua")
        #expect(s1 == 200)
        #expect(ok["valid"] as? Bool == true, "\(ok)")
        let p = try #require((ok["profiles"] as? [[String: Any]])?.first)
        #expect(p["name"] as? String == "r2" && p["file"] as? String == "r2.lua")
        let aliases = p["aliases"] as? [String: String] ?? [:]
        #expect(aliases["wifi.ssid"] != nil && aliases["lte.sinr"] == "Device.Cellular.Interface.1.X_R2_SINR")
        #expect(p["kpis"] as? [String] == ["lte.rssi", "lte.sinr"])

        // Syntax error, with the file and line.
        let (_, syntax) = try await validate("return profile { name = ", file: "broken.lua")
        #expect(syntax["valid"] as? Bool == false)
        #expect(problems(syntax).first?.0 == "syntax" && problems(syntax).first?.1.hasPrefix("broken.lua:") == true, "\(syntax)")

        // A script that never ends is stopped by the instruction limit; the server answers the next call at once.
        let started = Date()
        let (_, loop) = try await validate("while true do end")
        #expect(loop["valid"] as? Bool == false)
        #expect(problems(loop).contains { $0.0 == "instruction-limit" }, "\(loop)")
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(try await admin.get("/profiles").status == 200)

        // An unknown parent; no profile at all; a name another file already uses (a warning, still valid).
        let (_, orphan) = try await validate(#"return profile { name = "o", extends = "nobody" }"#)
        #expect(orphan["valid"] as? Bool == false && problems(orphan).contains { $0.1.contains("extends unknown profile 'nobody'") }, "\(orphan)")
        let (_, nothing) = try await validate("local x = 1")
        #expect(nothing["valid"] as? Bool == false && problems(nothing).contains { $0.1.contains("profile{}") }, "\(nothing)")
        let (_, clash) = try await validate(#"return profile { name = "generic-tr181", match = { data_model = "tr181" } }"#, file: "mine.lua")
        #expect(clash["valid"] as? Bool == true)
        #expect(problems(clash).contains { $0.0 == "warning" && $0.1.contains("already defined in builtin:generic-tr181.lua") }, "\(clash)")

        // Bad input is refused before any Lua runs.
        #expect(try await admin.send("POST", "/profiles/validate", json: ["script": "x", "file": "../etc/passwd.lua"]).status == 422)
        #expect(try await admin.send("POST", "/profiles/validate", json: ["file": "a.lua"]).status == 422)

        // Nothing was installed.
        let names = (try await admin.get("/profiles").json["profiles"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(names.sorted() == ["generic-tr098", "generic-tr181"])
        #expect(live.server.profiles.profile(named: "r2") == nil)
        await admin.close()
    }

    /// Uploads through the API: validated first (a refused file is not written), then written and loaded; every
    /// accepted version is listed with the diff to the previous one.
    @Test func uploadsAreValidatedWrittenLoadedAndVersioned() async throws {
        let profiles = temporaryDirectory("api-profiles")
        let automations = temporaryDirectory("api-automations")
        defer { for d in [profiles, automations] { try? FileManager.default.removeItem(atPath: d) } }
        let live = try await LiveServer { $0.profilesDirectory = profiles; $0.automationsDirectory = automations; $0.watchScripts = false }
        let root = APIClient(port: live.server.httpPort, token: try await live.token(role: .superadmin, org: 1))
        let bad = try await root.send("PUT", "/scripts/profiles/acme.lua", json: ["script": "return profile { name = 'acme', extends = 'nope' }"])
        #expect(bad.status == 422 && bad.text.contains("was not saved"), "\(bad.text)")
        #expect(!FileManager.default.fileExists(atPath: profiles + "/acme.lua"))
        for (n, desc) in ["one", "two"].enumerated() {
            let ok = try await root.send("PUT", "/scripts/profiles/acme.lua", json: ["script": """
                return profile { name = "acme", extends = "generic-tr181", match = { product_class = "ACME\(n)" }, description = "\(desc)" }
                """])
            #expect(ok.status == 200 && (ok.json["changed"] as? [String]) == ["profiles/acme.lua"], "\(ok.text)")
        }
        #expect(try await root.get("/profiles/acme").json["description"] as? String == "two")
        let auto = try await root.send("PUT", "/scripts/automations/tick.lua", json: ["script": "every('1h', function() end)"])
        #expect(auto.status == 200 && (auto.json["changed"] as? [String]) == ["automations/tick.lua"], "\(auto.text)")
        #expect(try await root.send("PUT", "/scripts/automations/tick.lua", json: ["script": "every('1s', function() end)"]).status == 422)
        #expect(try await root.send("PUT", "/scripts/automations/..%2Fescape.lua", json: ["script": "every('1h', function() end)"]).status != 200)
        let list = try await root.get("/script-versions?kind=profile&name=acme.lua")
        let versions = try #require(list.json["versions"] as? [[String: Any]])
        #expect(versions.count == 2 && (versions.first?["created_by"] as? String)?.contains("(token ") == true, "\(list.text)")
        let newest = try #require(versions.first?["id"] as? Int)
        let one = try await root.get("/script-versions/\(newest)").json
        let diff = try #require(one["diff"] as? String)
        #expect(diff.contains("-return profile { name = \"acme\", extends = \"generic-tr181\", match = { product_class = \"ACME0\" }, description = \"one\" }"), "\(diff)")
        #expect(diff.contains("+return profile { name = \"acme\", extends = \"generic-tr181\", match = { product_class = \"ACME1\" }, description = \"two\" }"))
        // Profiles and automations act on every organisation: only superadmins read their versions, write or reload.
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1))
        #expect(try await admin.get("/script-versions").status == 403)
        #expect(try await admin.send("POST", "/scripts/reload", json: [String: Any]()).status == 403)
        #expect(try await root.send("POST", "/scripts/reload", json: [String: Any]()).json["accepted"] as? Bool == true)
        await root.close()
        await admin.close()
    }
}
