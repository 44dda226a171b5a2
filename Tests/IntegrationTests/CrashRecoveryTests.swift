import Foundation
import Testing
import ACSCore
import Storage
import Simulator

/// `corral serve` as a separate process, killed with SIGKILL mid-traffic and started again on the same data.
@Suite(.serialized) struct CrashRecoveryTests {
    final class ServeProcess {
        let process = Process()
        let output = Pipe()
        private(set) var port = 0

        init(data: String, port: Int) throws {
            process.executableURL = URL(fileURLWithPath: Paths.corralBinary)
            process.arguments = ["serve", "--data", data, "--host", "127.0.0.1", "--cwmp-port", String(port), "--http-port", "0"]
            var env = ProcessInfo.processInfo.environment
            env["CORRAL_LOG"] = "error"
            process.environment = env
            process.standardOutput = output
            try process.run()
        }

        /// Reads stdout until the "CWMP listening on host:port" line.
        func waitForPort() throws -> Int {
            var text = ""
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
                if let line = text.split(separator: "\n").first(where: { $0.contains("CWMP listening on") }),
                   let portText = line.split(separator: ",").first?.split(separator: ":").last, let p = Int(portText) {
                    port = p
                    return p
                }
            }
            throw Timeout(description: "corral serve did not report its port: \(text)")
        }

        func kill9() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    @Test func devicesTasksAndResultsSurviveKill9() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Paths.corralBinary),
                     "build the executable first (swift build): \(Paths.corralBinary)")
        let data = temporaryDirectory("kill9")
        try #"{"profiles": {"generic-tr181": {"informInterval": 2}}}"#.write(toFile: data + "/corral.json", atomically: true, encoding: .utf8)

        let first = try ServeProcess(data: data, port: 0)
        let port = try first.waitForPort()
        let sim = try simulator(port: port, count: 20, model: "tr181", prefix: "K9-")
        try await sim.start()

        let reader = try SQLStore(directory: data)
        try await waitUntil("20 devices onboarded by the child process", seconds: 60) {
            try reader.devices(limit: 100, offset: 0).filter(\.credentialsConfirmed).count == 20
        }
        let informs = try reader.informs(deviceID: 1, limit: 1000).count
        first.kill9()

        // Everything committed before the kill is there.
        #expect(try reader.deviceCount() == 20)
        #expect(try reader.devices(limit: 100, offset: 0).allSatisfy(\.credentialsConfirmed))
        #expect(try reader.informs(deviceID: 1, limit: 1000).count >= informs)

        let second = try ServeProcess(data: data, port: port)
        #expect(try second.waitForPort() == port)
        let device = try #require(try reader.device(id: 5))
        let spv = try await runNow(.setParameterValues([.init(name: "Device.WiFi.SSID.1.SSID", value: "Survivor")]), on: device, store: reader, seconds: 40)
        #expect(spv.state == .done)
        #expect(sim.device(serial: device.serialNumber)?.value("Device.WiFi.SSID.1.SSID") == "Survivor")
        // The devices carry on with the credentials they got before the crash.
        let afterRestart = try reader.informs(deviceID: 1, limit: 1000).count
        try await waitUntil("device 1 informs the restarted server", seconds: 30) {
            try reader.informs(deviceID: 1, limit: 1000).count > afterRestart
        }
        await sim.stop()
        second.kill9()
        reader.close()
    }
}
