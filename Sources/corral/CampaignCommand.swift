import ArgumentParser
import Engine
import Foundation
import Scripting
import Storage

/// `corral campaign start|status|pause|resume|cancel`: campaigns live in the store; `corral serve` runs them.
struct CampaignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign", abstract: "Bulk campaigns written in Lua (see scripts/campaigns/).",
        discussion: "A started campaign is saved in the store (with its script) and run by `corral serve`, also across restarts.",
        subcommands: [Start.self, Status.self, Pause.self, Resume.self, Cancel.self])

    static func open(_ options: StoreOptions) throws -> (SQLStore, CampaignService) {
        let config = try ConfigLoading.load(options)
        let (library, _) = config.profileLibrary()
        let store = try StoreOpener.open(config)
        return (store, CampaignService(store: store, registry: library.registry))
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970) }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start a campaign file, or with --dry-run list the devices and changes without touching them.")
        @OptionGroup var options: StoreOptions
        @Argument(help: "The campaign script.") var script: String
        @Flag(name: .customLong("dry-run"), help: "List the target devices and what would change; write nothing.") var dryRun = false

        func run() async throws {
            let (store, service) = try CampaignCommand.open(options)
            defer { store.close() }
            let source: String
            do { source = try String(contentsOfFile: script, encoding: .utf8) }
            catch { throw ValidationError("cannot read \(script): \(error.localizedDescription)") }
            let name = (script as NSString).lastPathComponent
            do {
                if dryRun {
                    var failures = 0
                    let n = try service.dryRun(source: source, name: name, now: CampaignCommand.now) { device, result in
                        switch result {
                        case .success(let actions): print("\(device.name)\t\(actions.isEmpty ? "nothing to change" : actions.map(\.description).joined(separator: "; "))")
                        case .failure(let e): failures += 1; print("\(device.name)\tERROR \(e.message)")
                        }
                    }
                    print("dry run: \(n) devices, \(failures) would fail; nothing was changed")
                    return
                }
                let c = try await service.start(source: source, name: name, now: CampaignCommand.now, createdBy: "cli")
                print("campaign #\(c.id) \(c.name) started: \(try store.campaignProgress(campaignID: c.id).total) devices; `corral campaign status \(c.id)` to follow it")
            } catch let e as ScriptError {
                FileHandle.standardError.write(Data("corral campaign: \(e.message)\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Progress of one campaign, or of all; --watch refreshes until it ends.")
        @OptionGroup var options: StoreOptions
        @Argument(help: "Campaign ID (default: all).") var id: Int64?
        @Flag(help: "Refresh every second until the campaign is over.") var watch = false
        @Flag(help: "Also list the failed devices with their errors.") var failures = false

        func run() async throws {
            let (store, _) = try CampaignCommand.open(options)
            defer { store.close() }
            let tty = isatty(STDOUT_FILENO) != 0
            while true {
                let list = try id.map { try store.campaign(id: $0).map { [$0] } ?? [] } ?? store.campaigns(states: [])
                guard !list.isEmpty else { throw ValidationError(id.map { "no campaign \($0)" } ?? "no campaigns yet") }
                let lines = try list.map { CampaignService.progressLine($0, try store.campaignProgress(campaignID: $0.id)) }
                let text = watch && tty ? "\u{1B}[2K\r" + lines.joined(separator: "\n") + (list.count == 1 ? "" : "\n")
                                        : lines.joined(separator: "\n") + "\n"
                FileHandle.standardOutput.write(Data(text.utf8))
                if !watch || list.allSatisfy({ $0.state.isFinal }) { break }
                try await Task.sleep(for: .seconds(1))
            }
            if watch && tty { print("") }
            if failures, let id {
                for d in try store.campaignDevices(campaignID: id, states: [.failed], limit: 1000) {
                    print("  \(try store.device(id: d.deviceID)?.name ?? String(d.deviceID))\t\(d.error)")
                }
            }
        }
    }

    static func control(_ options: StoreOptions, _ id: Int64, _ action: CampaignService.Control) async throws {
        let (store, service) = try open(options)
        defer { store.close() }
        do {
            let c = try await service.control(id, action, now: now)
            print("campaign #\(c.id) \(c.name): \(c.state.rawValue)")
        } catch let e as ScriptError {
            FileHandle.standardError.write(Data("corral campaign: \(e.message)\n".utf8))
            throw ExitCode(1)
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pause a running campaign (devices in progress finish; no new ones start).")
        @OptionGroup var options: StoreOptions
        @Argument var id: Int64
        func run() async throws { try await CampaignCommand.control(options, id, .pause) }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a paused campaign.")
        @OptionGroup var options: StoreOptions
        @Argument var id: Int64
        func run() async throws { try await CampaignCommand.control(options, id, .resume) }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a campaign: pending devices are skipped, unsent tasks withdrawn.")
        @OptionGroup var options: StoreOptions
        @Argument var id: Int64
        func run() async throws { try await CampaignCommand.control(options, id, .cancel) }
    }
}
