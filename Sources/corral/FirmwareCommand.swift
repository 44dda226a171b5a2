import ACSCore
import API
import ArgumentParser
import Engine
import Foundation
import HTTPAuth
import Scripting
import Storage

struct FirmwareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "firmware", abstract: "Firmware images and rollouts.",
        discussion: "A rollout is stored and run by `corral serve` (the one using the same --data): start it here or in the API, watch it with `status --watch`.",
        subcommands: [Add.self, List.self, RolloutCommand.self, Status.self, Rollouts.self, Pause.self, Resume.self, Cancel.self, Rollback.self, Control.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a firmware image: copied into the file store while its SHA-256 is computed (never read whole into memory). "
                + "The same bytes are one file: adding them again prints the existing image.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The image file.") var file: String
        @Option(help: "The version it installs: what SoftwareVersion reads once a device runs it.") var version: String
        @Option(help: "The profile it is for (default: any).") var profile: String?
        @Option(help: "The ModelName it is for, * as a wildcard (default: any).") var model: String?
        @Option(help: "Release notes.") var notes: String?
        @Option(help: "File name CPEs see (default: the file's own name).") var name: String?
        @Option(name: .customLong("organisation-id"), help: "Organisation ID (1 = root).") var organisationID: Int64 = Organisation.rootID
        @Option(help: "Expected SHA-256 (hex): refused, nothing stored, if the file differs.") var sha256: String?
        @Flag(help: "Print the image as JSON.") var json = false

        func run() async throws {
            let config = try ConfigLoading.load(store)
            let displayName = name ?? (file as NSString).lastPathComponent
            guard displayName.count <= 128, !displayName.isEmpty, !displayName.hasPrefix("."),
                  displayName.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
                throw ValidationError("the file name CPEs see must be 1-128 characters: letters, digits, . _ - (use --name)")
            }
            let registry = ProfileLibrary.load(directory: config.profilesDirectory).0.registry
            var template = StoredFile(name: displayName, fileType: StoredFile.firmwareType, organisationID: organisationID, size: 0, sha256: "",
                                      downloadKey: Base64URL.encode(randomBytes(18)), createdAt: Int64(Date().timeIntervalSince1970),
                                      uploadedBy: "cli")
            if let problem = FirmwareRelease.apply(version: version, profile: profile, model: model, notes: notes, to: &template,
                                                   profileExists: { registry.profile(named: $0) != nil }) {
                throw ValidationError(problem)
            }
            let s = try StoreOpener.open(config)
            defer { s.close() }
            guard try s.organisation(id: organisationID) != nil else { throw ValidationError("no organisation \(organisationID)") }
            let files = FileStore(directory: (config.dataDirectory as NSString).appendingPathComponent("files"))
            do {
                let spooled = try files.spool(copying: file, maxBytes: Int64(config.maxUploadBytes))
                let (f, created) = try await files.register(spooled, as: template, expectedSHA256: sha256, maxBytes: Int64(config.maxUploadBytes), store: s)
                try await s.appendAudit(AuditEntry(at: Int64(Date().timeIntervalSince1970), actor: "cli", userID: nil, tokenID: nil, remote: "",
                                                   organisationID: organisationID, action: "firmware.add", objectType: "file",
                                                   objectID: String(f.id), before: nil, after: nil, status: created ? 201 : 200))
                if json {
                    print(String(decoding: try JSONEncoder.sorted.encode(FirmwareLine(f)), as: UTF8.self))
                } else {
                    print("\(created ? "added" : "already stored as") image \(f.id): \(f.name) version \(f.version), \(f.size) bytes, sha256 \(f.sha256)")
                }
            } catch let e as FileStore.IngestError {
                throw ValidationError(e.description)
            } catch let e as CocoaError where e.code == .fileReadNoSuchFile {
                throw ValidationError("no such file: \(file)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List firmware images, newest first.")
        @OptionGroup var store: StoreOptions
        @Flag(help: "JSON, one object per line.") var json = false

        func run() async throws {
            let config = try ConfigLoading.load(store)
            let s = try StoreOpener.open(config)
            defer { s.close() }
            let images = try s.files(under: "/").filter(\.isFirmware).reversed()
            if images.isEmpty && !json { print("no firmware images (add one with corral firmware add <file> --version <v>)") }
            for f in images {
                if json {
                    print(String(decoding: try JSONEncoder.sorted.encode(FirmwareLine(f)), as: UTF8.self))
                } else {
                    let target = [f.targetProfile.isEmpty ? nil : "profile \(f.targetProfile)", f.targetModel.isEmpty ? nil : "model \(f.targetModel)"]
                        .compactMap { $0 }.joined(separator: ", ")
                    print("\(f.id)  \(f.version)  \(f.name)  \(f.size) bytes  \(target.isEmpty ? "any device" : target)  sha256 \(f.sha256.prefix(16))…  by \(f.uploadedBy)")
                }
            }
        }
    }

    struct RolloutCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rollout",
            abstract: "Start a rollout of a stored image version: devices already on it are skipped; a device counts as upgraded "
                + "when it informs with that SoftwareVersion; offline devices are retried with backoff until done or cancelled.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The image version (corral firmware list).") var version: String
        @Option(help: "Devices: key=value terms, all must hold (\(RolloutTarget.keys.joined(separator: ", "))); default: all.") var target = ""
        @Option(help: "Cumulative waves; the next starts when the current one succeeded.") var waves = "100%"
        @Option(help: "Daily window HH:MM-HH:MM for downloads (default: any time).") var window: String?
        @Option(help: "IANA time zone of the window, or device: each device's own clock (the UTC offset of its Informs' CurrentTime).") var timezone = "UTC"
        @Option(name: .customLong("max-failure-rate"), help: "Stop the rollout above this share of failed devices.") var maxFailureRate = 0.05
        @Option(help: "Devices downloading at once.") var concurrency = 50
        @Option(name: .customLong("organisation-id"), help: "Organisation ID (1 = root).") var organisationID: Int64 = Organisation.rootID
        @Flag(help: "Print the rollout as JSON.") var json = false

        func run() async throws {
            let config = try ConfigLoading.load(store)
            let s = try StoreOpener.open(config)
            defer { s.close() }
            guard let org = try s.organisation(id: organisationID) else { throw ValidationError("no organisation \(organisationID)") }
            var req = RolloutService.Request(version: version, organisationID: org.id, organisationPath: org.path, actor: "cli")
            req.target = target; req.waves = waves; req.window = window; req.timeZone = timezone
            req.maxFailureRate = maxFailureRate; req.concurrency = concurrency
            let registry = ProfileLibrary.load(directory: config.profilesDirectory).0.registry
            do {
                let (r, tally) = try await RolloutService(store: s, profiles: registry).start(req)
                if json {
                    print(String(decoding: try JSONEncoder.sorted.encode(RolloutLine(r, try s.rolloutCounts(rolloutID: r.id))), as: UTF8.self))
                } else {
                    print("rollout \(r.id): version \(r.version) to \(tally[.pending]) devices in \(r.waves.count) wave(s) (\(r.waves.map { "\($0)%" }.joined(separator: ", "))), "
                          + "\(tally[.skipped]) already on it\(r.window.map { ", window \($0.text) \(r.timeZone)" } ?? ""); corral firmware status \(r.id) --watch")
                }
            } catch let e as RolloutService.Failure {
                throw ValidationError(e.description)
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A rollout's progress: a bar per wave, counts, failures.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Rollout ID.") var id: Int64
        @Flag(help: "Redraw every 2 seconds until the rollout is finished, cancelled or stopped.") var watch = false
        @Flag(help: "JSON.") var json = false

        func run() async throws {
            let config = try ConfigLoading.load(store)
            let s = try StoreOpener.open(config)
            defer { s.close() }
            while true {
                guard let r = try s.rollout(id: id) else { throw ValidationError("no rollout \(id)") }
                let counts = try s.rolloutCounts(rolloutID: id)
                if json {
                    print(String(decoding: try JSONEncoder.sorted.encode(RolloutLine(r, counts)), as: UTF8.self))
                } else {
                    print(Self.render(r, counts, failures: try s.rolloutDevices(rolloutID: id, states: [.failed], maxWave: .max, dueBy: nil, limit: 5)))
                }
                guard watch, r.state == .running || r.state == .paused else { return }
                try await Task.sleep(for: .seconds(2))
                if !json { print("") }
            }
        }

        static func bar(_ done: Int, _ total: Int, width: Int = 30) -> String {
            let filled = total == 0 ? width : width * done / total
            return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
        }

        static func render(_ r: Rollout, _ counts: [Int: RolloutRules.Tally], failures: [RolloutDevice]) -> String {
            let line = RolloutLine(r, counts)
            var out = "rollout \(r.id) to \(r.version): \(r.state.rawValue)\(r.reason.isEmpty ? "" : " (\(r.reason))"), wave \(r.wave + 1) of \(r.waves.count)\n"
            out += "\(bar(line.upgraded + line.failed + line.skipped + line.cancelled, line.total)) \(line.percent)%  "
                + "upgraded \(line.upgraded), failed \(line.failed), downloading \(line.sent), pending \(line.pending), skipped \(line.skipped)"
                + (line.cancelled > 0 ? ", cancelled \(line.cancelled)" : "") + "\n"
            for (i, p) in r.waves.enumerated() {
                let t = counts[i] ?? RolloutRules.Tally()
                let total = t.byState.values.reduce(0, +)
                out += "  wave \(i + 1) (\(p)%): \(bar(t[.upgraded] + t[.failed] + t[.skipped] + t[.cancelled], total, width: 20)) "
                    + "\(t[.upgraded]) upgraded, \(t[.failed]) failed of \(total)\n"
            }
            for f in failures { out += "  failed: device \(f.deviceID): \(f.reason)\n" }
            return String(out.dropLast())
        }
    }

    struct Rollouts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rollouts", abstract: "List rollouts, newest first.")
        @OptionGroup var store: StoreOptions
        @Flag(help: "JSON, one object per line.") var json = false

        func run() async throws {
            let config = try ConfigLoading.load(store)
            let s = try StoreOpener.open(config)
            defer { s.close() }
            for r in try s.rollouts(under: "/", limit: 200) {
                let line = RolloutLine(r, try s.rolloutCounts(rolloutID: r.id))
                if json { print(String(decoding: try JSONEncoder.sorted.encode(line), as: UTF8.self)); continue }
                print("\(r.id)  \(r.version)  \(r.state.rawValue)  \(line.percent)%  upgraded \(line.upgraded)/\(line.total - line.skipped)  failed \(line.failed)  \(r.target.isEmpty ? "all devices" : r.target)")
            }
        }
    }

    struct Control: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "control", abstract: "Pause, resume or cancel a rollout.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "pause, resume or cancel.") var action: String
        @Argument(help: "Rollout ID.") var id: Int64

        func run() async throws { try await Self.perform(action, id, store) }

        static func perform(_ action: String, _ id: Int64, _ store: StoreOptions) async throws {
            let config = try ConfigLoading.load(store)
            let s = try StoreOpener.open(config)
            defer { s.close() }
            do {
                let r = try await RolloutService(store: s, profiles: ProfileRegistry()).control(id, action)
                print("rollout \(r.id): \(r.state.rawValue)")
            } catch let e as RolloutService.Failure {
                throw ValidationError(e.description)
            }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pause a rollout (downloads under way finish).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Rollout ID.") var id: Int64
        func run() async throws { try await Control.perform("pause", id, store) }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a paused or stopped rollout.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Rollout ID.") var id: Int64
        func run() async throws { try await Control.perform("resume", id, store) }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a rollout (downloads not yet fetched are withdrawn).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Rollout ID.") var id: Int64
        func run() async throws { try await Control.perform("cancel", id, store) }
    }

    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Roll a rollout's upgraded devices back to their previous version (a new rollout).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Rollout ID.") var id: Int64

        func run() async throws {
            let config = try ConfigLoading.load(store)
            let s = try StoreOpener.open(config)
            defer { s.close() }
            guard let r = try s.rollout(id: id), let org = try s.organisation(id: r.organisationID) else { throw ValidationError("no rollout \(id)") }
            do {
                let (back, tally) = try await RolloutService(store: s, profiles: ProfileRegistry()).rollback(id, actor: "cli", organisationPath: org.path)
                print("rollout \(back.id): back to \(back.version) on \(tally[.pending]) devices (rollback of \(id))")
            } catch let e as RolloutService.Failure {
                throw ValidationError(e.description)
            }
        }
    }

    /// A rollout in the API's field names.
    struct RolloutLine: Encodable {
        var id: Int64, version: String, state: String, reason: String, target: String, waves: [Int], current_wave: Int
        var total: Int, pending: Int, sent: Int, upgraded: Int, failed: Int, skipped: Int, cancelled: Int, percent: Int
        init(_ r: Rollout, _ counts: [Int: RolloutRules.Tally]) {
            id = r.id; version = r.version; state = r.state.rawValue; reason = r.reason; target = r.target; waves = r.waves; current_wave = r.wave + 1
            var all = RolloutRules.Tally()
            for t in counts.values { for (st, n) in t.byState { all.byState[st, default: 0] += n } }
            pending = all[.pending]; sent = all[.sent]; upgraded = all[.upgraded]; failed = all[.failed]; skipped = all[.skipped]; cancelled = all[.cancelled]
            total = pending + sent + upgraded + failed + skipped + cancelled
            percent = total == 0 ? 100 : 100 * (upgraded + failed + skipped + cancelled) / total
        }
    }

    /// The JSON shape of one image (the API's field names).
    struct FirmwareLine: Encodable {
        var id: Int64, name: String, version: String, target_profile: String, target_model: String, notes: String
        var size: Int64, sha256: String, organisation_id: Int64, uploaded_by: String, created_at: Int64
        init(_ f: StoredFile) {
            id = f.id; name = f.name; version = f.version; target_profile = f.targetProfile; target_model = f.targetModel; notes = f.notes
            size = f.size; sha256 = f.sha256; organisation_id = f.organisationID; uploaded_by = f.uploadedBy; created_at = f.createdAt
        }
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}
