import ACSCore
import CWMP
import Foundation
import Storage
import Testing
@testable import Scripting

/// Automation files: declarations, their errors, and what a handler's device actions become.
@Suite(.serialized) struct AutomationScriptTests {
    static let now: Int64 = 1_750_000_000

    func load(_ source: String) async throws -> AutomationScript {
        let (store, registry) = try await BridgeFuzzTests.fleet()
        return try AutomationScript(source: source, name: "a.lua", store: store, registry: registry, now: Self.now)
    }

    func failure(_ source: String) async -> String {
        do { _ = try await load(source); return "" } catch { return "\(error)" }
    }

    @Test func declarationsAndTheirMistakes() async throws {
        let a = try await load("""
            on("device.boot", function(dev, event) dev:reboot() end)
            on("task.fault", { profile = "generic-tr181" }, function(dev, event) end)
            every("15m", function() end)
            """)
        #expect(a.handlers.map(\.label) == ["on device.boot", "on task.fault profile=generic-tr181", "every 900 s"])
        #expect(a.handlers.map(\.key) == ["a.lua#1", "a.lua#2", "a.lua#3"])
        #expect(await failure("on('device.reboted', function() end)").contains("unknown event"))
        #expect(await failure("on('device.boot', { colour = 'red' }, function() end)").contains("filter field 'colour'"))
        #expect(await failure("on('device.boot', 'x', function() end)").contains("filter must be a table"))
        #expect(await failure("on('device.boot')").contains("to 'on'"))
        #expect(await failure("every('5s', function() end)").contains("at least 10 s"))
        #expect(await failure("every('soon', function() end)").contains("use a number"))
        #expect(await failure("log('nothing declared')").contains("declares no on"))
        #expect(await failure("report { columns = {'a'} }").contains("not available in an automation"))
        #expect(await failure("while true do end").contains("instruction limit"))
        // on/every belong to automation files only.
        let vm = LuaVM()
        let run = ScriptRun(context: .report, name: "r.lua", now: Self.now, seed: 1)
        #expect(throws: ScriptError.self) { try vm.run("on('device.boot', function() end)", name: "r.lua", run: run, limits: .report) }
    }

    @Test func handlersTurnDeviceActionsIntoTasksAndFiltersMatchFields() async throws {
        let a = try await load("""
            on("device.boot", { product_class = "GW" }, function(dev, event)
              dev:set("Device.DeviceInfo.ProvisioningCode", "event-" .. event.id .. "-" .. event.data.action)
              dev:reboot()
            end)
            """)
        let (store, _) = try await BridgeFuzzTests.fleet()
        let device = try #require(try store.device(name: "00C0FF-F1"))
        let h = a.handlers[0]
        #expect(h.matches(device))
        var other = device
        other.productClass = "ONT"
        #expect(!h.matches(other))
        var event = LuaTable()
        event.fields = ["id": .int(42), "kind": .string("device.boot"), "at": .int(Self.now)]
        var data = LuaTable()
        data.fields = ["action": .string("x")]
        data.keys = ["action"]
        event.fields["data"] = .table(data)
        event.keys = ["id", "kind", "at", "data"]
        let out = try a.run(h, device: device, event: event, now: Self.now).tasks
        #expect(out.count == 1 && out[0].0 == device.id)
        #expect(out[0].1 == [.setParameterValues([ParameterValue(name: "Device.DeviceInfo.ProvisioningCode", value: "event-42-x")]), .reboot])
    }
}
