import ArgumentParser
import Engine
import Foundation
import Scripting

/// `corral profile check|test`.
struct ProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "profile", abstract: "Check device profiles, or test them against simulated devices.",
                                                    subcommands: [Check.self, ProfileTest.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Load every profile (built-ins + --profiles dir) and report problems; exit 1 on errors.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Profile directory (default: profiles_dir of the config, or CORRAL_PROFILES).") var profiles: String?

        func run() throws {
            var config = try ConfigLoading.load(store)
            if let profiles { config.profilesDirectory = profiles }
            let (library, problems) = config.profileLibrary()
            for p in library.registry.profiles {
                let onboarding = p.onboardingUsername.isEmpty ? "no onboarding" : "onboarding user \(p.onboardingUsername)"
                print("\(p.name) (\(p.source)): \(onboarding), \(p.aliases.count) aliases, \(p.desired.count) desired values, "
                      + "\(p.kpis.count) KPIs, hooks: \(p.hooks.isEmpty ? "none" : p.hooks.joined(separator: ", "))")
            }
            for p in problems { FileHandle.standardError.write(Data("\(p.kind == .warning ? "warning" : "error"): \(p.message)\n".utf8)) }
            if problems.contains(where: { $0.kind != .warning }) { throw ExitCode(1) }
        }
    }
}
