import ACSCore
import ArgumentParser
import Engine
import Foundation
import Storage

/// `corral devices reset-credentials | delete | attempts`: onboarding troubleshooting from the shell (issue 16).
/// Changes are written to the audit log as the API's are, with the local user as actor.
extension Devices {
    static func audit(_ s: SQLStore, action: String, device: Device, before: String?, after: String?) async throws {
        let who = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "?"
        try await s.appendAudit(AuditEntry(at: Int64(Date().timeIntervalSince1970), actor: "cli (\(who))", userID: nil, tokenID: nil, remote: "local",
                                           organisationID: device.organisationID, action: action, objectType: "device",
                                           objectID: String(device.id), before: before, after: after, status: 200))
    }

    struct ResetCredentials: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reset-credentials",
            abstract: "Let a device that lost its own credentials onboard once more with its profile's onboarding credentials (no BOOTSTRAP needed).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Device ID, name (OUI-Serial) or serial number.") var device: String

        func run() async throws {
            let config = try ConfigLoading.load(store)
            let s = try StoreOpener.open(config)
            defer { s.close() }
            guard let d = try TaskService(store: s).findDevice(device) else { throw ValidationError("no device \(device)") }
            try await s.apply([.resetCredentials(deviceID: d.id)])
            try await Devices.audit(s, action: "device.reset_credentials", device: d, before: "{\"credentials_confirmed\":\(d.credentialsConfirmed)}",
                                    after: "{\"credentials_confirmed\":false}")
            print("\(d.name): its next Inform with the onboarding credentials of profile \(d.profile) onboards it again (new unique credentials); its current credentials stay valid until then")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a device and everything stored about it (parameters, tasks, history, backups).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Device ID, name (OUI-Serial) or serial number.") var device: String
        @Flag(help: "Do not ask for confirmation.") var yes = false

        func run() async throws {
            let config = try ConfigLoading.load(store)
            let s = try StoreOpener.open(config)
            defer { s.close() }
            guard let d = try TaskService(store: s).findDevice(device) else { throw ValidationError("no device \(device)") }
            if !yes {
                print("Delete \(d.name) (ID \(d.id)) and all its data? Type the name to confirm: ", terminator: "")
                guard readLine()?.trimmingCharacters(in: .whitespaces) == d.name else { throw ValidationError("not confirmed; nothing deleted") }
            }
            let backups = try await s.deleteDevice(id: d.id)
            let dir = (config.dataDirectory as NSString).appendingPathComponent("backups")
            for id in backups { try? FileManager.default.removeItem(atPath: (dir as NSString).appendingPathComponent("\(id).bin")) }
            try await Devices.audit(s, action: "device.delete", device: d, before: "{\"name\":\"\(d.name)\"}", after: nil)
            print("deleted \(d.name) (ID \(d.id))")
        }
    }

    struct Attempts: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Refused first contacts, newest first, with the usual cause of each.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Serial, OUI, username or address (prefix).") var search = ""
        @Option(help: "At most this many.") var limit = 50
        @Flag(help: "Print the hint of each reason.") var hints = false

        func run() throws {
            let config = try ConfigLoading.load(store)
            let s = try StoreOpener.open(config)
            defer { s.close() }
            let list = try s.onboardingAttempts(organisationPath: "/\(Organisation.rootID)/", deviceID: nil, search: search, limit: limit)
            // Everything but the time, count and reason comes from the (unauthenticated) CPE: escaped, so that a
            // serial or username cannot carry terminal control sequences.
            let rows = list.map { a in
                [DeviceJSON.time(a.lastAt) ?? "", String(a.count)]
                    + [a.address, a.oui, a.serial, a.username].map { LogText.safe($0) } + [a.reason.rawValue, LogText.safe(a.detail)]
            }
            print(Table.render(header: ["LAST", "COUNT", "ADDRESS", "OUI", "SERIAL", "USERNAME", "REASON", "DETAIL"], rows: rows))
            if hints {
                for r in Set(list.map(\.reason)).sorted(by: { $0.rawValue < $1.rawValue }) { print("\n\(r.rawValue): \(r.hint)") }
            }
            print("\n" + OnboardingAttempt.noAttemptHint)
        }
    }
}
