import ACSCore
import ArgumentParser
import Engine
import Foundation
import SpeedTest
import Storage

struct DiagnoseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnose",
        abstract: "Run a TR-143 test on a device (download, upload, udpecho, ping, traceroute) against Corral's test servers.",
        discussion: """
            The paths are chosen for the device's data model (TR-181 Device.IP.Diagnostics.*, TR-098 \
            InternetGatewayDevice.*Diagnostics, or a profile alias diagnostics.<test> naming a vendor object); a CPE \
            answering 9005 gets the next path set. Downloads and uploads go to `serve`'s test server \
            (speedtest_base_url, else http://<host>:<speedtest_port>), udpecho/ping/traceroute to its host.
            With --now: wakes the device, waits for the result and prints it (--json: the whole result).
            Exit status: 0 result complete (or queued), 1 the test failed or the CPE refused it, 2 no result before the timeout.
            """)

    @OptionGroup var store: StoreOptions
    @Argument(help: "Device ID, name (OUI-Serial) or serial number.") var device: String
    @Argument(help: "download, upload, udpecho, ping or traceroute.") var test: String
    @Option(help: "Bytes to download or upload (default 10000000).") var size: Int?
    @Option(help: "Time-based test: seconds (TR-181 2.9+; others get a size-based test of a stream that lasts that long).") var seconds: Int?
    @Option(help: "Parallel TCP connections (TR-181 2.9+).") var connections: Int?
    @Option(help: "Target host (udpecho, ping, traceroute) or a full URL (download, upload) instead of Corral's servers.") var host: String?
    @Option(help: "Packets (udpecho default 20, ping 10) or tries per hop (traceroute 3).") var count: Int?
    @Flag(help: "Send a connection request now and wait for the result.") var now = false
    @Flag(help: "Print the result as JSON.") var json = false
    @Option(help: "Seconds to wait for the result with --now (default: the test's duration + 120).") var timeout: Double?
    @OptionGroup var xmpp: XMPPOptions

    func run() async throws {
        var config = try ConfigLoading.load(store)
        try xmpp.apply(to: &config)
        guard let kind = DiagnosticTest(rawValue: test.lowercased()) else {
            throw ValidationError("unknown test \(test): one of \(DiagnosticTest.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let s = try StoreOpener.open(config)
        defer { s.close() }
        let service = TaskService(store: s)
        guard let dev = try service.findDevice(device) else { throw ValidationError("no device \(device) (give an ID, OUI-Serial name or a unique serial)") }
        let registry = config.profileLibrary().0.registry
        let profile = registry.profile(named: dev.profile)
        let options = DiagnosticOptions(size: size, seconds: seconds, connections: connections, host: host, count: count)
        let task: DeviceTask
        do {
            task = try await service.diagnose(kind, options: options, on: dev, profile: profile,
                                              servers: SpeedTestService.servers(config: config, profile: profile,
                                                                                organisationURL: try s.effectiveSpeedtestBaseURL(organisationID: dev.organisationID)))
        } catch let e as DiagnosticPlanError {
            throw ValidationError(e.description)
        }
        guard now else {
            if json { print("{\"task_id\":\(task.id),\"state\":\"queued\"}") } else {
                print("queued task #\(task.id) (\(task.kind.label)) on \(dev.name); it runs at the device's next session")
            }
            return
        }
        if !json { print("queued task #\(task.id) (\(task.kind.label)) on \(dev.name)") }
        do {
            let xmppClient = try config.xmppService(resource: "corral-cli-\(ProcessInfo.processInfo.processIdentifier)")
            let waker = Waker(store: s, udp: config.stunPort == 0 ? nil : .sharedPort(config.stunPort), xmpp: xmppClient,
                              watch: StoreSessionWatch(store: s), profiles: registry)
            let attempt = try await waker.wakeOrThrow(dev)
            await xmppClient?.stop()
            if !json { print("\(dev.name) \(attempt.summary)") }
        } catch {
            FileHandle.standardError.write(Data("connection request failed: \(error); task #\(task.id) stays queued for the next session\n".utf8))
            throw ExitCode(1)
        }
        let wait = timeout ?? Double((seconds ?? 0) + 120)
        let final = try await service.wait(for: task.id, timeout: .milliseconds(Int(wait * 1000)))
        let record = try s.diagnosticResult(taskID: task.id)
        if json {
            // The result's own keys at the top (state, throughput_bps, avg_rtt_us… as scripts read them), plus the task's.
            var out = (record.flatMap { try? JSONSerialization.jsonObject(with: Data($0.result.utf8)) as? [String: Any] }) ?? [:]
            out["task_id"] = task.id
            out["task_state"] = final?.state.rawValue ?? "unknown"
            if out["state"] == nil { out["state"] = final?.state == .fault ? "fault" : "no result" }
            if let f = final?.fault { out["fault"] = "\(f.code) \(f.string)" }
            let data = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else if let record, let r = try? JSONDecoder().decode(DiagnosticResult.self, from: Data(record.result.utf8)) {
            r.summaryLines.forEach { print($0) }
        } else if let f = final?.fault {
            print("fault \(f.code) \(f.string)")
        } else {
            print("no result within \(Int(wait)) s (task #\(task.id) is \(final?.state.rawValue ?? "unknown"))")
        }
        switch final?.state {
        case .done?: return
        case .fault?, .cancelled?: throw ExitCode(1)
        default: throw ExitCode(2)
        }
    }
}
