/// Where a piece of Lua runs. Every bridge function declares the contexts it may be called in.
public enum ScriptContext: String, Sendable, CaseIterable, Hashable {
    /// Loading a profile file: declarations only, short limits.
    case profileLoad = "profile-load"
    /// Inside a CWMP session, as a coroutine that may suspend while the engine talks to the CPE.
    case session
    /// A bulk campaign: no CPE connected; actions become queued tasks.
    case campaign
    /// A report: read-only queries over the device population.
    case report
    /// An automation file (`on`, `every`) and its handlers, run for persisted events and on schedules; device
    /// actions become queued tasks, as in campaigns.
    case automation

    /// "in a report", for error messages.
    public var phrase: String {
        switch self {
        case .profileLoad: "while loading a profile"
        case .session: "in a session"
        case .campaign: "in a campaign"
        case .report: "in a report"
        case .automation: "in an automation"
        }
    }
}

/// Limits of one run (one resume of a coroutine, or one call).
public struct ScriptLimits: Sendable, Equatable {
    /// Lua VM instructions (counted in steps of 1000).
    public var instructions: Int64
    /// Bytes the run may allocate on top of what the state already holds.
    public var memoryBytes: Int
    /// Wall-clock milliseconds per run (per resume for session coroutines), enforced by the sandbox's watchdog
    /// thread: the last line of defence for work the instruction count does not price. 0 = none.
    public var wallMilliseconds: Int64
    /// What a report may emit: rows and bytes of cell text (the writers' output is about this size).
    public var outputRows: Int = 10_000_000
    public var outputBytes: Int = 256 << 20

    public init(instructions: Int64, memoryBytes: Int, wallMilliseconds: Int64 = 5_000) {
        self.instructions = instructions; self.memoryBytes = memoryBytes; self.wallMilliseconds = wallMilliseconds
    }

    // Wall limits sit far above what the instruction budgets allow on a slow core (2M instructions ≈ 20-50 ms), so
    // only work the budget cannot see meets them.
    public static let profileLoad = ScriptLimits(instructions: 1_000_000, memoryBytes: 16 << 20, wallMilliseconds: 2_000)
    public static let session = ScriptLimits(instructions: 2_000_000, memoryBytes: 16 << 20, wallMilliseconds: 2_000)
    public static let campaign = ScriptLimits(instructions: 2_000_000, memoryBytes: 32 << 20, wallMilliseconds: 5_000)
    /// Reports walk the whole population: the budget is per report, so it is large.
    public static let automation = ScriptLimits(instructions: 2_000_000, memoryBytes: 32 << 20, wallMilliseconds: 5_000)
    public static let report = ScriptLimits(instructions: 2_000_000_000, memoryBytes: 256 << 20, wallMilliseconds: 600_000)
}

/// A script failure, with the script name and line when Lua knows them ("weak-signal.lua:12: ...").
public struct ScriptError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable { case syntax, runtime, instructionLimit = "instruction-limit", memoryLimit = "memory-limit", timeLimit = "time-limit", outputLimit = "output-limit", invalid, warning }
    public let kind: Kind
    public let message: String
    public init(_ kind: Kind, _ message: String) { self.kind = kind; self.message = message }
    public var description: String { message }
}
