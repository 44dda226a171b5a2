import ACSCore
import ArgumentParser
import CWMP
import DataModel
import Engine
import Foundation
import Storage

struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "Queue a task on a device; with --now, wake it with a connection request and wait for the result.",
        discussion: """
            Actions:
              reboot | factory-reset
              set <path>=<value> ...        (type: the stored parameter's, else the BBF data model's, else xsd:string;
                                             force one with <path>:<type>=<value>, e.g. ...Interval:unsignedInt=600)
              get <path> ...                 refresh <path or subtree.>
              add <object.>                  delete <object.N.>
              download <url> --type firmware [--file-size N] [--target-file NAME]
              upload [config | log]          the CPE uploads its configuration (default) or log to Corral: a backup
              schedule-download <url> --type firmware --window-start S --window-end E   (seconds from when the CPE gets it)
              cancel-transfer <command key>  queued-transfers
            Without --now the task runs at the device's next session (periodic Inform).
            Exit status: 0 done (or queued), 1 CPE fault or refused, 2 no result before the timeout.
            """)

    @OptionGroup var store: StoreOptions
    @Argument(help: "Device ID, name (OUI-Serial) or serial number.") var device: String
    @Argument(help: "reboot, factory-reset, set, get, refresh, add, delete, download, upload.") var action: String
    @Argument(help: "Arguments of the action.") var arguments: [String] = []
    @Flag(help: "Send a connection request now and wait for the result.") var now = false
    @Option(help: "Seconds to wait with --now.") var timeout: Double = 30
    @Option(name: .customLong("type"), help: "Download file type: firmware, web-content, config, or a TR-069 FileType string.") var fileType = "firmware"
    @Option(name: .customLong("file-size"), help: "Download file size in bytes (0 = unknown).") var fileSize: UInt32 = 0
    @Option(name: .customLong("target-file"), help: "Download target file name.") var targetFile = ""
    @Option(name: .customLong("window-start"), help: "schedule-download: the window opens this many seconds after the CPE gets it.") var windowStart: UInt32 = 0
    @Option(name: .customLong("window-end"), help: "schedule-download: and closes after this many.") var windowEnd: UInt32 = 3600
    @OptionGroup var xmpp: XMPPOptions

    func run() async throws {
        var config = try ConfigLoading.load(store)
        try xmpp.apply(to: &config)
        let s = try StoreOpener.open(config)
        defer { s.close() }
        let service = TaskService(store: s)
        guard let dev = try service.findDevice(device) else { throw ValidationError("no device \(device) (give an ID, OUI-Serial name or a unique serial)") }
        let schemas = ModelSchemas.locate().map { ModelSchemas(directory: $0) }
        let kind = try TaskArguments.kind(action: action, arguments: arguments, fileType: fileType, fileSize: fileSize,
                                          targetFile: targetFile, window: (windowStart, windowEnd), typeOf: { path in
            // What the CPE reported, else the BBF data model's type (never read yet: xsd:string would get 9006).
            (try? s.parameters(deviceID: dev.id, prefix: path))?.first(where: { $0.path == path })?.type
                ?? schemas?.definition(dev.dataModel, path)?.type
        })
        let task = try await service.queue(kind, on: dev)
        print("queued task #\(task.id) (\(kind.label)) on \(dev.name)")
        guard now else {
            print("it runs at the device's next session")
            return
        }
        do {
            // UDP connection requests leave from the STUN port that `serve` shares (SO_REUSEPORT), so NATs let them in.
            // XMPP: a session of its own for this request, under its own resource so that serve's stays logged in.
            let xmppClient = try config.xmppService(resource: "corral-cli-\(ProcessInfo.processInfo.processIdentifier)")
            let waker = Waker(store: s, udp: config.stunPort == 0 ? nil : .sharedPort(config.stunPort), xmpp: xmppClient,
                              watch: StoreSessionWatch(store: s), profiles: config.profileLibrary().0.registry)
            let attempt = try await waker.wakeOrThrow(dev)
            await xmppClient?.stop()
            print("\(dev.name) \(attempt.summary)")
        } catch {
            print("connection request failed: \(error)")
            print("task #\(task.id) stays queued for the next session")
            throw ExitCode(1)
        }
        guard let result = try await service.wait(for: task.id, timeout: .milliseconds(Int(timeout * 1000))) else {
            throw ExitCode(2)
        }
        print(TaskReport.describe(result))
        switch result.state {
        case .done: return
        case .fault, .cancelled: throw ExitCode(1)
        default:
            print("no final result within \(timeout) s")
            throw ExitCode(2)
        }
    }
}

enum TaskArguments {
    static func kind(action: String, arguments: [String], fileType: String, fileSize: UInt32, targetFile: String,
                     window: (start: UInt32, end: UInt32) = (0, 3600), typeOf: (String) -> XSDType?) throws -> TaskKind {
        func one(_ what: String) throws -> String {
            guard arguments.count == 1 else { throw ValidationError("\(action) takes exactly one \(what)") }
            return arguments[0]
        }
        switch action {
        case "reboot": return .reboot
        case "factory-reset", "factoryreset": return .factoryReset
        case "get":
            guard !arguments.isEmpty else { throw ValidationError("get takes one or more parameter paths") }
            return .getParameterValues(arguments)
        case "refresh": return .refresh(try one("path"))
        case "add":
            let o = try one("object path")
            guard o.hasSuffix(".") else { throw ValidationError("add takes a table path ending in '.', e.g. Device.WiFi.SSID.") }
            return .addObject(o)
        case "delete":
            let o = try one("object path")
            guard o.hasSuffix(".") else { throw ValidationError("delete takes an instance path ending in '.', e.g. Device.WiFi.SSID.3.") }
            return .deleteObject(o)
        case "set":
            guard !arguments.isEmpty else { throw ValidationError("set takes one or more <path>=<value>") }
            return .setParameterValues(try arguments.map { try parseAssignment($0, typeOf: typeOf) })
        case "download":
            let url = try one("URL")
            return .download(url: url, fileType: downloadFileType(fileType), fileSize: fileSize, targetFileName: targetFile)
        case "schedule-download":
            let url = try one("URL")
            guard window.end > window.start, window.end - window.start >= 60 else {
                throw ValidationError("--window-end must be at least 60 s after --window-start")
            }
            return .scheduleDownload(url: url, fileType: downloadFileType(fileType), fileSize: fileSize, targetFileName: targetFile,
                                     windowStart: window.start, windowEnd: window.end)
        case "cancel-transfer": return .cancelTransfer(commandKey: try one("command key"))
        case "queued-transfers": return .queuedTransfers
        case "upload", "backup":
            guard arguments.count <= 1, let type = Backup.fileType(arguments.first ?? "config") else {
                throw ValidationError("upload takes config (default), log or a TR-069 FileType")
            }
            return .upload(fileType: type)
        default:
            throw ValidationError("unknown action \(action); see corral task --help")
        }
    }

    static func parseAssignment(_ s: String, typeOf: (String) -> XSDType?) throws -> ParameterValue {
        guard let eq = s.firstIndex(of: "=") else { throw ValidationError("expected <path>=<value>, got \(s)") }
        var path = String(s[..<eq])
        let value = String(s[s.index(after: eq)...])
        var type: XSDType?
        if let colon = path.lastIndex(of: ":") {
            let t = String(path[path.index(after: colon)...]).replacingOccurrences(of: "xsd:", with: "")
            guard let parsed = XSDType(rawValue: t) else { throw ValidationError("unknown type \(t) in \(s)") }
            type = parsed
            path = String(path[..<colon])
        }
        guard !path.isEmpty, !path.hasSuffix(".") else { throw ValidationError("\(path) is not a parameter path") }
        return ParameterValue(name: path, value: value, type: type ?? typeOf(path) ?? .string)
    }

    static func downloadFileType(_ s: String) -> String {
        switch s.lowercased() {
        case "firmware": "1 Firmware Upgrade Image"
        case "web-content": "2 Web Content"
        case "config": "3 Vendor Configuration File"
        default: s
        }
    }
}

enum TaskReport {
    /// A task as people may see it: secrets in its request and result masked.
    static func masked(_ t: DeviceTask) -> DeviceTask {
        var t = t
        if var r = t.result {
            r.values = r.values.map { var v = $0; v.value = ManagementPaths.shown(v.name, v.value); return v }
            t.result = r
        }
        if case .setParameterValues(let vs) = t.kind {
            t.kind = .setParameterValues(vs.map { var v = $0; v.value = ManagementPaths.shown(v.name, v.value); return v })
        }
        return t
    }

    static func describe(_ t: DeviceTask) -> String {
        var lines = ["task #\(t.id) \(t.kind.label): \(t.state.rawValue)"]
        if let f = t.fault {
            lines.append("fault \(f.code) \(f.string)")
            for p in f.setParameterValuesFaults { lines.append("  \(p.parameterName): \(p.code) \(p.string)") }
        }
        if let r = t.result {
            for v in r.values { lines.append("  \(v.name) = \(ManagementPaths.shown(v.name, v.value))") }
            if let n = r.instanceNumber { lines.append("  instance \(n)") }
            if case .setParameterValues = t.kind, r.status == 1 { lines.append("  status 1: committed, takes effect after a reboot") }
        }
        return lines.joined(separator: "\n")
    }
}
