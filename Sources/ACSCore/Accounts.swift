/// Privilege levels, each including the ones below. A role applies to an organisation and its whole subtree.
public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    /// Read-only.
    case viewer
    /// Basic management: parameter changes (WiFi…), reboot, refresh, diagnostics, summon, device metadata.
    case `operator`
    /// Advanced management: factory reset, firmware, files, organisations, users and tokens of the subtree.
    case admin
    /// Everything; only at the root organisation.
    case superadmin

    var rank: Int { Role.allCases.firstIndex(of: self)! }
    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
}

/// An organisation in the tree. `path` lists the IDs from the root, e.g. "/1/4/9/", so a subtree is a prefix.
public struct Organisation: Sendable, Equatable, Codable {
    public var id: Int64
    public var parentID: Int64?
    public var name: String
    public var path: String
    public var createdAt: Int64
    public init(id: Int64, parentID: Int64?, name: String, path: String, createdAt: Int64) {
        self.id = id; self.parentID = parentID; self.name = name; self.path = path; self.createdAt = createdAt
    }

    public static let rootID: Int64 = 1

    /// True if `other` is this organisation or below it.
    public func contains(_ otherPath: String) -> Bool { otherPath.hasPrefix(path) }
}

public struct UserAccount: Sendable, Equatable, Codable {
    public var id: Int64
    public var username: String
    /// `PasswordHash` string (pbkdf2-sha256$iterations$salt$hash); never the password.
    public var passwordHash: String
    public var organisationID: Int64
    public var role: Role
    public var disabled: Bool
    public var createdAt: Int64
    public init(id: Int64 = 0, username: String, passwordHash: String, organisationID: Int64, role: Role, disabled: Bool = false, createdAt: Int64) {
        self.id = id; self.username = username; self.passwordHash = passwordHash; self.organisationID = organisationID
        self.role = role; self.disabled = disabled; self.createdAt = createdAt
    }
}

/// A bearer token for integrations. Only the SHA-256 of the secret is stored.
public struct APIToken: Sendable, Equatable, Codable {
    public var id: Int64
    public var userID: Int64
    public var name: String
    public var tokenHash: String
    /// First characters of the secret, to recognise it in lists.
    public var prefix: String
    public var organisationID: Int64
    public var role: Role
    public var createdAt: Int64
    /// 0 = never.
    public var expiresAt: Int64
    public var revokedAt: Int64
    public var lastUsedAt: Int64
    public init(id: Int64 = 0, userID: Int64, name: String, tokenHash: String, prefix: String, organisationID: Int64, role: Role,
                createdAt: Int64, expiresAt: Int64 = 0, revokedAt: Int64 = 0, lastUsedAt: Int64 = 0) {
        self.id = id; self.userID = userID; self.name = name; self.tokenHash = tokenHash; self.prefix = prefix
        self.organisationID = organisationID; self.role = role; self.createdAt = createdAt; self.expiresAt = expiresAt
        self.revokedAt = revokedAt; self.lastUsedAt = lastUsedAt
    }

    public func isUsable(now: Int64) -> Bool { revokedAt == 0 && (expiresAt == 0 || now < expiresAt) }
}

/// A GUI login session (cookie). Only the SHA-256 of the cookie value is stored.
public struct LoginSession: Sendable, Equatable {
    public var tokenHash: String
    public var userID: Int64
    public var csrf: String
    public var createdAt: Int64
    public var expiresAt: Int64
    public init(tokenHash: String, userID: Int64, csrf: String, createdAt: Int64, expiresAt: Int64) {
        self.tokenHash = tokenHash; self.userID = userID; self.csrf = csrf; self.createdAt = createdAt; self.expiresAt = expiresAt
    }
}

/// One audited call: who, when, from where, what.
public struct AuditEntry: Sendable, Equatable, Codable {
    public var id: Int64
    public var at: Int64
    public var actor: String
    public var userID: Int64?
    public var tokenID: Int64?
    public var remote: String
    /// Organisation of the object acted on: who may read the entry.
    public var organisationID: Int64
    public var action: String
    public var objectType: String
    public var objectID: String
    /// JSON before/after (metadata changes) or the request (task parameters).
    public var before: String?
    public var after: String?
    public var status: Int
    public init(id: Int64 = 0, at: Int64, actor: String, userID: Int64?, tokenID: Int64?, remote: String, organisationID: Int64,
                action: String, objectType: String, objectID: String, before: String? = nil, after: String? = nil, status: Int) {
        self.id = id; self.at = at; self.actor = actor; self.userID = userID; self.tokenID = tokenID; self.remote = remote
        self.organisationID = organisationID; self.action = action; self.objectType = objectType; self.objectID = objectID
        self.before = before; self.after = after; self.status = status
    }
}

/// A firmware or configuration file CPEs can download.
public struct StoredFile: Sendable, Equatable, Codable {
    public var id: Int64
    public var name: String
    /// TR-069 FileType, e.g. "1 Firmware Upgrade Image".
    public var fileType: String
    public var organisationID: Int64
    public var size: Int64
    public var sha256: String
    /// Random secret in the download URL (CPEs cannot authenticate to the operator side).
    public var downloadKey: String
    public var createdAt: Int64
    public var uploadedBy: String
    /// A firmware image's version ("" for other files): what SoftwareVersion reads once a device runs it.
    public var version = ""
    /// The profile and the model (glob) the image is for; "" = any.
    public var targetProfile = ""
    public var targetModel = ""
    public var notes = ""
    public init(id: Int64 = 0, name: String, fileType: String, organisationID: Int64, size: Int64, sha256: String, downloadKey: String,
                createdAt: Int64, uploadedBy: String) {
        self.id = id; self.name = name; self.fileType = fileType; self.organisationID = organisationID; self.size = size
        self.sha256 = sha256; self.downloadKey = downloadKey; self.createdAt = createdAt; self.uploadedBy = uploadedBy
    }

    public static let firmwareType = "1 Firmware Upgrade Image"
    public var isFirmware: Bool { !version.isEmpty }
}

/// Where a device lands when it first informs (imported before it ever connected).
public struct Preprovision: Sendable, Equatable, Codable {
    /// Empty = any OUI.
    public var oui: String
    public var serial: String
    public var organisationID: Int64
    public var groups: [String]
    public var tags: [String]
    public var location: String
    public var description: String
    public var profile: String
    public var createdAt: Int64
    public init(oui: String = "", serial: String, organisationID: Int64, groups: [String] = [], tags: [String] = [], location: String = "",
                description: String = "", profile: String = "", createdAt: Int64 = 0) {
        self.oui = oui; self.serial = serial; self.organisationID = organisationID; self.groups = groups; self.tags = tags
        self.location = location; self.description = description; self.profile = profile; self.createdAt = createdAt
    }

    /// Copies the operator metadata onto a device being created.
    public func apply(to device: inout Device) {
        device.organisationID = organisationID
        device.groups = groups
        device.tags = tags
        if !location.isEmpty { device.location = location }
        if !description.isEmpty { device.description = description }
    }
}
