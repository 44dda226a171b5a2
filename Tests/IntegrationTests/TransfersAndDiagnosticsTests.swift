import Foundation
import Testing
import ACSCore
import CWMP
@testable import Engine
import NetHTTP
import Simulator
import Storage

/// Download (firmware) and TR-143 download diagnostics, end to end: the simulated CPE fetches real files over HTTP.
@Suite(.serialized) struct TransfersAndDiagnosticsTests {
    @Test func firmwareDownloadAndDownloadDiagnosticsComplete() async throws {
        let files = HTTPServer(host: "127.0.0.1", port: 0) { r in
            switch r.path {
            case "/fw-2.1.0.bin": return HTTPResponse(status: 200, body: Array(repeating: 0x5A, count: 100_000))
            case "/speed": return HTTPResponse(status: 200, body: Array(repeating: 0x00, count: 1_000_000))
            default: return HTTPResponse(status: 404, text: "no such file\n")
            }
        }
        let filePort = try await files.start()
        let server = try CorralServer(config: serverConfig(data: temporaryDirectory("transfers"), informInterval: 300))
        try await server.start()
        let sim = try simulator(port: server.cwmpPort, count: 3, model: "tr181", prefix: "DL-")
        try await sim.start()
        try await waitUntil("3 devices onboarded", seconds: 30) {
            try server.store.devices(limit: 10, offset: 0).filter(\.credentialsConfirmed).count == 3
        }
        let device = try #require(try server.store.device(name: "00C0FF-DL-000001"))
        #expect(device.softwareVersion == "1.0.0")

        // Firmware: Download -> Status 1 -> CPE fetches, reboots -> "7 TRANSFER COMPLETE" + TransferComplete.
        let dl = try await runNow(.download(url: "http://127.0.0.1:\(filePort)/fw-2.1.0.bin", fileType: "1 Firmware Upgrade Image",
                                            fileSize: 100_000, targetFileName: ""), on: device, store: server.store)
        #expect(dl.state == .done, "\(String(describing: dl.fault))")
        try await waitUntil("new software version reported", seconds: 10) {
            try server.store.device(id: device.id)?.softwareVersion == "2.1.0"
        }
        let events = try server.store.informs(deviceID: device.id, limit: 5).flatMap(\.events)
        #expect(events.contains("7 TRANSFER COMPLETE") && events.contains("M Download"))

        // A missing file: the CPE reports 9016 in TransferComplete; the task faults with it.
        let missing = try await runNow(.download(url: "http://127.0.0.1:\(filePort)/nope.bin", fileType: "1 Firmware Upgrade Image",
                                                 fileSize: 0, targetFileName: ""), on: device, store: server.store)
        #expect(missing.state == .fault)
        #expect(missing.fault?.code == 9016)
        #expect(try server.store.device(id: device.id)?.softwareVersion == "2.1.0")

        // Diagnostics: SPV with DiagnosticsState=Requested waits for "8 DIAGNOSTICS COMPLETE", then the results are read.
        let object = "Device.IP.Diagnostics.DownloadDiagnostics."
        let diag = try await runNow(.setParameterValues([
            ParameterValue(name: object + "DownloadURL", value: "http://127.0.0.1:\(filePort)/speed"),
            ParameterValue(name: object + "DiagnosticsState", value: "Requested"),
        ]), on: device, store: server.store)
        #expect(diag.state == .done)
        let results = Dictionary(uniqueKeysWithValues: (diag.result?.values ?? []).map { ($0.name, $0.value) })
        #expect(results[object + "DiagnosticsState"] == "Complete")
        #expect(results[object + "TestBytesReceived"] == "1000000")
        #expect(try server.store.parameters(deviceID: device.id, prefix: object + "TestBytesReceived").first?.value == "1000000")

        await sim.stop()
        await server.stop()
        try await files.shutdown()
    }
}

/// A device replayed from a model file (genieacs-sim CSV format) instead of the BBF XML.
@Suite(.serialized) struct ModelFileTests {
    @Test func csvModelDeviceOnboardsAndIsConfigured() async throws {
        let server = try CorralServer(config: serverConfig(data: temporaryDirectory("csv"), informInterval: 300))
        try await server.start()
        var c = SimulatorConfig(acsURL: "http://127.0.0.1:\(server.cwmpPort)/cwmp", count: 2,
                                model: Paths.datamodels + "/examples/small-gateway.csv")
        c.serialPrefix = "EX-"
        let sim = try Simulator(config: c)
        try await sim.start()
        try await waitUntil("2 CSV-model devices onboarded", seconds: 30) {
            try server.store.devices(limit: 10, offset: 0).filter { $0.credentialsConfirmed && !$0.modelName.isEmpty }.count == 2
        }
        let d = try #require(try server.store.device(name: "A1B2C3-EX-000001"))
        #expect(d.manufacturer == "Example Networks")
        #expect(d.productClass == "EX-GW100")
        #expect(d.softwareVersion == "1.0.0")   // the simulator's --software-version wins over the file's value
        #expect(d.profile == "generic-tr098")
        let ssid = "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID"
        #expect(try await runNow(.setParameterValues([ParameterValue(name: ssid, value: "Replayed")]), on: d, store: server.store).state == .done)
        #expect(sim.device(serial: "EX-000001")?.value(ssid) == "Replayed")
        let add = try await runNow(.addObject("InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANIPConnection."), on: d, store: server.store)
        #expect(add.state == .done)
        #expect(add.result?.instanceNumber == 2)
        await sim.stop()
        await server.stop()
    }
}
