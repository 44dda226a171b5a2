import ACSCore
import CWMP
import Foundation
import Scripting
import Storage

/// `corral script test <file>`: runs the `test(name, spec)` cases an automation, campaign or report file declares,
/// each against its own fixture devices in a fresh SQLite store, through the same runners `serve` uses, and compares
/// what happened with the case's `expect`.
public struct ScriptTestRunner {
    public enum Kind: String, Sendable, CaseIterable { case automation, campaign, report }

    public struct CaseResult: Sendable {
        public var name: String
        /// Empty when the case passed.
        public var failures: [String]
    }

    let registry: ProfileRegistry
    /// Where `start_campaign` finds its files in automation cases.
    let campaignsDirectory: String?

    public init(registry: ProfileRegistry, campaignsDirectory: String?) {
        self.registry = registry; self.campaignsDirectory = campaignsDirectory
    }

    /// The kind of a script file, from what it declares.
    public static func kind(of source: String) -> Kind {
        if source.range(of: #"(^|\W)campaign\s*[{(]"#, options: .regularExpression) != nil { return .campaign }
        if source.range(of: #"(^|\W)report\s*[{(]"#, options: .regularExpression) != nil { return .report }
        return .automation
    }

    /// The cases a file declares (loaded once against an empty store; its declarations are accepted and ignored).
    public func cases(source: String, name: String, kind: Kind) throws -> [(String, LuaTable)] {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLStore(directory: dir)
        defer { store.close() }
        let context: ScriptContext = switch kind { case .automation: .automation; case .campaign: .campaign; case .report: .report }
        return try ScriptTestCases.collect(source: source, name: name, context: context, store: store, registry: registry)
    }

    /// Runs every case; the file's own errors (it does not load) are one failed case.
    public func run(source: String, name: String, kind: Kind? = nil) async -> [CaseResult] {
        let kind = kind ?? Self.kind(of: source)
        let cases: [(String, LuaTable)]
        do { cases = try self.cases(source: source, name: name, kind: kind) } catch {
            return [CaseResult(name: name, failures: ["the file does not load: \(error)"])]
        }
        guard !cases.isEmpty else { return [CaseResult(name: name, failures: ["no test(name, {...}) cases in \(name)"])] }
        var out: [CaseResult] = []
        for (caseName, spec) in cases {
            do {
                out.append(CaseResult(name: caseName, failures: try await runCase(spec, source: source, name: name, kind: kind)))
            } catch {
                out.append(CaseResult(name: caseName, failures: ["\(error)"]))
            }
        }
        return out
    }

    // MARK: one case

    func runCase(_ spec: LuaTable, source: String, name: String, kind: Kind) async throws -> [String] {
        let known: Set<String> = ["devices", "event", "schedule", "after", "args", "expect"]
        if let k = spec.fields.keys.sorted().first(where: { !known.contains($0) }) { return ["unknown field '\(k)' (known: \(known.sorted().joined(separator: ", ")))"] }
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLStore(directory: dir)
        defer { store.close() }
        let now = Int64(Date().timeIntervalSince1970)
        var devices: [String: Device] = [:]
        for case .table(let d) in spec["devices"].table?.array ?? [] {
            let device = try await fixture(d, store: store, now: now)
            devices[device.serialNumber] = device
        }
        let expect = spec["expect"].table ?? LuaTable()
        var failures: [String] = []
        var failure: String?
        var rows: [[String]] = []
        var reportRan = false
        do {
            switch kind {
            case .automation:
                try await automation(spec, source: source, name: name, store: store, devices: devices, now: now, dir: dir)
            case .campaign:
                for (id, kinds) in try campaign(source: source, name: name, store: store, now: now) {
                    for k in kinds { _ = try await TaskService(store: store).queue(k, on: try store.device(id: id)!) }
                }
            case .report:
                rows = try report(source: source, name: name, store: store, args: spec["args"].table, now: now)
                reportRan = true
            }
        } catch {
            failure = "\(error)"
        }
        // The expectations.
        if let wanted = expect["error"].string {
            if let failure, failure.contains(wanted) { return [] }
            return ["expected an error containing \"\(wanted)\", got \(failure.map { "\"\($0)\"" } ?? "none")"]
        }
        if let failure { return ["failed: \(failure)"] }
        for (field, value) in expect.fields.sorted(by: { $0.key < $1.key }) {
            switch field {
            case "tasks", "tags", "groups", "alerts":
                guard let perDevice = value.table else { failures.append("expect.\(field) is a table by serial"); continue }
                for (serial, want) in perDevice.fields.sorted(by: { $0.key < $1.key }) {
                    guard let d = devices[serial] else { failures.append("expect.\(field): no fixture device \(serial)"); continue }
                    let wanted = want.table?.array.compactMap(\.string) ?? []
                    let got = try actual(field, d, store)
                    if got != wanted { failures.append("\(field) of \(serial): expected \(wanted), got \(got)") }
                }
            case "location":
                for (serial, want) in value.table?.fields.sorted(by: { $0.key < $1.key }) ?? [] {
                    let got = try devices[serial].flatMap { try store.device(id: $0.id) }?.location
                    if got != want.string { failures.append("location of \(serial): expected \(want.string ?? "nil"), got \(got ?? "no device")") }
                }
            case "events":
                let wanted = value.table?.array.compactMap(\.string) ?? []
                let got = try store.events(deviceID: nil, limit: 1000).map(\.kind).filter { $0.hasPrefix("custom.") || $0.hasPrefix("alert.") }.reversed()
                if Array(got) != wanted { failures.append("events: expected \(wanted), got \(Array(got))") }
            case "rows":
                if !reportRan { failures.append("expect.rows is for reports") } else if Int64(rows.count) != value.int {
                    failures.append("rows: expected \(value.int.map(String.init) ?? "?"), got \(rows.count)")
                }
            case "contains":
                let text = rows.map { $0.joined(separator: ",") }.joined(separator: "\n")
                for s in value.table?.array.compactMap(\.string) ?? [value.string].compactMap({ $0 }) where !text.contains(s) {
                    failures.append("the report does not contain \"\(s)\"")
                }
            default:
                failures.append("unknown expectation '\(field)' (known: tasks, tags, groups, location, alerts, events, rows, contains, error)")
            }
        }
        return failures
    }

    func actual(_ field: String, _ d: Device, _ store: SQLStore) throws -> [String] {
        switch field {
        case "tasks": return try store.tasks(deviceID: d.id, states: []).flatMap { Self.describe($0.kind) }
        case "tags": return try store.device(id: d.id)?.tags ?? []
        case "groups": return try store.device(id: d.id)?.groups ?? []
        default:
            var q = AlertQuery()
            q.deviceID = d.id
            return try store.alerts(q).map(\.alert.name).sorted()
        }
    }

    /// Tasks as the cases write them: "reboot", "set <path>=<value>" (one per value), "refresh <path>" ...
    static func describe(_ k: TaskKind) -> [String] {
        switch k {
        case .setParameterValues(let values): return values.map { "set \($0.name)=\($0.value)" }
        case .getParameterValues(let paths): return paths.map { "get \($0)" }
        case .refresh(let p): return ["refresh \(p)"]
        case .addObject(let p): return ["add \(p)"]
        case .deleteObject(let p): return ["delete \(p)"]
        case .download(let url, _, _, _): return ["download \(url)"]
        case .upload(let type): return ["backup \(type)"]
        case .scheduleDownload(let url, _, _, _, _, _): return ["schedule-download \(url)"]
        case .diagnostics(let d): return ["diagnose \(d.plan.test.rawValue)"]
        default: return [k.label]
        }
    }

    func automation(_ spec: LuaTable, source: String, name: String, store: SQLStore, devices: [String: Device], now: Int64, dir: String) async throws {
        let files = (dir as NSString).appendingPathComponent("automations")
        try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
        try source.write(toFile: (files as NSString).appendingPathComponent(name), atomically: true, encoding: .utf8)
        let runner = AutomationRunner(directory: files, store: store, registry: registry, campaignsDirectory: campaignsDirectory,
                                      log: Log(label: "script-test"), alertInterval: 1)
        if let problem = runner.statuses.first?.problems.first { throw ScriptError(.invalid, problem) }
        if let e = spec["event"].table {
            guard let kind = e["kind"].string else { throw ScriptError(.invalid, "event needs a kind") }
            var deviceID: Int64?
            if let serial = e["device"].string {
                guard let d = devices[serial] else { throw ScriptError(.invalid, "event: no fixture device \(serial)") }
                deviceID = d.id
            }
            var data: [String: Any] = [:]
            for (k, v) in e["data"].table?.fields ?? [:] {
                switch v {
                case .string(let s): data[k] = s
                case .int(let i): data[k] = i
                case .number(let n): data[k] = n
                case .bool(let b): data[k] = b
                default: continue
                }
            }
            try await store.apply([.automation(.event(EventRecord(at: now, kind: kind, deviceID: deviceID, data: EventRecord.data(data))))])
        }
        let schedules = spec["schedule"] == .bool(true)
        // Events emitted by handlers are handled at the next pass: a few passes let chains settle.
        for i in 0..<5 { await runner.step(now: now + Int64(i), schedules: schedules && i == 0) }
        if let after = spec["after"].string {
            guard let seconds = AutomationScript.seconds(after) else { throw ScriptError(.invalid, "after is a duration (\"30m\")") }
            for i in 0..<5 { await runner.step(now: now + seconds + Int64(i), schedules: false) }
        }
        if let failed = runner.statuses.first?.problems.first { throw ScriptError(.runtime, failed) }
        if let last = runner.lastError { throw ScriptError(.runtime, last) }
    }

    func campaign(source: String, name: String, store: SQLStore, now: Int64) throws -> [(Int64, [TaskKind])] {
        var out: [(Int64, [TaskKind])] = []
        var failure: ScriptError?
        try CampaignService(store: store, registry: registry).dryRun(source: source, name: name, now: now) { d, result in
            switch result {
            case .success(let actions): out.append((d.id, CampaignScript.tasks(for: actions)))
            case .failure(let e): failure = failure ?? e
            }
        }
        if let failure { throw failure }
        return out
    }

    func report(source: String, name: String, store: SQLStore, args: LuaTable?, now: Int64) throws -> [[String]] {
        var lines: [String] = []
        let output = ReportWriter(format: .csv) { lines.append($0) }
        var a: [String: String] = [:]
        for (k, v) in args?.fields ?? [:] { a[k] = v.string ?? v.int.map(String.init) ?? "" }
        _ = try ReportRunner.run(source: source, name: name, store: store, registry: registry, args: a, now: now, output: output)
        // CSV lines after the header; a value with a comma is quoted, which `contains` still finds.
        return lines.joined().split(whereSeparator: \.isNewline).dropFirst().map { [String($0)] }
    }

    /// A fixture device: `{serial, profile, params = {alias or path = value}, oui, product_class, manufacturer, model,
    /// software_version, tags, groups, location, inform_interval, last_inform (seconds relative to now, e.g. -7200)}`.
    func fixture(_ d: LuaTable, store: SQLStore, now: Int64) async throws -> Device {
        guard let serial = d["serial"].string, !serial.isEmpty else { throw ScriptError(.invalid, "every fixture device needs a serial") }
        let profileName = d["profile"].string ?? "generic-tr181"
        guard let profile = registry.profile(named: profileName) else { throw ScriptError(.invalid, "device \(serial): no profile \(profileName)") }
        let oui = d["oui"].string ?? "00C0FF"
        var device = Device(name: Device.name(oui: oui, serial: serial), oui: oui, productClass: d["product_class"].string ?? "Fixture",
                            serialNumber: serial, manufacturer: d["manufacturer"].string ?? "", modelName: d["model"].string ?? "",
                            softwareVersion: d["software_version"].string ?? "", profile: profile.name, dataModel: profile.dataModel ?? .tr181,
                            informInterval: Int(d["inform_interval"].int ?? 300), createdAt: now - 86_400)
        device = try await store.createDevice(device)
        device.lastInform = now + (d["last_inform"].int ?? 0)
        device.tags = d["tags"].table?.array.compactMap(\.string) ?? []
        device.groups = d["groups"].table?.array.compactMap(\.string) ?? []
        device.location = d["location"].string ?? ""
        try await store.apply([.updateDevice(device)])
        try await store.updateDeviceMetadata(device)
        var values: [ParameterValue] = []
        for (name, v) in (d["params"].table?.fields ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let path = profile.path(for: name, kind: device.dataModel) else { throw ScriptError(.invalid, "device \(serial): unknown alias or path \(name)") }
            switch LuaConvert.parameter(path, v, explicitType: nil, storedType: nil) {
            case .success(var pv):
                if case .int = v { pv.type = .int }
                values.append(pv)
            case .failure(let e): throw e
            }
        }
        if !values.isEmpty { try await store.apply([.parameters(deviceID: device.id, values: values, at: now)]) }
        return device
    }

    static func temporaryDirectory() -> String {
        let dir = NSTemporaryDirectory() + "corral-script-test-" + UUID().uuidString.prefix(8)
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}
