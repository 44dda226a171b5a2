import ArgumentParser

struct BenchPopulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "populate", abstract: "Fill a store with generated devices.")
    func run() async throws {}
}

struct BenchQuery: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "query", abstract: "Time inventory queries and group-bys.")
    func run() throws {}
}
