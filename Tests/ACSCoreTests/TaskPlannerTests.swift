import Testing
import CWMP
@testable import ACSCore

@Suite struct TaskPlannerTests {
    @Test func rebootWaitsForMRebootWithItsCommandKey() {
        let t = DeviceTask(id: 5, deviceID: 1, kind: .reboot, commandKey: "corral-5")
        #expect(TaskPlanner.request(for: t) == .reboot(commandKey: "corral-5"))
        #expect(TaskPlanner.outcome(for: t, response: .reboot) == .waiting(TaskResult()))
        let other = Inform(deviceId: DeviceID(manufacturer: "", oui: "1", productClass: "", serialNumber: "s"),
                           events: [EventStruct("1 BOOT"), EventStruct("M Reboot", commandKey: "corral-4")], currentTime: "", parameters: [])
        #expect(TaskPlanner.resolveWaiting(t, inform: other) == nil)
        var mine = other
        mine.events = [EventStruct("1 BOOT"), EventStruct("M Reboot", commandKey: "corral-5")]
        #expect(TaskPlanner.resolveWaiting(t, inform: mine) == .done(TaskResult()))
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
