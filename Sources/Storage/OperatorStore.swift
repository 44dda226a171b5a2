import ACSCore

/// A change refused because of the data it would break (duplicate name, non-empty organisation…): HTTP 409.
public struct StoreConflict: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ d: String) { description = d }
}

public struct AuditQuery: Sendable, Equatable {
    /// Organisation subtree whose entries are visible.
    public var organisationPath: String = "/"
    public var actor: String?
    public var action: String?
    public var objectType: String?
    public var objectID: String?
    public var since: Int64?
    public var until: Int64?
    /// Entries with a smaller ID (newest first, keyset pagination).
    public var beforeID: Int64?
    public var limit = 100
    public init() {}
}

public struct FaultQuery: Sendable, Equatable {
    public var organisationPath: String = "/"
    public var deviceID: Int64?
    public var code: Int?
    public var beforeID: Int64?
    public var limit = 100
    public init() {}
}

/// What the REST API needs beyond the engine's `CorralStore`: organisations, accounts, audit, files,
/// pre-provisioning, fleet-wide fault and analytics queries. Every list takes the caller's subtree.
public protocol OperatorStore: CorralStore {
    // organisations
    func organisation(id: Int64) throws -> Organisation?
    func organisations(under path: String) throws -> [Organisation]
    func createOrganisation(name: String, parentID: Int64, now: Int64) async throws -> Organisation
    func renameOrganisation(id: Int64, name: String) async throws
    func moveOrganisation(id: Int64, to parentID: Int64) async throws
    func deleteOrganisation(id: Int64) async throws

    // users, tokens, sessions
    func user(id: Int64) throws -> UserAccount?
    func user(username: String) throws -> UserAccount?
    func users(under path: String) throws -> [UserAccount]
    func userCount() throws -> Int
    func createUser(_ user: UserAccount) async throws -> UserAccount
    func updateUser(_ user: UserAccount) async throws
    func deleteUser(id: Int64) async throws
    func token(hash: String) throws -> APIToken?
    func token(id: Int64) throws -> APIToken?
    func tokens(under path: String) throws -> [APIToken]
    func createToken(_ token: APIToken) async throws -> APIToken
    func revokeToken(id: Int64, at: Int64) async throws
    func touchToken(id: Int64, at: Int64) async throws
    func createSession(_ session: LoginSession) async throws
    func session(hash: String) throws -> LoginSession?
    func deleteSession(hash: String) async throws
    func deleteSessions(userID: Int64) async throws

    // audit
    func appendAudit(_ entry: AuditEntry) async throws
    func audit(_ query: AuditQuery) throws -> [AuditEntry]

    // versions of profile and automation files
    func scriptVersions(kind: ScriptVersion.Kind?, name: String?, beforeID: Int64?, limit: Int) throws -> [ScriptVersion]
    func scriptVersion(id: Int64) throws -> ScriptVersion?
    func previousScriptVersion(of v: ScriptVersion) throws -> ScriptVersion?

    // files
    func createFile(_ file: StoredFile) async throws -> StoredFile
    func file(id: Int64) throws -> StoredFile?
    func files(under path: String) throws -> [StoredFile]
    func deleteFile(id: Int64) async throws
    func file(sha256: String, organisationID: Int64) throws -> StoredFile?
    func updateFileRelease(_ file: StoredFile) async throws

    // Firmware rollouts
    func createRollout(_ rollout: Rollout, devices: [RolloutDevice]) async throws -> Rollout
    func rollout(id: Int64) throws -> Rollout?
    func rollouts(under path: String, limit: Int) throws -> [Rollout]
    func activeRollouts() throws -> [Rollout]
    func rolloutDevices(rolloutID: Int64, states: [RolloutDevice.State], maxWave: Int, dueBy: Int64?, limit: Int) throws -> [RolloutDevice]
    func rolloutCounts(rolloutID: Int64) throws -> [Int: RolloutRules.Tally]
    func rolloutDeferred(rolloutID: Int64, maxWave: Int, minAttempts: Int) throws -> Int
    @discardableResult func updateRollout(_ rollout: Rollout, expecting: Rollout.State) async throws -> Bool
    func updateRolloutDevices(_ devices: [RolloutDevice]) async throws

    // Backups (uploaded configuration and log files)
    func createBackup(_ backup: Backup) async throws -> (Backup, removed: [Int64])
    func backup(id: Int64) throws -> Backup?
    func backup(taskID: Int64) throws -> Backup?
    func backups(deviceID: Int64, limit: Int) throws -> [Backup]

    // pre-provisioning
    func savePreprovisions(_ rows: [Preprovision]) async throws
    func preprovisions(under path: String) throws -> [Preprovision]
    func deletePreprovision(oui: String, serial: String) async throws

    // devices, faults, analytics
    func updateDeviceMetadata(_ device: Device) async throws
    func fault(id: Int64) throws -> FaultRecord?
    func faults(_ query: FaultQuery) throws -> [FaultRecord]
    func deleteFault(id: Int64) async throws
    /// Device counts per value of a column (manufacturer, model_name, software_version, profile, organisation_id).
    func deviceCounts(by column: DeviceCountColumn, under path: String) throws -> [(key: String, count: Int)]
    /// Devices created (first Inform or pre-provisioned) per UTC day since a time: day = Unix seconds / 86400.
    func devicesCreatedPerDay(under path: String, since: Int64) throws -> [(day: Int64, count: Int)]
    /// Devices per numeric value (rounded to an integer) of any of these stored parameters, e.g. an LTE RSSI.
    func parameterValueCounts(paths: [String], under path: String) throws -> [(value: Int, count: Int)]
    /// Stored values of these exact paths for these devices, in one read (device → path → value).
    func parameterValues(deviceIDs: [Int64], paths: [String]) throws -> [Int64: [String: StoredParameter]]
    /// One device's newest KPI samples (newest first), as its profile's `kpis` store them on each Inform.
    func kpiSamples(deviceID: Int64, name: String, limit: Int) throws -> [KPISample]
}

public enum DeviceCountColumn: String, Sendable, CaseIterable {
    case manufacturer, model = "model_name", softwareVersion = "software_version", profile, organisation = "organisation_id"
    /// "<manufacturer>\t<model>" (the dashboard's manufacturer-model chart).
    case manufacturerModel = "manufacturer || char(9) || model_name"
}

/// TR-143 results (SQLStore+Diagnostics.swift).
public protocol DiagnosticStore: CorralStore {
    func diagnosticResults(_ q: DiagnosticQuery) throws -> [DiagnosticRecord]
    func diagnosticResult(id: Int64) throws -> DiagnosticRecord?
    func diagnosticResult(taskID: Int64) throws -> DiagnosticRecord?
    func diagnosticSummary(_ q: DiagnosticQuery, by grouping: DiagnosticGrouping, maxGroups: Int) throws -> [DiagnosticGroup]
    func waitingTasks(kindPrefix: String, updatedBefore: Int64, limit: Int) throws -> [DeviceTask]
    func setSpeedtestBaseURL(organisationID: Int64, _ url: String) async throws
    func speedtestBaseURL(organisationID: Int64) throws -> String
    func effectiveSpeedtestBaseURL(organisationID: Int64) throws -> String?
}
