import ACSCore
import API
import ArgumentParser
import Engine
import Foundation
import HTTPAuth
import Scripting
import Storage

struct FirmwareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "firmware", abstract: "Firmware images: register and list.",
                                                    subcommands: [Add.self, List.self])

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
            let s = try SQLiteStore(directory: config.dataDirectory)
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
            let s = try SQLiteStore(directory: config.dataDirectory)
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
