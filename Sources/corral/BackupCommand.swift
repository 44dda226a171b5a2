import ACSCore
import ArgumentParser
import Engine
import Foundation
import Storage

/// `corral backups`: what CPEs uploaded (`corral task <device> upload`), listed, shown and compared.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backups", abstract: "Configuration backups and logs devices uploaded.",
        discussion: "Take one with `corral task <device> upload [config|log] --now`; restore one with POST /api/v1/backups/{id}/restore.",
        subcommands: [List.self, Show.self, Diff.self])

    static func open(_ store: StoreOptions) throws -> (SQLStore, String) {
        let config = try ConfigLoading.load(store)
        return (try StoreOpener.open(config), (config.dataDirectory as NSString).appendingPathComponent("backups"))
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A device's backups, newest first.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Device ID, name or serial.") var device: String
        func run() async throws {
            let (s, _) = try BackupCommand.open(store)
            defer { s.close() }
            guard let d = try TaskService(store: s).findDevice(device) else { throw ValidationError("no device \(device)") }
            let list = try s.backups(deviceID: d.id, limit: Backup.keepPerDevice)
            if list.isEmpty { print("no backups of \(d.name) (take one: corral task \(d.name) upload --now)") }
            for b in list {
                print("\(b.id)  \(Date(timeIntervalSince1970: TimeInterval(b.createdAt)).ISO8601Format())  \(b.fileType)  \(b.size) bytes  sha256 \(b.sha256.prefix(16))…")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a backup's content.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Backup ID.") var id: Int64
        func run() async throws {
            let (s, dir) = try BackupCommand.open(store)
            defer { s.close() }
            guard try s.backup(id: id) != nil, let data = FileManager.default.contents(atPath: dir + "/\(id).bin") else { throw ValidationError("no backup \(id)") }
            FileHandle.standardOutput.write(data)
        }
    }

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What changed between two backups (unified diff of text files).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The older backup ID.") var from: Int64
        @Argument(help: "The newer backup ID.") var to: Int64
        func run() async throws {
            let (s, dir) = try BackupCommand.open(store)
            defer { s.close() }
            func text(_ id: Int64) throws -> String {
                guard try s.backup(id: id) != nil, let data = FileManager.default.contents(atPath: dir + "/\(id).bin") else { throw ValidationError("no backup \(id)") }
                guard !data.contains(0), let t = String(data: data, encoding: .utf8) else { throw ValidationError("backup \(id) is not text") }
                return t
            }
            let a = try text(from), b = try text(to)
            print(a == b ? "backups \(from) and \(to) are the same" : LineDiff.unified(a, b), terminator: a == b ? "\n" : "")
        }
    }
}
