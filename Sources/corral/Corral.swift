import ArgumentParser

@main
struct Corral: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corral",
        abstract: "Corral: a TR-069 (CWMP) Auto Configuration Server.",
        discussion: """
            Run `corral serve` to start the ACS (CWMP on port 7547, operator HTTP on 8080, SQLite in ./data), \
            `corral sim` to start simulated CPEs against it, and `corral devices` / `corral task` to look at \
            and act on the fleet.
            """,
        subcommands: [Serve.self, Sim.self, Devices.self, TaskCommand.self, DiagnoseCommand.self, UserCommand.self, RunCommand.self, ProfileCommand.self, ScriptCommand.self, FirmwareCommand.self, BackupCommand.self,
                      CampaignCommand.self, CheckCommand.self, DHCPOption43Command.self, LuaDocs.self, LuaBench.self, Bench.self])
}

/// --data and --config, shared by the commands that open the store.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Data directory (SQLite database, secrets). Default: ./data, or CORRAL_DATA.")
    var data: String?

    @Option(name: .long, help: "JSON config file. Default: <data>/corral.json if it exists.")
    var config: String?
}
