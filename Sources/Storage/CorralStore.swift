import ACSCore
import CWMP

public struct StoredParameter: Sendable, Equatable, Codable {
    public var path: String
    public var value: String
    public var type: XSDType
    public var writable: Bool?
    public var updatedAt: Int64
    public init(path: String, value: String, type: XSDType, writable: Bool?, updatedAt: Int64) {
        self.path = path; self.value = value; self.type = type; self.writable = writable; self.updatedAt = updatedAt
    }
}

public struct InformRecord: Sendable, Equatable, Codable {
    public var at: Int64
    public var events: [String]
    public var retryCount: Int
    public var remote: String
    public init(at: Int64, events: [String], retryCount: Int, remote: String) {
        self.at = at; self.events = events; self.retryCount = retryCount; self.remote = remote
    }
}

public struct FaultRecord: Sendable, Equatable, Codable {
    public var id: Int64
    public var deviceID: Int64
    public var taskID: Int64?
    /// What was being done: "task", "onboarding", "device-info", "diagnostics".
    public var source: String
    public var code: Int
    public var message: String
    /// Per-parameter faults, "Name: code message" lines.
    public var detail: String
    public var at: Int64
    public init(id: Int64 = 0, deviceID: Int64, taskID: Int64?, source: String, code: Int, message: String, detail: String = "", at: Int64) {
        self.id = id; self.deviceID = deviceID; self.taskID = taskID; self.source = source; self.code = code
        self.message = message; self.detail = detail; self.at = at
    }
}

/// A batched change; the engine sends all of a message's changes in one `apply`, committed in a group.
public enum StoreWrite: Sendable {
    /// The fields a CWMP session maintains (identity, credentials, status); not the operator's metadata.
    case updateDevice(Device)
    /// Operator metadata.
    case updateMetadata(deviceID: Int64, groups: [String], location: String, description: String)
    /// An operator's decision on re-bootstrap security: conflict resolved (superseded credentials forgotten), or a
    /// quarantined re-bootstrap approved.
    case updateDeviceSecurity(deviceID: Int64, supersededHA1: String, credentialConflict: Bool, rebootstrapHold: RebootstrapHold)
    /// Credential recovery: the device may onboard once more with its profile's onboarding credentials, without a
    /// BOOTSTRAP (its own credentials stay valid until it confirms new ones).
    case resetCredentials(deviceID: Int64)
    /// Values learned from the CPE. Empty values of secret parameters do not overwrite what the ACS knows.
    case parameters(deviceID: Int64, values: [ParameterValue], at: Int64)
    case inform(deviceID: Int64, InformRecord)
    case updateTask(DeviceTask)
    case fault(FaultRecord)
    /// KPI samples, provisioning state, campaigns (AutomationRecords.swift).
    case automation(AutomationWrite)
    /// A finished TR-143 test.
    case diagnosticResult(DiagnosticRecord)
    /// The CPE no longer has these: stored parameters under `prefix` that are not in `keeping` go (secrets stay: a CPE
    /// reads them back empty, and what Corral set is still what the CPE holds).
    case removeParameters(deviceID: Int64, prefix: String, keeping: Set<String>)
    /// After a factory reset every stored value may be wrong until read again: their time goes to 0 ("stale"), which
    /// also makes provisioning re-read what it depends on.
    case markParametersStale(deviceID: Int64)
    /// Claims the device's session for a node: taken when free, expired, or held by the same node (a CPE that
    /// opens a new session has given up its old one); else the whole write fails with `LeaseHeld`.
    case takeLease(SessionLease, now: Int64)
    /// Pushes the expiry of the session's own lease further (nothing when another session holds it now).
    case renewLease(deviceID: Int64, token: String, expiresAt: Int64)
    /// The session ended: its lease goes (nothing when another session holds it now).
    case releaseLease(deviceID: Int64, token: String)
}

/// Storage used by the engine and the CLI. Reads are synchronous (pooled readers); writes are group-committed.
public protocol CorralStore: AnyObject, Sendable {
    func device(id: Int64) throws -> Device?
    func device(name: String) throws -> Device?
    func device(oui: String, serial: String) throws -> Device?
    func device(username: String) throws -> Device?
    func devices(limit: Int, offset: Int) throws -> [Device]
    func devices(serial: String) throws -> [Device]
    func deviceCount() throws -> Int
    /// Deletes up to `batch` of the oldest rows of a history table written before `cutoff`; returns how many went.
    func pruneHistory(_ table: HistoryTable, olderThan cutoff: Int64, batch: Int) async throws -> Int
    /// One page of a filtered, sorted device list.
    func devices(_ query: DeviceQuery, now: Int64) throws -> DevicePage
    /// Every device matching the query (limit and cursor ignored), streamed in sort order without loading them all.
    func forEachDevice(_ query: DeviceQuery, now: Int64, _ body: (Device) throws -> Bool) throws
    func countDevices(_ query: DeviceQuery, now: Int64) throws -> Int
    func createDevice(_ device: Device) async throws -> Device
    func apply(_ writes: [StoreWrite]) async throws
    func parameters(deviceID: Int64, prefix: String) throws -> [StoredParameter]
    func task(id: Int64) throws -> DeviceTask?
    func tasks(deviceID: Int64, states: [TaskState]) throws -> [DeviceTask]
    func createTask(_ task: DeviceTask) async throws -> DeviceTask
    func faults(deviceID: Int64, limit: Int) throws -> [FaultRecord]
    func informs(deviceID: Int64, limit: Int) throws -> [InformRecord]
    /// The pre-provisioning row for a serial not yet seen (exact OUI first, then any-OUI); `createDevice` consumes it.
    func preprovision(oui: String, serial: String) throws -> Preprovision?
}
