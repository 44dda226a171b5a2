import ACSCore
import ArgumentParser
import CWMP
import Engine
import Foundation
import Storage

/// `corral validate <device>`: the launch checklist against a live device (issue 16). Works on the data directory of
/// a running `corral serve`: tasks go through its store, the device is woken from here.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Run the launch checklist against a live device and save the report (a launch sign-off record).",
        discussion: """
            Checks, one line each with PASS/FAIL and the evidence:
              onboarded      unique credentials, confirmed by the CPE
              inventory      Name = OUI-Serial, ID, Status, Profile, Serial, Description "Onboarded …"
              reachable      each connection-request method the device has, with its latency
              reads          the identity and every alias of the device's profile
              change         a value set, read back, restored and read back (the WiFi SSID unless --set)
              reboot         the device reboots and comes back with M Reboot
              factory-reset  (--include-factory-reset) it onboards again as the same ID, keeping groups, location, description
            Every wait is bounded (--timeout per step; reboot and factory reset 3 times as long). A device that cannot be
            woken fails at once: the checks that need it say "skipped: device not reachable".
            Exit status: 0 every check passed, 1 a check failed.
            """)

    @OptionGroup var store: StoreOptions
    @Argument(help: "Device ID, name (OUI-Serial) or serial number.") var device: String
    @Flag(name: .customLong("include-factory-reset"), help: "Also factory-reset the device and check it onboards again as the same ID.")
    var includeFactoryReset = false
    @Flag(help: "Print the report as JSON.") var json = false
    @Option(name: .customLong("set"), help: "The configuration change: <path or alias>=<value>, or <path>:<type>=<value> (default: the WiFi SSID, set to a random name).")
    var setting: String?
    @Option(help: "Seconds each step may wait for the device.") var timeout: Double = 60
    @Flag(help: "Show the device's saved reports (newest 10) instead of running the checklist.") var history = false
    @OptionGroup var xmpp: XMPPOptions

    func run() async throws {
        var config = try ConfigLoading.load(store)
        try xmpp.apply(to: &config)
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be 1-3600 seconds") }
        let s = try StoreOpener.open(config)
        defer { s.close() }
        guard let dev = try TaskService(store: s).findDevice(device) else {
            throw ValidationError("no device \(device) (give an ID, OUI-Serial name or a unique serial)")
        }
        if history {
            let list = try s.validations(deviceID: dev.id, limit: 10)
            if json {
                try Self.printJSON(list.map { Report($0, device: dev) })
                return
            }
            if list.isEmpty { print("no saved reports of \(dev.name) (run: corral validate \(dev.name))") }
            for v in list {
                print("#\(v.id)  \(CWMPDateTime.format(unixSeconds: v.startedAt))  by \(v.createdBy)  \(v.summary)")
                for line in v.lines { print("    " + line) }
            }
            return
        }
        let set = try setting.map(Self.parseSetting)
        if let set, ManagementPaths.isSecret(set.path) {
            throw ValidationError("\(set.path) is a secret: it reads back empty, so the change cannot be verified; pick another parameter")
        }

        // UDP connection requests leave from the STUN port `serve` shares; XMPP gets a session of its own (see `task --now`).
        let xmppClient = try config.xmppService(resource: "corral-cli-\(ProcessInfo.processInfo.processIdentifier)")
        let registry = config.profileLibrary().0.registry
        let waker = Waker(store: s, udp: config.stunPort == 0 ? nil : .sharedPort(config.stunPort), xmpp: xmppClient,
                          watch: StoreSessionWatch(store: s), profiles: registry)
        let runner = ValidationRunner(store: s, waking: waker, profiles: { registry })
        let who = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "?"
        let step = Duration.milliseconds(Int(timeout * 1000))
        let options = ValidationRunner.Options(includeFactoryReset: includeFactoryReset, setting: set, stepTimeout: step,
                                               rebootTimeout: step * 3, createdBy: "cli (\(who))")
        if !json { print("validating \(dev.name) (ID \(dev.id), profile \(dev.profile.isEmpty ? "none" : dev.profile))") }
        let quiet = json
        let report: LaunchValidation
        do {
            report = try await runner.run(dev, options: options) { check in
                if !quiet { print(LaunchChecklist.line(check)) }
            }
        } catch {
            await xmppClient?.stop()
            throw error
        }
        await xmppClient?.stop()
        if json {
            try Self.printJSON(Report(report, device: dev))
        } else {
            print(report.summary)
            print("saved as report #\(report.id) (corral validate \(dev.name) --history; GET /api/v1/validations/\(report.id))")
        }
        if !report.passed { throw ExitCode(1) }
    }

    /// "<path or alias>=<value>" or "<path>:<type>=<value>".
    static func parseSetting(_ s: String) throws -> LaunchSetting {
        guard let eq = s.firstIndex(of: "=") else { throw ValidationError("--set takes <path or alias>=<value>, got \(s)") }
        var path = String(s[..<eq])
        let value = String(s[s.index(after: eq)...])
        var type: XSDType?
        if let colon = path.lastIndex(of: ":") {
            let t = String(path[path.index(after: colon)...]).replacingOccurrences(of: "xsd:", with: "")
            guard let parsed = XSDType(rawValue: t) else { throw ValidationError("unknown type \(t) in --set \(s)") }
            type = parsed
            path = String(path[..<colon])
        }
        guard !path.isEmpty, !path.hasSuffix(".") else { throw ValidationError("--set: \(path) is not a parameter path or alias") }
        return LaunchSetting(path: path, value: value, type: type)
    }

    struct Report: Encodable {
        struct Check: Encodable { var name: String; var passed: Bool; var evidence: String; var durationMs: Int }
        var id: Int64
        var deviceId: Int64
        var device: String
        var passed: Bool
        var startedAt: String
        var finishedAt: String
        var createdBy: String
        var summary: String
        var checks: [Check]
        init(_ v: LaunchValidation, device d: Device) {
            id = v.id; deviceId = v.deviceID; device = d.name; passed = v.passed
            startedAt = CWMPDateTime.format(unixSeconds: v.startedAt); finishedAt = CWMPDateTime.format(unixSeconds: v.finishedAt)
            createdBy = v.createdBy; summary = v.summary
            checks = v.checks.map { Check(name: $0.name, passed: $0.passed, evidence: $0.evidence, durationMs: $0.durationMs) }
        }
    }

    static func printJSON<T: Encodable>(_ value: T) throws {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try e.encode(value), as: UTF8.self))
    }
}
