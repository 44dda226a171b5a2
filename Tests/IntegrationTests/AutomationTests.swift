import Foundation
import Testing
import ACSCore
@testable import Engine
import Scripting
import Simulator
import Storage

/// Automations against a live server and simulated CPEs: events persisted by sessions reach handlers, whose actions
/// become tasks delivered to the CPE; an event's tasks are queued once, even when its handler runs again.
@Suite(.serialized) struct AutomationTests {
    @Test func bootEventsReachHandlersAndTheirTasksReachTheCPE() async throws {
        let data = temporaryDirectory("auto")
        let dir = temporaryDirectory("auto-scripts")
        defer { for d in [data, dir] { try? FileManager.default.removeItem(atPath: d) } }
        try """
            on("device.boot", { product_class = "SimRouter" }, function(dev, event)
              dev:set("Device.DeviceInfo.ProvisioningCode", "boot-" .. event.id)
            end)
            on("task.done", function(dev, event) log("done", event.data.task_id, event.data.action) end)
            """.write(toFile: dir + "/boot.lua", atomically: true, encoding: .utf8)
        try "on('device.boot', function(dev) error('broken on purpose') end)".write(toFile: dir + "/broken.lua", atomically: true, encoding: .utf8)
        try "this is not lua".write(toFile: dir + "/syntax.lua", atomically: true, encoding: .utf8)
        var config = serverConfig(data: data)
        config.automationsDirectory = dir
        let server = try CorralServer(config: config)
        let statuses = server.automations.statuses
        #expect(statuses.map(\.file).sorted() == ["boot.lua", "broken.lua", "syntax.lua"])
        #expect(statuses.first { $0.file == "syntax.lua" }?.problems.first?.contains("syntax.lua") == true)
        try await server.start()
        let sim = try simulator(port: server.cwmpPort, count: 3, model: "tr181", prefix: "AUTO-")
        try await sim.start()

        let cpe = try #require(sim.device(serial: "AUTO-000001"))
        try await waitUntil("the boot handler's value on the CPE", seconds: 30) {
            cpe.value("Device.DeviceInfo.ProvisioningCode")?.hasPrefix("boot-") == true
        }
        let device = try #require(try server.store.device(name: "00C0FF-AUTO-000001"))
        let events = try server.store.events(deviceID: device.id, limit: 50)
        #expect(events.contains { $0.kind == "device.onboarded" } && events.contains { $0.kind == "device.boot" })
        try await waitUntil("the task.done event handled", seconds: 20) {
            try server.store.events(deviceID: device.id, limit: 50).contains { $0.kind == "task.done" && $0.handledAt > 0 }
        }
        // The broken handler failed on each boot event, and is switched off after five failures in a row (3 devices: not yet).
        let broken = try #require(server.automations.statuses.first { $0.file == "broken.lua" })
        #expect(broken.problems.isEmpty, "\(broken.problems)")
        await sim.stop()
        await server.stop()
    }

    /// Events written before the runner started run if recent (a restart loses none), are skipped if older than an
    /// hour (a new automation does not fire for last month's boots).
    @Test func recentEventsFromBeforeTheStartRunAndOldOnesAreSkipped() async throws {
        let data = temporaryDirectory("auto-start")
        let dir = temporaryDirectory("auto-start-scripts")
        defer { for d in [data, dir] { try? FileManager.default.removeItem(atPath: d) } }
        try "on('device.boot', function(dev) dev:reboot() end)".write(toFile: dir + "/reboot.lua", atomically: true, encoding: .utf8)
        let now = Int64(Date().timeIntervalSince1970)
        do {
            let store = try SQLStore(directory: data)
            let d = try await store.createDevice(Device(name: "00C0FF-EV", oui: "00C0FF", productClass: "P", serialNumber: "EV", createdAt: 1))
            try await store.apply([.automation(.event(EventRecord(at: now - 7200, kind: "device.boot", deviceID: d.id))),
                                   .automation(.event(EventRecord(at: now - 10, kind: "device.boot", deviceID: d.id))),
                                   .automation(.event(EventRecord(at: now - 5, kind: "task.done", deviceID: d.id)))])
            store.close()
        }
        var config = serverConfig(data: data)
        config.automationsDirectory = dir
        let server = try CorralServer(config: config)
        try await server.start()
        try await waitUntil("every event handled", seconds: 20) { try server.store.pendingEvents(limit: 10).isEmpty }
        let device = try #require(try server.store.device(name: "00C0FF-EV"))
        let events = try server.store.events(deviceID: device.id, limit: 10).sorted { $0.id < $1.id }
        let runs = try server.store.automationRuns(eventIDs: events.map(\.id))
        #expect(runs[events[0].id] == nil, "the 2-hour-old boot was skipped")
        #expect(runs[events[1].id] == ["reboot.lua#1"])
        #expect(runs[events[2].id] == nil, "no handler waits for task.done")
        #expect(try server.store.tasks(deviceID: device.id, states: [.pending]).map(\.kind) == [.reboot])
        await server.stop()
    }

    /// A crash after a handler ran but before its outcome was stored re-runs the handler; its tasks are queued once.
    @Test func anEventsTasksAreQueuedOnceAcrossRestarts() async throws {
        let data = temporaryDirectory("auto-once")
        defer { try? FileManager.default.removeItem(atPath: data) }
        let store = try SQLStore(directory: data)
        let d = try await store.createDevice(Device(name: "00C0FF-ONCE", oui: "00C0FF", productClass: "P", serialNumber: "ONCE", createdAt: 1))
        try await store.apply([.automation(.event(EventRecord(at: 10, kind: "device.boot", deviceID: d.id)))])
        let event = try #require(try store.pendingEvents(limit: 10).first)
        let task = DeviceTask(deviceID: d.id, kind: .reboot, createdAt: 10, updatedAt: 10)
        for _ in 0..<3 {
            try await store.apply([.automation(.automationRun(eventID: event.id, handler: "a.lua#1", at: 11, tasks: [task], error: ""))])
        }
        #expect(try store.tasks(deviceID: d.id, states: [.pending]).count == 1)
        #expect(try store.automationRuns(eventIDs: [event.id])[event.id] == ["a.lua#1"])
        try await store.apply([.automation(.eventHandled(id: event.id, at: 12))])
        #expect(try store.pendingEvents(limit: 10).isEmpty)
        store.close()
    }
}
