import ACSCore
import ArgumentParser
import CWMP
import Engine
import Foundation
import Storage

/// `corral bench …`: measuring tools used by scripts/bench. They talk to a running server only the way operators
/// do (the store and HTTP connection requests), never through the server's internals.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark tools (used by scripts/bench): push latency, population generator, query timings.",
        subcommands: [BenchPush.self, BenchCount.self, BenchPopulate.self, BenchQuery.self, BenchEngine.self, BenchSTUN.self, BenchSTUNSoak.self])
}

/// Percentiles and JSON output shared by the bench commands.
enum BenchStats {
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = max(0, min(Double(sorted.count - 1), (p / 100 * Double(sorted.count)).rounded(.up) - 1))
        return sorted[Int(rank)]
    }

    static func median(_ xs: [Double]) -> Double { percentile(xs.sorted(), 50) }

    static func printJSON(_ object: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
        print(String(decoding: data, as: UTF8.self))
    }

    static func ms(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }
}

/// Push latency: what `corral task <device> set … --now` does (queue the task, send the HTTP connection request,
/// poll the task), repeated over online devices. Latency = queued → task done (the CPE answered the
/// SetParameterValues, i.e. applied the value).
struct BenchPush: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "push", abstract: "Measure task push latency (connection request → value applied).")
    @OptionGroup var store: StoreOptions
    @Option(help: "Number of pushes.") var samples = 100
    @Option(help: "Pause between pushes (ms).") var pause = 20
    @Option(help: "Seconds to wait for each task.") var timeout: Double = 10

    func run() async throws {
        let config = try ConfigLoading.load(store)
        let s = try StoreOpener.open(config)
        defer { s.close() }
        let service = TaskService(store: s)
        let now = Int64(Date().timeIntervalSince1970)
        var q = DeviceQuery()
        q.status = .online
        q.limit = 10_000
        let devices = try s.devices(q, now: now).devices.filter { $0.credentialsConfirmed && !$0.connectionRequestURL.isEmpty }
        guard !devices.isEmpty else { throw ValidationError("no online onboarded device with a connection-request URL") }
        var latencies: [Double] = []
        var failures = 0
        let clock = ContinuousClock()
        for i in 0..<samples {
            let d = devices[i % devices.count]
            let path = d.dataModel == .tr098 ? "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID" : "Device.WiFi.SSID.1.SSID"
            let started = clock.now
            do {
                let task = try await service.queue(.setParameterValues([ParameterValue(name: path, value: "push-\(i)", type: .string)]), on: d)
                try await ConnectionRequester.send(to: d)
                if let t = try await service.wait(for: task.id, timeout: .milliseconds(Int(timeout * 1000))), t.state == .done {
                    latencies.append(BenchStats.ms(clock.now - started))
                } else {
                    failures += 1
                }
            } catch {
                failures += 1
                FileHandle.standardError.write(Data("push \(i) to \(d.name): \(error)\n".utf8))
            }
            try await Task.sleep(for: .milliseconds(pause))
        }
        let sorted = latencies.sorted()
        try BenchStats.printJSON([
            "samples": samples, "failures": failures, "devices": devices.count,
            "push_latency_ms_p50": BenchStats.percentile(sorted, 50), "push_latency_ms_p90": BenchStats.percentile(sorted, 90),
            "push_latency_ms_p99": BenchStats.percentile(sorted, 99), "push_latency_ms_max": sorted.last ?? 0,
        ])
    }
}

/// Devices in the store, and how many confirmed their own credentials (onboarded).
struct BenchCount: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "count", abstract: "Count stored and onboarded devices (JSON).")
    @OptionGroup var store: StoreOptions

    func run() throws {
        let config = try ConfigLoading.load(store)
        let s = try StoreOpener.open(config)
        defer { s.close() }
        try BenchStats.printJSON(["devices": try s.deviceCount(), "onboarded": try s.onboardedDeviceCount()])
    }
}
