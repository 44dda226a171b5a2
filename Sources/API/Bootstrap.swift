import ACSCore
import Engine
import Foundation
import HTTPAuth
import NetHTTP
import Storage

extension APIHandler {
    /// Mounts the API on a server's operator port (before `start()`).
    public static func install(on server: CorralServer, passwordIterations: Int = PasswordHash.defaultIterations) -> APIHandler {
        let c = server.config
        var ac = APIConfig(filesDirectory: (c.dataDirectory as NSString).appendingPathComponent("files"), fileBaseURL: c.fileBaseURL ?? "")
        ac.maxUploadBytes = c.maxUploadBytes
        ac.fileDownloadAuth = c.fileDownloadAuth
        ac.webhookHosts = c.webhookHosts
        ac.transfers = server.cwmp.transfers
        ac.catalog = server.catalog
        ac.reloader = server.reloader
        ac.passwordIterations = passwordIterations
        ac.scriptsDirectory = c.scriptsDirectory ?? "scripts"
        ac.waker = server.waker
        ac.automations = server.automations
        ac.speedTest = server.speedTest
        let api = APIHandler(store: server.store, config: ac)
        server.operatorRoutes = { await api.handle($0) }
        server.rollouts.fileURL.withLockedValue { [services = api.services] in $0 = { FileHandlers.downloadURL($0, baseURL: services.fileBaseURL) } }
        server.operatorMaxBodyBytes = JSON.maxBodyBytes
        server.operatorBodyLimit = OperatorBodyLimits.limit(maxUpload: c.maxUploadBytes)
        // Uploads go to disk as they arrive (never whole in memory), on the same file system as the store.
        let files = FileStore(directory: ac.filesDirectory)
        try? files.prepare()
        try? files.removeLeftovers()
        let spool = files.spoolDirectory
        // Only an upload whose credentials check out is read at all (refused from its head otherwise), so nobody
        // writes to this disk before authenticating; and none starts without room for it.
        server.operatorRefuse = { [services = api.services] method, path, headers in
            OperatorBodyLimits.refusal(method, path, headers, services: services, spool: spool)
        }
        server.operatorSpool = { method, path, _ in
            OperatorBodyLimits.isUpload(method, path) || OperatorBodyLimits.isBackupUpload(method, path) ? spool : nil
        }
        return api
    }

    /// After `start()`: the default download base URL needs the bound port.
    public func serverStarted(_ server: CorralServer) {
        if services.fileBaseURL.isEmpty {
            let host = ["0.0.0.0", "::", ""].contains(server.config.host) ? ProcessInfo.processInfo.hostName : server.config.host
            services.fileBaseURL = "\(server.tls == nil ? "http" : "https")://\(host.contains(":") ? "[\(host)]" : host):\(server.httpPort)"
        }
        // Downloads and uploads pointed here carry the device's transfer credentials.
        let base = services.fileBaseURL.hasSuffix("/") ? String(services.fileBaseURL.dropLast()) : services.fileBaseURL
        server.cwmp.transferPrefixes.withLockedValue { $0 = [base + "/files/", base + "/uploads/", base + "/backups/"] }
    }
}

/// Accounts created outside the API: the first superadmin at first start, and `corral user add`.
public enum AccountBootstrap {
    /// Creates "admin" (superadmin, root organisation) with a random password when there are no users at all.
    /// Returns the password, which is shown once and never stored.
    public static func ensureFirstAdmin(store: OperatorStore, iterations: Int = PasswordHash.defaultIterations) async throws -> String? {
        guard try store.userCount() == 0 else { return nil }
        let password = Secrets.generatedPassword()
        do {
            _ = try await store.createUser(UserAccount(username: "admin", passwordHash: PasswordHash.make(password: password, iterations: iterations),
                                                       organisationID: Organisation.rootID, role: .superadmin, createdAt: Time.now))
        } catch is StoreConflict {
            return nil   // several nodes started on a new database at once: another one created it (its log has the password)
        } catch let e as any DatabaseFault where e.isConstraintViolation {
            return nil
        }
        return password
    }

    public static func addUser(store: OperatorStore, username: String, password: String, role: Role, organisationID: Int64,
                               iterations: Int = PasswordHash.defaultIterations) async throws -> UserAccount {
        _ = try AccountHandlers.username(username)
        _ = try AccountHandlers.password(password, username: username)
        guard try store.organisation(id: organisationID) != nil else { throw StoreConflict("organisation \(organisationID) does not exist") }
        if role == .superadmin && organisationID != Organisation.rootID { throw StoreConflict("superadmins belong to the root organisation") }
        return try await store.createUser(UserAccount(username: username, passwordHash: PasswordHash.make(password: password, iterations: iterations),
                                                      organisationID: organisationID, role: role, createdAt: Time.now))
    }

    /// A token for automation (used by scripts/test to drive schemathesis); the secret is returned once.
    public static func addToken(store: OperatorStore, username: String, name: String, role: Role, days: Int = 1) async throws -> String {
        guard let user = try store.user(username: username) else { throw StoreConflict("no user \(username)") }
        let maxDays = AccountPolicy.maxTokenDays(min(role, user.role))
        guard (1...maxDays).contains(days) else { throw StoreConflict("a \(min(role, user.role).rawValue) token lasts 1 to \(maxDays) days") }
        let secret = Secrets.newToken()
        let now = Time.now
        _ = try await store.createToken(APIToken(userID: user.id, name: name, tokenHash: Secrets.hash(secret), prefix: String(secret.prefix(10)),
                                                 organisationID: user.organisationID, role: min(role, user.role), createdAt: now,
                                                 expiresAt: now + Int64(days) * 86400))
        return secret
    }
}

/// What a request to the operator port may send, decided from its head before the body is read: login forms are
/// tiny, JSON is 1 MiB, and only an upload that carries credentials (a token or a session cookie) may be large.
/// Authentication itself happens later; this only keeps anonymous bodies small.
enum OperatorBodyLimits {
    static let login = 16 << 10

    static func limit(maxUpload: Int) -> @Sendable (String, String, HTTPFields) -> Int {
        { method, path, headers in
            if path == "/api/v1/auth/login" || path == "/login" { return login }
            if isUpload(method, path) { return hasCredentials(headers) ? max(maxUpload, JSON.maxBodyBytes) : login }
            // A CPE's backup: some send it before authenticating, then again after the 401 (bounded, and counted
            // against the buffered-body budget until it is spooled).
            if isBackupUpload(method, path) { return Backup.maxBytes }
            return JSON.maxBodyBytes
        }
    }

    /// Requests whose body is a file (spooled to disk).
    static func isUpload(_ method: String, _ path: String) -> Bool {
        method == "POST" && (path == "/api/v1/files" || path == "/api/v1/firmware")
    }

    /// Disk kept free for the database whatever uploads arrive.
    static let reserveBytes: Int64 = 1 << 30

    /// Uploads are read only with credentials that check out (a bearer token or session of an admin; a CPE's transfer
    /// credentials) and room on the disk for what they declare.
    static func refusal(_ method: String, _ path: String, _ headers: HTTPFields, services: APIServices, spool: String) -> HTTPResponse? {
        let api = isUpload(method, path), backup = isBackupUpload(method, path)
        guard api || backup else { return nil }
        if backup {
            guard services.transferDevice(authorization: headers.first("Authorization"), method: method, uri: path) != nil else {
                return services.transferRefusal(401, "credentials required: the device's transfer credentials from its Upload request")
            }
        } else {
            let request = HTTPRequest(method: method, uri: path, headers: headers)
            guard let caller = try? Authenticator(store: services.store).authenticate(request, now: Time.now) else {
                return APIError.unauthorized("uploads need valid credentials (a bearer token or a session) before their body is read").response
            }
            guard caller.role >= .admin, !caller.mustEnrolTwoFactor else { return APIError.forbidden("uploads need the admin role").response }
        }
        if let declared = headers.first("Content-Length").flatMap({ Int64($0.trimmingCharacters(in: .whitespaces)) }),
           let free = FileStore.freeBytes(at: spool), declared + reserveBytes > free {
            return APIError(507, "storage", "Insufficient storage", "\(declared) bytes do not fit: \(max(0, free - reserveBytes)) bytes are free for files").response
        }
        return nil
    }

    /// PUT (or POST, which some CPEs use) of an uploaded backup to /uploads/<task>.
    static func isBackupUpload(_ method: String, _ path: String) -> Bool {
        (method == "PUT" || method == "POST") && path.hasPrefix("/uploads/")
    }

    /// Checked again by the handler; without any, an upload is refused before its body is read.
    static func hasCredentials(_ headers: HTTPFields) -> Bool {
        headers.first("Authorization") != nil || headers.first("Cookie") != nil
    }
}
