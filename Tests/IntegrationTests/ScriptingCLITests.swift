import Foundation
import Testing

/// The scripting commands of the corral binary, as an operator runs them.
@Suite(.serialized) struct ScriptingCLITests {
    struct Result { let status: Int32; let out: String; let err: String }

    func corral(_ args: [String], env: [String: String] = [:]) throws -> Result {
        try #require(FileManager.default.isExecutableFile(atPath: Paths.corralBinary), "build the executable first (swift build)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Paths.corralBinary)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: Paths.packageRoot)
        var e = ProcessInfo.processInfo.environment
        e["CORRAL_LOG"] = "error"
        for (k, v) in env { e[k] = v }
        p.environment = e
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), r = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: r, as: UTF8.self))
    }

    @Test func failingReportsExitNonZeroWithTheMessage() throws {
        let data = temporaryDirectory("cli-run")
        let script = data + "/spin.lua"
        try "report { columns = { 'name' } }\nwhile true do end\n".write(toFile: script, atomically: true, encoding: .utf8)
        let r = try corral(["run", script, "--data", data])
        #expect(r.status == 1)
        #expect(r.err.contains("spin.lua:2: instruction limit exceeded"), "\(r.err)")

        try "os.execute('rm -rf /')\n".write(toFile: script, atomically: true, encoding: .utf8)
        let escape = try corral(["run", script, "--data", data])
        #expect(escape.status == 1)
        #expect(escape.err.contains("spin.lua:1: attempt to call a nil value (field 'execute')"), "\(escape.err)")

        let ok = try corral(["run", "scripts/reports/weak-signal.lua", "--format", "json", "--data", data])
        #expect(ok.status == 0, "\(ok.err)")
        #expect(ok.out.contains("\"rows\": [\n]"), "\(ok.out)")
    }

    @Test func shippedProfilesPassAgainstSimulatedDevices() throws {
        let r = try corral(["profile", "test", "--profiles", "profiles", "--data", temporaryDirectory("cli-profile-test")],
                           env: ["CORRAL_SECRET_ACME_R1_ONBOARDING": "r1-test", "CORRAL_SECRET_ACME_ONT_ONBOARDING": "ont-test"])
        #expect(r.status == 0, "\(r.out)\n\(r.err)")
        for name in ["generic-tr181", "generic-tr098", "acme-lte-r1", "acme-ont-g1"] {
            #expect(r.out.contains("PASS \(name)"), "\(r.out)")
        }
    }
}
