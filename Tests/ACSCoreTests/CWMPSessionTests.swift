import Testing
import CWMP
@testable import ACSCore

private func inform(events: [String] = ["2 PERIODIC"], id: String? = "1", version: CWMPVersion = .v1_0) -> Envelope {
    let i = Inform(deviceId: DeviceID(manufacturer: "ACME", oui: "00D09E", productClass: "R1", serialNumber: "SN1"),
                   events: events.map { EventStruct($0) }, currentTime: "2026-01-01T00:00:00Z",
                   parameters: [ParameterValue(name: "Device.DeviceInfo.SoftwareVersion", value: "1.0")])
    return Envelope(version: version, header: CWMPHeader(id: id), body: .cpeRequest(.inform(i)))
}

private let gpv = WorkItem(origin: .task(7), request: .getParameterValues(names: ["Device.DeviceInfo.UpTime"]))
private let reboot = WorkItem(origin: .task(8), request: .reboot(commandKey: "corral-8"))

@Suite struct CWMPSessionTests {
    @Test func informIsAnsweredInTheSameNamespaceWithTheSameID() {
        var s = CWMPSession()
        let step = s.receive(inform(id: "abc", version: .v1_2))
        guard case .envelope(let env) = step.output else { Issue.record("no envelope"); return }
        #expect(env.version == .v1_2)
        #expect(env.header.id == "abc")
        #expect(env.body == .acsResponse(.inform(maxEnvelopes: 1)))
        #expect(s.phase == .cpeTurn)
        guard case .informReceived(let i) = step.effects.first else { Issue.record("no effect"); return }
        #expect(i.deviceId.serialNumber == "SN1")
    }

    @Test func firstMessageMustBeInform() {
        var s = CWMPSession()
        #expect(s.receive(nil).output == .reject(status: 400, reason: "the first message of a session must be an Inform"))
        var t = CWMPSession()
        let tc = Envelope(version: .v1_0, body: .cpeRequest(.transferComplete(TransferComplete(commandKey: "k", fault: .none, startTime: "", completeTime: ""))))
        if case .reject(let status, _) = t.receive(tc).output { #expect(status == 400) } else { Issue.record("not rejected") }
    }

    @Test func informWithoutSerialIsRejected() {
        var s = CWMPSession()
        var env = inform()
        if case .cpeRequest(.inform(var i)) = env.body { i.deviceId.serialNumber = ""; env.body = .cpeRequest(.inform(i)) }
        if case .reject(let status, _) = s.receive(env).output { #expect(status == 400) } else { Issue.record("not rejected") }
    }

    @Test func informWithANonHexOUIIsRejected() {
        var s = CWMPSession()
        var env = inform()
        if case .cpeRequest(.inform(var i)) = env.body { i.deviceId.oui = "corral"; env.body = .cpeRequest(.inform(i)) }
        if case .reject(let status, let reason) = s.receive(env).output {
            #expect(status == 400)
            #expect(reason.contains("OUI"))
        } else { Issue.record("not rejected") }
    }

    @Test func emptyQueueEndsWith204() {
        var s = CWMPSession()
        _ = s.receive(inform())
        #expect(s.receive(nil).output == .acsTurn)
        #expect(s.nextRequest().output == .end)
        #expect(s.isFinished)
    }

    @Test func queuedRequestsAreSentInOrderAndAnswersBecomeEffects() {
        var s = CWMPSession()
        _ = s.receive(inform())
        s.enqueue([gpv, reboot])
        #expect(s.receive(nil).output == .acsTurn)
        guard case .envelope(let first) = s.nextRequest().output else { Issue.record("no request"); return }
        #expect(first.body == .acsRequest(gpv.request))
        let answer = CPEResponse.getParameterValues([ParameterValue(name: "Device.DeviceInfo.UpTime", value: "42", type: .unsignedInt)])
        let step = s.receive(Envelope(version: .v1_0, header: CWMPHeader(id: first.header.id), body: .cpeResponse(answer)))
        #expect(step.output == .acsTurn)
        #expect(step.effects == [.completed(gpv, answer)])
        guard case .envelope(let second) = s.nextRequest().output else { Issue.record("no second request"); return }
        #expect(second.body == .acsRequest(reboot.request))
        #expect(second.header.id != first.header.id)
        let fault = CWMPFault(code: 9001, string: "denied")
        #expect(s.receive(Envelope(version: .v1_0, body: .fault(fault))).effects == [.faulted(reboot, fault)])
        #expect(s.nextRequest().output == .end)
    }

    @Test func mismatchedResponseIsAFaultOfTheItem() {
        var s = CWMPSession()
        _ = s.receive(inform())
        s.enqueue([gpv])
        _ = s.receive(nil)
        _ = s.nextRequest()
        let step = s.receive(Envelope(version: .v1_0, body: .cpeResponse(.reboot)))
        guard case .faulted(let item, let f) = step.effects.first else { Issue.record("no fault"); return }
        #expect(item == gpv)
        #expect(f.code == 9002)
    }

    @Test func cpeRequestsGetTheirResponsesBeforeTheEmptyPost() {
        var s = CWMPSession()
        _ = s.receive(inform(events: ["7 TRANSFER COMPLETE", "M Download"]))
        let tc = TransferComplete(commandKey: "corral-3", fault: .none, startTime: "2026-01-01T00:00:00Z", completeTime: "2026-01-01T00:01:00Z")
        let step = s.receive(Envelope(version: .v1_0, header: CWMPHeader(id: "9"), body: .cpeRequest(.transferComplete(tc))))
        guard case .envelope(let env) = step.output else { Issue.record("no response"); return }
        #expect(env.body == .acsResponse(.transferComplete))
        #expect(env.header.id == "9")
        #expect(step.effects == [.cpeRequest(.transferComplete(tc))])
        #expect(s.phase == .cpeTurn)
        let rpc = s.receive(Envelope(version: .v1_0, body: .cpeRequest(.getRPCMethods)))
        guard case .envelope(let m) = rpc.output, case .acsResponse(.getRPCMethods(let methods)) = m.body else { Issue.record("no methods"); return }
        #expect(methods.contains("TransferComplete"))
    }

    @Test func secondInformInSessionIsRejected() {
        var s = CWMPSession()
        _ = s.receive(inform())
        if case .reject(let status, _) = s.receive(inform()).output { #expect(status == 400) } else { Issue.record("accepted a second Inform") }
    }

    @Test func emptyPostWhileAwaitingAnswerEndsAndReturnsTheItem() {
        var s = CWMPSession()
        _ = s.receive(inform())
        s.enqueue([gpv])
        _ = s.receive(nil)
        _ = s.nextRequest()
        let step = s.receive(nil)
        #expect(step.output == .end)
        #expect(step.effects == [.unanswered(gpv)])
    }

    @Test func abandonReturnsTheInFlightItem() {
        var s = CWMPSession()
        _ = s.receive(inform())
        s.enqueue([gpv])
        _ = s.receive(nil)
        _ = s.nextRequest()
        #expect(s.abandon() == [.unanswered(gpv)])
        #expect(s.isFinished)
    }

    @Test func holdRequestsIsSetUntilTheLastQueuedRequest() {
        var s = CWMPSession()
        guard case .envelope(let ir) = s.receive(inform(), holdRequests: true).output else { Issue.record("no response"); return }
        #expect(ir.header.holdRequests == true)
        s.enqueue([gpv, reboot])
        _ = s.receive(nil)
        guard case .envelope(let a) = s.nextRequest().output else { Issue.record("no request"); return }
        #expect(a.header.holdRequests == true)
        _ = s.receive(Envelope(version: .v1_0, body: .cpeResponse(.getParameterValues([]))))
        guard case .envelope(let b) = s.nextRequest().output else { Issue.record("no request"); return }
        #expect(b.header.holdRequests == nil)
        #expect(!s.holding)
    }

    @Test func faultWithoutOutstandingRequestIsAProtocolError() {
        var s = CWMPSession()
        _ = s.receive(inform())
        if case .reject(let status, _) = s.receive(Envelope(version: .v1_0, body: .fault(CWMPFault(code: 9000, string: "x")))).output {
            #expect(status == 400)
        } else { Issue.record("accepted a stray fault") }
    }
}

@Suite struct InformIdentityLimitTests {
    @Test func identityFieldsAreBounded() {
        func inform(manufacturer: String, productClass: String = "R1") -> Inform {
            Inform(deviceId: DeviceID(manufacturer: manufacturer, oui: "00D09E", productClass: productClass, serialNumber: "SN1"),
                   events: [EventStruct("2 PERIODIC")], currentTime: "2026-01-01T00:00:00Z", parameters: [])
        }
        #expect(CWMPSession.problem(in: inform(manufacturer: String(repeating: "m", count: 100))) == nil)  // over TR-069's 64: tolerated
        #expect(CWMPSession.problem(in: inform(manufacturer: String(repeating: "m", count: 300)))?.contains("Manufacturer") == true)
        #expect(CWMPSession.problem(in: inform(manufacturer: "ACME", productClass: String(repeating: "p", count: 257)))?.contains("ProductClass") == true)
        #expect(Device.displayField("1.2.3") == "1.2.3")
        #expect(Device.displayField(String(repeating: "v", count: 70_000)).count == 64)
    }
}
