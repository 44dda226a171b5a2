import Storage
import ACSCore
import Foundation

/// One run of Lua code: its context, its deterministic clock and random numbers, and what the bridge acts on.
public final class ScriptRun {
    public let context: ScriptContext
    /// Script name for logs and errors.
    public var name: String
    /// What os.time() returns: the session's Inform time, or the start of a report or campaign step.
    public var now: Int64
    var random: SplitMix64
    public var log: (String) -> Void
    public var devices: DeviceAccess?
    public var population: PopulationAccess?
    public var sink: DeclarationSink?
    /// Labels, alerts, events and campaigns of automation handlers.
    public var automation: AutomationActions?

    public init(context: ScriptContext, name: String, now: Int64, seed: UInt64, log: @escaping (String) -> Void = { _ in }) {
        self.context = context
        self.name = name
        self.now = now
        self.random = SplitMix64(seed: seed ^ UInt64(bitPattern: now))
        self.log = log
    }
}

/// Small, fast, seedable PRNG: the same session replays the same numbers.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

public enum GetResult: Equatable {
    case value(LuaValue)
    /// The value must come from the CPE: suspend the script; the engine resumes it with the value.
    case suspend
    case error(String)
}

/// Something a script asks a device to do besides setting values.
public enum DeviceAction: Sendable, Equatable {
    case reboot
    case factoryReset
    case download(url: String, fileType: String, fileSize: UInt32, targetFileName: String)
    /// Re-read a parameter or subtree from the CPE.
    case refresh(String)
    /// AddObject / DeleteObject of an object path ("Device.WiFi.SSID." / "Device.WiFi.SSID.3.").
    case addObject(String)
    case deleteObject(String)
    /// A TR-143 test (campaigns): planned for the device's data model when its task is created.
    case diagnose(DiagnosticTest, DiagnosticOptions)
    /// An Upload of the device's configuration or log to Corral (campaigns, automations).
    case backup(fileType: String)
}

/// The `dev:` methods, implemented per context (session, campaign, report).
public protocol DeviceAccess: AnyObject {
    /// A value, or a subtree as a table of relative path -> value when `name` ends with ".".
    func get(handle: Int, name: String, maxAge: Int64?) -> GetResult
    /// AddObject: the new instance number in a session, nil where the add is only queued.
    func add(handle: Int, path: String) -> GetResult
    /// The instance numbers of a multi-instance object; with `count`, adds or deletes (highest numbers first)
    /// until there are that many.
    func instances(handle: Int, path: String, count: Int?) -> GetResult
    /// nil on success, else the error message.
    func set(handle: Int, name: String, value: LuaValue, type: String?) -> String?
    func perform(handle: Int, _ action: DeviceAction) -> String?
    func hasEvent(handle: Int, _ event: String) -> Bool
    /// Mean of the KPI's samples over the last `window` seconds (nil: the latest sample).
    func kpi(handle: Int, name: String, window: Int64?) -> GetResult
}

/// devices{}, count{}, count_by() over the population (reports and campaigns).
public protocol PopulationAccess: AnyObject {
    func open(_ filter: LuaTable) throws -> Int
    /// The next device of a cursor and the handle its Lua object carries.
    func next(cursor: Int) throws -> (Device, Int)?
    func count(_ filter: LuaTable) throws -> Int
    func countBy(_ field: String, _ filter: LuaTable) throws -> [(String, Int)]
    /// TR-143 results of the last `hours` grouped by a device field (diagnostics_by()).
    func diagnosticsBy(_ field: String, test: String?, hours: Int) throws -> [DiagnosticGroup]
}

/// Declarations made by profile, report and campaign files. Each returns nil, or an error message.
public protocol DeclarationSink: AnyObject {
    func profile(_ def: LuaTable) -> String?
    func report(_ def: LuaTable) -> String?
    func emit(_ row: LuaTable) -> String?
    func campaign(_ def: LuaTable) -> String?
    /// `on(kind, [filter], fn)` and `every(interval, fn)` of automation files; `fn` is an anchored function reference.
    func on(_ kind: String, filter: LuaTable?, handler: Int32) -> String?
    func every(_ interval: String, handler: Int32) -> String?
    /// `alert{...}` of automation files.
    func alert(_ def: LuaTable) -> String?
    /// `test(name, spec)`: a case for `corral script test` (nothing when the script runs for real).
    func test(_ name: String, _ spec: LuaTable) -> String?
}

public extension DeclarationSink {
    func profile(_ def: LuaTable) -> String? { "profile{} is not expected here" }
    func report(_ def: LuaTable) -> String? { "report{} is not expected here" }
    func emit(_ row: LuaTable) -> String? { "emit{} needs a report{} first" }
    func campaign(_ def: LuaTable) -> String? { "campaign{} is not expected here" }
    func on(_ kind: String, filter: LuaTable?, handler: Int32) -> String? { "on() belongs in an automation file" }
    func every(_ interval: String, handler: Int32) -> String? { "every() belongs in an automation file" }
    func alert(_ def: LuaTable) -> String? { "alert{} belongs in an automation file" }
    func test(_ name: String, _ spec: LuaTable) -> String? { nil }
}
