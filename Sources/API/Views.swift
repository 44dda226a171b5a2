import ACSCore
import CWMP
import Storage

/// The JSON shapes of the API (snake_case on the wire). Secrets never appear in them.
struct DeviceView: Encodable {
    var id: Int64
    var name: String
    var oui: String
    var productClass: String
    var serial: String
    var manufacturer: String
    var model: String
    var softwareVersion: String
    var hardwareVersion: String
    var profile: String
    var dataModel: String?
    var organisationId: Int64
    var groups: [String]
    var tags: [String]
    var location: String
    var description: String
    var status: String
    var ipAddress: String
    var connectionRequestUrl: String
    var informInterval: Int
    var lastInform: String?
    var lastBoot: String?
    var createdAt: String?
    var onboardedAt: String?
    /// Two parties hold credentials of this device (a re-bootstrap by someone else); secrets are withheld.
    var credentialConflict: Bool
    /// "none", "awaiting_approval" (quarantined re-bootstrap) or "approved".
    var rebootstrap: String

    static func rebootstrapState(_ h: RebootstrapHold) -> String {
        switch h { case .none: "none"; case .awaitingApproval: "awaiting_approval"; case .approved: "approved" }
    }

    /// Spelled out so device lists can skip the encoder's snake_case conversion (the hot path of the API).
    enum CodingKeys: String, CodingKey {
        case id, name, oui, productClass = "product_class", serial, manufacturer, model, softwareVersion = "software_version"
        case hardwareVersion = "hardware_version", profile, dataModel = "data_model", organisationId = "organisation_id", groups, tags
        case location, description, status, ipAddress = "ip_address", connectionRequestUrl = "connection_request_url"
        case informInterval = "inform_interval", lastInform = "last_inform", lastBoot = "last_boot", createdAt = "created_at"
        case onboardedAt = "onboarded_at", credentialConflict = "credential_conflict", rebootstrap
    }

    init(_ d: Device, now: Int64) {
        id = d.id; name = d.name; oui = d.oui; productClass = d.productClass; serial = d.serialNumber
        manufacturer = d.manufacturer; model = d.modelName; softwareVersion = d.softwareVersion; hardwareVersion = d.hardwareVersion
        profile = d.profile; dataModel = d.dataModel?.rawValue; organisationId = d.organisationID; groups = d.groups; tags = d.tags
        location = d.location; description = d.description; status = d.status(now: now).rawValue; ipAddress = d.ipAddress
        connectionRequestUrl = d.connectionRequestURL; informInterval = d.informInterval; lastInform = Time.iso(d.lastInform)
        lastBoot = Time.iso(d.lastBoot); createdAt = Time.iso(d.createdAt); onboardedAt = Time.iso(d.onboardedAt)
        credentialConflict = d.credentialConflict; rebootstrap = Self.rebootstrapState(d.rebootstrapHold)
    }
}

/// Operator metadata of a device: what PATCH changes and the audit log records before/after.
struct DeviceMetadataView: Encodable {
    var groups: [String]
    var tags: [String]
    var location: String
    var description: String
    var organisationId: Int64
    init(_ d: Device) { groups = d.groups; tags = d.tags; location = d.location; description = d.description; organisationId = d.organisationID }
}

struct ParameterView: Encodable {
    var path: String
    var value: String
    var type: String
    var writable: Bool?
    var secret: Bool
    var updatedAt: String?
    /// Stored before the device's last factory reset and not read since.
    var stale: Bool = false
}

struct ParameterValueView: Codable {
    var path: String
    var value: String
    var type: String?
}

struct FaultView: Encodable {
    var id: Int64
    var deviceId: Int64
    var taskId: Int64?
    var source: String
    var code: Int
    var message: String
    var detail: String
    var at: String?
    init(_ f: FaultRecord) {
        id = f.id; deviceId = f.deviceID; taskId = f.taskID; source = f.source; code = f.code; message = f.message
        detail = f.detail; at = Time.iso(f.at)
    }
}

struct TaskView: Encodable {
    struct Request: Encodable {
        var paths: [String]?
        var parameters: [ParameterValueView]?
        var path: String?
        var url: String?
        var fileType: String?
        var fileSize: UInt32?
        var targetFileName: String?
        /// Diagnostics: the test ("download", "udpecho"…).
        var test: String?
        /// ScheduleDownload: the window, seconds from when the CPE got it.
        var windowStart: UInt32?
        var windowEnd: UInt32?
        /// CancelTransfer: the transfer's CommandKey.
        var commandKey: String?
    }
    struct Result: Encodable {
        var values: [ParameterValueView]
        var instanceNumber: UInt32?
        var status: Int?
    }
    struct Fault: Encodable {
        var code: Int
        var message: String
        var parameters: [String]?
    }
    var id: Int64
    var deviceId: Int64
    var action: String
    var state: String
    var request: Request
    var attempts: Int
    var createdAt: String?
    var updatedAt: String?
    var notBefore: String?
    var result: Result?
    var fault: Fault?
    var connectionRequestError: String?

    init(_ t: DeviceTask, maskSecrets: Bool = true) {
        id = t.id; deviceId = t.deviceID; action = Self.action(t.kind); state = t.state.rawValue; attempts = t.attempts
        createdAt = Time.iso(t.createdAt); updatedAt = Time.iso(t.updatedAt); notBefore = Time.iso(t.notBefore)
        request = Self.request(t.kind, maskSecrets: maskSecrets)
        if let r = t.result {
            result = Result(values: r.values.map { ParameterValueView(path: $0.name, value: ManagementPaths.isSecret($0.name) ? "" : $0.value,
                                                                       type: $0.type.rawValue) },
                            instanceNumber: r.instanceNumber, status: r.status)
        }
        if let f = t.fault {
            let params = f.setParameterValuesFaults.map { "\($0.parameterName): \($0.code) \($0.string)" }
            fault = Fault(code: f.code, message: f.string, parameters: params.isEmpty ? nil : params)
        }
    }

    static func action(_ k: TaskKind) -> String {
        switch k {
        case .reboot: "reboot"
        case .factoryReset: "factory_reset"
        case .setParameterValues: "set"
        case .getParameterValues: "get"
        case .refresh: "refresh"
        case .addObject: "add_object"
        case .deleteObject: "delete_object"
        case .download: "download"
        case .upload: "upload"
        case .scheduleDownload: "schedule_download"
        case .cancelTransfer: "cancel_transfer"
        case .queuedTransfers: "queued_transfers"
        case .diagnostics: "diagnose"
        }
    }

    static func request(_ k: TaskKind, maskSecrets: Bool) -> Request {
        switch k {
        case .reboot, .factoryReset: return Request()
        case .setParameterValues(let vs):
            return Request(parameters: vs.map {
                ParameterValueView(path: $0.name, value: maskSecrets && ManagementPaths.isSecret($0.name) ? "********" : $0.value, type: $0.type.rawValue)
            })
        case .getParameterValues(let ps): return Request(paths: ps)
        case .refresh(let p), .addObject(let p), .deleteObject(let p): return Request(path: p)
        case .download(let url, let type, let size, let target):
            return Request(url: url, fileType: type, fileSize: size, targetFileName: target.isEmpty ? nil : target)
        case .upload(let type):
            return Request(fileType: type)
        case .scheduleDownload(let url, let type, let size, let target, let start, let end):
            return Request(url: url, fileType: type, fileSize: size, targetFileName: target.isEmpty ? nil : target, windowStart: start, windowEnd: end)
        case .cancelTransfer(let key):
            return Request(commandKey: key)
        case .queuedTransfers:
            return Request()
        case .diagnostics(let d):
            return Request(parameters: d.plan.values.map { ParameterValueView(path: $0.name, value: $0.value, type: $0.type.rawValue) },
                           path: d.plan.object, test: d.plan.test.rawValue)
        }
    }
}

struct OrganisationView: Encodable {
    var id: Int64
    var parentId: Int64?
    var name: String
    var path: String
    var createdAt: String?
    init(_ o: Organisation) { id = o.id; parentId = o.parentID; name = o.name; path = o.path; createdAt = Time.iso(o.createdAt) }
}

struct UserView: Encodable {
    var id: Int64
    var username: String
    var organisationId: Int64
    var role: String
    var disabled: Bool
    var createdAt: String?
    init(_ u: UserAccount) { id = u.id; username = u.username; organisationId = u.organisationID; role = u.role.rawValue; disabled = u.disabled; createdAt = Time.iso(u.createdAt) }
}

struct TokenView: Encodable {
    var id: Int64
    var name: String
    var userId: Int64
    var prefix: String
    var organisationId: Int64
    var role: String
    var createdAt: String?
    var expiresAt: String?
    var revokedAt: String?
    var lastUsedAt: String?
    /// Only in the creation answer.
    var token: String?
    init(_ t: APIToken, secret: String? = nil) {
        id = t.id; name = t.name; userId = t.userID; prefix = t.prefix; organisationId = t.organisationID; role = t.role.rawValue
        createdAt = Time.iso(t.createdAt); expiresAt = Time.iso(t.expiresAt); revokedAt = Time.iso(t.revokedAt)
        lastUsedAt = Time.iso(t.lastUsedAt); token = secret
    }
}

struct AuditView: Encodable {
    var id: Int64
    var at: String?
    var actor: String
    var userId: Int64?
    var tokenId: Int64?
    var remote: String
    var organisationId: Int64
    var action: String
    var objectType: String
    var objectId: String
    var before: String?
    var after: String?
    var status: Int
    init(_ e: AuditEntry) {
        id = e.id; at = Time.iso(e.at); actor = e.actor; userId = e.userID; tokenId = e.tokenID; remote = e.remote
        organisationId = e.organisationID; action = e.action; objectType = e.objectType; objectId = e.objectID
        before = e.before; after = e.after; status = e.status
    }
}

struct FileView: Encodable {
    var id: Int64
    var name: String
    var fileType: String
    var organisationId: Int64
    var size: Int64
    var sha256: String
    var createdAt: String?
    var uploadedBy: String
    var downloadUrl: String
    /// Firmware images: the version it installs and the devices it is for ("" = any).
    var version: String
    var targetProfile: String
    var targetModel: String
    var notes: String
    init(_ f: StoredFile, baseURL: String) {
        id = f.id; name = f.name; fileType = f.fileType; organisationId = f.organisationID; size = f.size; sha256 = f.sha256
        createdAt = Time.iso(f.createdAt); uploadedBy = f.uploadedBy
        version = f.version; targetProfile = f.targetProfile; targetModel = f.targetModel; notes = f.notes
        downloadUrl = FileHandlers.downloadURL(f, baseURL: baseURL)
    }
}

struct PreprovisionView: Encodable {
    var oui: String
    var serial: String
    var organisationId: Int64
    var groups: [String]
    var tags: [String]
    var location: String
    var description: String
    var profile: String
    var createdAt: String?
    init(_ p: Preprovision) {
        oui = p.oui; serial = p.serial; organisationId = p.organisationID; groups = p.groups; tags = p.tags; location = p.location
        description = p.description; profile = p.profile; createdAt = Time.iso(p.createdAt)
    }
}

/// Shared input checks.
enum Validate {
    static func label(_ s: String, _ what: String) throws -> String {
        let t = s.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty, t.count <= 64, !t.contains(","), !t.contains(";"), !t.contains(where: { $0.isNewline }) else {
            throw APIError.invalid("\(what) must be 1-64 characters without commas, semicolons or line breaks: \(s.prefix(70))")
        }
        return t
    }

    static func labels(_ xs: [String], _ what: String) throws -> [String] {
        guard xs.count <= 50 else { throw APIError.invalid("at most 50 \(what)") }
        var seen: [String] = []
        for x in xs { let l = try label(x, what); if !seen.contains(l) { seen.append(l) } }
        return seen
    }

    static func text(_ s: String, _ what: String, max: Int = 1000) throws -> String {
        guard s.count <= max else { throw APIError.invalid("\(what) is limited to \(max) characters") }
        guard !s.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" && $0 != "\t" }) else {
            throw APIError.invalid("\(what) contains control characters")
        }
        return s
    }

    static func name(_ s: String, _ what: String) throws -> String {
        let t = s.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty, t.count <= 100, !t.contains("/"), !t.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw APIError.invalid("\(what) must be 1-100 characters, without '/' or control characters")
        }
        return t
    }

    /// A TR-069 parameter path (object paths end in ".").
    static func path(_ s: String, object: Bool? = nil) throws -> String {
        guard !s.isEmpty, s.utf8.count <= 256, s.first != ".",
              s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }) else {
            throw APIError.invalid("\(s.prefix(80)) is not a parameter path")
        }
        if object == true && !s.hasSuffix(".") { throw APIError.invalid("\(s) must be an object path ending in '.'") }
        if object == false && s.hasSuffix(".") { throw APIError.invalid("\(s) must be a parameter, not an object path") }
        return s
    }
}
