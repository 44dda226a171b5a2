import CWMP

/// What an operator (CLI, API, campaign) asked Corral to do on a device.
public enum TaskKind: Sendable, Equatable, Codable {
    case reboot
    case factoryReset
    case setParameterValues([ParameterValue])
    case getParameterValues([String])
    /// Re-read a parameter or a whole subtree (path ending in ".").
    case refresh(String)
    case addObject(String)
    case deleteObject(String)
    case download(url: String, fileType: String, fileSize: UInt32, targetFileName: String)
    /// The CPE sends a file to Corral (Upload RPC: "1 Vendor Configuration File", "2 Vendor Log File"): a backup.
    /// The URL (Corral's, per task) and the device's transfer credentials are filled in when it is sent.
    case upload(fileType: String)
    /// A Download inside a time window (seconds from when the CPE gets it): ScheduleDownload.
    case scheduleDownload(url: String, fileType: String, fileSize: UInt32, targetFileName: String, windowStart: UInt32, windowEnd: UInt32)
    /// CancelTransfer of a queued, not yet started transfer (the CommandKey of its Download/ScheduleDownload task).
    case cancelTransfer(commandKey: String)
    /// GetAllQueuedTransfers: what the CPE has queued (the result's values, QueuedTransfers.<n>.<field>).
    case queuedTransfers
    /// A TR-143 test: an SPV starting it, then a read of the results after "8 DIAGNOSTICS COMPLETE".
    case diagnostics(DiagnosticSpec)

    public var label: String {
        switch self {
        case .reboot: "reboot"
        case .factoryReset: "factory-reset"
        case .setParameterValues: "set"
        case .getParameterValues: "get"
        case .refresh: "refresh"
        case .addObject: "add"
        case .deleteObject: "delete"
        case .download: "download"
        case .upload: "upload"
        case .scheduleDownload: "schedule-download"
        case .cancelTransfer: "cancel-transfer"
        case .queuedTransfers: "queued-transfers"
        case .diagnostics(let d): "diagnose " + d.plan.test.rawValue
        }
    }
}

public enum TaskState: String, Sendable, Codable {
    /// Queued; sent in the next session at or after `notBefore`.
    case pending
    /// Sent in the current session; no answer yet.
    case sent
    /// Accepted by the CPE; waiting for a later event (M Reboot, TransferComplete, BOOTSTRAP, 8 DIAGNOSTICS COMPLETE).
    case waiting
    case done
    case fault
    case cancelled

    public var isFinal: Bool { self == .done || self == .fault || self == .cancelled }
}

/// What a finished task produced.
public struct TaskResult: Sendable, Equatable, Codable {
    public var values: [ParameterValue]
    public var instanceNumber: UInt32?
    public var status: Int?
    public init(values: [ParameterValue] = [], instanceNumber: UInt32? = nil, status: Int? = nil) {
        self.values = values; self.instanceNumber = instanceNumber; self.status = status
    }
}

public struct DeviceTask: Sendable, Equatable, Codable {
    public var id: Int64
    public var deviceID: Int64
    public var kind: TaskKind
    public var state: TaskState
    public var createdAt: Int64
    public var updatedAt: Int64
    /// Sessions in which it was sent without a final answer.
    public var attempts: Int
    /// Unix seconds before which it is not sent (retry backoff).
    public var notBefore: Int64
    /// CommandKey / ParameterKey sent with it; matches M Reboot, TransferComplete and friends.
    public var commandKey: String
    public var result: TaskResult?
    public var fault: CWMPFault?

    public init(id: Int64 = 0, deviceID: Int64, kind: TaskKind, state: TaskState = .pending, createdAt: Int64 = 0, updatedAt: Int64 = 0,
                attempts: Int = 0, notBefore: Int64 = 0, commandKey: String = "", result: TaskResult? = nil, fault: CWMPFault? = nil) {
        self.id = id; self.deviceID = deviceID; self.kind = kind; self.state = state; self.createdAt = createdAt
        self.updatedAt = updatedAt; self.attempts = attempts; self.notBefore = notBefore; self.commandKey = commandKey
        self.result = result; self.fault = fault
    }

    /// The command key Corral uses for a task: short (CommandKey is at most 32 chars) and unique.
    public static func commandKey(forTaskID id: Int64) -> String { "corral-\(id)" }
    public static func taskID(fromCommandKey key: String) -> Int64? {
        key.hasPrefix("corral-") ? Int64(key.dropFirst(7)) : nil
    }
}

/// Retry policy for tasks whose session was cut or that hit a transient CPE fault.
public enum RetryPolicy {
    public static let maxAttempts = 5
    /// 30 s, 60 s, 120 s, ... capped at one hour.
    public static func backoff(attempt: Int) -> Int64 {
        min(3600, 30 << Int64(max(0, min(attempt - 1, 10))))
    }
    /// CPE faults worth retrying later: internal error, resources exceeded.
    public static func isTransient(_ code: Int) -> Bool { code == 9002 || code == 9004 || code == 8005 }
}
