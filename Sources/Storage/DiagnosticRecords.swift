import ACSCore

/// One stored TR-143 result. `result` is the computed result as JSON (its type lives with the test servers).
public struct DiagnosticRecord: Sendable, Equatable {
    public var id: Int64
    public var deviceID: Int64
    public var taskID: Int64?
    public var test: String
    public var state: String
    public var ok: Bool
    public var at: Int64
    public var throughputBps: Double?
    public var avgRttUs: Int64?
    public var jitterUs: Double?
    public var loss: Double?
    public var result: String
    public init(id: Int64 = 0, deviceID: Int64, taskID: Int64?, test: String, state: String, ok: Bool, at: Int64, throughputBps: Double?,
                avgRttUs: Int64?, jitterUs: Double?, loss: Double?, result: String) {
        self.id = id; self.deviceID = deviceID; self.taskID = taskID; self.test = test; self.state = state; self.ok = ok; self.at = at
        self.throughputBps = throughputBps; self.avgRttUs = avgRttUs; self.jitterUs = jitterUs; self.loss = loss; self.result = result
    }
}

/// Which results a list or a fleet summary covers.
public struct DiagnosticQuery: Sendable, Equatable {
    public var deviceID: Int64?
    public var test: String?
    /// Unix seconds; results at or after.
    public var since: Int64?
    public var beforeID: Int64?
    /// The caller's organisation subtree (`Organisation.path`).
    public var organisationPath: String?
    public var limit: Int
    public init(deviceID: Int64? = nil, test: String? = nil, since: Int64? = nil, beforeID: Int64? = nil, organisationPath: String? = nil, limit: Int = 100) {
        self.deviceID = deviceID; self.test = test; self.since = since; self.beforeID = beforeID
        self.organisationPath = organisationPath; self.limit = limit
    }
}

/// A fleet summary row: the successful results of one group ("which cells are slow tonight").
public struct DiagnosticGroup: Sendable, Equatable {
    public var key: String
    public var results: Int
    public var devices: Int
    public var failed: Int
    public var avgThroughputBps: Double?
    public var minThroughputBps: Double?
    public var medianThroughputBps: Double?
    public var avgRttUs: Double?
    public var avgJitterUs: Double?
    public var avgLoss: Double?
}

public enum DiagnosticGrouping: String, Sendable, CaseIterable {
    case model, softwareVersion = "software_version", organisation, location, profile
    var column: String {
        switch self {
        case .model: "d.model_name"
        case .softwareVersion: "d.software_version"
        case .organisation: "(SELECT name FROM organisations o WHERE o.id = d.organisation_id)"
        case .location: "d.location"
        case .profile: "d.profile"
        }
    }
}
