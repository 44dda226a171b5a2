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

    // MARK: objects, subtrees, virtual parameters, remembered absences

    static let objects = """
        return profile {
          name = "t", extends = "generic-tr181", match = { product_class = "T" },
          kpis = { "Device.X_NOPE.Signal" },
          virtual = {
            ["wifi.count"] = function(dev)
              local n = 0
              for k in pairs(dev:get("Device.WiFi.SSID.") or {}) do if k:match("^%d+%.SSID$") then n = n + 1 end end
              return n
            end,
          },
          on = {
            inform = function(dev)
              local ids = dev:instances("Device.WiFi.SSID.", { count = 3 })
              dev:set("Device.WiFi.SSID." .. ids[#ids] .. ".SSID", "Guest")
              local n = dev:add("Device.NAT.PortMapping.")
              dev:set("Device.NAT.PortMapping." .. n .. ".Description", "corral")
              dev:delete("Device.NAT.PortMapping.1.")
            end,
          },
        }
        """

    func objectSession(absent: Set<String>, text: String = Self.objects) -> ProvisioningSession {
        let (lib, problems) = ProfileLibrary.load(sources: BuiltinProfiles.sources + [ProfileSource(file: "t.lua", text: text)])
        precondition(problems.isEmpty, "\(problems)")
        let e = ScriptEngine(library: lib, shards: 1)
        let stored: [String: StoredParameter] = [
            "Device.ManagementServer.PeriodicInformEnable": StoredParameter(path: "", value: "1", type: .boolean, writable: true, updatedAt: Self.now),
            "Device.ManagementServer.PeriodicInformInterval": StoredParameter(path: "", value: "300", type: .unsignedInt, writable: true, updatedAt: Self.now),
        ]
        let device = Device(id: 7, name: "00C0FF-7", oui: "00C0FF", productClass: "T", serialNumber: "7", profile: "t", dataModel: .tr181)
        return e.session(device: device, profile: e.registry.profile(named: "t")!, kind: .tr181, events: ["2 PERIODIC"], informValues: [],
                         now: Self.now, skip: [], absent: absent, lookup: { stored[$0] }, kpi: { _, _ in nil })
    }

    /// A subtree read, a declarative instance count (list, then add), an add that returns its instance number, a delete,
    /// and a virtual parameter computed from the subtree; the remembered-absent KPI path is never asked for.
    @Test func objectsSubtreesAndVirtualParameters() throws {
        let s = objectSession(absent: ["Device.X_NOPE.Signal"])
        #expect(s.nextRequest() == .getParameterValues(names: ["Device.WiFi.SSID."]))
        s.received(.getParameterValues([ParameterValue(name: "Device.WiFi.SSID.1.SSID", value: "a"),
                                        ParameterValue(name: "Device.WiFi.SSID.1.Enable", value: "1", type: .boolean),
                                        ParameterValue(name: "Device.WiFi.SSID.2.SSID", value: "b")]))
        #expect(s.nextRequest() == .getParameterNames(path: "Device.WiFi.SSID.", nextLevel: true))
        s.received(.getParameterNames([ParameterInfo(name: "Device.WiFi.SSID.1.", writable: false), ParameterInfo(name: "Device.WiFi.SSID.2.", writable: false)]))
        #expect(s.nextRequest() == .addObject(objectName: "Device.WiFi.SSID.", parameterKey: "corral-provision"))
        s.received(.addObject(instanceNumber: 5, status: 0))
        #expect(s.nextRequest() == .setParameterValues(parameters: [ParameterValue(name: "Device.WiFi.SSID.5.SSID", value: "Guest")], parameterKey: "corral-provision"))
        s.received(.setParameterValues(status: 0))
        #expect(s.nextRequest() == .addObject(objectName: "Device.NAT.PortMapping.", parameterKey: "corral-provision"))
        s.received(.addObject(instanceNumber: 7, status: 0))
        #expect(s.nextRequest() == .setParameterValues(parameters: [ParameterValue(name: "Device.NAT.PortMapping.7.Description", value: "corral")], parameterKey: "corral-provision"))
        s.received(.setParameterValues(status: 0))
        #expect(s.nextRequest() == .deleteObject(objectName: "Device.NAT.PortMapping.1.", parameterKey: "corral-provision"))
        s.received(.deleteObject(status: 0))
        #expect(s.nextRequest() == nil)
        #expect(s.failures.isEmpty, "\(s.failures)")
        #expect(Set(s.succeeded) == ["t:inform", "t:virtual:wifi.count", "t:desired"])
        #expect(s.learned.contains(ParameterValue(name: "VirtualParameters.wifi.count", value: "2", type: .int)))
        #expect(s.newlyAbsent.isEmpty && s.nowPresent.isEmpty)
    }

    /// A path read alone that faults is remembered; a count already right sends nothing but the listing.
    @Test func missingPathsAreRememberedAndRightCountsChangeNothing() throws {
        let s = objectSession(absent: [], text: """
            return profile {
              name = "t", extends = "generic-tr181", match = { product_class = "T" },
              kpis = { "Device.X_NOPE.Signal", "lte.rssi" },
              on = { inform = function(dev) dev:instances("Device.WiFi.SSID.", { count = 1 }) end },
            }
            """)
        #expect(s.nextRequest() == .getParameterValues(names: ["Device.X_NOPE.Signal", "Device.Cellular.Interface.1.RSSI"]))
        s.faulted(CWMPFault(code: 9005, string: "Invalid parameter name"))
        #expect(s.nextRequest() == .getParameterValues(names: ["Device.X_NOPE.Signal"]))
        s.faulted(CWMPFault(code: 9005, string: "Invalid parameter name"))
        #expect(s.nextRequest() == .getParameterValues(names: ["Device.Cellular.Interface.1.RSSI"]))
        s.received(.getParameterValues([ParameterValue(name: "Device.Cellular.Interface.1.RSSI", value: "-90", type: .int)]))
        #expect(s.nextRequest() == .getParameterNames(path: "Device.WiFi.SSID.", nextLevel: true))
        s.received(.getParameterNames([ParameterInfo(name: "Device.WiFi.SSID.1.", writable: true)]))
        #expect(s.nextRequest() == nil)
        #expect(s.failures.isEmpty, "\(s.failures)")
        #expect(s.newlyAbsent == ["Device.X_NOPE.Signal"])
        // Remembered next time, and found again when the firmware gained it.
        let next = objectSession(absent: ["Device.X_NOPE.Signal", "Device.Cellular.Interface.1.RSSI"], text: """
            return profile { name = "t", extends = "generic-tr181", match = { product_class = "T" }, kpis = { "Device.X_NOPE.Signal" },
              on = { inform = function(dev) return dev:get("Device.Cellular.Interface.1.") end } }
            """)
        #expect(next.nextRequest() == .getParameterValues(names: ["Device.Cellular.Interface.1."]))
        next.received(.getParameterValues([ParameterValue(name: "Device.Cellular.Interface.1.RSSI", value: "-91", type: .int)]))
        #expect(next.nextRequest() == nil)
        #expect(next.nowPresent == ["Device.Cellular.Interface.1.RSSI"] && next.newlyAbsent.isEmpty)
    }

    /// Mistakes are clear script failures: the wrong path shapes, counts, virtual return values and setting a
    /// virtual parameter.
    @Test func objectMistakesFailTheirScript() throws {
        let s = objectSession(absent: [], text: """
            return profile {
              name = "t", extends = "generic-tr181", match = { product_class = "T" }, kpis = {},
              virtual = { ["v.bad"] = function(dev) return {} end, ["v.ok"] = function(dev) return "x" end },
              on = {
                inform = function(dev) dev:add("Device.WiFi.SSID.1.SSID") end,
                boot = function(dev) dev:instances("Device.WiFi.SSID.", { count = 65 }) end,
                periodic = function(dev) dev:set("v.ok", "y") end,
                value_change = function(dev) dev:delete("Device.WiFi.SSID.") end,
              },
            }
            """)
        _ = s.nextRequest()
        #expect(s.failures["t:inform"]?.contains("object path ending in") == true, "\(s.failures)")
        #expect(s.failures["t:boot"] == nil, "boot did not run: periodic session")
        #expect(s.failures["t:periodic"]?.contains("virtual parameter") == true)
        #expect(s.failures["t:virtual:v.bad"]?.contains("must return a string") == true)
        #expect(s.learned.contains(ParameterValue(name: "VirtualParameters.v.ok", value: "x")))
        let (_, problems) = ProfileLibrary.load(sources: BuiltinProfiles.sources + [ProfileSource(file: "b.lua", text: """
            return profile { name = "b", extends = "generic-tr181", virtual = { ["Bad Name"] = function() end } }
            """)])
        #expect(problems.contains { $0.message.contains("virtual parameter 'Bad Name'") }, "\(problems)")
    }

    /// From the review: two scripts holding the same count add once; a delete is counted before its answer; a
    /// fault other than 9005, or a value left out of an answer, is not remembered; a hook returning a table that holds
    /// itself does not wedge the shard.
    @Test func instanceCountsSharedFaultsAndReturnedTables() throws {
        let s = objectSession(absent: [], text: """
            return profile {
              name = "t", extends = "generic-tr181", match = { product_class = "T" }, kpis = { "Device.X.Busy", "Device.X.Quiet" },
              virtual = { ["v.loop"] = function(dev) local t = {} for i = 1, 8 do t[i] = t end return t end },
              on = {
                inform = function(dev) dev:instances("Device.WiFi.SSID.", { count = 2 }) end,
                periodic = function(dev)
                  dev:instances("Device.WiFi.SSID.", { count = 2 })
                  local t = {} for i = 1, 8 do t[i] = t end
                  return t
                end,
              },
            }
            """)
        #expect(s.nextRequest() == .getParameterValues(names: ["Device.X.Busy", "Device.X.Quiet"]))
        s.received(.getParameterValues([]))
        #expect(s.nextRequest() == .getParameterNames(path: "Device.WiFi.SSID.", nextLevel: true))
        s.received(.getParameterNames([ParameterInfo(name: "Device.WiFi.SSID.1.", writable: true)]))
        #expect(s.nextRequest() == .addObject(objectName: "Device.WiFi.SSID.", parameterKey: "corral-provision"))
        s.received(.addObject(instanceNumber: 2, status: 0))
        #expect(s.nextRequest() == nil, "one add for both scripts")
        #expect(s.failures.keys.sorted() == ["t:virtual:v.loop"], "\(s.failures)")
        #expect(Set(s.succeeded).isSuperset(of: ["t:inform", "t:periodic"]))
        #expect(s.newlyAbsent.isEmpty, "left out of an answer: this session only")

        let busy = objectSession(absent: [], text: """
            return profile { name = "t", extends = "generic-tr181", match = { product_class = "T" }, kpis = { "Device.X.Busy" },
              on = { inform = function(dev)
                local ids = dev:instances("Device.WiFi.SSID.")
                dev:delete("Device.WiFi.SSID." .. ids[#ids] .. ".")
                dev:instances("Device.WiFi.SSID.", { count = #ids })
              end } }
            """)
        #expect(busy.nextRequest() == .getParameterValues(names: ["Device.X.Busy"]))
        busy.faulted(CWMPFault(code: 9002, string: "Internal error"))
        #expect(busy.nextRequest() == .getParameterNames(path: "Device.WiFi.SSID.", nextLevel: true))
        busy.received(.getParameterNames([ParameterInfo(name: "Device.WiFi.SSID.1.", writable: true), ParameterInfo(name: "Device.WiFi.SSID.2.", writable: true)]))
        // The delete is counted at once: holding the count of two adds one back (after the delete, in order).
        #expect(busy.nextRequest() == .deleteObject(objectName: "Device.WiFi.SSID.2.", parameterKey: "corral-provision"))
        busy.received(.deleteObject(status: 0))
        #expect(busy.nextRequest() == .addObject(objectName: "Device.WiFi.SSID.", parameterKey: "corral-provision"))
        busy.received(.addObject(instanceNumber: 3, status: 0))
        #expect(busy.nextRequest() == nil)
        #expect(busy.failures.isEmpty, "\(busy.failures)")
        #expect(busy.newlyAbsent.isEmpty, "a 9002 is not proof the path is missing")
    }
}
