import Engine
import ArgumentParser
import Foundation
import Storage

/// `corral check`: SQLite's full integrity check of the data directory's database (`serve` runs the quick one at start).
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the database for corruption (PRAGMA integrity_check); exit status 1 when it finds any.",
        discussion: "Safe while `corral serve` runs (it reads a consistent snapshot). --quick runs the faster quick_check.")
    @OptionGroup var store: StoreOptions
    @Flag(help: "Only the quick check (no comparison of indexes with their tables).") var quick = false

    func run() async throws {
        let config = try ConfigLoading.load(store)
        let s = try StoreOpener.open(config)
        defer { s.close() }
        let started = Date()
        let problems: [String]
        do { problems = try s.integrityProblems(quick: quick, limit: 100) } catch {
            problems = ["the check itself failed: \(error)"]
        }
        let took = String(format: "%.1f s", Date().timeIntervalSince(started))
        guard !problems.isEmpty else {
            print("ok: \(config.dataDirectory)/corral.db passed the \(quick ? "quick" : "full") integrity check (\(took))")
            return
        }
        print("CORRUPT: \(config.dataDirectory)/corral.db (\(took)):")
        for p in problems { print("  \(p)") }
        print("Stop corral serve, restore the last backup of the data directory, or try `sqlite3 corral.db .recover`.")
        throw ExitCode(1)
    }
}
