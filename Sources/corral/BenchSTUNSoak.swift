import ArgumentParser
import Foundation
import STUN

/// `corral bench stun-soak`: a `corral serve` child process holding N STUN bindings that keep themselves alive every
/// `--keepalive` s (one UDP socket per binding, as N CPEs behind N NAT mappings), and what that costs the server:
/// CPU as a share of one core over the measurement window, and RSS. Prints JSON (scripts/bench merges it).
struct BenchSTUNSoak: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stun-soak", abstract: "Measure server CPU and memory for N STUN bindings with keep-alives.")
    @Option(help: "Bindings (one UDP socket each, spread over 127.0.0.2-127.0.0.250).") var bindings = 10_000
    @Option(help: "Keep-alive period of each binding in seconds.") var keepalive: Double = 30
    @Option(help: "Measurement window in seconds (after one warm-up period).") var seconds: Double = 60

    func run() async throws {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        guard Int(limit.rlim_cur) > bindings + 100 else { throw ValidationError("the open-file limit \(limit.rlim_cur) is too low for \(bindings) sockets") }

        let data = NSTemporaryDirectory() + "corral-bench-soak-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: data) }
        let stunPort = try BenchUDPSocket(host: "127.0.0.1").port
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        serve.arguments = ["serve", "--data", data, "--host", "127.0.0.1", "--cwmp-port", "0", "--http-port", "0", "--stun-port", String(stunPort)]
        var env = ProcessInfo.processInfo.environment
        env["CORRAL_LOG"] = "error"
        serve.environment = env
        let out = Pipe()
        serve.standardOutput = out
        serve.standardError = FileHandle.nullDevice
        try serve.run()
        defer { serve.terminate(); serve.waitUntilExit() }
        // Wait for the STUN line on its standard output.
        var seen = ""
        let startDeadline = Date().addingTimeInterval(60)
        while !seen.contains("STUN listening"), Date() < startDeadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        guard seen.contains("STUN listening") else { throw ValidationError("serve did not start: \(seen)") }
        let pid = serve.processIdentifier
        let idleRSS = Self.rssMB(pid)

        let request = STUNMessage(type: 1, rfc5389: false, transactionID: Array(1...16),
                                  attributes: [.init(type: 0xC001, value: Array(STUNMessage.tr111Binding.utf8))]).encode()
        var sockets: [BenchUDPSocket] = []
        sockets.reserveCapacity(bindings)
        for i in 0..<bindings { sockets.append(try BenchUDPSocket(host: "127.0.0.\(2 + i % 249)")) }
        // Each binding refreshes every `keepalive` s at its own phase (as CPEs that booted at different times).
        let t0 = Date().timeIntervalSince1970
        var next = (0..<bindings).map { t0 + keepalive * Double($0) / Double(bindings) }
        var sent = 0
        func pump(until end: Double) async throws {
            while Date().timeIntervalSince1970 < end {
                let now = Date().timeIntervalSince1970
                for i in 0..<bindings where next[i] <= now {
                    sockets[i].send(request, toPort: stunPort)
                    next[i] += keepalive * Double.random(in: 0.9...1.1)
                    sent += 1
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        try await pump(until: t0 + keepalive)           // warm-up: every binding created once
        let cpu0 = Self.cpuSeconds(pid), w0 = Date().timeIntervalSince1970, sent0 = sent
        try await pump(until: w0 + seconds)
        let cpu = Self.cpuSeconds(pid) - cpu0, wall = Date().timeIntervalSince1970 - w0
        struct Out: Encodable {
            let stun_soak_bindings: Int, stun_soak_keepalive_s: Double, stun_soak_requests_per_s: Double
            let stun_soak_server_cpu_pct_of_core: Double, stun_soak_server_rss_mb: Double, stun_soak_server_rss_mb_idle: Double
        }
        let result = Out(stun_soak_bindings: bindings, stun_soak_keepalive_s: keepalive,
                         stun_soak_requests_per_s: (Double(sent - sent0) / wall * 10).rounded() / 10,
                         stun_soak_server_cpu_pct_of_core: (cpu / wall * 1000).rounded() / 10,
                         stun_soak_server_rss_mb: Self.rssMB(pid), stun_soak_server_rss_mb_idle: idleRSS)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try enc.encode(result), as: UTF8.self))
    }

    /// utime + stime of a process, from /proc (clock ticks of 1/100 s on Linux).
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return 0 }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func rssMB(_ pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return (kb / 1024 * 10).rounded() / 10
    }
}
