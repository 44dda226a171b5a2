import ArgumentParser
import Engine
import Foundation

@main
struct Corral: AsyncParsableCommand {
    /// The log format is chosen before anything logs: `--log-format` (any command) or CORRAL_LOG_FORMAT.
    static func main() async {
        Log.bootstrap(format: logFormat(CommandLine.arguments, ProcessInfo.processInfo.environment))
        do {
            var command = try parseAsRoot(withoutLogFormat(Array(CommandLine.arguments.dropFirst())))
            if var async = command as? AsyncParsableCommand { try await async.run() } else { try command.run() }
        } catch {
            exit(withError: error)
        }
    }

    /// The arguments without `--log-format X` (read above), so every command accepts it.
    static func withoutLogFormat(_ args: [String]) -> [String] {
        var out: [String] = []
        var skip = false
        for a in args {
            if skip { skip = false; continue }
            if a == "--log-format" { skip = true; continue }
            if a.hasPrefix("--log-format=") { continue }
            out.append(a)
        }
        return out
    }

    static func logFormat(_ args: [String], _ env: [String: String]) -> Log.Format {
        var chosen = env["CORRAL_LOG_FORMAT"].flatMap { Log.Format(rawValue: $0.lowercased()) } ?? .text
        for (i, a) in args.enumerated() {
            if a == "--log-format", i + 1 < args.count, let f = Log.Format(rawValue: args[i + 1].lowercased()) { chosen = f }
            if a.hasPrefix("--log-format="), let f = Log.Format(rawValue: String(a.dropFirst(13)).lowercased()) { chosen = f }
        }
        return chosen
    }

    static let configuration = CommandConfiguration(
        commandName: "corral",
        abstract: "Corral: a TR-069 (CWMP) Auto Configuration Server.",
        discussion: """
            Run `corral serve` to start the ACS (CWMP on port 7547, operator HTTP on 8080, SQLite in ./data), \
            `corral sim` to start simulated CPEs against it, and `corral devices` / `corral task` to look at \
            and act on the fleet.
            """,
        subcommands: [Serve.self, Sim.self, Devices.self, TaskCommand.self, ValidateCommand.self, DiagnoseCommand.self, UserCommand.self, RunCommand.self, ProfileCommand.self, ScriptCommand.self, FirmwareCommand.self, BackupCommand.self,
                      CampaignCommand.self, CheckCommand.self, MigrateCommand.self, DHCPOption43Command.self, LuaDocs.self, LuaBench.self, Bench.self])
}

/// --data, --database and --config, shared by the commands that open the store.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Data directory (SQLite database, secrets). Default: ./data, or CORRAL_DATA.")
    var data: String?

    @Option(name: .long, help: "The store: postgresql://user:password@host:port/database (shared by several nodes), or sqlite:<data directory>. Default: SQLite in --data, or CORRAL_DATABASE_URL.")
    var database: String?

    @Option(name: .long, help: "JSON config file. Default: <data>/corral.json if it exists.")
    var config: String?
}
