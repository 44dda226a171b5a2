import ACSCore
import Foundation

/// One KPI value sampled at an Inform.
public struct KPISample: Sendable, Equatable {
    public var deviceID: Int64
    public var name: String
    public var at: Int64
    public var value: Double
    public init(deviceID: Int64, name: String, at: Int64, value: Double) { self.deviceID = deviceID; self.name = name; self.at = at; self.value = value }
}

/// Retry state of one provisioning script on one device (absent = healthy).
public struct ProvisionState: Sendable, Equatable {
    public var deviceID: Int64
    /// "<profile>:<hook>" or "<profile>:desired".
    public var script: String
    public var attempts: Int
    /// Not run again before this time (backoff).
    public var nextRetry: Int64
    public var lastError: String
    public var updatedAt: Int64
    public init(deviceID: Int64, script: String, attempts: Int, nextRetry: Int64, lastError: String, updatedAt: Int64) {
        self.deviceID = deviceID; self.script = script; self.attempts = attempts; self.nextRetry = nextRetry
        self.lastError = lastError; self.updatedAt = updatedAt
    }
}

public enum CampaignState: String, Sendable, Codable, CaseIterable {
    case running, paused, stopped, cancelled, done
    public var isFinal: Bool { self == .stopped || self == .cancelled || self == .done }
}

public struct CampaignRecord: Sendable, Equatable {
    public var id: Int64 = 0
    public var name: String
    public var scriptName: String
    /// The campaign file's text as started, so that a restart runs exactly that.
    public var script: String
    public var state: CampaignState = .running
    public var perMinute: Int
    public var concurrent: Int
    /// Stop when failed / finished exceeds this (after `minDevices` finished).
    public var failureRate: Double
    public var minDevices: Int
    public var connectionRequest: Bool
    public var stopReason = ""
    public var createdAt: Int64
    public var updatedAt: Int64
    /// The organisation whose subtree the target was chosen in (the starter's); only that subtree sees the campaign.
    public var organisationID: Int64 = 1
    /// Who started it ("admin", "alice (token crm)", "cli").
    public var createdBy = ""

    public init(name: String, scriptName: String, script: String, perMinute: Int, concurrent: Int, failureRate: Double,
                minDevices: Int, connectionRequest: Bool, createdAt: Int64) {
        self.name = name; self.scriptName = scriptName; self.script = script; self.perMinute = perMinute
        self.concurrent = concurrent; self.failureRate = failureRate; self.minDevices = minDevices
        self.connectionRequest = connectionRequest; self.createdAt = createdAt; self.updatedAt = createdAt
    }
}

public enum CampaignDeviceState: String, Sendable, CaseIterable {
    case pending, running, done, failed, skipped
}

public struct CampaignDevice: Sendable, Equatable {
    public var campaignID: Int64
    public var deviceID: Int64
    public var position: Int
    public var wave: Int
    public var state: CampaignDeviceState
    public var taskIDs: [Int64]
    public var error: String
    public var updatedAt: Int64
    public init(campaignID: Int64, deviceID: Int64, position: Int, wave: Int, state: CampaignDeviceState, taskIDs: [Int64] = [],
                error: String = "", updatedAt: Int64 = 0) {
        self.campaignID = campaignID; self.deviceID = deviceID; self.position = position; self.wave = wave; self.state = state
        self.taskIDs = taskIDs; self.error = error; self.updatedAt = updatedAt
    }
}

/// Device counts of a campaign by wave and state.
public struct CampaignProgress: Sendable, Equatable {
    public var counts: [CampaignDeviceState: Int] = [:]
    /// wave -> state -> count
    public var waves: [Int: [CampaignDeviceState: Int]] = [:]
    public var total: Int { counts.values.reduce(0, +) }
    public func count(_ s: CampaignDeviceState) -> Int { counts[s] ?? 0 }
    public init() {}
}

/// Writes of the automation features, group-committed like the others.
public enum AutomationWrite: Sendable {
    case kpiSamples([KPISample])
    case provisionState(ProvisionState)
    case clearProvisionState(deviceID: Int64, script: String)
    case updateCampaign(CampaignRecord)
    case updateCampaignDevice(CampaignDevice)
    /// An event for automations (written with the change it reports).
    case event(EventRecord)
    /// One handler's outcome for one event: its tasks and effects happen only if this (event, handler) was not
    /// recorded before.
    case automationRun(eventID: Int64, handler: String, at: Int64, tasks: [DeviceTask], effects: [AutomationEffect] = [], error: String)
    /// One `every()` run: its tasks and effects and when it ran.
    case scheduleRun(handler: String, at: Int64, tasks: [DeviceTask], effects: [AutomationEffect] = [], error: String)
    /// Every handler has seen the event.
    case eventHandled(id: Int64, at: Int64)
    /// Alert rule evaluations and the offline sweep: each effect is idempotent on its own.
    case effects([AutomationEffect])
    /// An operator acknowledged an open alert (nothing happens for a cleared or unknown one).
    case acknowledgeAlert(id: Int64, by: String, at: Int64)
    /// Paths a session found missing on the device's firmware, and remembered ones it has after all.
    case absentPaths(deviceID: Int64, softwareVersion: String, add: [String], remove: [String], at: Int64)
}

/// What automations change besides queuing tasks. Raising an open alert again, or clearing one that is not active,
/// changes nothing and records no event: the alert events are written only for real transitions.
public enum AutomationEffect: Sendable, Equatable {
    case tag(deviceID: Int64, String, add: Bool)
    case group(deviceID: Int64, String, add: Bool)
    case location(deviceID: Int64, String)
    /// A pending alert (the condition holds, not yet for the rule's `for`).
    case pendingAlert(AlertRecord)
    /// Opens the alert active, or turns a pending one active (event `alert.raised`).
    case raiseAlert(AlertRecord)
    /// Clears the active alert (event `alert.cleared`) and forgets a pending one.
    case clearAlert(name: String, deviceID: Int64, at: Int64)
    /// An event (custom ones from handlers, `device.offline` from the sweep).
    case event(EventRecord)
}

/// A page of alerts, newest first.
public struct AlertQuery: Sendable, Equatable {
    public var states: [AlertState] = [.active]
    public var deviceID: Int64?
    public var severity: AlertSeverity?
    public var name: String?
    /// The caller's organisation subtree (an `Organisation.path`); nil = everywhere.
    public var organisationPath: String?
    /// Keyset pagination: alerts with a smaller ID.
    public var beforeID: Int64?
    public var limit = 100
    public init() {}
}

/// An alert with the name of its device, for lists.
public struct AlertRow: Sendable, Equatable {
    public var alert: AlertRecord
    public var deviceName: String
    public init(alert: AlertRecord, deviceName: String) { self.alert = alert; self.deviceName = deviceName }
}

/// Something that happened, kept for automations (and shown per device).
public struct EventRecord: Sendable, Equatable {
    /// The `data` text of an event: a JSON object with sorted keys ("{}" if it cannot be written).
    public static func data(_ object: [String: Any]) -> String {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    public var id: Int64
    public var at: Int64
    public var kind: String
    public var deviceID: Int64?
    /// JSON object text with the event's details (task ID and action, fault code...).
    public var data: String
    public var handledAt: Int64
    public init(id: Int64 = 0, at: Int64, kind: String, deviceID: Int64?, data: String = "", handledAt: Int64 = 0) {
        self.id = id; self.at = at; self.kind = kind; self.deviceID = deviceID; self.data = data; self.handledAt = handledAt
    }
}

/// Device fields that `count_by` may group on (columns of `devices`).
public enum DeviceGroupField: String, Sendable, CaseIterable {
    case softwareVersion = "software_version", model = "model_name", profile, manufacturer, productClass = "product_class",
         hardwareVersion = "hardware_version", location, dataModel = "data_model"

    /// Accepts the Lua field names (`model`, `software_version` ...).
    public init?(luaName: String) {
        switch luaName {
        case "model": self = .model
        default: self.init(rawValue: luaName)
        }
    }
}

/// Storage for provisioning, KPIs, reports and campaigns.
public protocol AutomationStore: CorralStore {
    /// Events no automation has finished with, oldest first.
    func pendingEvents(limit: Int) throws -> [EventRecord]
    /// The newest events of a device (or of all devices), newest first.
    func events(deviceID: Int64?, limit: Int) throws -> [EventRecord]
    /// Handlers already recorded for these events: eventID -> handler keys.
    func automationRuns(eventIDs: [Int64]) throws -> [Int64: Set<String>]
    /// When each `every()` handler last ran.
    func scheduleRuns() throws -> [String: Int64]
    /// IDs of the devices matching a query, in ID order, at most `limit` (alert rules' conditions).
    func matchingDeviceIDs(_ q: DeviceQuery, now: Int64, limit: Int) throws -> [Int64]
    /// Devices that turned offline (their last Inform + 1.5 intervals + 60 s) in [from, to): ID and when, at most `limit`.
    func devicesTurnedOffline(from: Int64, to: Int64, limit: Int) throws -> [(id: Int64, at: Int64)]
    /// Paths remembered as missing on a device running `softwareVersion`, probed since `since`.
    func absentPaths(deviceID: Int64, softwareVersion: String, since: Int64) throws -> Set<String>
    /// Names (and sources) that have pending or active alerts.
    func openAlertNames() throws -> [(name: String, source: String)]
    /// Pending and active alerts of one name.
    func openAlerts(name: String) throws -> [AlertRecord]
    func alerts(_ q: AlertQuery) throws -> [AlertRow]
    func alert(id: Int64) throws -> AlertRow?
    /// Active alerts by severity (metrics, the navigation badge).
    func activeAlertCounts() throws -> [AlertSeverity: Int]
    /// Stored values of some paths for a set of devices (one query): deviceID -> path -> parameter.
    func parameterValues(deviceIDs: [Int64], paths: [String]) throws -> [Int64: [String: StoredParameter]]
    func countDevices(by field: DeviceGroupField, _ query: DeviceQuery, now: Int64) throws -> [(String, Int)]
    /// Mean of a KPI since `since`, or the latest sample when `since` is nil.
    func kpi(deviceID: Int64, name: String, since: Int64?) throws -> Double?
    func kpiSamples(deviceID: Int64, name: String, limit: Int) throws -> [KPISample]
    func provisionStates(deviceID: Int64) throws -> [ProvisionState]

    /// Creates a campaign with its target devices (in order) assigned to waves.
    func createCampaign(_ c: CampaignRecord, targets: [(deviceID: Int64, wave: Int)]) async throws -> CampaignRecord
    func campaign(id: Int64) throws -> CampaignRecord?
    func campaigns(states: [CampaignState]) throws -> [CampaignRecord]
    /// Campaigns of organisations in a subtree (an `Organisation.path`), newest first.
    func campaigns(states: [CampaignState], under path: String, limit: Int) throws -> [CampaignRecord]
    /// A page of a campaign's devices in target order, after a position (keyset pagination).
    func campaignDevices(campaignID: Int64, states: [CampaignDeviceState], afterPosition: Int, limit: Int) throws -> [CampaignDevice]
    /// The materialised path of an organisation (a campaign's scope), nil if it is gone.
    func organisationPath(id: Int64) throws -> String?
    func campaignDevices(campaignID: Int64, states: [CampaignDeviceState], limit: Int) throws -> [CampaignDevice]
    func campaignProgress(campaignID: Int64) throws -> CampaignProgress
}
