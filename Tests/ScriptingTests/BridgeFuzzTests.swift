import ACSCore
import CWMP
import Foundation
import Storage
import Testing
@testable import Scripting

/// The bridge fuzzer (issue 12): generated scripts call every function of the bridge table (and the allowed standard
/// library) with random, extreme and wrong-typed arguments, in every context. Nothing may crash the process; every
/// failure is a ScriptError; the VM keeps working. Seeded and bounded: CORRAL_LUA_FUZZ_SCRIPTS (default 120 per
/// context) and CORRAL_LUA_FUZZ_SEED (default 1) reproduce or lengthen a run.
@Suite(.serialized) struct BridgeFuzzTests {
    static let now: Int64 = 1_750_000_000

    /// Values a script can hand to a function: extremes of every Lua type.
    static let values = [
        "nil", "true", "false", "0", "-1", "1", "7", "1.5", "-0.0", "2^31", "2^53", "2^63", "-2^63", "2^1023 * 2", "-2^1023 * 2", "0/0",
        "math.huge", "-math.huge", "math.maxinteger", "math.mininteger", "1e308", "-1e308", "1e-320",
        "''", "'x'", "'Device.'", "'Device.WiFi.SSID.1.SSID'", "'wifi.ssid'", "'lte.rssi'", "'InternetGatewayDevice.'", "'*t'",
        "'%Y-%m-%d %H:%M:%S'", "'%'", "'%s%s%s%s'", "'%c'", "'\\0'", "('a'):rep(70000)", "('%'):rep(300)", "'15m'", "'http://x/fw.bin'",
        "{}", "{1, 2, 3}", "{'a', 'b'}", "{name = 'n', columns = {'a'}}", "{limit = -1}", "{limit = 1e308}", "{limit = 2^63}",
        "{where = 'x'}", "{ids = {1, 2, 1e308}}", "{order = 'nope', desc = 1}", "{year = 1e308, month = 0/0, day = -1}",
        "{year = 2026, month = 13, day = 40}", "{[1] = {}, [2] = {{}}}", "{profile = {}}", "{text = ('x'):rep(5000)}",
        "function() end", "function() error('inner') end", "print", "dev", "string", "coroutine",
        "'custom.x'", "'* * * * *'", "'61 * * * *'", "{name = 'a', offline = '1h'}", "{name = 'b', when = 'wifi.channel > 11', ['for'] = '1m'}",
        "{severity = 'critical', message = 'm'}", "{severity = 'huge'}", "'fix.lua'", "'../etc/passwd'", "'a,b'",
    ]

    /// `count` calls of functions drawn from the whole bridge table and the standard library, with random arguments:
    /// the ones outside the running context must refuse cleanly too.
    static func calls(count: Int, rng: inout SplitMix64) -> String {
        let names = Bridge.functions.map(\.name) + ["string.find", "string.rep", "string.format", "string.gsub", "string.match",
                                                    "table.concat", "table.sort", "table.insert", "utf8.char", "utf8.len",
                                                    "math.floor", "math.tointeger", "tostring", "tonumber", "select", "pairs", "next"]
        var lines: [String] = []
        for _ in 0..<count {
            let name = names[Int(rng.next() % UInt64(names.count))]
            let args = (0..<Int(rng.next() % 5)).map { _ in values[Int(rng.next() % UInt64(values.count))] }.joined(separator: ", ")
            // Inside a function, so that even resolving the name (a library field, a method of a nil `dev`) is caught.
            let callee = name.hasPrefix("dev:") ? "dev:" + name.dropFirst(4) : name
            lines.append("pcall(function() return \(callee)(\(args)) end)")
        }
        return lines.joined(separator: "\n")
    }

    static var scriptsPerContext: Int { Int(ProcessInfo.processInfo.environment["CORRAL_LUA_FUZZ_SCRIPTS"] ?? "") ?? 120 }
    static var seed: UInt64 { UInt64(ProcessInfo.processInfo.environment["CORRAL_LUA_FUZZ_SEED"] ?? "") ?? 1 }

    /// A small fleet (reports and campaigns read it through the real store), made once.
    static func fleet() async throws -> (SQLStore, ProfileRegistry) { try await FleetCache.shared.get() }

    /// Only ScriptErrors (runtime, limits) may come out of a run; the generator writes valid Lua, so never a syntax error.
    static func expectScriptError(_ error: Error, _ source: String) {
        #expect(error is ScriptError, "not a ScriptError: \(error)\n\(source.prefix(400))")
        #expect((error as? ScriptError)?.kind != .syntax, "the generator wrote invalid Lua: \(error)")
    }

    @Test func reportsAndProfileFilesSurviveGeneratedCalls() async throws {
        var rng = SplitMix64(seed: Self.seed)
        let (store, registry) = try await Self.fleet()
        let vm = LuaVM()
        var completed = 0
        var kinds: [String: Int] = [:]
        for i in 0..<Self.scriptsPerContext {
            let source = "report { columns = { 'a' } }\nlocal dev\npcall(function() for d in devices({ limit = 2 }) do dev = d break end end)\n"
                + Self.calls(count: 25, rng: &rng)
            do {
                _ = try ReportRunner.run(source: source, name: "fuzz-\(i).lua", store: store, registry: registry, now: Self.now,
                                         output: ReportWriter(format: .csv) { _ in }, vm: vm,
                                         limits: ScriptLimits(instructions: 20_000_000, memoryBytes: 64 << 20, wallMilliseconds: 5_000))
                completed += 1
            } catch {
                Self.expectScriptError(error, source)
                kinds[(error as? ScriptError).map { "\($0.kind)" } ?? "other", default: 0] += 1
            }
        }
        // pcall catches the functions' own errors: most runs end normally (the rest hit a limit).
        #expect(completed * 2 > Self.scriptsPerContext, "\(completed) of \(Self.scriptsPerContext) reports completed")
        print("bridge fuzz: \(completed) of \(Self.scriptsPerContext) generated reports ran to the end; stopped by \(kinds.sorted { $0.key < $1.key })")
        for i in 0..<Self.scriptsPerContext {
            let source = "local dev\n" + Self.calls(count: 25, rng: &rng)
                + "\nreturn profile { name = 'fuzz\(i)', extends = 'generic-tr181', match = { product_class = 'Fz' } }"
            _ = ProfileLibrary.load(sources: BuiltinProfiles.sources + [ProfileSource(file: "fuzz-\(i).lua", text: source)])
        }
        #expect(try vm.run("return 1 + 1", name: "after.lua", run: ScriptRun(context: .report, name: "after", now: Self.now, seed: 1),
                           limits: ScriptLimits(instructions: 1000, memoryBytes: 1 << 20)).first == .int(2))
    }

    /// Crashes the fuzzer found, kept as regression tests.
    @Test func foundCrashes() async throws {
        let (store, registry) = try await Self.fleet()
        for source in ["report { columns = { 'a' } }\nfor dev in devices({ limit = 1 }) do dev:kpi('lte.rssi', math.mininteger) end",
                       "report { columns = { 'a' } }\nfor dev in devices({ limit = 1 }) do dev:kpi('lte.rssi', -1) end"] {
            do {
                _ = try ReportRunner.run(source: source, name: "found.lua", store: store, registry: registry, now: Self.now,
                                         output: ReportWriter(format: .csv) { _ in })
                Issue.record("should have failed: \(source)")
            } catch let e as ScriptError {
                #expect(e.message.contains("window must be"), "\(e)")
            }
        }
    }

    @Test func campaignsSurviveGeneratedCalls() async throws {
        var rng = SplitMix64(seed: Self.seed &+ 1)
        let (store, registry) = try await Self.fleet()
        let device = try #require(try store.device(name: "00C0FF-F3"))
        for i in 0..<Self.scriptsPerContext {
            let source = "campaign { name = 'fuzz', target = {}, apply = function(dev)\n" + Self.calls(count: 25, rng: &rng) + "\nend }"
            do {
                let script = try CampaignScript(source: source, name: "fuzz-\(i).lua", store: store, registry: registry, now: Self.now)
                _ = try script.actions(for: device, now: Self.now)
            } catch { Self.expectScriptError(error, source) }
        }
    }

    /// Automation files: generated calls at load (declarations), in an event handler and in a schedule.
    @Test func automationsSurviveGeneratedCalls() async throws {
        var rng = SplitMix64(seed: Self.seed &+ 3)
        let (store, registry) = try await Self.fleet()
        let device = try #require(try store.device(name: "00C0FF-F3"))
        var event = LuaTable()
        event.fields = ["id": .int(1), "kind": .string("device.boot"), "at": .int(Self.now), "data": .table(LuaTable())]
        event.keys = ["id", "kind", "at", "data"]
        var ran = 0
        for i in 0..<Self.scriptsPerContext {
            let source = "local dev\n" + Self.calls(count: 10, rng: &rng)
                + "\non('device.boot', function(dev, event)\n" + Self.calls(count: 25, rng: &rng) + "\nend)"
                + "\nevery('1h', function()\nlocal dev\npcall(function() for d in devices({ limit = 2 }) do dev = d break end end)\n"
                + Self.calls(count: 25, rng: &rng) + "\nend)"
            do {
                let script = try AutomationScript(source: source, name: "fuzz-\(i).lua", store: store, registry: registry, now: Self.now)
                for h in script.handlers {
                    do {
                        _ = try script.run(h, device: h.isUnfiltered ? device : nil, event: h.isUnfiltered ? event : nil, now: Self.now)
                        ran += 1
                    } catch { Self.expectScriptError(error, source) }
                }
            } catch { Self.expectScriptError(error, source) }
        }
        #expect(ran > 0)
        print("bridge fuzz: \(ran) generated automation handler runs ended normally")
    }

    @Test func sessionHooksSurviveGeneratedCalls() throws {
        var rng = SplitMix64(seed: Self.seed &+ 2)
        let device = Device(id: 1, name: "00C0FF-S1", oui: "00C0FF", productClass: "Fz", serialNumber: "S1", profile: "fuzz",
                            dataModel: .tr181, createdAt: Self.now - 100, lastInform: Self.now)
        for i in 0..<max(1, Self.scriptsPerContext / 4) {
            // Several hooks per profile file: each is a coroutine the session drives with CPE answers and faults.
            let hooks = (0..<4).map { _ in "function(dev)\n" + Self.calls(count: 20, rng: &rng) + "\nend" }
            let source = "return profile { name = 'fuzz', extends = 'generic-tr181', match = { product_class = 'Fz' }, on = { inform = \(hooks[0]), boot = \(hooks[1]), periodic = \(hooks[2]), bootstrap = \(hooks[3]) } }"
            let (lib, _) = ProfileLibrary.load(sources: BuiltinProfiles.sources + [ProfileSource(file: "fuzz-\(i).lua", text: source)])
            guard let profile = lib.registry.profile(named: "fuzz") else { continue }   // refused at load: fine
            let engine = ScriptEngine(library: lib, shards: 1)
            let session = engine.session(device: device, profile: profile, kind: .tr181, events: ["0 BOOTSTRAP", "1 BOOT", "2 PERIODIC"],
                                         informValues: [], now: Self.now, skip: [], lookup: { _ in nil }, kpi: { _, _ in nil })
            var steps = 0
            while let request = session.nextRequest(), steps < 40 {
                steps += 1
                switch (request, steps % 3) {
                case (.getParameterValues(let names), 0):
                    session.received(.getParameterValues(names.map { ParameterValue(name: $0, value: "1") }))
                case (.setParameterValues, 1):
                    session.received(.setParameterValues(status: 0))
                default:
                    session.faulted(CWMPFault(code: 9005, string: "Invalid parameter name"))
                }
            }
            session.close()
        }
    }
}

/// Made on first use without blocking a thread (a semaphore wait inside a test can starve the cooperative pool).
actor FleetCache {
    static let shared = FleetCache()
    private var fleet: (SQLStore, ProfileRegistry)?

    func get() async throws -> (SQLStore, ProfileRegistry) {
        if let fleet { return fleet }
        let dir = NSTemporaryDirectory() + "corral-bridge-fuzz-" + UUID().uuidString.prefix(8)
        let store = try SQLStore(directory: dir)
        for i in 0..<20 {
            let d = try await store.createDevice(Device(name: "00C0FF-F\(i)", oui: "00C0FF", productClass: "GW", serialNumber: "F\(i)",
                                                        profile: "generic-tr181", dataModel: .tr181, createdAt: BridgeFuzzTests.now - 86_400,
                                                        lastInform: BridgeFuzzTests.now - 60))
            try await store.apply([.parameters(deviceID: d.id, values: [ParameterValue(name: "Device.WiFi.SSID.1.SSID", value: "n\(i)")], at: BridgeFuzzTests.now)])
        }
        let made = (store, ProfileLibrary.load(sources: BuiltinProfiles.sources).0.registry)
        fleet = made
        return made
    }
}
