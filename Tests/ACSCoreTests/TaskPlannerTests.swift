import Testing
import CWMP
@testable import ACSCore

@Suite struct TaskPlannerTests {
    @Test func rebootIsConfirmedByTheNextBootWhateverItsCommandKey() {
        let t = DeviceTask(id: 5, deviceID: 1, kind: .reboot, commandKey: "corral-5")
        #expect(TaskPlanner.request(for: t) == .reboot(commandKey: "corral-5"))
        #expect(TaskPlanner.outcome(for: t, response: .reboot) == .waiting(TaskResult()))
        func inform(_ events: [EventStruct]) -> Inform {
            Inform(deviceId: DeviceID(manufacturer: "", oui: "1", productClass: "", serialNumber: "s"), events: events, currentTime: "", parameters: [])
        }
        #expect(TaskPlanner.resolveWaiting(t, inform: inform([EventStruct("2 PERIODIC")])) == nil)
        // Ours; another or an empty key (field CPEs); or only "1 BOOT".
        for events in [[EventStruct("1 BOOT"), EventStruct("M Reboot", commandKey: "corral-5")],
                       [EventStruct("1 BOOT"), EventStruct("M Reboot", commandKey: "")],
                       [EventStruct("1 BOOT"), EventStruct("M Reboot", commandKey: "corral-4")],
                       [EventStruct("1 BOOT")]] {
            #expect(TaskPlanner.resolveWaiting(t, inform: inform(events)) == .done(TaskResult()), "\(events)")
        }
        // A profile whose CPEs leave no trace of a reboot: any later session confirms it.
        let silent = ProfileQuirks(rebootWithoutCommandKey: true)
        #expect(TaskPlanner.resolveWaiting(t, inform: inform([EventStruct("2 PERIODIC")]), quirks: silent) == .done(TaskResult()))
        let reset = DeviceTask(id: 6, deviceID: 1, kind: .factoryReset)
        #expect(TaskPlanner.resolveWaiting(reset, inform: inform([EventStruct("2 PERIODIC")]), quirks: silent) == nil)
    }

    @Test func quirkSwitchesByName() {
        var q = ProfileQuirks()
        #expect(q.enabled.isEmpty)
        for name in ProfileQuirks.names { q[name: name] = true }
        #expect(q == ProfileQuirks(noCookies: true, rebootWithoutCommandKey: true, stringValues: true))
        #expect(q.enabled == ProfileQuirks.names)
        q[name: "no_such_quirk"] = true
        #expect(!q[name: "no_such_quirk"])
        // string_values: typed values go out as xsd:string, nothing else changes.
        let spv = ACSRequest.setParameterValues(parameters: [ParameterValue(name: "A.B", value: "1", type: .boolean),
                                                             ParameterValue(name: "A.C", value: "x")], parameterKey: "k")
        #expect(ProfileQuirks().outgoing(spv) == spv)
        #expect(ProfileQuirks(stringValues: true).outgoing(spv) == .setParameterValues(
            parameters: [ParameterValue(name: "A.B", value: "1"), ParameterValue(name: "A.C", value: "x")], parameterKey: "k"))
        #expect(ProfileQuirks(stringValues: true).outgoing(.reboot(commandKey: "r")) == .reboot(commandKey: "r"))
    }

    @Test func honestOutcomes() {
        // A read that leaves out a path asked for is a fault naming it, not done.
        let get = DeviceTask(id: 1, deviceID: 1, kind: .getParameterValues(["Device.DeviceInfo.ModelName", "Device.DeviceInfo.SerialNumber", "Device.WiFi."]))
        let partial = TaskPlanner.outcome(for: get, response: .getParameterValues([ParameterValue(name: "Device.DeviceInfo.SerialNumber", value: "S")]))
        guard case .fault(let f) = partial else { Issue.record("\(partial)"); return }
        #expect(f.code == 9005 && f.string.contains("Device.DeviceInfo.ModelName"))
        #expect(TaskPlanner.outcome(for: get, response: .getParameterValues([ParameterValue(name: "Device.DeviceInfo.SerialNumber", value: "S"),
                                                                             ParameterValue(name: "Device.DeviceInfo.ModelName", value: "M")])) != partial)
        // AddObject answered with instance 0 did not create anything.
        let add = DeviceTask(id: 2, deviceID: 1, kind: .addObject("Device.WiFi.SSID."))
        guard case .fault = TaskPlanner.outcome(for: add, response: .addObject(instanceNumber: 0, status: 0)) else { Issue.record("instance 0 accepted"); return }
        #expect(TaskPlanner.outcome(for: add, response: .addObject(instanceNumber: 3, status: 0)) == .done(TaskResult(instanceNumber: 3, status: 0)))
    }

    @Test func repeatedNoticesAreCountedNotRepeated() {
        var n = NoticeAggregator(interval: 600, capacity: 2)
        func note(_ n: inout NoticeAggregator, _ key: String, _ now: Int64) -> String {
            let r = n.note(key, now: now)
            return "\(r.log)/\(r.suppressed)"
        }
        #expect(note(&n, "dev-1|basic", 0) == "true/0")
        #expect(note(&n, "dev-1|basic", 10) == "false/0")
        #expect(note(&n, "dev-1|basic", 599) == "false/0")
        #expect(note(&n, "dev-2|basic", 20) == "true/0")
        #expect(note(&n, "dev-1|basic", 600) == "true/2")
        // Full: a third subject is still logged (not remembered), the others keep their counts.
        #expect(note(&n, "dev-3|basic", 30) == "true/0")
        #expect(note(&n, "dev-3|basic", 31) == "true/0")
    }

    @Test func downloadCompletesWithTransferComplete() {
        let t = DeviceTask(id: 9, deviceID: 1, kind: .download(url: "http://x/fw.bin", fileType: "1 Firmware Upgrade Image", fileSize: 0, targetFileName: ""),
                           commandKey: "corral-9")
        #expect(TaskPlanner.outcome(for: t, response: .download(TransferResponse(status: 1))) == .waiting(TaskResult(status: 1)))
        let ok = TransferComplete(commandKey: "corral-9", fault: .none, startTime: "", completeTime: "")
        #expect(TaskPlanner.resolveTransfer(t, ok) == .done(TaskResult(status: 0)))
        let bad = TransferComplete(commandKey: "corral-9", fault: FaultStruct(code: 9010, string: "no file"), startTime: "", completeTime: "")
        #expect(TaskPlanner.resolveTransfer(t, bad) == .fault(CWMPFault(code: 9010, string: "no file")))
        #expect(TaskPlanner.resolveTransfer(t, TransferComplete(commandKey: "corral-1", fault: .none, startTime: "", completeTime: "")) == nil)
    }

    @Test func transientFaultsAreRetriedUntilTheLimit() {
        var t = DeviceTask(id: 1, deviceID: 1, kind: .getParameterValues(["Device."]))
        #expect(TaskPlanner.outcome(for: t, fault: CWMPFault(code: 9004, string: "busy")) == .retry(CWMPFault(code: 9004, string: "busy")))
        #expect(TaskPlanner.outcome(for: t, fault: CWMPFault(code: 9005, string: "bad name")) == .fault(CWMPFault(code: 9005, string: "bad name")))
        t.attempts = RetryPolicy.maxAttempts - 1
        #expect(TaskPlanner.outcome(for: t, fault: CWMPFault(code: 9004, string: "busy")) == .fault(CWMPFault(code: 9004, string: "busy")))
        #expect(RetryPolicy.backoff(attempt: 1) == 30)
        #expect(RetryPolicy.backoff(attempt: 3) == 120)
        #expect(RetryPolicy.backoff(attempt: 20) == 3600)
    }

    @Test func diagnosticsSetWaitsForDiagnosticsComplete() {
        let t = DeviceTask(id: 2, deviceID: 1, kind: .setParameterValues([
            ParameterValue(name: "Device.IP.Diagnostics.IPPing.Host", value: "127.0.0.1"),
            ParameterValue(name: "Device.IP.Diagnostics.IPPing.DiagnosticsState", value: "Requested")]))
        #expect(TaskPlanner.diagnosticsObject(of: t) == "Device.IP.Diagnostics.IPPing.")
        #expect(TaskPlanner.outcome(for: t, response: .setParameterValues(status: 0)) == .waiting(TaskResult(status: 0)))
    }
}
