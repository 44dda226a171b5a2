import ACSCore
import ArgumentParser
import Engine
import Foundation
import Storage

struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Look at the devices in the store; recover credentials, delete, see refused attempts.",
                                                    subcommands: [List.self, Show.self, ResetCredentials.self, Delete.self, Attempts.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List devices: name, ID, status, profile, serial, groups, location, description, model, software.")
        @OptionGroup var store: StoreOptions
        @Flag(help: "Print {\"devices\": [...]} as JSON.") var json = false
        @Option(help: "At most this many devices.") var limit = 1000
        @Option(help: "online, offline or never.") var status: DeviceStatus?
        @Option(help: "Only this profile.") var profile: String?
        @Option(help: "Only this model name.") var model: String?
        @Option(name: .customLong("software-version"), help: "Only this software version.") var softwareVersion: String?
        @Option(help: "Only devices in this group.") var group: String?
        @Option(help: "Text in name, serial or description.") var search: String?
        @Option(help: "Sort by: \(DeviceQuery.Sort.allCases.map(\.rawValue).joined(separator: ", ")).") var sort: DeviceQuery.Sort = .id

        func run() throws {
            let config = try ConfigLoading.load(store)
            let s = try StoreOpener.open(config)
            defer { s.close() }
            let now = Int64(Date().timeIntervalSince1970)
            var q = DeviceQuery()
            q.status = status; q.profile = profile; q.model = model; q.softwareVersion = softwareVersion
            q.group = group; q.text = search; q.sort = sort; q.limit = limit
            let devices = try s.devices(q, now: now).devices
            if json {
                print(try DeviceJSON.encode(["devices": devices.map { DeviceJSON(device: $0, now: now) }]))
                return
            }
            let rows = devices.map { d in
                [d.name, String(d.id), d.status(now: now).rawValue, d.profile, d.serialNumber, d.groups.joined(separator: ","),
                 d.location, d.description, d.modelName, d.softwareVersion]
            }
            print(Table.render(header: ["NAME", "ID", "STATUS", "PROFILE", "SERIAL", "GROUPS", "LOCATION", "DESCRIPTION", "MODEL", "SOFTWARE"], rows: rows))
            print("\(devices.count) of \(try s.countDevices(q, now: now)) matching devices (\(try s.deviceCount()) in all)")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one device (by ID, name or serial): identity, parameters, tasks, faults.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Device ID, name (OUI-Serial) or serial number.") var device: String
        @Flag(help: "Print JSON.") var json = false
        @Option(help: "Only parameters below this path.") var prefix = ""

        func run() throws {
            let config = try ConfigLoading.load(store)
            let s = try StoreOpener.open(config)
            defer { s.close() }
            guard let d = try TaskService(store: s).findDevice(device) else { throw ValidationError("no device \(device)") }
            let now = Int64(Date().timeIntervalSince1970)
            let params = try s.parameters(deviceID: d.id, prefix: prefix)
            let tasks = try s.tasks(deviceID: d.id, states: [])
            let faults = try s.faults(deviceID: d.id, limit: 20)
            // From the stored parameters; the STUN binding table and the wake log live in the serving process (API).
            let reach = Waker(store: s, udp: nil, watch: StoreSessionWatch(store: s), profiles: config.profileLibrary().0.registry).report(for: d)
            if json {
                struct Out: Encodable {
                    let device: DeviceJSON; let reachability: ReachabilityReport; let parameters: [StoredParameter]; let tasks: [DeviceTask]; let faults: [FaultRecord]
                }
                let shown = params.map { p -> StoredParameter in var p = p; p.value = ManagementPaths.shown(p.path, p.value); return p }
                let maskedTasks = tasks.map(TaskReport.masked)
                print(try DeviceJSON.encode(Out(device: DeviceJSON(device: d, now: now), reachability: reach, parameters: shown, tasks: maskedTasks, faults: faults)))
                return
            }
            let j = DeviceJSON(device: d, now: now)
            for (k, v) in [("Name", j.name), ("ID", String(j.id)), ("Status", j.status), ("Profile", j.profile), ("Serial", j.serial),
                           ("OUI", j.oui), ("Product class", j.productClass), ("Manufacturer", j.manufacturer), ("Model", j.model),
                           ("Software", j.softwareVersion), ("Hardware", j.hardwareVersion), ("Data model", j.dataModel),
                           ("Groups", j.groups.joined(separator: ",")), ("Location", j.location), ("Description", j.description),
                           ("IP", j.ip), ("Last inform", j.lastInform ?? "never"), ("Connection request URL", d.connectionRequestURL)] {
                print("\(k.padding(toLength: 24, withPad: " ", startingAt: 0)) \(v)")
            }
            print("\nReachability:")
            for l in reach.lines { print("  " + l) }
            print("\nParameters (\(params.count)):")
            for p in params { print("  \(p.path) = \(ManagementPaths.shown(p.path, p.value))  [\(p.type.rawValue)]\(p.updatedAt == 0 ? "  (\(ManagementPaths.staleNote))" : "")") }
            print("\nTasks (\(tasks.count)):")
            for t in tasks { print("  #\(t.id) \(t.kind.label) \(t.state.rawValue)\(t.fault.map { " \($0.code) \($0.string)" } ?? "")") }
            let provisions = try s.provisionStates(deviceID: d.id)
            if !provisions.isEmpty {
                print("\nProvisioning in backoff (\(provisions.count)):")
                for p in provisions {
                    print("  \(p.script): attempt \(p.attempts), next try \(DeviceJSON.time(p.nextRetry) ?? "-"): \(p.lastError)")
                }
            }
            print("\nFaults (\(faults.count)):")
            for f in faults { print("  \(DeviceJSON.time(f.at) ?? "") \(f.source) \(f.code) \(f.message)\(f.taskID.map { " (task #\($0))" } ?? "")") }
        }
    }
}

/// The device as the CLI (and later the API) prints it.
struct DeviceJSON: Encodable {
    let id: Int64
    let name: String
    let status: String
    let profile: String
    let serial: String
    let oui: String
    let productClass: String
    let manufacturer: String
    let model: String
    let softwareVersion: String
    let hardwareVersion: String
    let dataModel: String
    let groups: [String]
    let location: String
    let description: String
    let ip: String
    let lastInform: String?
    let onboardedAt: String?
    let credentialsConfirmed: Bool
    /// Re-bootstrap security (issue 11): two parties claim the device / a quarantined re-bootstrap.
    let credentialConflict: Bool
    let rebootstrap: String

    init(device d: Device, now: Int64) {
        id = d.id; name = d.name; status = d.status(now: now).rawValue; profile = d.profile; serial = d.serialNumber
        oui = d.oui; productClass = d.productClass; manufacturer = d.manufacturer; model = d.modelName
        softwareVersion = d.softwareVersion; hardwareVersion = d.hardwareVersion; dataModel = d.dataModel?.rawValue ?? ""
        groups = d.groups; location = d.location; description = d.description; ip = d.ipAddress
        lastInform = Self.time(d.lastInform); onboardedAt = Self.time(d.onboardedAt); credentialsConfirmed = d.credentialsConfirmed
        credentialConflict = d.credentialConflict
        switch d.rebootstrapHold {
        case .none: rebootstrap = "none"
        case .awaitingApproval: rebootstrap = "awaiting_approval"
        case .approved: rebootstrap = "approved"
        }
    }

    static func time(_ t: Int64) -> String? {
        guard t > 0 else { return nil }
        let f = ISO8601DateFormatter()
        return f.string(from: Date(timeIntervalSince1970: Double(t)))
    }

    static func encode<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        e.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try e.encode(value), as: UTF8.self)
    }
}

enum Table {
    static func render(header: [String], rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = min(40, max(widths[i], c.count)) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let cut = c.count > widths[i] ? String(c.prefix(widths[i] - 1)) + "…" : c
                return cut.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}

extension DeviceStatus: ExpressibleByArgument {}
extension DeviceQuery.Sort: ExpressibleByArgument {}
