import Foundation
import Testing
import ACSCore
import Engine
import Storage

/// `corral validate` as an operator runs it, beside a live server on the same data directory (issue 16): every check
/// passes on a simulated CPE (exit 0), and a CPE that went away fails (exit 1) without hanging.
@Suite(.serialized) struct ValidateCLITests {
    @Test func validateFromTheCommandLine() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Paths.corralBinary),
                     "build the executable first (swift build): \(Paths.corralBinary)")
        let data = temporaryDirectory("validate-cli")
        defer { try? FileManager.default.removeItem(atPath: data) }
        // The CLI reads its settings from the data directory: no STUN socket of its own.
        try #"{"stun_port": 0}"#.write(toFile: data + "/corral.json", atomically: true, encoding: .utf8)
        let server = try CorralServer(config: serverConfig(data: data))
        try await server.start()
        let sim = try simulator(port: server.cwmpPort, count: 1, model: "tr181", prefix: "VCLI-")
        try await sim.start()
        try await waitUntil("onboarded and reachable", seconds: 30) {
            try server.store.devices(limit: 1, offset: 0).first.map { $0.credentialsConfirmed && !$0.connectionRequestURL.isEmpty } == true
        }
        let d = try #require(try server.store.devices(limit: 1, offset: 0).first)

        let (ok, out, err) = try await runCorral(["validate", d.name, "--timeout", "20", "--data", data])
        #expect(ok == 0, "\(out)\(err)")
        for check in ["onboarded", "inventory", "reachable", "reads", "change", "reboot"] {
            #expect(out.contains("PASS  \(check)"), "\(check): \(out)")
        }
        #expect(!out.contains("FAIL"), "\(out)")
        let (_, history, _) = try await runCorral(["validate", d.name, "--history", "--data", data])
        #expect(history.contains("PASS") || history.contains("passed"), "\(history)")

        await sim.stop()
        let started = ContinuousClock.now
        let (failed, fout, ferr) = try await runCorral(["validate", d.name, "--timeout", "5", "--json", "--data", data])
        #expect(failed == 1, "\(fout)\(ferr)")
        #expect(ContinuousClock.now - started < .seconds(40))
        let report = try #require(try JSONSerialization.jsonObject(with: Data(fout.utf8)) as? [String: Any], "\(fout)")
        let checks = report["checks"] as? [[String: Any]] ?? []
        #expect(checks.contains { $0["name"] as? String == "reachable" && $0["passed"] as? Bool == false }, "\(fout)")
        await server.stop()
    }
}
