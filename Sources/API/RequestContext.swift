import ACSCore
import Engine
import Foundation
import NetHTTP
import Storage

/// What a handler gets: the request, path parameters, query, the caller, the services, and the audit note it
/// fills in for mutating calls.
final class RequestContext: @unchecked Sendable {
    let request: HTTPRequest
    let params: [String: String]
    let query: QueryString
    let api: APIServices
    var caller: Caller?
    var audit = AuditNote()

    struct AuditNote {
        var objectType = ""
        var objectID = ""
        var organisationID: Int64?
        var before: String?
        var after: String?
        /// Actor for calls without a caller (login attempts).
        var actor: String?
    }

    init(request: HTTPRequest, params: [String: String], api: APIServices) {
        self.request = request
        self.params = params
        self.query = QueryString(request.query)
        self.api = api
    }

    var store: APIStore { api.store }

    /// Wakes a device by the best method it has (XMPP/UDP/HTTP, the profile's order); throws what was tried.
    @discardableResult
    func wake(_ device: Device) async throws -> WakeAttempt? {
        if let waker = api.config.waker { return try await waker.wakeOrThrow(device) }
        try await ConnectionRequester.send(to: device, allowedNetworks: api.config.profiles.profile(named: device.profile)?.connectionRequestNetworks ?? [])
        return nil
    }
    var me: Caller { caller! }

    func pathID(_ name: String = "id") throws -> Int64 {
        guard let s = params[name], let v = Int64(s), v > 0 else { throw APIError.badRequest("\(name) in the path must be a positive integer") }
        return v
    }

    func body<T: Decodable>(_ type: T.Type) throws -> T { try JSON.decode(type, from: request) }

    func require(_ role: Role, _ why: String) throws {
        guard me.has(role) else { throw APIError.forbidden("\(why) needs the \(role.rawValue) role") }
    }

    // MARK: visibility: objects outside the caller's subtree are "not found"

    func organisation(_ id: Int64) throws -> Organisation {
        guard let o = try store.organisation(id: id), me.sees(o.path) else { throw APIError.notFound("organisation \(id)") }
        return o
    }

    func organisationPath(_ id: Int64) throws -> String { try store.organisation(id: id)?.path ?? "/nowhere/" }

    func device(_ id: Int64) throws -> Device {
        guard let d = try store.device(id: id), me.sees(try organisationPath(d.organisationID)) else { throw APIError.notFound("device \(id)") }
        return d
    }

    func task(_ id: Int64) throws -> (DeviceTask, Device) {
        guard let t = try store.task(id: id), let d = try? device(t.deviceID) else { throw APIError.notFound("task \(id)") }
        return (t, d)
    }

    func fault(_ id: Int64) throws -> (FaultRecord, Device) {
        guard let f = try store.fault(id: id), let d = try? device(f.deviceID) else { throw APIError.notFound("fault \(id)") }
        return (f, d)
    }

    func file(_ id: Int64) throws -> StoredFile {
        guard let f = try store.file(id: id), me.sees(try organisationPath(f.organisationID)) else { throw APIError.notFound("file \(id)") }
        return f
    }

    func user(_ id: Int64) throws -> UserAccount {
        guard let u = try store.user(id: id), me.sees(try organisationPath(u.organisationID)) else { throw APIError.notFound("user \(id)") }
        return u
    }

    func token(_ id: Int64) throws -> APIToken {
        guard let t = try store.token(id: id), me.sees(try organisationPath(t.organisationID)) else { throw APIError.notFound("token \(id)") }
        return t
    }

    func campaign(_ id: Int64) throws -> CampaignRecord {
        guard let c = try store.campaign(id: id), me.sees(try organisationPath(c.organisationID)) else { throw APIError.notFound("campaign \(id)") }
        return c
    }

    /// Notes what a mutating call touches, for the audit log.
    func touching(_ type: String, _ id: String, organisation: Int64) {
        audit.objectType = type
        audit.objectID = id
        audit.organisationID = organisation
    }
}
