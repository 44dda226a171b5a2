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

    /// `corral script test`: the shipped automation, campaign and report files pass their own cases; a file whose case
    /// does not hold fails with what differed, and a broken file with its error.
    @Test func scriptTestsRunTheFilesOwnCases() throws {
        let data = temporaryDirectory("cli-script-test")
        defer { try? FileManager.default.removeItem(atPath: data) }
        let shipped = ["scripts/automations/alerts.lua", "scripts/automations/nightly.lua", "scripts/automations/weekly-backup.lua",
                       "scripts/campaigns/firmware-upgrade.lua", "scripts/reports/weak-signal.lua"]
        let ok = try corral(["script", "test"] + shipped + ["--data", data, "--profiles", "profiles"])
        #expect(ok.status == 0, "\(ok.out)\(ok.err)")
        #expect(ok.out.contains("PASS alerts.lua: weak signal for half an hour raises, tags and groups"), "\(ok.out)")
        #expect(ok.out.contains("PASS firmware-upgrade.lua: only older firmware is upgraded") && ok.out.contains("8 passed, 0 failed"), "\(ok.out)")

        let wrong = data + "/wrong.lua"
        try """
            on("device.boot", function(dev) dev:reboot() end)
            test("boot reboots twice", { devices = { { serial = "B" } }, event = { kind = "device.boot", device = "B" },
                                         expect = { tasks = { B = { "reboot", "reboot" } } } })
            test("a handler error is expected", { devices = { { serial = "B" } }, event = { kind = "device.boot", device = "B" },
                                                  expect = { error = "nope" } })
            """.write(toFile: wrong, atomically: true, encoding: .utf8)
        let failed = try corral(["script", "test", wrong, "--data", data])
        #expect(failed.status == 1)
        #expect(failed.out.contains("FAIL wrong.lua: boot reboots twice") && failed.out.contains("tasks of B: expected [\"reboot\", \"reboot\"], got [\"reboot\"]"), "\(failed.out)")
        #expect(failed.out.contains("expected an error containing \"nope\", got none"), "\(failed.out)")
        try "on('device.boot', function() end)\ntest('x', {})\nthis is not lua".write(toFile: wrong, atomically: true, encoding: .utf8)
        let broken = try corral(["script", "test", wrong, "--data", data])
        #expect(broken.status == 1 && broken.out.contains("the file does not load"), "\(broken.out)")
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
