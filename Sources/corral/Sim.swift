import ArgumentParser
import Foundation
import NetHTTP
import Simulator

struct Sim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run simulated CPEs against an ACS, over CWMP only.",
        discussion: """
            Each virtual CPE starts factory-fresh: it informs with 0 BOOTSTRAP using the onboarding credentials \
            of Corral's generic profile for its model (corral-tr181 / onboard-tr181, corral-tr098 / onboard-tr098) \
            unless --username/--password are given, takes the credentials the ACS sets, then informs periodically. \
            It answers every RPC, reboots, factory-resets, downloads firmware over HTTP and listens for \
            connection requests (Digest) on --cr-host:--cr-port, path /cr/<serial>.
            Models: tr181 and tr098 are built from the Broadband Forum XML in datamodels/; any other value is \
            a model file: .xml (BBF), .csv (genieacs-sim format) or .json (see docs/simulator-models.md).
            """)

    @Option(help: "ACS URL.") var acs = "http://127.0.0.1:7547/cwmp"
    @Option(help: "Number of virtual CPEs.") var count = 10
    @Option(help: "tr181, tr098, or a model file.") var model = "tr181"
    @Option(name: .customLong("serial-offset"), help: "First serial number (so several simulators can run side by side).") var serialOffset = 0
    @Option(name: .customLong("serial-prefix"), help: "Serial number prefix.") var serialPrefix = "SIM"
    @Option(help: "Manufacturer OUI (6 hex digits).") var oui = "00C0FF"
    @Option(name: .customLong("product-class"), help: "ProductClass (default by model).") var productClass: String?
    @Option(name: .customLong("software-version"), help: "Initial software version.") var softwareVersion = "1.0.0"
    @Option(help: "Onboarding username (default: the generic profile's).") var username: String?
    @Option(help: "Onboarding password (default: the generic profile's).") var password: String?
    @Option(help: "Periodic inform interval (s) until the ACS sets one.") var interval = 300
    @Option(help: "Spread the first Informs over this many seconds.") var spread: Double = 0
    @Option(help: "Concurrent sessions at most.") var concurrency = 256
    @Option(name: .customLong("cr-host"), help: "Address of the connection-request listener.") var crHost = "127.0.0.1"
    @Option(name: .customLong("cr-port"), help: "Port of the connection-request listener (0 = any free port).") var crPort = 0
    @Option(name: .customLong("datamodels"), help: "Directory with the BBF data-model XML files.") var datamodels = "datamodels"
    @Option(help: "Stop after this many seconds (default: run until interrupted).") var duration: Double?

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be at least 1") }
        guard oui.count == 6, oui.allSatisfy(\.isHexDigit) else { throw ValidationError("--oui must be 6 hex digits") }
    }

    func run() async throws {
        NetRuntime.installNIOExecutor()
        var c = SimulatorConfig(acsURL: acs, count: count, model: model)
        c.serialOffset = serialOffset; c.serialPrefix = serialPrefix; c.oui = oui.uppercased(); c.productClass = productClass
        c.softwareVersion = softwareVersion; c.username = username; c.password = password; c.informInterval = interval
        c.startSpread = spread; c.maxConcurrentSessions = concurrency; c.crHost = crHost; c.crPort = crPort
        c.dataModelDirectory = datamodels
        let sim = try Simulator(config: c)
        try await sim.start()
        print("corral sim: \(count) \(sim.kind.rawValue) CPEs (\(sim.template.entryCount) parameters each) -> \(acs); connection requests on \(crHost):\(sim.crPort)")
        let reporter = Task {
            var last = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(5))
                let s = sim.stats.snapshot
                print("sessions \(s.sessions) (+\(s.sessions - last)), failures \(s.failures), mean session \(String(format: "%.1f", s.meanSessionMs)) ms"
                      + (sim.stats.errors.last.map { "; last error: \($0)" } ?? ""))
                last = s.sessions
            }
        }
        if let duration {
            try? await Task.sleep(for: .milliseconds(Int(duration * 1000)))
        } else {
            await waitForTermination()
        }
        reporter.cancel()
        await sim.stop()
        let s = sim.stats.snapshot
        print("corral sim: done, \(s.sessions) sessions, \(s.failures) failures")
    }
}
