import ACSCore
import ArgumentParser
import CWMP
import DataModel
import Engine
import Foundation
import Scripting
import Storage

/// `corral lua-bench`: prints the Lua overhead per CWMP session and report throughput. A benchmark, not a test.
struct LuaBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lua-bench",
        abstract: "Measure Lua provisioning overhead per session (µs) and report throughput (rows/s).",
        discussion: "Build with -c release for meaningful numbers (scripts/bench-lua does).")

    @Option(help: "Profile directory (the ACME LTE router profile is the typical script).") var profiles = "profiles"
    @Option(help: "Provisioning sessions to time.") var sessions = 20_000
    @Option(help: "Devices in the report store.") var devices = 100_000
    @Option(help: "Events for the automation throughput run (0: skip).") var events = 20_000

    func run() async throws {
        let (lib, problems) = ProfileLibrary.load(directory: profiles, secrets: SecretResolver(values: ["acme-r1-onboarding": "x", "acme-ont-onboarding": "y"]))
        guard problems.isEmpty, let profile = lib.registry.profile(named: "acme-lte-r1") else {
            throw ValidationError("profiles in \(profiles) do not load: \(problems.map(\.message))")
        }
        let engine = ScriptEngine(library: lib, shards: 1)
        print("Lua provisioning, profile acme-lte-r1 (desired values, 4 KPIs, inform hook), \(sessions) sessions:")
        let steady = time(sessions) { i in runSession(engine, profile, i, fresh: true) }
        print(String(format: "  steady state (everything known, no RPC):        %7.1f µs/session", steady))
        let suspended = time(sessions) { i in runSession(engine, profile, i, fresh: false) }
        print(String(format: "  hook suspends once (1 GPV batch, then resumes):  %7.1f µs/session", suspended))
        let vmCreate = time(2_000) { _ in _ = LuaVM() }
        print(String(format: "  (a new sandboxed state would cost                %7.1f µs: states are pooled)", vmCreate))

        if events > 0 { try await automations() }
        try await reports()
    }

    /// Events handled per second: sessions' events (persisted) through a handler that queues a task and tags the device.
    func automations() async throws {
        let dir = NSTemporaryDirectory() + "corral-lua-bench-auto-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/automations", withIntermediateDirectories: true)
        try """
            on("device.boot", function(dev, event)
              if dev.software_version ~= "2.1" then dev:refresh("Device.DeviceInfo.") end
              dev:tag("booted")
            end)
            """.write(toFile: dir + "/automations/boot.lua", atomically: true, encoding: .utf8)
        let store = try SQLStore(directory: dir)
        defer { store.close() }
        let now = Int64(Date().timeIntervalSince1970)
        var ids: [Int64] = []
        for i in 0..<1000 {
            ids.append(try await store.createDevice(Device(name: "00C0FF-E\(i)", oui: "00C0FF", productClass: "GW", serialNumber: "E\(i)",
                                                           softwareVersion: i % 2 == 0 ? "2.0" : "2.1", profile: "generic-tr181", dataModel: .tr181, createdAt: now)).id)
        }
        for chunk in stride(from: 0, to: events, by: 1000) {
            try await store.apply((chunk..<min(events, chunk + 1000)).map { .automation(.event(EventRecord(at: now, kind: "device.boot", deviceID: ids[$0 % ids.count]))) })
        }
        let runner = AutomationRunner(directory: dir + "/automations", store: store, registry: ProfileLibrary.load(directory: nil).0.registry)
        let clock = ContinuousClock()
        let start = clock.now
        let passes = try await runner.drain(now: now)
        let d = clock.now - start
        let s = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        print(String(format: "Automations: %d device.boot events through one handler (a task on half, a tag on all) in %.2f s = %.0f events/s (%d passes)",
                     events, s, Double(events) / s, passes))
    }

    /// Microseconds per iteration.
    func time(_ n: Int, _ body: (Int) -> Void) -> Double {
        for i in 0..<min(200, n) { body(i) }   // warm-up
        let clock = ContinuousClock()
        let start = clock.now
        for i in 0..<n { body(i) }
        let d = clock.now - start
        return (Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12) / Double(n)
    }

    static let now: Int64 = 1_750_000_000
    /// What the store holds for the router (built once: the harness's own work is not the engine's).
    static let storedFresh = stored(fresh: true), storedStale = stored(fresh: false)

    func runSession(_ engine: ScriptEngine, _ profile: DeviceProfile, _ i: Int, fresh: Bool) {
        let now = Self.now
        let device = Device(id: Int64(i + 1), name: "00D09E-B\(i)", oui: "00D09E", productClass: "LTE-R1", serialNumber: "B\(i)",
                            profile: profile.name, dataModel: .tr181)
        let stored = fresh ? Self.storedFresh : Self.storedStale
        // KPIs arrive with the Inform in this run (the router reports them as forced parameters).
        let s = engine.session(device: device, profile: profile, kind: .tr181, events: ["2 PERIODIC"], informValues: Self.inform, now: now,
                               skip: [], lookup: { stored[$0] }, kpi: { _, _ in nil })
        while let r = s.nextRequest() {
            if case .getParameterValues(let names) = r {
                s.received(.getParameterValues(names.map { ParameterValue(name: $0, value: $0.hasSuffix("Band") ? "3" : "x", type: $0.hasSuffix("Band") ? .unsignedInt : .string) }))
            } else {
                s.received(.setParameterValues(status: 0))
            }
        }
        precondition(s.failures.isEmpty, "\(s.failures)")
    }

    static let inform = [ParameterValue(name: "Device.Cellular.Interface.1.RSSI", value: "-71", type: .int),
                         ParameterValue(name: "Device.Cellular.Interface.1.RSRP", value: "-98", type: .int),
                         ParameterValue(name: "Device.Cellular.Interface.1.RSRQ", value: "-11", type: .int),
                         ParameterValue(name: "Device.Cellular.Interface.1.X_ACME_SINR", value: "13", type: .int)]

    static func stored(fresh: Bool) -> [String: StoredParameter] {
        let now = Self.now
        var stored: [String: StoredParameter] = [:]
        func put(_ p: String, _ v: String, _ t: XSDType = .string) { stored[p] = StoredParameter(path: p, value: v, type: t, writable: true, updatedAt: now - 60) }
        put("Device.ManagementServer.PeriodicInformEnable", "1", .boolean)
        put("Device.ManagementServer.PeriodicInformInterval", "900", .unsignedInt)
        put("Device.Cellular.AccessPoint.1.APN", "internet")
        put("Device.Time.NTPServer1", "pool.ntp.org")
        put("Device.Time.Enable", "true", .boolean)
        put("Device.ManagementServer.STUNEnable", "true", .boolean)
        put("Device.ManagementServer.STUNServerAddress", "stun.corral.example")
        put("Device.ManagementServer.STUNServerPort", "3478", .unsignedInt)
        put("Device.ManagementServer.STUNMinimumKeepAlivePeriod", "60", .unsignedInt)
        put("Device.WiFi.Radio.1.Channel", "6", .unsignedInt)
        if fresh {
            put("Device.Cellular.Interface.1.X_ACME_CellID", "2620-1-4711")
            put("Device.Cellular.Interface.1.X_ACME_Band", "3", .unsignedInt)
        }
        return stored
    }

    final class Sink: ReportOutput {
        var rows = 0
        func begin(title: String?, columns: [String]) {}
        func row(_ values: [LuaValue]) { rows += 1 }
        func end() {}
    }

    func reports() async throws {
        let dir = NSTemporaryDirectory() + "corral-lua-bench-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLStore(directory: dir)
        defer { store.close() }
        let n = devices
        let now: Int64 = 1_750_000_000
        print("Reports over \(n) devices in SQLite (seeding...)")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for chunk in stride(from: 0, to: n, by: 1000) {
                group.addTask {
                    var writes: [StoreWrite] = []
                    for i in chunk..<min(n, chunk + 1000) {
                        let d = try await store.createDevice(Device(name: "00C0FF-B\(i)", oui: "00C0FF", productClass: "GW", serialNumber: "B\(i)",
                                                                    modelName: ["R1", "R2", "G1"][i % 3], softwareVersion: ["1.0", "1.1", "2.0", "2.1"][i % 4],
                                                                    profile: "generic-tr181", dataModel: .tr181, createdAt: now, lastInform: now - Int64(i % 5000) * 60))
                        writes.append(.parameters(deviceID: d.id, values: [ParameterValue(name: "Device.Cellular.Interface.1.RSSI", value: String(-120 + i % 61), type: .int)], at: now))
                    }
                    try await store.apply(writes)
                }
            }
            try await group.waitForAll()
        }
        let cases: [(String, String)] = [
            ("all devices, 4 columns incl. a parameter", "report { columns = { 'name', 'serial', 'software_version', 'lte.rssi' }, rows = devices {} }"),
            ("weak signal (SQL parameter filter)", "report { columns = { 'name', 'serial', 'lte.rssi' }, rows = devices { where = 'lte.rssi < -100' } }"),
            ("Lua loop with emit{} per device", "report { columns = { 'name', 'v' } } for dev in devices {} do emit { name = dev.name, v = dev:get('lte.rssi') } end"),
            ("census (count_by, SQL GROUP BY)", "report { columns = { 'v', 'n' } } for _, g in ipairs(count_by('software_version')) do emit { v = g.value, n = g.count } end"),
        ]
        for (label, source) in cases {
            let sink = Sink()
            let clock = ContinuousClock()
            let start = clock.now
            _ = try ReportRunner.run(source: source, name: "bench.lua", store: store, registry: ProfileLibrary.load(directory: nil).0.registry,
                                     now: now, output: sink)
            let d = clock.now - start
            let s = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
            print("  " + label.padding(toLength: 44, withPad: " ", startingAt: 0)
                  + String(format: " %8d rows in %6.3f s = %9.0f rows/s", sink.rows, s, Double(sink.rows) / s))
        }
    }
}
