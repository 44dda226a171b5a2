import ArgumentParser

/// `corral campaign start|status|pause|resume|cancel`.
struct CampaignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "campaign", abstract: "Bulk campaigns written in Lua.")
}
