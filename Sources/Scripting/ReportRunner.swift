import ACSCore
import CLua
import Foundation
import Storage

/// Where report rows go (streamed: a report over a million devices never holds them all).
public protocol ReportOutput: AnyObject {
    func begin(title: String?, columns: [String])
    func row(_ values: [LuaValue])
    func end()
}

public struct ReportSummary: Sendable, Equatable {
    public var columns: [String]
    public var rows: Int
}

/// Runs a report script: `report{ columns = ..., rows = devices{...} }` and/or `emit{...}`.
public enum ReportRunner {
    public static func run(source: String, name: String, store: AutomationStore, registry: ProfileRegistry,
                           args: [String: String] = [:], now: Int64, output: ReportOutput, vm: LuaVM = LuaVM(),
                           limits: ScriptLimits = .report, scope: String? = nil, log: @escaping (String) -> Void = { _ in }) throws -> ReportSummary {
        let access = StoreScriptAccess(store: store, registry: registry, now: now, scope: scope)
        let sink = ReportSink(access: access, output: output, limits: limits)
        let run = ScriptRun(context: .report, name: name, now: now, seed: 0, log: log)
        run.population = access
        run.devices = access
        run.sink = sink
        vm.lock.lock()
        defer { vm.lock.unlock() }
        let ref = try vm.load(source, name: name)
        defer { vm.release(ref) }
        var argTable = LuaTable()
        for (k, v) in args.sorted(by: { $0.key < $1.key }) {
            argTable.fields[k] = Int64(v).map { .int($0) } ?? Double(v).map { .number($0) } ?? .string(v)
            argTable.keys.append(k)
        }
        vm.setGlobal(of: ref, "args", .table(argTable))
        do {
            try vm.call(ref, run: run, limits: limits, results: 0)
        } catch let e as ScriptError where sink.outputExceeded { throw ScriptError(.outputLimit, e.message) }
        if let rows = sink.rowsFunction {
            // Drive `rows = devices{...}` in Lua: one emit per device object.
            let driver = try vm.load("local rows = ...\nfor dev in rows do emit(dev) end", name: name)
            defer { vm.release(driver); vm.release(rows) }
            do {
                try vm.call(driver, args: [.function(ref: rows)], run: run, limits: limits, results: 0)
            } catch let e as ScriptError where sink.outputExceeded { throw ScriptError(.outputLimit, e.message) }
        }
        guard sink.columns != nil else { throw ScriptError(.invalid, "\(name): the script never calls report{}") }
        if let e = sink.failure { throw ScriptError(.runtime, "\(name): \(e)") }
        output.end()
        vm.collectGarbage()
        return ReportSummary(columns: sink.columns ?? [], rows: sink.rows)
    }
}

final class ReportSink: DeclarationSink {
    let access: StoreScriptAccess
    let output: ReportOutput
    var columns: [String]?
    var rowsFunction: Int32?
    var rows = 0
    var failure: String?
    /// Output budget: rows and bytes of cell text emitted so far, against the run's limits.
    let limits: ScriptLimits
    var bytes = 0
    var outputExceeded = false

    init(access: StoreScriptAccess, output: ReportOutput, limits: ScriptLimits = .report) {
        self.access = access; self.output = output; self.limits = limits
    }

    /// Counts a row against the output budget before it is written; the error stops the script.
    func charge(_ values: [LuaValue]) -> String? {
        for v in values {
            switch v {
            case .string(let s): bytes += s.utf8.count
            default: bytes += 16
            }
        }
        guard rows < limits.outputRows, bytes <= limits.outputBytes else {
            outputExceeded = true
            return rows >= limits.outputRows ? "report output limit of \(limits.outputRows) rows exceeded"
                                             : "report output limit of \(limits.outputBytes >> 20) MiB exceeded"
        }
        return nil
    }

    func report(_ def: LuaTable) -> String? {
        guard columns == nil else { return "report{} may be called once" }
        let cols = def["columns"].table?.array.compactMap(\.string) ?? []
        guard !cols.isEmpty, cols.count == def["columns"].table?.array.count else { return "report{} needs columns = {\"name\", ...}" }
        columns = cols
        output.begin(title: def["title"].string, columns: cols)
        if case .function(let ref) = def["rows"] { rowsFunction = ref }
        else if !def["rows"].isNil { return "rows must be an iterator such as devices{...}" }
        return nil
    }

    func emit(_ row: LuaTable) -> String? {
        guard let columns else { return "call report{ columns = {...} } before emit" }
        if let h = row["__device"].int {
            guard let d = access.device(Int(h)) else { return "device object expired" }
            var values: [LuaValue] = []
            for c in columns {
                switch deviceColumn(c, d, handle: Int(h)) {
                case .value(let v): values.append(v)
                case .error(let e): return e
                case .suspend: return "cannot suspend in a report"
                }
            }
            if let e = charge(values) { return e }
            output.row(values)
        } else {
            let values = columns.map { row[$0] }
            if let e = charge(values) { return e }
            output.row(values)
        }
        rows += 1
        return nil
    }

    /// A device field, "kpi:<name>[:<window s>]", or an alias/path.
    func deviceColumn(_ c: String, _ d: Device, handle: Int) -> GetResult {
        switch c {
        case "id": return .value(.int(d.id))
        case "name": return .value(.string(d.name))
        case "serial": return .value(.string(d.serialNumber))
        case "oui": return .value(.string(d.oui))
        case "product_class": return .value(.string(d.productClass))
        case "manufacturer": return .value(.string(d.manufacturer))
        case "model": return .value(.string(d.modelName))
        case "software_version": return .value(.string(d.softwareVersion))
        case "hardware_version": return .value(.string(d.hardwareVersion))
        case "profile": return .value(.string(d.profile))
        case "data_model": return .value(.string(d.dataModel?.rawValue ?? ""))
        case "location": return .value(.string(d.location))
        case "description": return .value(.string(d.description))
        case "ip": return .value(.string(d.ipAddress))
        case "groups": return .value(.string(d.groups.joined(separator: ",")))
        case "last_inform": return .value(.int(d.lastInform))
        case "last_boot": return .value(.int(d.lastBoot))
        case "created_at": return .value(.int(d.createdAt))
        case "status": return .value(.string(d.status(now: access.now).rawValue))
        default:
            if c.hasPrefix("kpi:") {
                let parts = c.dropFirst(4).split(separator: ":")
                return access.kpi(handle: handle, name: String(parts.first ?? ""), window: parts.count > 1 ? Int64(parts[1]) : nil)
            }
            return access.get(handle: handle, name: c, maxAge: nil)
        }
    }
}

extension LuaVM {
    /// Sets a global in a loaded chunk's environment (e.g. `args`).
    func setGlobal(of ref: Int32, _ name: String, _ value: LuaValue) {
        withEnvironment(of: ref) { env in
            LuaStack.pushString(L, name)
            LuaStack.push(L, value)
            lua_rawset(L, env)
        }
    }
}
