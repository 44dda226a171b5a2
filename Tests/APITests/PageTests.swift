import Foundation
import Testing
import ACSCore
@testable import API
import GUI
import NetHTTP
import Storage

/// The WebGUI pages over HTTP: the same boundary as the API (sign-in, role, organisation subtree), escaping,
/// role-dependent actions, security headers. The browser run (scripts/browser-test) covers the pages in Chromium.
@Suite(.serialized, .stopsLiveServers) struct PageTests {
    func signIn(_ live: LiveServer, _ user: String) async throws -> (APIClient, String) {
        let c = APIClient(port: live.server.httpPort)
        let r = try await c.send("POST", "/auth/login", json: ["username": user, "password": "correct-horse-battery"])
        #expect(r.status == 200)
        c.headers.set("Cookie", String(try #require(r.headers.first("Set-Cookie")).split(separator: ";")[0]))
        return (c, try #require(r.json["csrf_token"] as? String))
    }

    @Test func pagesNeedASessionAndShowOnlyWhatTheRoleMayDo() async throws {
        let live = try await LiveServer()
        let north = try await live.store.createOrganisation(name: "North", parentID: 1, now: 1)
        let south = try await live.store.createOrganisation(name: "South", parentID: 1, now: 1)
        var evil = Device(name: "00C0FF-N1", oui: "00C0FF", productClass: "", serialNumber: "N1", createdAt: 1).moved(to: north.id)
        evil.description = "<script>alert(1)</script>"
        evil = try await live.store.createDevice(evil)
        let hidden = try await live.store.createDevice(Device(name: "00C0FF-S1", oui: "00C0FF", productClass: "", serialNumber: "S1", createdAt: 1).moved(to: south.id))
        _ = try await live.user("nora", role: .operator, org: north.id)
        _ = try await live.user("vic", role: .viewer, org: north.id)

        // Signed out: pages redirect to the login page, the login page and assets are public.
        let anon = APIClient(port: live.server.httpPort)
        let redirect = try await anon.send("GET", "//devices?status=online")
        #expect(redirect.status == 303)
        #expect(redirect.headers.first("Location") == "/login?next=%2Fdevices%3Fstatus%3Donline")
        #expect(try await anon.send("GET", "//login").status == 200)
        let css = try await anon.send("GET", "//static/corral-\(Assets.version).css")
        #expect(css.status == 200 && css.headers.first("Content-Type")?.hasPrefix("text/css") == true)
        #expect(try await anon.send("GET", "//static/other.js").status == 404)
        #expect(try await anon.send("GET", "//healthz").status == 200)  // not a page: falls through

        // An operator of North: sees its device (escaped), not South's (404), and the operator actions only.
        let (op, _) = try await signIn(live, "nora")
        let list = try await op.send("GET", "//devices")
        #expect(list.status == 200)
        #expect(list.headers.first("Content-Security-Policy")?.contains("script-src 'self'") == true)
        #expect(list.text.contains("00C0FF-N1") && !list.text.contains("00C0FF-S1"))
        #expect(!list.text.contains("<script>alert(1)</script>") && list.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(list.text.contains("data-bulk=\"reboot\"") && !list.text.contains("data-bulk=\"move\""))
        let page = try await op.send("GET", "//devices/\(evil.id)")
        #expect(page.status == 200)
        #expect(page.text.contains("id=\"act-reboot\"") && !page.text.contains("act-factory-reset"))
        #expect(try await op.send("GET", "//devices/\(hidden.id)").status == 404)
        #expect(try await op.send("GET", "//admin/users").status == 403)
        #expect(try await op.send("GET", "//devices?status=bogus").status == 400)
        // Empty filter fields are dropped by a redirect.
        let clean = try await op.send("GET", "//devices?q=&status=online&profile=")
        #expect(clean.status == 303 && clean.headers.first("Location") == "/devices?status=online")

        // A viewer: the same device without any action, and the API refuses the action anyway.
        let (viewer, csrf) = try await signIn(live, "vic")
        let vpage = try await viewer.send("GET", "//devices/\(evil.id)")
        #expect(vpage.status == 200 && !vpage.text.contains("data-api=\"/api/v1/devices"))
        #expect(!(try await viewer.send("GET", "//devices")).text.contains("data-bulk"))
        let forged = try await viewer.send("POST", "/devices/\(evil.id)/tasks", json: ["action": "reboot"], extra: [("X-CSRF-Token", csrf)])
        #expect(forged.status == 403)
        for x in [anon, op, viewer] { await x.close() }
    }

    /// Issue 11: a profile that lets Basic cross plain HTTP says so on its page, with its authentication rules.
    @Test func theProfilePageWarnsAboutBasicOverPlainHTTP() async throws {
        let dir = temporaryDirectory("basic-profiles")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
            return profile { name = "legacy-basic", extends = "generic-tr181", match = { product_class = "Old" },
                             auth = { basic_over_http = true }, rebootstrap = "quarantine" }
            """.write(toFile: dir + "/legacy.lua", atomically: true, encoding: .utf8)
        let live = try await LiveServer { $0.profilesDirectory = dir }
        _ = try await live.user("pat", role: .admin, org: 1)
        let (c, _) = try await signIn(live, "pat")
        let legacy = try await c.send("GET", "//admin/profiles/legacy-basic")
        #expect(legacy.status == 200 && legacy.text.contains("id=\"basic-over-http\""), "\(legacy.status)")
        #expect(legacy.text.contains("Basic also over plain HTTP") && legacy.text.contains("<dd>quarantine</dd>"))
        let generic = try await c.send("GET", "//admin/profiles/generic-tr181")
        #expect(generic.status == 200 && !generic.text.contains("basic-over-http") && generic.text.contains("Basic over TLS only"))
    }

    @Test func theAutomationsPageListsFilesHandlersAndProblems() async throws {
        let dir = temporaryDirectory("gui-automations")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "on('task.fault', function(dev, event) log(event.id) end)\nevery('1h', function() end)".write(toFile: dir + "/ok.lua", atomically: true, encoding: .utf8)
        try "on('device.rebooted', function() end)".write(toFile: dir + "/bad.lua", atomically: true, encoding: .utf8)
        let live = try await LiveServer { $0.automationsDirectory = dir }
        _ = try await live.user("vera", role: .viewer, org: 1)
        let (c, _) = try await signIn(live, "vera")
        let page = try await c.send("GET", "//admin/automations")
        #expect(page.status == 200)
        #expect(page.text.contains("<code>ok.lua</code>") && page.text.contains("on task.fault; every 3600 s"), "\(page.text.suffix(800))")
        #expect(page.text.contains("<code>bad.lua</code>") && page.text.contains("unknown event"))
        let api = try await c.get("/automations")
        #expect((api.json["automations"] as? [[String: Any]])?.count == 2)
    }

    /// Alerts in the API, on the alerts page and the device page, confined to the caller's subtree; an operator
    /// acknowledges, a cleared alert cannot be.
    @Test func alertsAreListedShownAndAcknowledged() async throws {
        let live = try await LiveServer()
        let other = try await live.store.createOrganisation(name: "Other", parentID: 1, now: 1)
        var d1 = Device(name: "00C0FF-AL1", oui: "00C0FF", productClass: "", serialNumber: "AL1", createdAt: 1)
        d1 = try await live.store.createDevice(d1)
        var d2 = Device(name: "00C0FF-AL2", oui: "00C0FF", productClass: "", serialNumber: "AL2", createdAt: 1)
        d2.organisationID = other.id
        d2 = try await live.store.createDevice(d2)
        try await live.store.apply([.automation(.effects([
            // Raised by a handler ("file#n"): no rule of the repository's automation files evaluates them.
            .raiseAlert(AlertRecord(name: "probe-lte", deviceID: d1.id, severity: .major, state: .active, since: 10, raisedAt: 20,
                                    message: "RSSI <b>low</b>", value: "-110", source: "test.lua#1")),
            .raiseAlert(AlertRecord(name: "probe-lte", deviceID: d2.id, severity: .critical, state: .active, since: 10, raisedAt: 20, source: "test.lua#1")),
            .raiseAlert(AlertRecord(name: "old", deviceID: d1.id, severity: .minor, state: .active, since: 1, raisedAt: 1, source: "test.lua#1")),
            .clearAlert(name: "old", deviceID: d1.id, at: 30),
        ]))])
        _ = try await live.user("otto", role: .operator, org: 1)
        _ = try await live.user("vic", role: .viewer, org: other.id)
        let (op, csrf) = try await signIn(live, "otto")
        let all = try await op.get("/alerts")
        let listed = try #require(all.json["alerts"] as? [[String: Any]])
        #expect(listed.map { $0["device_name"] as? String } == ["00C0FF-AL2", "00C0FF-AL1"], "\(all.text)")
        #expect(listed.last?["value"] as? String == "-110" && listed.last?["severity"] as? String == "major")
        #expect((try await op.get("/alerts?state=cleared").json["alerts"] as? [[String: Any]])?.map { $0["name"] as? String } == ["old"])
        #expect((try await op.get("/alerts?severity=critical").json["alerts"] as? [[String: Any]])?.count == 1)
        #expect(try await op.get("/alerts?state=bogus").status == 400)
        #expect((try await op.get("/devices/\(d1.id)/alerts?state=all").json["alerts"] as? [[String: Any]])?.count == 2)
        let id = try #require(listed.last?["id"] as? Int)
        let ack = try await op.send("POST", "/alerts/\(id)/acknowledge", json: [String: Any](), extra: [("X-CSRF-Token", csrf)])
        #expect(ack.status == 200 && ack.json["acknowledged_by"] as? String == "otto", "\(ack.text)")
        let clearedID = try #require((try await op.get("/alerts?state=cleared").json["alerts"] as? [[String: Any]])?.first?["id"] as? Int)
        #expect(try await op.send("POST", "/alerts/\(clearedID)/acknowledge", json: [String: Any](), extra: [("X-CSRF-Token", csrf)]).status == 409)
        // Pages: the list (escaped), the device's own section.
        let page = try await op.send("GET", "//alerts")
        #expect(page.status == 200 && page.text.contains("id=\"alert-table\"") && page.text.contains("RSSI &lt;b&gt;low&lt;/b&gt;"))
        #expect(page.text.contains("otto"), "acknowledged by")
        let devicePage = try await op.send("GET", "//devices/\(d1.id)")
        #expect(devicePage.text.contains("id=\"device-alerts\"") && devicePage.text.contains("<code>probe-lte</code>") && devicePage.text.contains("<code>old</code>"))
        // The other organisation's viewer sees only its own device's alert, and cannot acknowledge.
        let (viewer, vcsrf) = try await signIn(live, "vic")
        #expect((try await viewer.get("/alerts").json["alerts"] as? [[String: Any]])?.map { $0["device_name"] as? String } == ["00C0FF-AL2"])
        #expect(try await viewer.get("/alerts/\(id)").status == 404)
        let otherID = try #require((try await viewer.get("/alerts").json["alerts"] as? [[String: Any]])?.first?["id"] as? Int)
        #expect(try await viewer.send("POST", "/alerts/\(otherID)/acknowledge", json: [String: Any](), extra: [("X-CSRF-Token", vcsrf)]).status == 403)
        #expect(!(try await viewer.send("GET", "//alerts")).text.contains("Acknowledge</button>"))
        // /metrics counts the active ones by severity.
        let metrics = try await op.send("GET", "//metrics").text
        #expect(metrics.contains("corral_alerts_active{severity=\"major\"} 1") && metrics.contains("corral_alerts_active{severity=\"critical\"} 1"))
    }

    @Test func aCredentialConflictIsShownAndAnAdminCanResolveIt() async throws {
        let live = try await LiveServer()
        let d = try await live.store.createDevice(Device(name: "00C0FF-CF1", oui: "00C0FF", productClass: "", serialNumber: "CF1", createdAt: 1))
        try await live.store.apply([.updateDeviceSecurity(deviceID: d.id, supersededHA1: "old", credentialConflict: true, rebootstrapHold: .awaitingApproval)])
        _ = try await live.user("ada", role: .admin, org: 1)
        _ = try await live.user("otto", role: .operator, org: 1)
        let (admin, csrf) = try await signIn(live, "ada")
        let page = try await admin.send("GET", "//devices/\(d.id)")
        #expect(page.text.contains("id=\"device-conflict\"") && page.text.contains("id=\"device-quarantine\""))
        #expect(page.text.contains("id=\"act-resolve-conflict\"") && page.text.contains("id=\"act-approve-rebootstrap\""))
        // An operator sees the state but not the admin's actions.
        let (op, _) = try await signIn(live, "otto")
        let opPage = try await op.send("GET", "//devices/\(d.id)")
        #expect(opPage.text.contains("id=\"device-conflict\"") && !opPage.text.contains("act-resolve-conflict"))
        // The buttons' API calls.
        #expect(try await admin.send("POST", "/devices/\(d.id)/resolve-conflict", json: [String: Any](), extra: [("X-CSRF-Token", csrf)]).json["credential_conflict"] as? Bool == false)
        #expect(try await admin.send("POST", "/devices/\(d.id)/approve-rebootstrap", json: [String: Any](), extra: [("X-CSRF-Token", csrf)]).json["rebootstrap"] as? String == "approved")
        #expect(try await admin.send("POST", "/devices/\(d.id)/resolve-conflict", json: [String: Any](), extra: [("X-CSRF-Token", csrf)]).status == 409)
        let after = try #require(try live.store.device(id: d.id))
        #expect(!after.credentialConflict && after.supersededPasswordHA1.isEmpty && after.rebootstrapHold == .approved)
        #expect(!(try await admin.send("GET", "//devices/\(d.id)")).text.contains("id=\"device-conflict\""))
    }

    @Test func dashboardCountsAndChartsStayInsideTheSubtree() async throws {
        let live = try await LiveServer()
        let north = try await live.store.createOrganisation(name: "North", parentID: 1, now: 1)
        let now = Int64(Date().timeIntervalSince1970)
        for i in 0..<3 {
            let d = try await live.store.createDevice(Device(name: "00C0FF-N\(i)", oui: "00C0FF", productClass: "", serialNumber: "N\(i)", createdAt: now)
                .moved(to: north.id))
            try await live.store.apply([.parameters(deviceID: d.id, values: [.init(name: "Device.Cellular.Interface.1.RSSI", value: String(-95 + i * 10), type: .int)], at: now)])
        }
        // A value that is not a number is left out (not counted as 0 dBm).
        let odd = try await live.store.createDevice(Device(name: "00C0FF-N9", oui: "00C0FF", productClass: "", serialNumber: "N9", createdAt: now)
            .moved(to: north.id))
        try await live.store.apply([.parameters(deviceID: odd.id, values: [.init(name: "Device.Cellular.Interface.1.RSSI", value: "N/A", type: .int)], at: now)])
        _ = try await live.store.createDevice(Device(name: "00C0FF-R1", oui: "00C0FF", productClass: "", serialNumber: "R1", createdAt: now))
        _ = try await live.user("nora", role: .viewer, org: north.id)
        let (c, _) = try await signIn(live, "nora")
        let page = try await c.send("GET", "//")
        #expect(page.status == 200)
        // The built-in generic profiles still use their public onboarding passwords here: the dashboard says so.
        #expect(page.text.contains("id=\"public-secret-warning\"") && page.text.contains("generic-tr181, generic-tr098"))
        #expect(page.text.contains("id=\"count-total\"><span>Devices</span><b>4</b>"))
        #expect(page.text.contains("id=\"count-never\"><span>Never</span><b>4</b>"))
        // RSSI -95, -85, -75: one device in each of three 10 dB buckets, each linked to the inventory filter.
        #expect(page.text.contains("/devices?param=lte.rssi%3E%3D-100&amp;param=lte.rssi%3C-90"))
        let rssi = try #require(page.text.range(of: "id=\"chart-rssi\"")).upperBound
        let section = String(page.text[rssi...].prefix(6000))
        #expect(section.contains("data-points=\"7\""))
        #expect(section.contains("<title>≥ -60 dBm: 0</title>") && section.contains("<title>-100…-90 dBm: 1</title>"))
        let filtered = try await c.send("GET", "//devices?param=Device.Cellular.Interface.1.RSSI%3E%3D-90&param=Device.Cellular.Interface.1.RSSI%3C-80")
        #expect(filtered.text.contains("00C0FF-N1") && !filtered.text.contains("00C0FF-N0") && !filtered.text.contains("00C0FF-N2"))
        // The chart's links use the profile alias; the inventory resolves it through every profile that defines it.
        let byAlias = try await c.send("GET", "//devices?param=lte.rssi%3E%3D-90&param=lte.rssi%3C-80")
        #expect(byAlias.status == 200)
        #expect(byAlias.text.contains("00C0FF-N1") && !byAlias.text.contains("00C0FF-N0") && !byAlias.text.contains("00C0FF-N2"))
        await c.close()
    }

    /// The WiFi and LTE cards come from the device's profile aliases; the LTE history from its KPI samples.
    @Test func deviceCardsFollowProfileAliasesWithKPIHistory() async throws {
        let live = try await LiveServer()
        let now = Int64(Date().timeIntervalSince1970)
        var lte = Device(name: "00C0FF-L1", oui: "00C0FF", productClass: "", serialNumber: "L1", createdAt: now)
        lte.profile = "generic-tr181"
        lte.dataModel = .tr181
        lte = try await live.store.createDevice(lte)
        try await live.store.apply([.parameters(deviceID: lte.id, values: [
            .init(name: "Device.WiFi.SSID.1.SSID", value: "Cafe <Wifi>", type: .string),
            .init(name: "Device.WiFi.Radio.1.Channel", value: "11", type: .unsignedInt),
            .init(name: "Device.Cellular.Interface.1.RSSI", value: "-81", type: .int),
        ], at: now)])
        try await live.store.apply([.automation(.kpiSamples((0..<5).map { KPISample(deviceID: lte.id, name: "lte.rssi", at: now - 300 * Int64($0), value: Double(-80 - $0)) }))])
        var old = Device(name: "00C0FF-T1", oui: "00C0FF", productClass: "", serialNumber: "T1", createdAt: now)
        old.profile = "generic-tr098"
        old.dataModel = .tr098
        old = try await live.store.createDevice(old)
        try await live.store.apply([.parameters(deviceID: old.id, values: [
            .init(name: "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID", value: "Legacy", type: .string),
        ], at: now)])
        _ = try await live.user("opal", role: .operator, org: 1)
        let (c, _) = try await signIn(live, "opal")

        let page = try await c.send("GET", "//devices/\(lte.id)")
        #expect(page.status == 200)
        #expect(page.text.contains("id=\"ssid-value-0\">Cafe &lt;Wifi&gt;</dd><dt>Channel</dt><dd>11</dd>"))
        // Forms send the alias; the API resolves it through the profile.
        #expect(page.text.contains("name=\"parameters.0.path\" value=\"wifi.ssid\""))
        #expect(page.text.contains("aria-label=\"RSSI\">-81</meter>"))
        let history = try #require(page.text.range(of: "id=\"lte-history\"")).upperBound
        let chart = String(page.text[history...].prefix(3000))
        #expect(chart.contains("data-kpi=\"lte.rssi\"") && chart.contains("data-chart=\"line\" data-points=\"5\""))
        #expect(chart.contains("last -80 dBm, min -84, max -80 over 5 samples"))

        let legacy = try await c.send("GET", "//devices/\(old.id)")
        #expect(legacy.text.contains("id=\"ssid-value-0\">Legacy</dd>"))
        #expect(!legacy.text.contains("id=\"lte-card\""))   // generic-tr098 defines no lte.* alias
        await c.close()
    }

    @Test func campaignAndReportPagesFollowTheRoleAndSubtree() async throws {
        let live = try await LiveServer()
        let north = try await live.store.createOrganisation(name: "North", parentID: 1, now: 1)
        let south = try await live.store.createOrganisation(name: "South", parentID: 1, now: 1)
        var ids: [Int64] = []
        for (org, name) in [(north.id, "<b>north</b>"), (south.id, "south-secret")] {
            var c = CampaignRecord(name: name, scriptName: "x.lua", script: "", perMinute: 1, concurrent: 1, failureRate: 1, minDevices: 1,
                                   connectionRequest: false, createdAt: 1)
            c.organisationID = org
            c.state = .paused
            ids.append(try await live.store.createCampaign(c, targets: []).id)
        }
        _ = try await live.user("ada", role: .admin, org: north.id)
        _ = try await live.user("vic", role: .viewer, org: north.id)

        let (admin, _) = try await signIn(live, "ada")
        let page = try await admin.send("GET", "//admin/campaigns")
        #expect(page.status == 200)
        #expect(page.text.contains("&lt;b&gt;north&lt;/b&gt;") && !page.text.contains("south-secret"))
        #expect(page.text.contains("data-api=\"/api/v1/campaigns/") && page.text.contains("/resume\""))
        #expect(!page.text.contains("/pause\""))   // paused: only resume and cancel are offered
        #expect(page.text.contains("data-campaign") && page.text.contains("value=\"wifi-rename\""))
        let detail = try await admin.send("GET", "//admin/campaigns/\(ids[0])")
        #expect(detail.status == 200 && detail.text.contains("id=\"campaign-devices\"") && detail.text.contains("/resume\""))
        #expect(try await admin.send("GET", "//admin/campaigns/\(ids[1])").status == 404)
        #expect(try await admin.send("GET", "//admin/campaigns/\(ids[0])?part=summary").text.hasPrefix("<dl"))
        let rows = try await admin.send("GET", "//admin/campaigns?part=rows")
        #expect(rows.text.hasPrefix("<tr") && !rows.text.contains("<html"))
        let reports = try await admin.send("GET", "//admin/reports")
        #expect(reports.text.contains("value=\"software-census\"") && reports.text.contains("name=\"args.days\"") && reports.text.contains("r-script"))
        #expect(try await admin.send("GET", "//devices").text.contains("data-bulk=\"campaign\""))

        // A viewer: the list without buttons, no new-campaign form, library reports without the ad-hoc editor.
        let (viewer, _) = try await signIn(live, "vic")
        let vpage = try await viewer.send("GET", "//admin/campaigns")
        #expect(vpage.text.contains("&lt;b&gt;north&lt;/b&gt;") && !vpage.text.contains("data-api=\"/api/v1/campaigns") && !vpage.text.contains("data-campaign>"))
        let vreports = try await viewer.send("GET", "//admin/reports")
        #expect(vreports.text.contains("value=\"software-census\"") && !vreports.text.contains("r-script"))
        #expect(!(try await viewer.send("GET", "//devices")).text.contains("data-bulk=\"campaign\""))
        for x in [admin, viewer] { await x.close() }
    }

    /// Issue 14: the firmware page lists the subtree's images and rollouts; a rollout's page its waves, failures and the
    /// controls its state allows, to admins only; another organisation's rollout is not found.
    @Test func firmwarePagesShowImagesRolloutsAndControlsByRoleAndSubtree() async throws {
        let live = try await LiveServer()
        let north = try await live.store.createOrganisation(name: "North", parentID: 1, now: 1)
        let south = try await live.store.createOrganisation(name: "South", parentID: 1, now: 1)
        /// A paused rollout (the runner leaves its upgraded and failed devices alone) over two devices of `org`.
        func rollout(_ org: Int64, version: String, serial: String) async throws -> (Rollout, Device) {
            var f = StoredFile(name: "fw-\(serial).bin", fileType: StoredFile.firmwareType, organisationID: org, size: 2048,
                               sha256: "ab12cd34ef56ab12cd34ef56", downloadKey: "k", createdAt: 1, uploadedBy: "t")
            f.version = version
            f.targetModel = "R<1>*"
            let image = try await live.store.createFile(f)
            let up = try await live.store.createDevice(Device(name: "00C0FF-\(serial)U", oui: "00C0FF", productClass: "", serialNumber: serial + "U", createdAt: 1).moved(to: org))
            let bad = try await live.store.createDevice(Device(name: "00C0FF-\(serial)F", oui: "00C0FF", productClass: "", serialNumber: serial + "F", createdAt: 1).moved(to: org))
            var r = Rollout(organisationID: org, fileID: image.id, version: version, target: "model=R1 group=pilot", waves: [50, 100], window: nil,
                            timeZone: "UTC", maxFailureRate: 0.05, concurrency: 5, createdAt: 1, createdBy: "t")
            r.state = .paused
            var failed = RolloutDevice(rolloutID: 0, deviceID: bad.id, wave: 1, state: .failed, previousVersion: "1.0")
            failed.reason = "download fault 9010 <b>bad</b>"
            let created = try await live.store.createRollout(r, devices: [RolloutDevice(rolloutID: 0, deviceID: up.id, wave: 0, state: .upgraded, previousVersion: "1.0"), failed])
            return (created, bad)
        }
        let (mine, bad) = try await rollout(north.id, version: "2.1-north", serial: "FN")
        let (theirs, _) = try await rollout(south.id, version: "9.9-south", serial: "FS")
        _ = try await live.user("ada", role: .admin, org: north.id)
        _ = try await live.user("vic", role: .viewer, org: north.id)

        let (admin, _) = try await signIn(live, "ada")
        let list = try await admin.send("GET", "//firmware")
        #expect(list.status == 200, "\(list.status)")
        for id in ["firmware-images", "firmware-rollouts", "rollout-start"] { #expect(list.text.contains("id=\"\(id)\""), "\(id)") }
        #expect(list.text.contains("2.1-north") && !list.text.contains("9.9-south") && list.text.contains("model R&lt;1&gt;*"))
        #expect(list.text.contains("href=\"/firmware/rollouts/\(mine.id)\"") && list.text.contains("data-upload=\"/api/v1/firmware\""))
        #expect(list.text.contains("<option value=\"2.1-north\">") && list.text.contains("href=\"/firmware\" aria-current=\"page\""))
        let rows = try await admin.send("GET", "//firmware?part=rollouts")
        #expect(rows.text.hasPrefix("<tr") && rows.text.contains("1 / 1 / 2") && !rows.text.contains("<html"))
        let detail = try await admin.send("GET", "//firmware/rollouts/\(mine.id)")
        #expect(detail.status == 200, "\(detail.status)")
        for id in ["rollout-progress", "rollout-waves", "rollout-failures", "rollout-resume", "rollout-cancel", "rollout-rollback"] {
            #expect(detail.text.contains("id=\"\(id)\""), "\(id)")
        }
        #expect(!detail.text.contains("id=\"rollout-pause\""))   // paused: resume, not pause
        #expect(detail.text.contains("2.1-north") && detail.text.contains("href=\"/devices/\(bad.id)\"") && detail.text.contains("9010 &lt;b&gt;bad&lt;/b&gt;"))
        #expect(detail.text.contains("data-poll=\"/firmware/rollouts/\(mine.id)?part=live\""))
        let part = try await admin.send("GET", "//firmware/rollouts/\(mine.id)?part=live")
        #expect(part.status == 200 && part.text.contains("id=\"rollout-waves\"") && !part.text.contains("<html"))
        #expect(try await admin.send("GET", "//firmware/rollouts/\(theirs.id)").status == 404)

        // A viewer: the lists and the progress, no upload, no start form, no controls.
        let (viewer, _) = try await signIn(live, "vic")
        let vlist = try await viewer.send("GET", "//firmware")
        #expect(vlist.status == 200 && vlist.text.contains("id=\"firmware-rollouts\"") && vlist.text.contains("2.1-north"))
        #expect(!vlist.text.contains("id=\"rollout-start\"") && !vlist.text.contains("data-upload"))
        let vdetail = try await viewer.send("GET", "//firmware/rollouts/\(mine.id)")
        #expect(vdetail.status == 200 && vdetail.text.contains("id=\"rollout-progress\""))
        for id in ["rollout-pause", "rollout-resume", "rollout-cancel", "rollout-rollback"] { #expect(!vdetail.text.contains("id=\"\(id)\""), "\(id)") }

        // South's admin does not see North's rollout.
        _ = try await live.user("sam", role: .admin, org: south.id)
        let (sam, _) = try await signIn(live, "sam")
        #expect(try await sam.send("GET", "//firmware/rollouts/\(mine.id)").status == 404)
        let slist = try await sam.send("GET", "//firmware")
        #expect(slist.text.contains("9.9-south") && !slist.text.contains("2.1-north"))
        for x in [admin, viewer, sam] { await x.close() }
    }

    /// Issue 16: the webhooks page lists the subtree's webhooks with their delivery counts (never a secret) and the
    /// form that adds one; a webhook's page its settings, controls and delivery log. Admins only, as in the API.
    @Test func webhookPagesShowWebhooksAndDeliveriesToAdminsOnly() async throws {
        let receiver = try await WebhookTests.Receiver.start()
        let closed = try await WebhookTests.Receiver.start()
        try await closed.server.shutdown()
        let live = try await LiveServer { $0.webhookTick = 0.2; $0.webhookHosts = ["127.0.0.1"] }
        let north = try await live.store.createOrganisation(name: "North", parentID: 1, now: 1)
        let south = try await live.store.createOrganisation(name: "South", parentID: 1, now: 1)
        _ = try await live.user("ada", role: .admin, org: north.id)
        _ = try await live.user("sam", role: .admin, org: south.id)
        _ = try await live.user("otto", role: .operator, org: north.id)
        _ = try await live.user("vic", role: .viewer, org: north.id)
        _ = try await live.store.createWebhook(Webhook(organisationID: south.id, url: "https://south.example.net/hook", events: ["*"],
                                                       secret: "south-secret-0123456789", createdAt: 1))

        // Created through the API as the page's form sends it: the answer carries the secret, once.
        let (admin, csrf) = try await signIn(live, "ada")
        let created = try await admin.send("POST", "/webhooks", json: ["url": receiver.url + "?a=1&b=2", "events": ["device.*", "webhook.test"],
                                                                      "description": "<b>OSS</b>"], extra: [("X-CSRF-Token", csrf)])
        #expect(created.status == 201, "\(created.text)")
        let id = try #require((created.json["id"] as? NSNumber)?.int64Value)
        let secret = try #require(created.json["secret"] as? String)
        let down = try await admin.send("POST", "/webhooks", json: ["url": closed.url, "events": ["*"], "secret": "my-own-secret-0123456789"],
                                        extra: [("X-CSRF-Token", csrf)])
        let downID = try #require((down.json["id"] as? NSNumber)?.int64Value, "\(down.text)")

        let list = try await admin.send("GET", "//webhooks")
        #expect(list.status == 200, "\(list.status)")
        for marker in ["webhooks", "webhook-create", "webhook-secret-note", "webhook-kinds"] { #expect(list.text.contains("id=\"\(marker)\""), "\(marker)") }
        #expect(list.text.contains("href=\"/webhooks/\(id)\"") && list.text.contains("href=\"/webhooks/\(downID)\""))
        #expect(list.text.contains(receiver.url + "?a=1&amp;b=2") && list.text.contains(closed.url))
        #expect(list.text.contains("&lt;b&gt;OSS&lt;/b&gt;") && !list.text.contains("<b>OSS</b>"))
        #expect(list.text.contains("<code>device.*</code>") && list.text.contains("<code>rollout.finished</code>") && list.text.contains("data-kind=\"words\""))
        #expect(list.text.contains("href=\"/webhooks\" aria-current=\"page\""))
        // Never a secret (generated or chosen), never another organisation's webhook.
        #expect(!list.text.contains(secret) && !list.text.contains("my-own-secret") && !list.text.contains("south.example.net"))
        let rows = try await admin.send("GET", "//webhooks?part=rows")
        #expect(rows.text.hasPrefix("<tr") && !rows.text.contains("<html") && rows.text.contains("data-webhook=\"\(id)\""))

        // Test events: one delivered, one to a closed port (pending, retried, with its error).
        for hook in [id, downID] {
            let r = try await admin.send("POST", "/webhooks/\(hook)/test", json: [String: Any](), extra: [("X-CSRF-Token", csrf)])
            #expect(r.status == 202, "\(r.text)")
        }
        try await waitUntil("both test events attempted", seconds: 20) {
            try live.store.webhookDeliveries(webhookID: id, limit: 10).contains { $0.state == .delivered }
                && live.store.webhookDeliveries(webhookID: downID, limit: 10).contains { $0.attempts > 0 }
        }
        let detail = try await admin.send("GET", "//webhooks/\(id)")
        #expect(detail.status == 200, "\(detail.status)")
        for marker in ["webhook-settings", "webhook-disable", "webhook-test", "webhook-delete", "webhook-live", "webhook-counts", "webhook-deliveries"] {
            #expect(detail.text.contains("id=\"\(marker)\""), "\(marker)")
        }
        #expect(!detail.text.contains("id=\"webhook-enable\""))
        #expect(detail.text.contains("data-delivery=") && detail.text.contains("<code>webhook.test</code>") && detail.text.contains("badge st-delivered"))
        #expect(detail.text.contains("&quot;event&quot;:&quot;webhook.test&quot;"), "the body, escaped")
        #expect(detail.text.contains("Pending 0 · delivered 1 · failed 0."))
        #expect(detail.text.contains("&lt;b&gt;OSS&lt;/b&gt;") && !detail.text.contains(secret))
        let downPage = try await admin.send("GET", "//webhooks/\(downID)")
        #expect(downPage.text.contains("badge st-pending") && downPage.text.contains("no answer") && downPage.text.contains("next "))
        #expect(!downPage.text.contains("my-own-secret"))
        let part = try await admin.send("GET", "//webhooks/\(id)?part=deliveries")
        #expect(part.status == 200 && part.text.hasPrefix("<p id=\"webhook-counts\"") && !part.text.contains("<html"))
        // Disabled: the page offers Enable.
        let patched = try await admin.send("PATCH", "/webhooks/\(id)", json: ["enabled": false], extra: [("X-CSRF-Token", csrf)])
        #expect(patched.status == 200 && patched.json["secret"] == nil, "\(patched.text)")
        let disabled = try await admin.send("GET", "//webhooks/\(id)")
        #expect(disabled.text.contains("id=\"webhook-enable\"") && disabled.text.contains("badge st-disabled"))
        #expect(try await admin.send("GET", "//devices").text.contains("href=\"/webhooks\""))

        // Another organisation's admin: not found; the operator and the viewer: refused, and no link to the page.
        let (sam, _) = try await signIn(live, "sam")
        #expect(try await sam.send("GET", "//webhooks/\(id)").status == 404)
        let samList = try await sam.send("GET", "//webhooks")
        #expect(samList.status == 200 && samList.text.contains("south.example.net") && !samList.text.contains(receiver.url))
        for user in ["otto", "vic"] {
            let (c, _) = try await signIn(live, user)
            let refused = try await c.send("GET", "//webhooks")
            #expect(refused.status == 403 && refused.text.contains("Forbidden"), "\(user): \(refused.status)")
            #expect(try await c.send("GET", "//webhooks/\(id)").status == 403)
            let devices = try await c.send("GET", "//devices")
            #expect(devices.status == 200 && !devices.text.contains("href=\"/webhooks\""), "\(user)")
            await c.close()
        }
        for x in [admin, sam] { await x.close() }
    }

    /// Issue 16: the onboarding page lists the refused first contacts of the caller's subtree, newest first and escaped,
    /// with each reason's hint visible, links to known devices and the "Device not listed?" checklist; attempts of
    /// unknown devices only for the root organisation; credential recovery buttons only for admins.
    @Test func theOnboardingPageListsRefusedAttemptsWithHints() async throws {
        let live = try await LiveServer()
        let north = try await live.store.createOrganisation(name: "North", parentID: 1, now: 1)
        let mine = try await live.store.createDevice(Device(name: "00C0FF-OB1", oui: "00C0FF", productClass: "", serialNumber: "OB1", createdAt: 1)
            .moved(to: north.id))
        let now = Int64(Date().timeIntervalSince1970)
        try await live.store.recordOnboardingAttempts([
            OnboardingAttempt(at: now - 60, address: "192.0.2.7", oui: "00C0FF", serial: "STRAY1", productClass: "R<1>",
                              username: "<script>alert(1)</script>", reason: .wrongPassword, detail: "wrong credentials <b>x</b>", count: 3),
            OnboardingAttempt(at: now, address: "192.0.2.8", oui: "00C0FF", serial: "OB1", username: "corral-tr181", reason: .ownCredentialsRequired,
                              detail: "onboarding credentials without BOOTSTRAP", deviceID: mine.id),
        ], now: now)
        _ = try await live.user("vic", role: .viewer, org: 1)
        _ = try await live.user("nina", role: .viewer, org: north.id)
        _ = try await live.user("ada", role: .admin, org: 1)
        let reset = "data-api=\"/api/v1/devices/\(mine.id)/reset-credentials\""

        // A viewer of the root: both attempts, newest first, escaped, with the hints and the checklist; no buttons.
        let (viewer, _) = try await signIn(live, "vic")
        let page = try await viewer.send("GET", "//onboarding")
        #expect(page.status == 200, "\(page.status)")
        for marker in ["onboarding-search", "not-listed", "not-listed-checklist", "attempts-live", "onboarding-attempts", "reason-hints",
                       "hint-wrong_password", "hint-own_credentials_required", "all-reasons"] {
            #expect(page.text.contains("id=\"\(marker)\""), "\(marker)")
        }
        #expect(!page.text.contains("id=\"hint-bad_oui\"") && !page.text.contains("id=\"unknown-devices-note\""))
        #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.text.contains("<script>alert(1)</script>"))
        #expect(page.text.contains("<td>R&lt;1&gt;</td>") && page.text.contains("wrong credentials &lt;b&gt;x&lt;/b&gt;"))
        #expect(page.text.contains(Markup.escape(OnboardingAttempt.Reason.wrongPassword.hint)))
        #expect(page.text.contains(Markup.escape(OnboardingAttempt.Reason.ownCredentialsRequired.hint)))
        #expect(page.text.contains("Device not listed?") && page.text.contains(Markup.escape(OnboardingAttempt.noAttemptHint)))
        #expect(page.text.contains("<code>corral-tr181</code>"), "the profiles' onboarding usernames")
        #expect(page.text.contains("href=\"/devices/\(mine.id)\">00C0FF-OB1</a>"))
        #expect(page.text.contains("href=\"/onboarding\" aria-current=\"page\"") && page.text.contains("data-poll=\"/onboarding?part=live\""))
        let newest = try #require(page.text.range(of: "<td>OB1</td>"))
        let older = try #require(page.text.range(of: "<td>STRAY1</td>"))
        #expect(newest.lowerBound < older.lowerBound)
        #expect(!page.text.contains(reset))
        #expect(try await viewer.send("GET", "//devices").text.contains("href=\"/onboarding\""))
        // The live part, the search, and empty fields dropped.
        let part = try await viewer.send("GET", "//onboarding?part=live")
        #expect(part.status == 200 && part.text.hasPrefix("<p id=\"attempts-count\">2 attempts listed.") && !part.text.contains("<html"))
        let found = try await viewer.send("GET", "//onboarding?search=STRAY")
        #expect(found.text.contains("<td>STRAY1</td>") && !found.text.contains("<td>OB1</td>") && found.text.contains("value=\"STRAY\""))
        #expect(found.text.contains("data-poll=\"/onboarding?search=STRAY&amp;part=live\""))
        let none = try await viewer.send("GET", "//onboarding?search=NOSUCH")
        #expect(none.text.contains("No refused attempts match") && !none.text.contains("id=\"reason-hints\""))
        let clean = try await viewer.send("GET", "//onboarding?search=")
        #expect(clean.status == 303 && clean.headers.first("Location") == "/onboarding")

        // A sub-organisation's viewer: its device's attempt, not the unknown device's, and a note saying why.
        let (sub, _) = try await signIn(live, "nina")
        let subPage = try await sub.send("GET", "//onboarding")
        #expect(subPage.status == 200 && subPage.text.contains("<td>OB1</td>") && !subPage.text.contains("STRAY1"))
        #expect(!subPage.text.contains("alert(1)") && subPage.text.contains("id=\"unknown-devices-note\""))

        // An admin: a Reset credentials button on the row of the device that lost its credentials, and only there.
        let (admin, _) = try await signIn(live, "ada")
        let adminPage = try await admin.send("GET", "//onboarding")
        #expect(adminPage.text.components(separatedBy: "/reset-credentials\"").count == 2, "one reset button")
        #expect(adminPage.text.contains(reset) && adminPage.text.contains("data-done=\"Credentials reset: 00C0FF-OB1"))
        for x in [viewer, sub, admin] { await x.close() }
    }

    /// Issue 16: the device page offers credential recovery and deletion to admins (deletion asks for the name, then
    /// opens the inventory), not to viewers, and shows the device's refused attempts with their hints when it has some.
    @Test func theDevicePageOffersCredentialResetAndDeletionAndListsRefusedAttempts() async throws {
        let live = try await LiveServer()
        let lost = try await live.store.createDevice(Device(name: "00C0FF-RA1", oui: "00C0FF", productClass: "", serialNumber: "RA1", createdAt: 1))
        let quiet = try await live.store.createDevice(Device(name: "00C0FF-RA2", oui: "00C0FF", productClass: "", serialNumber: "RA2", createdAt: 1))
        let now = Int64(Date().timeIntervalSince1970)
        try await live.store.recordOnboardingAttempts([
            OnboardingAttempt(at: now, address: "198.51.100.4", oui: "00C0FF", serial: "RA1", username: "corral-tr181", reason: .ownCredentialsRequired,
                              detail: "came back <without> BOOTSTRAP", deviceID: lost.id, count: 2),
        ], now: now)
        _ = try await live.user("ada", role: .admin, org: 1)
        _ = try await live.user("vic", role: .viewer, org: 1)

        let (admin, csrf) = try await signIn(live, "ada")
        let page = try await admin.send("GET", "//devices/\(lost.id)")
        #expect(page.status == 200, "\(page.status)")
        #expect(page.text.contains("id=\"act-reset-credentials\"") && page.text.contains("data-api=\"/api/v1/devices/\(lost.id)/reset-credentials\""))
        #expect(page.text.contains("id=\"act-delete\"") && page.text.contains("data-confirm-type=\"00C0FF-RA1\"") && page.text.contains("data-then=\"/devices\""))
        #expect(page.text.contains("data-api=\"/api/v1/devices/\(lost.id)\" data-method=\"DELETE\""))
        #expect(page.text.contains("id=\"device-attempts\"") && page.text.contains("Refused attempts"))
        #expect(page.text.contains("<code>own_credentials_required</code>") && page.text.contains("came back &lt;without&gt; BOOTSTRAP"))
        #expect(page.text.contains(Markup.escape(OnboardingAttempt.Reason.ownCredentialsRequired.hint)))
        #expect(page.text.contains("data-poll=\"/devices/\(lost.id)?part=attempts\"") && page.text.contains("href=\"/onboarding?search=RA1\""))
        let part = try await admin.send("GET", "//devices/\(lost.id)?part=attempts")
        #expect(part.status == 200 && part.text.contains("id=\"device-attempt-table\"") && !part.text.contains("<html"))
        // No attempts: no card, the buttons still.
        let quietPage = try await admin.send("GET", "//devices/\(quiet.id)")
        #expect(!quietPage.text.contains("id=\"device-attempts\"") && quietPage.text.contains("id=\"act-delete\""))

        // A viewer: the attempts, not the buttons.
        let (viewer, _) = try await signIn(live, "vic")
        let vpage = try await viewer.send("GET", "//devices/\(lost.id)")
        #expect(vpage.status == 200 && vpage.text.contains("id=\"device-attempts\""))
        #expect(!vpage.text.contains("act-reset-credentials") && !vpage.text.contains("act-delete") && !vpage.text.contains("data-confirm-type"))

        // What the Delete button sends: the device is gone, its page too.
        let deleted = try await admin.send("DELETE", "/devices/\(quiet.id)", extra: [("X-CSRF-Token", csrf)])
        #expect(deleted.status == 204, "\(deleted.text)")
        #expect(try await admin.send("GET", "//devices/\(quiet.id)").status == 404)
        #expect(!(try await admin.send("GET", "//devices")).text.contains("00C0FF-RA2"))
        for x in [admin, viewer] { await x.close() }
    }

    /// Issue 16: live parts say which events refresh them (`data-live`), corral.js opens one EventSource for them, the
    /// page's Content-Security-Policy lets it reach its own origin, and the stream takes the GUI's session cookie.
    @Test func livePartsDeclareTheirEventsAndTheScriptFollowsTheStream() async throws {
        let live = try await LiveServer()
        let d = try await live.store.createDevice(Device(name: "00C0FF-LV1", oui: "00C0FF", productClass: "", serialNumber: "LV1", createdAt: 1))
        _ = try await live.user("ada", role: .admin, org: 1)
        let (c, _) = try await signIn(live, "ada")
        let expected: [(String, [String])] = [
            ("//devices", ["id=\"rows\"", "data-live=\"device.*,firmware.*\""]),
            ("//", ["data-live=\"device.*\" data-live-min=\"30\""]),
            ("//alerts", ["data-live=\"alert.*\""]),
            ("//admin/campaigns", ["data-live=\"campaign.*,task.*\" data-live-every=\"10\""]),
            ("//firmware", ["data-live=\"rollout.*,firmware.*\""]),
            ("//devices/\(d.id)", ["data-live=\"device.*,task.*,firmware.*\" data-live-device=\"\(d.id)\"",
                                   "data-live=\"task.*,device.*\" data-live-device=\"\(d.id)\" data-live-every=\"15\""]),
        ]
        for (path, attributes) in expected {
            let page = try await c.send("GET", path)
            #expect(page.status == 200, "\(path): \(page.status)")
            for a in attributes { #expect(page.text.contains(a), "\(path): \(a)") }
            // EventSource is governed by connect-src: default-src 'self' allows the page's own origin unless overridden.
            let csp = page.headers.first("Content-Security-Policy") ?? ""
            #expect(csp.contains("default-src 'self'") && !csp.contains("connect-src"), "\(csp)")
        }
        // Refused first contacts are not events: that list keeps polling.
        let onboarding = try await c.send("GET", "//onboarding")
        #expect(onboarding.text.contains("data-poll=\"/onboarding?part=live\"") && !onboarding.text.contains("data-live="))

        let js = try await c.send("GET", "//static/corral-\(Assets.version).js")
        #expect(js.status == 200)
        for wiring in ["new EventSource('/api/v1/events?types=' + encodeURIComponent(want.join(',')))", "es.addEventListener(k, onEvent)",
                       "p.dataset.liveDevice === device", "Number(p.dataset.liveEvery || FALLBACK)", "var FALLBACK = \(Assets.liveFallbackSeconds),",
                       "'\\u25cf live'", "'\\u25cb polling'", "part.dataset.updatedBy = why"] {
            #expect(js.text.contains(wiring), "\(wiring)")
        }
        // EventSource hands a named event only to a listener for that name: the script knows every kind there is.
        #expect(Assets.eventKinds == WebhookRules.knownEvents)
        for kind in WebhookRules.knownEvents { #expect(js.text.contains("'\(kind)'"), "\(kind)") }

        // What the inventory's EventSource asks for, with the session cookie the browser sends.
        try await live.store.apply([.automation(.event(EventRecord(at: Int64(Date().timeIntervalSince1970), kind: "device.boot", deviceID: d.id, data: "{}")))])
        let stream = try await c.send("GET", "/events?types=device.*%2Cfirmware.*&since=0&timeout=1")
        #expect(stream.status == 200 && stream.headers.first("Content-Type")?.hasPrefix("text/event-stream") == true, "\(stream.status) \(stream.text)")
        let boot = EventStreamTests.frames(stream.text).first { $0.event == "device.boot" }
        let device = boot?.data["device"] as? [String: Any]
        #expect((device?["id"] as? Int) ?? (device?["id"] as? NSNumber)?.intValue == Int(d.id), "\(stream.text)")
        await c.close()
    }
}
