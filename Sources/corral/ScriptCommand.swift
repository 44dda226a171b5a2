import ArgumentParser
import Engine
import Foundation
import Scripting

/// `corral script test <file>...`: the `test(...)` cases of automation, campaign and report files, each against its
/// own fixture devices.
struct ScriptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "script", abstract: "Test automation, campaign and report scripts.",
                                                    subcommands: [ScriptTest.self])
}

struct ScriptTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the test(name, {...}) cases a script declares against fixture devices.",
        discussion: """
            Each case gets a fresh store with its `devices`, then: automations handle its `event` (and `schedule`, \
            `after`), campaigns run apply(dev) on their target, reports run with its `args`; `expect` lists the tasks, \
            tags, groups, location, alerts, events, rows or error wanted. Exits 1 when a case fails. See docs/automations.md.
            """)
    @OptionGroup var store: StoreOptions
    @Option(help: "Profile directory (default: profiles_dir of the config, or CORRAL_PROFILES).") var profiles: String?
    @Option(help: "Where start_campaign finds campaign files (default: <scripts_dir>/campaigns).") var campaigns: String?
    @Option(help: "automation, campaign or report (default: from what the file declares).") var kind: String?
    @Argument(help: "Script files.") var files: [String]

    func run() async throws {
        var config = try ConfigLoading.load(store)
        if let profiles { config.profilesDirectory = profiles }
        let (library, problems) = config.profileLibrary()
        for p in problems where p.kind != .warning { FileHandle.standardError.write(Data("profile: \(p.message)\n".utf8)) }
        var forced: ScriptTestRunner.Kind?
        if let kind {
            guard let k = ScriptTestRunner.Kind(rawValue: kind) else { throw ValidationError("--kind is automation, campaign or report") }
            forced = k
        }
        let runner = ScriptTestRunner(registry: library.registry,
                                      campaignsDirectory: campaigns ?? ((config.scriptsDirectory ?? "scripts") as NSString).appendingPathComponent("campaigns"))
        var failed = 0, passed = 0
        for file in files {
            guard let source = try? String(contentsOfFile: file, encoding: .utf8) else { throw ValidationError("cannot read \(file)") }
            let name = (file as NSString).lastPathComponent
            for r in await runner.run(source: source, name: name, kind: forced) {
                if r.failures.isEmpty {
                    passed += 1
                    print("PASS \(name): \(r.name)")
                } else {
                    failed += 1
                    print("FAIL \(name): \(r.name)")
                    for f in r.failures { print("  - \(f)") }
                }
            }
        }
        print("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}
