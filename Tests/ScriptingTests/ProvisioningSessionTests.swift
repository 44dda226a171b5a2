import ACSCore
import CWMP
import DataModel
import Storage
import Testing
@testable import Scripting

/// The batching and suspend/resume logic of a provisioning session, driven message by message (no network).
struct ProvisioningSessionTests {
    static let now: Int64 = 1_750_000_000
    static let profile = """
        return profile {
          name = "t", extends = "generic-tr181", match = { product_class = "T" },
          aliases = { ["x.a"] = "Device.X.A", ["x.b"] = "Device.X.B" },
          kpis = { "lte.rssi" },
          on = {
            inform = function(dev)
              local a = dev:get("x.a")            -- never read: suspends
              dev:set("wifi.ssid", "A-" .. tostring(a))
            end,
            boot = function(dev)
              local b = dev:get("x.b", 60)        -- stored an hour ago: stale, suspends
              dev:set("wifi.channel", b + 1)
            end,
          },
        }
        """

    let engine: ScriptEngine
    let registry: ProfileRegistry

    init() {
        let (lib, problems) = ProfileLibrary.load(sources: BuiltinProfiles.sources + [ProfileSource(file: "t.lua", text: Self.profile)])
        precondition(problems.isEmpty, "\(problems)")
        engine = ScriptEngine(library: lib, shards: 1)
        registry = lib.registry
    }

    func session(_ text: String? = nil, events: [String] = ["1 BOOT"], skip: Set<String> = []) -> ProvisioningSession {
        let e: ScriptEngine
        if let text {
            let (lib, _) = ProfileLibrary.load(sources: BuiltinProfiles.sources + [ProfileSource(file: "t.lua", text: text)])
            e = ScriptEngine(library: lib, shards: 1)
        } else {
            e = engine
        }
        let stored: [String: StoredParameter] = [
            "Device.X.B": StoredParameter(path: "Device.X.B", value: "4", type: .unsignedInt, writable: true, updatedAt: Self.now - 3600),
            "Device.ManagementServer.PeriodicInformEnable": StoredParameter(path: "", value: "1", type: .boolean, writable: true, updatedAt: Self.now),
            "Device.ManagementServer.PeriodicInformInterval": StoredParameter(path: "", value: "300", type: .unsignedInt, writable: true, updatedAt: Self.now),
        ]
        let device = Device(id: 7, name: "00C0FF-7", oui: "00C0FF", productClass: "T", serialNumber: "7", profile: "t", dataModel: .tr181)
        return e.session(device: device, profile: e.registry.profile(named: "t")!, kind: .tr181, events: events,
                         informValues: [ParameterValue(name: "Device.DeviceInfo.SoftwareVersion", value: "1.0")], now: Self.now, skip: skip,
                         lookup: { stored[$0] }, kpi: { _, _ in nil })
    }

    @Test func readsAndWritesOfAllScriptsAreBatched() throws {
        let s = session()
        guard case .getParameterValues(let names) = try #require(s.nextRequest()) else { Issue.record("expected one GPV"); return }
        #expect(Set(names) == ["Device.X.A", "Device.X.B", "Device.Cellular.Interface.1.RSSI"])
        s.received(.getParameterValues([ParameterValue(name: "Device.X.A", value: "hello"),
                                        ParameterValue(name: "Device.X.B", value: "5", type: .unsignedInt),
                                        ParameterValue(name: "Device.Cellular.Interface.1.RSSI", value: "-80", type: .int)]))
        guard case .setParameterValues(let values, _) = try #require(s.nextRequest()) else { Issue.record("expected one SPV"); return }
        #expect(values == [ParameterValue(name: "Device.WiFi.SSID.1.SSID", value: "A-hello"),
                           ParameterValue(name: "Device.WiFi.Radio.1.Channel", value: "6", type: .unsignedInt)])
        s.received(.setParameterValues(status: 0))
        #expect(s.nextRequest() == nil)
        #expect(s.failures.isEmpty)
        #expect(Set(s.succeeded) == ["t:inform", "t:boot", "t:desired"])
        #expect(s.kpiSamples.map(\.0) == ["lte.rssi"] && s.kpiSamples.map(\.1) == [-80])
        #expect(s.learned.contains(ParameterValue(name: "Device.WiFi.SSID.1.SSID", value: "A-hello")))
    }

    @Test func withoutBootOnlyTheInformHookRuns() throws {
        let s = session(events: ["2 PERIODIC"])
        guard case .getParameterValues(let names) = try #require(s.nextRequest()) else { Issue.record("expected a GPV"); return }
        #expect(Set(names) == ["Device.X.A", "Device.Cellular.Interface.1.RSSI"])
    }

    @Test func aFaultyBatchIsProbedAndOnlyItsOwnersFail() throws {
        let s = session()
        _ = s.nextRequest()
        s.faulted(CWMPFault(code: 9005, string: "Invalid parameter name"))
        // Each path alone, to find the one the CPE lacks.
        var answered: [String] = []
        while let r = s.nextRequest() {
            switch r {
            case .getParameterValues(let names):
                #expect(names.count == 1)
                answered.append(names[0])
                if names[0] == "Device.X.B" { s.faulted(CWMPFault(code: 9005, string: "Invalid parameter name")) }
                else { s.received(.getParameterValues([ParameterValue(name: names[0], value: names[0] == "Device.X.A" ? "a" : "-70")])) }
            case .setParameterValues(let values, _):
                // The boot hook died on nil + 1; only the inform hook's write is left.
                #expect(values == [ParameterValue(name: "Device.WiFi.SSID.1.SSID", value: "A-a")])
                s.faulted(CWMPFault(code: 9003, string: "Invalid arguments", setParameterValuesFaults: [
                    CWMPFault.ParameterFault(parameterName: "Device.WiFi.SSID.1.SSID", code: 9007, string: "too long")]))
            default:
                Issue.record("unexpected \(r)")
                return
            }
        }
        #expect(Set(answered) == ["Device.X.A", "Device.X.B", "Device.Cellular.Interface.1.RSSI"])
        #expect(s.failures["t:boot"]?.hasPrefix("t.lua:12: attempt to perform arithmetic on a nil value") == true, "\(s.failures)")
        #expect(s.failures["t:inform"] == "CPE fault 9007 too long setting Device.WiFi.SSID.1.SSID")
        #expect(s.succeeded == ["t:desired"])
    }

    @Test func hooksCannotKeepStateInGlobals() throws {
        let s = session("""
            count = 0
            return profile { name = "t", extends = "generic-tr181", on = { inform = function(dev) count = count + 1 end } }
            """, events: [])
        #expect(s.nextRequest() == nil)
        #expect(s.failures["t:inform"]?.contains("cannot assign global 'count' at run time") == true, "\(s.failures)")
    }

    @Test func scriptsInBackoffAreSkipped() {
        let s = session(skip: ["t:inform", "t:boot"])
        guard case .getParameterValues(let names)? = s.nextRequest() else { Issue.record("expected the KPI read"); return }
        #expect(names == ["Device.Cellular.Interface.1.RSSI"])
    }

    @Test func desiredValuesAreWrittenOnlyWhenTheyDiffer() throws {
        let s = session("""
            return profile { name = "t", extends = "generic-tr181", inform_interval = 600,
              desired = { ["ManagementServer.PeriodicInformEnable"] = true } }
            """, events: [])
        guard case .setParameterValues(let values, _) = try #require(s.nextRequest()) else { Issue.record("expected an SPV"); return }
        #expect(values == [ParameterValue(name: "Device.ManagementServer.PeriodicInformInterval", value: "600", type: .unsignedInt)])
        s.received(.setParameterValues(status: 0))
        #expect(s.nextRequest() == nil)
    }
}
