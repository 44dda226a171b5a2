import CWMP
import Foundation
import Testing

@Suite("Real CPE messages (Tests/Fixtures/bbf/examples)")
struct FixtureTests {
    static func decode(_ name: String) throws -> Envelope {
        try CWMPDecoder.decode(Fixtures.bytes(Fixtures.captured.appendingPathComponent(name)), from: .cpe)
    }

    static func inform(_ env: Envelope) -> Inform? {
        if case .cpeRequest(.inform(let i)) = env.body { return i }
        return nil
    }

    @Test("every captured file decodes from .cpe")
    func allDecode() throws {
        let files = try Fixtures.capturedFiles()
        #expect(files.count >= 10)
        for url in files {
            do {
                _ = try CWMPDecoder.decode(Fixtures.bytes(url), from: .cpe)
            } catch {
                Issue.record("\(url.lastPathComponent): \(error)")
            }
        }
    }

    @Test("BBF-style example Inform (cwmp-1-2)")
    func exampleInform() throws {
        let env = try CWMPDecoder.decode(Fixtures.bytes(Fixtures.examples.appendingPathComponent("inform-cwmp-1-2.xml")), from: .cpe)
        #expect(env.version == .v1_2)
        #expect(env.header.id == "1")
        let inform = try #require(Self.inform(env))
        #expect(inform.deviceId == DeviceID(manufacturer: "ExampleCorp", oui: "00D09E", productClass: "HGW-1000", serialNumber: "SN0000000001"))
        #expect(inform.events.map(\.code) == ["0 BOOTSTRAP", "1 BOOT"])
        #expect(inform.maxEnvelopes == 1 && inform.retryCount == 0)
        #expect(inform.currentTime == "2025-01-01T00:00:00Z")
        #expect(inform.parameters.count == 4)
        #expect(inform.parameters[3] == ParameterValue(name: "Device.ManagementServer.PeriodicInformInterval", value: "300", type: .unsignedInt))
    }

    @Test("genieacs-sim TR-098 Inform: arrayType says [16], seven entries")
    func genieacsTR098() throws {
        let env = try Self.decode("genieacs-sim_inform_tr098.xml")
        #expect(env.version == .v1_0)
        #expect(env.header.id == "0388k1b1")
        let inform = try #require(Self.inform(env))
        #expect(inform.deviceId.serialNumber == "000000")
        #expect(inform.deviceId.oui == "202BC1")
        #expect(inform.deviceId.manufacturer == "Huawei Technologies Co., Ltd.")
        #expect(inform.events == [EventStruct("2 PERIODIC")])
        #expect(inform.parameters.count == 7)
        #expect(inform.parameters.last?.value == "172.3.89.139")
        #expect(inform.parameters[3] == ParameterValue(name: "InternetGatewayDevice.DeviceInfo.ProvisioningCode", value: ""))
    }

    @Test("genieacs-sim TR-181 Inform: arrayType says [17], five entries")
    func genieacsTR181() throws {
        let inform = try #require(Self.inform(try Self.decode("genieacs-sim-anlix_inform_tr181.xml")))
        #expect(inform.deviceId.manufacturer == "TP-Link")
        #expect(inform.deviceId.productClass == "Device2")
        #expect(inform.parameters.count == 5)
        #expect(inform.currentTime == "2026-11-26T08:41:03.495Z")
    }

    @Test("genieacs-sim fault 9000")
    func genieacsFault() throws {
        let env = try Self.decode("genieacs-sim_fault-9000.xml")
        #expect(env.header.id == "acs-2")
        #expect(env.version == .v1_0)
        #expect(env.body == .fault(CWMPFault(code: 9000, string: "Method not supported", faultCode: "Client", faultString: "CWMP fault")))
    }

    @Test("cwmp-sim Informs (1 BOOT, M Reboot)")
    func cwmpSimInforms() throws {
        let boot = try #require(Self.inform(try Self.decode("cwmp-sim_inform_boot.xml")))
        #expect(boot.deviceId.serialNumber == "CSIM0001")
        #expect(boot.events.map(\.code) == ["1 BOOT"])
        #expect(boot.parameters.count == 6)
        let reboot = try #require(Self.inform(try Self.decode("cwmp-sim_inform_boot-mreboot.xml")))
        #expect(reboot.hasEvent(EventCode.mReboot) && reboot.hasEvent(EventCode.boot))
        #expect(reboot.parameters.first { $0.name == "Device.ManagementServer.ConnectionRequestURL" }?.value
                == "http://127.0.0.1:7557/997942c4")
    }

    @Test("cwmp-sim AddObjectResponse with Status 9005 (schema-invalid) still decodes")
    func schemaInvalidAddObject() throws {
        let env = try Self.decode("cwmp-sim_addobject-response_SCHEMA-INVALID.xml")
        #expect(env.header.id == "acs-7")
        #expect(env.body == .cpeResponse(.addObject(instanceNumber: 0, status: 9005)))
    }

    @Test("easycwmp: soap_env prefix, pretty-printed, cwmp-1-2")
    func easycwmp() throws {
        let boot = try Self.decode("easycwmp_inform_bootstrap-boot.xml")
        #expect(boot.version == .v1_2)
        let inform = try #require(Self.inform(boot))
        #expect(inform.deviceId == DeviceID(manufacturer: "easycwmp", oui: "FFFFFF", productClass: "easycwmp", serialNumber: "EW0000000001"))
        #expect(inform.events == [EventStruct("0 BOOTSTRAP"), EventStruct("1 BOOT")])
        #expect(inform.parameters.count == 10)
        #expect(inform.currentTime == "2026-11-26T08:44:36+00:00")

        let tc = try #require(Self.inform(try Self.decode("easycwmp_inform_transfer-complete-events.xml")))
        #expect(tc.events == [EventStruct("M Reboot", commandKey: "r1"), EventStruct("1 BOOT"),
                              EventStruct("7 TRANSFER COMPLETE"), EventStruct("M Download", commandKey: "d1")])
        #expect(tc.parameters.last == ParameterValue(name: "Device.ManagementServer.ParameterKey", value: "k1"))

        let rpc = try Self.decode("easycwmp_getrpcmethods-response.xml")
        guard case .cpeResponse(.getRPCMethods(let methods)) = rpc.body else { Issue.record("\(rpc.body)"); return }
        #expect(methods.count == 13)
        #expect(methods.first == "GetRPCMethods" && methods.last == "ScheduleInform")
        #expect(rpc.header.id == "acs-2")

        let transfer = try Self.decode("easycwmp_transfercomplete.xml")
        #expect(transfer.body == .cpeRequest(.transferComplete(TransferComplete(
            commandKey: "d1", fault: .none, startTime: "2026-11-26T08:44:46+00:00", completeTime: "2026-11-26T08:44:52+00:00"))))
    }
}
