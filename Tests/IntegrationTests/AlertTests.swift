import CWMP
import Foundation
import Testing
import ACSCore
@testable import Engine
import Scripting
import Storage

/// Alert rules, the offline sweep and the handlers' effects, against a real SQLite store with the runner driven at
/// chosen moments (its passes are what `serve` runs every second).
@Suite(.serialized) struct AlertTests {
    struct Fixture {
        let data: String
        let dir: String
        let store: SQLStore
        let registry: ProfileRegistry

        init(_ tag: String, files: [String: String]) throws {
            data = temporaryDirectory(tag)
            dir = temporaryDirectory(tag + "-scripts")
            for (name, text) in files { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
            store = try SQLStore(directory: data)
            registry = ProfileLibrary.load(sources: BuiltinProfiles.sources).0.registry
        }

        func runner(campaigns: String? = nil) -> AutomationRunner {
            AutomationRunner(directory: dir, store: store, registry: registry, campaignsDirectory: campaigns, alertInterval: 30)
        }

        func device(_ serial: String, channel: String?, lastInform: Int64, interval: Int = 300) async throws -> Device {
            var d = Device(name: "00C0FF-\(serial)", oui: "00C0FF", productClass: "P", serialNumber: serial, profile: "generic-tr181",
                           dataModel: .tr181, informInterval: interval, createdAt: 1, lastInform: lastInform)
            d = try await store.createDevice(d)
            d.lastInform = lastInform
            try await store.apply([.updateDevice(d)])
            if let channel { try await setChannel(d, channel) }
            return d
        }

        func setChannel(_ d: Device, _ v: String) async throws {
            try await store.apply([.parameters(deviceID: d.id, values: [ParameterValue(name: "Device.WiFi.Radio.1.Channel", value: v, type: .unsignedInt)], at: 1)])
        }

        func close() {
            store.close()
            for d in [data, dir] { try? FileManager.default.removeItem(atPath: d) }
        }
    }

    static let rules = """
        alert { name = "bad-channel", when = "wifi.channel > 11", ["for"] = "2m", severity = "minor", message = "channel out of range" }
        alert { name = "silent", offline = "1h", severity = "critical" }
        on("alert.raised", { alert = "bad-channel" }, function(dev, event)
          dev:tag("bad-channel")
          emit_event("custom.flagged", dev, { value = event.data.value })
        end)
        on("custom.flagged", function(dev, event)
          dev:add_group("watch")
          dev:set_location("rack " .. event.data.value)
        end)
        on("alert.cleared", { alert = "bad-channel" }, function(dev) dev:untag("bad-channel") end)
        """

    /// pending → active after `for` → cleared when the value changes; an offline rule raises at once; handlers react
    /// to the alert events with labels and a custom event, each once.
    @Test func rulesRaiseAndClearAndHandlersReact() async throws {
        let f = try Fixture("alerts", files: ["rules.lua": Self.rules])
        defer { f.close() }
        let now = Int64(Date().timeIntervalSince1970)
        let a = try await f.device("A", channel: "13", lastInform: now)
        _ = try await f.device("B", channel: "6", lastInform: now)
        let c = try await f.device("C", channel: "1", lastInform: now - 7200)
        let runner = f.runner()
        #expect(runner.statuses.first?.alerts.count == 2)

        await runner.step(now: now)
        let pending = try f.store.openAlerts(name: "bad-channel")
        #expect(pending.map(\.deviceID) == [a.id] && pending.first?.state == .pending)
        var q = AlertQuery()
        q.states = [.active]
        #expect(try f.store.alerts(q).map { "\($0.alert.name) \($0.deviceName) \($0.alert.severity.rawValue)" } == ["silent 00C0FF-C critical"])

        // Not yet two minutes: still pending.
        await runner.step(now: now + 60)
        #expect(try f.store.openAlerts(name: "bad-channel").first?.state == .pending)
        await runner.step(now: now + 130)
        let raised = try #require(try f.store.openAlerts(name: "bad-channel").first)
        #expect(raised.state == .active && raised.value == "13" && raised.message == "channel out of range" && raised.since == now)
        // The handlers ran: alert.raised in this pass, the custom event it emitted in the next one.
        await runner.step(now: now + 131)
        var dev = try #require(try f.store.device(id: a.id))
        #expect(dev.tags == ["bad-channel"] && dev.groups == ["watch"] && dev.location == "rack 13")
        // Running the passes again changes nothing: no second alert, no second event.
        await runner.step(now: now + 132)
        #expect(try f.store.events(deviceID: a.id, limit: 50).filter { $0.kind == "alert.raised" }.count == 1)
        #expect(try f.store.events(deviceID: a.id, limit: 50).filter { $0.kind == "custom.flagged" }.count == 1)

        try await f.setChannel(a, "6")
        await runner.step(now: now + 170)
        await runner.step(now: now + 171)
        dev = try #require(try f.store.device(id: a.id))
        #expect(dev.tags.isEmpty && dev.groups == ["watch"])
        q.states = [.cleared]
        #expect(try f.store.alerts(q).map(\.alert.deviceID) == [a.id])
        #expect(try f.store.openAlerts(name: "silent").map(\.deviceID) == [c.id])
        let counts = runner.runCounts
        #expect(counts.alertsRaised == 2 && counts.alertsCleared == 1 && counts.failed == 0)
        #expect(try f.store.activeAlertCounts() == [.critical: 1])

        // An operator acknowledges; a cleared alert cannot be.
        let open = try #require(try f.store.openAlerts(name: "silent").first)
        try await f.store.apply([.automation(.acknowledgeAlert(id: open.id, by: "noc", at: now + 200))])
        #expect(try f.store.alert(id: open.id)?.alert.acknowledgedBy == "noc")
    }

    /// `device.offline` once per device whose expected Inform did not come since the last sweep; devices already
    /// offline at the first sweep are not news. An Inform afterwards is `device.online` (written by the session).
    @Test func offlineSweepRecordsEachTransitionOnce() async throws {
        let f = try Fixture("offline", files: ["log.lua": "on('device.offline', function(dev, event) dev:tag('was-offline') end)"])
        defer { f.close() }
        let now = Int64(Date().timeIntervalSince1970)
        let old = try await f.device("OLD", channel: nil, lastInform: now - 7200)
        // Turns offline at now - 400 + 450 + 60 = now + 110.
        let soon = try await f.device("SOON", channel: nil, lastInform: now - 400)
        let runner = f.runner()
        await runner.step(now: now)
        await runner.step(now: now + 100)
        #expect(try f.store.events(deviceID: soon.id, limit: 10).isEmpty)
        await runner.step(now: now + 140)
        await runner.step(now: now + 200)
        await runner.step(now: now + 260)
        let events = try f.store.events(deviceID: soon.id, limit: 10).filter { $0.kind == "device.offline" }
        #expect(events.count == 1 && events.first?.data == "{\"offline_since\":\(now + 110)}")
        #expect(try f.store.events(deviceID: old.id, limit: 10).isEmpty)
        #expect(try f.store.device(id: soon.id)?.tags == ["was-offline"])

        // The session side: an Inform from a device that had turned offline.
        let inform = Inform(deviceId: DeviceID(manufacturer: "M", oui: "00C0FF", productClass: "P", serialNumber: "SOON"),
                            events: [EventStruct("2 PERIODIC")], currentTime: "", parameters: [])
        let writes = EngineEvents.inform(inform, deviceID: soon.id, before: try f.store.device(id: soon.id), now: now + 300)
        guard case .automation(.event(let e))? = writes.first else { Issue.record("no event"); return }
        #expect(e.kind == "device.online" && e.data == "{\"offline_since\":\(now + 110)}")
        #expect(EngineEvents.inform(inform, deviceID: soon.id, before: try f.store.device(id: soon.id), now: now + 10).isEmpty)
    }

    /// A handler's campaign starts once its run is stored, and only once per event.
    @Test func handlersStartCampaignsAndScheduleByCron() async throws {
        let campaigns = temporaryDirectory("auto-campaigns")
        defer { try? FileManager.default.removeItem(atPath: campaigns) }
        try """
            campaign { name = "fix channel", target = { ids = { 1 } }, apply = function(dev) dev:set("wifi.channel", 6) end }
            """.write(toFile: campaigns + "/fix.lua", atomically: true, encoding: .utf8)
        let f = try Fixture("auto-camp", files: ["c.lua": """
            on("device.boot", function(dev, event) start_campaign("fix.lua", { name = "fix " .. dev.name }) end)
            every("*/2 * * * *", function() for d in devices{} do d:tag("cron") end end)
            """])
        defer { f.close() }
        let now = Int64(Date().timeIntervalSince1970)
        let d = try await f.device("CAMP", channel: "13", lastInform: now)
        #expect(d.id == 1)
        try await f.store.apply([.automation(.event(EventRecord(at: now, kind: "device.boot", deviceID: d.id)))])
        let runner = f.runner(campaigns: campaigns)
        // The first even minute at least a minute from now.
        let t = (now / 120 + 1) * 120
        await runner.step(now: t)
        let started = try f.store.campaigns(states: CampaignState.allCases)
        #expect(started.map(\.name) == ["fix 00C0FF-CAMP"])
        #expect(started.first?.createdBy.hasPrefix("automation c.lua#1 event ") == true)
        #expect(try f.store.device(id: d.id)?.tags == ["cron"])
        let ranAt = try f.store.scheduleRuns()["c.lua#2"]
        #expect(ranAt == t)
        await runner.step(now: t + 60)
        #expect(try f.store.scheduleRuns()["c.lua#2"] == t, "the next run is at t + 120")
        await runner.step(now: t + 120)
        #expect(try f.store.scheduleRuns()["c.lua#2"] == t + 120)
        #expect(try f.store.campaigns(states: CampaignState.allCases).count == 1)
    }

    /// Bad rules are refused at load with the reason shown; misuse at run time is a clear error; a chain of emitted
    /// events stops three levels deep.
    @Test func badRulesAndMisuseAreClearErrors() async throws {
        let bad: [(String, String)] = [
            ("alert { name = 'x', when = 'wifi.channel > 11', offline = '1h' }", "one of them"),
            ("alert { name = 'x y', when = 'wifi.channel > 11' }", "name is 1 to 64"),
            ("alert { name = 'x', when = 'no.such.alias > 1' }", "unknown alias"),
            ("alert { name = 'x', when = 'wifi.channel > 1', severity = 'huge' }", "severity is critical"),
            ("alert { name = 'x', when = 'wifi.channel > 1', ['for'] = 'soon' }", "for is a duration"),
            ("alert { name = 'x', when = 'wifi.channel > 1', colour = 'red' }", "unknown field 'colour'"),
            ("alert { name = 'x', offline = '10s' }", "at least a minute"),
            ("alert { name = 'x', offline = '1h' } alert { name = 'x', offline = '2h' }", "declared twice"),
            ("every('61 * * * *', function() end)", "minute 61"),
            ("on('custom.', function() end)", "unknown event"),
            ("on('device.boot', { colour = 'red' }, function() end)", "filter field 'colour'"),
        ]
        var files: [String: String] = [:]
        for (i, b) in bad.enumerated() { files["bad\(i).lua"] = b.0 }
        files["loop.lua"] = """
            alert { name = "owned", offline = "1h" }
            on("device.boot", function(dev) emit_event("custom.loop", dev, { n = 1 }) end)
            on("custom.loop", function(dev, event) emit_event("custom.loop", dev) end)
            on("device.bootstrap", function(dev) dev:alert("owned") end)
            on("device.onboarded", function(dev) dev:tag("a,b") end)
            """
        let f = try Fixture("auto-bad", files: files)
        defer { f.close() }
        let runner = f.runner()
        for (i, b) in bad.enumerated() {
            let problems = runner.statuses.first { $0.file == "bad\(i).lua" }?.problems ?? []
            #expect(problems.contains { $0.contains(b.1) }, "bad\(i).lua: \(problems)")
        }
        let now = Int64(Date().timeIntervalSince1970)
        let d = try await f.device("LOOP", channel: nil, lastInform: now)
        try await f.store.apply(["device.boot", "device.bootstrap", "device.onboarded"].map { .automation(.event(EventRecord(at: now, kind: $0, deviceID: d.id))) })
        for i in 0..<6 { await runner.step(now: now + Int64(i)) }
        let events = try f.store.events(deviceID: d.id, limit: 50)
        #expect(events.filter { $0.kind == "custom.loop" }.count == 3)
        let errors = try f.store.events(deviceID: d.id, limit: 50).map(\.id)
        let runs = try f.store.automationRuns(eventIDs: errors)
        #expect(runs.values.reduce(0) { $0 + $1.count } == 6, "each event ran its handler once: \(runs)")
        #expect(runner.runCounts.failed == 3, "the 4th level of the loop, dev:alert on a rule's name, a tag with a comma")
        #expect(try f.store.device(id: d.id)?.tags == [])
        #expect(try f.store.openAlerts(name: "owned").isEmpty)
    }

    /// The example files shipped in scripts/automations load without a problem against the repository's profiles.
    @Test func theExampleAutomationsLoad() async throws {
        let data = temporaryDirectory("auto-examples")
        defer { try? FileManager.default.removeItem(atPath: data) }
        let store = try SQLStore(directory: data)
        defer { store.close() }
        let (library, problems) = ProfileLibrary.load(directory: Paths.packageRoot + "/profiles")
        #expect(problems.filter { $0.kind != .warning }.isEmpty, "\(problems)")
        let runner = AutomationRunner(directory: Paths.packageRoot + "/scripts/automations", store: store, registry: library.registry)
        #expect(runner.statuses.count >= 5)
        for s in runner.statuses { #expect(s.problems.isEmpty, "\(s.file): \(s.problems)") }
        #expect(runner.statuses.first { $0.file == "alerts.lua" }?.alerts.count == 3)
    }
}
