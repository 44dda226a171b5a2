import ACSCore
import Engine
import CWMP
import Foundation
import NetHTTP
import Storage

enum DeviceHandlers {
    static let maxExportRows = 200_000

    /// The list filters, shared by the JSON list and the CSV export. Always confined to the caller's subtree.
    static func query(_ ctx: RequestContext) throws -> DeviceQuery {
        let q = ctx.query
        var dq = DeviceQuery()
        dq.organisationPath = ctx.me.organisation.path
        if let s = q["status"] {
            guard let st = DeviceStatus(rawValue: s) else { throw APIError.badRequest("status must be online, offline or never") }
            dq.status = st
        }
        dq.profile = q["profile"]
        dq.manufacturer = q["manufacturer"]
        dq.model = q["model"]
        dq.softwareVersion = q["software_version"]
        dq.group = q["group"]
        dq.tag = q["tag"]
        dq.location = q["location"]
        dq.text = q["q"]
        if (dq.text?.count ?? 0) > 256 { throw APIError.badRequest("q is at most 256 characters") }
        if let org = try q.id("organisation_id") { dq.organisationPath2 = try ctx.organisation(org).path }
        let params = q.all("param")
        guard params.count <= 10 else { throw APIError.badRequest("at most 10 param conditions") }
        dq.parameters = try params.map { try parameterCondition($0, aliases: ctx.api.config.profiles) }
        if let s = q["sort"] {
            guard let sort = DeviceQuery.Sort(rawValue: s) else {
                throw APIError.badRequest("sort must be one of \(DeviceQuery.Sort.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            dq.sort = sort
        }
        switch q["order"] {
        case nil, "asc": dq.descending = false
        case "desc": dq.descending = true
        default: throw APIError.badRequest("order must be asc or desc")
        }
        dq.limit = try q.int("limit", default: 100, range: 1...1000)
        dq.cursor = q["cursor"]
        return dq
    }

    /// "Device.WiFi.SSID.1.SSID=Guest", "…UpTime>=3600", "…SSID~guest" (contains), or with a profile alias:
    /// "lte.rssi<-100" matches the alias's path in every profile that defines it.
    static func parameterCondition(_ s: String, aliases: ProfileRegistry = ProfileRegistry()) throws -> DeviceQuery.ParameterCondition {
        let ops: [(String, DeviceQuery.ParameterCondition.Op)] = [("!=", .ne), ("<=", .le), (">=", .ge), ("=", .eq), ("<", .lt), (">", .gt), ("~", .contains)]
        var best: (String.Index, String, DeviceQuery.ParameterCondition.Op)?
        for (text, op) in ops {
            if let r = s.range(of: text), best == nil || r.lowerBound < best!.0 || (r.lowerBound == best!.0 && text.count > best!.1.count) {
                best = (r.lowerBound, text, op)
            }
        }
        guard let (at, text, op) = best else { throw APIError.badRequest("param must look like <path><op><value>, op one of = != < <= > >= ~") }
        let path = try Validate.path(String(s[..<at]), object: false)
        let value = String(s[s.index(at, offsetBy: text.count)...])
        guard value.count <= 256 else { throw APIError.badRequest("a param value is at most 256 characters") }
        if [.lt, .le, .gt, .ge].contains(op) && Double(value) == nil { throw APIError.badRequest("\(text) needs a number in param \(s)") }
        if path.hasPrefix("Device.") || path.hasPrefix("InternetGatewayDevice.") {
            return DeviceQuery.ParameterCondition(paths: [path], op: op, value: value)
        }
        let paths = aliases.profiles.contains { $0.aliases[path] != nil } ? aliases.paths(forAlias: path) : []
        guard !paths.isEmpty else { throw APIError.badRequest("\(path.prefix(80)) in param is neither a parameter path nor a profile alias") }
        return DeviceQuery.ParameterCondition(paths: paths, op: op, value: value)
    }

    struct Page: Encodable {
        var devices: [DeviceView]
        var nextCursor: String?
        enum CodingKeys: String, CodingKey { case devices, nextCursor = "next_cursor" }
    }

    static func list(_ ctx: RequestContext) async throws -> HTTPResponse {
        let now = Time.now
        let page = try ctx.store.devices(try query(ctx), now: now)
        return JSON.response(Page(devices: page.devices.map { DeviceView($0, now: now) }, nextCursor: page.nextCursor), keysAsIs: true)
    }

    static func export(_ ctx: RequestContext) async throws -> HTTPResponse {
        let now = Time.now
        let names = try OrganisationHandlers.relativeNames(ctx)
        var out = CSV.line(["id", "name", "oui", "serial", "product_class", "manufacturer", "model", "software_version", "hardware_version",
                            "profile", "organisation_id", "organisation", "groups", "tags", "location", "description", "status",
                            "ip_address", "last_inform"])
        var n = 0
        try ctx.store.forEachDevice(try query(ctx), now: now) { d in
            n += 1
            out += CSV.line([String(d.id), d.name, d.oui, d.serialNumber, d.productClass, d.manufacturer, d.modelName, d.softwareVersion,
                             d.hardwareVersion, d.profile, String(d.organisationID), names[d.organisationID] ?? "", d.groups.joined(separator: ";"),
                             d.tags.joined(separator: ";"), d.location, d.description, d.status(now: now).rawValue, d.ipAddress,
                             Time.iso(d.lastInform) ?? ""])
            return n < maxExportRows
        }
        return csv(out, filename: "devices.csv")
    }

    static func csv(_ text: String, filename: String) -> HTTPResponse {
        HTTPResponse(status: 200, headers: ["Content-Type": "text/csv; charset=utf-8",
                                            "Content-Disposition": "attachment; filename=\"\(filename)\""], body: Array(text.utf8))
    }

    struct Detail: Encodable {
        struct Inform: Encodable { var at: String?; var events: [String]; var remote: String }
        var device: DeviceView
        var recentInforms: [Inform]
        var openTasks: [TaskView]
        var reachability: ReachabilityReport?
    }

    static func show(_ ctx: RequestContext) async throws -> HTTPResponse {
        let d = try ctx.device(try ctx.pathID())
        let informs = try ctx.store.informs(deviceID: d.id, limit: 10).map { Detail.Inform(at: Time.iso($0.at), events: $0.events, remote: $0.remote) }
        let open = try ctx.store.tasks(deviceID: d.id, states: [.pending, .sent, .waiting]).map { TaskView($0) }
        return JSON.response(Detail(device: DeviceView(d, now: Time.now), recentInforms: informs, openTasks: open,
                                    reachability: ctx.api.config.waker?.report(for: d)))
    }

    struct MetadataPatch: Decodable {
        var groups: [String]?
        var tags: [String]?
        var location: String?
        var description: String?
    }

    static func update(_ ctx: RequestContext) async throws -> HTTPResponse {
        var d = try ctx.device(try ctx.pathID())
        ctx.touching("device", String(d.id), organisation: d.organisationID)
        let patch = try ctx.body(MetadataPatch.self)
        let before = DeviceMetadataView(d)
        if let g = patch.groups { d.groups = try Validate.labels(g, "groups") }
        if let t = patch.tags { d.tags = try Validate.labels(t, "tags") }
        if let l = patch.location { d.location = try Validate.text(l, "location", max: 200) }
        if let s = patch.description { d.description = try Validate.text(s, "description") }
        try await ctx.store.updateDeviceMetadata(d)
        ctx.audit.before = JSON.text(before)
        ctx.audit.after = JSON.text(DeviceMetadataView(d))
        return JSON.response(DeviceView(d, now: Time.now))
    }

    struct Move: Decodable { var organisationId: Int64 }

    static func move(_ ctx: RequestContext) async throws -> HTTPResponse {
        var d = try ctx.device(try ctx.pathID())
        ctx.touching("device", String(d.id), organisation: d.organisationID)
        let target = try ctx.organisation(try ctx.body(Move.self).organisationId)
        let before = DeviceMetadataView(d)
        d.organisationID = target.id
        try await ctx.store.updateDeviceMetadata(d)
        ctx.audit.before = JSON.text(before)
        ctx.audit.after = JSON.text(DeviceMetadataView(d))
        return JSON.response(DeviceView(d, now: Time.now))
    }

    /// The operator decided which party is the device (after checking it in the field): the superseded credentials are
    /// forgotten and secrets flow again. Whoever holds the current credentials keeps the device.
    static func resolveConflict(_ ctx: RequestContext) async throws -> HTTPResponse {
        var d = try ctx.device(try ctx.pathID())
        ctx.touching("device", String(d.id), organisation: d.organisationID)
        guard d.credentialConflict || !d.supersededPasswordHA1.isEmpty else { throw APIError.conflict("device \(d.name) has no credential conflict") }
        ctx.audit.before = JSON.text(SecurityView(d))
        d.credentialConflict = false
        d.supersededPasswordHA1 = ""
        try await ctx.store.apply([.updateDeviceSecurity(deviceID: d.id, supersededHA1: "", credentialConflict: false, rebootstrapHold: d.rebootstrapHold)])
        ctx.audit.after = JSON.text(SecurityView(d))
        return JSON.response(DeviceView(d, now: Time.now))
    }

    /// Lets a quarantined re-bootstrap through once: the device's next BOOTSTRAP re-onboards it.
    static func approveRebootstrap(_ ctx: RequestContext) async throws -> HTTPResponse {
        var d = try ctx.device(try ctx.pathID())
        ctx.touching("device", String(d.id), organisation: d.organisationID)
        guard d.rebootstrapHold == .awaitingApproval else { throw APIError.conflict("device \(d.name) has no re-bootstrap awaiting approval") }
        ctx.audit.before = JSON.text(SecurityView(d))
        d.rebootstrapHold = .approved
        try await ctx.store.apply([.updateDeviceSecurity(deviceID: d.id, supersededHA1: d.supersededPasswordHA1,
                                                         credentialConflict: d.credentialConflict, rebootstrapHold: .approved)])
        ctx.audit.after = JSON.text(SecurityView(d))
        return JSON.response(DeviceView(d, now: Time.now))
    }

    struct SecurityView: Encodable {
        var credentialConflict: Bool
        var rebootstrap: String
        init(_ d: Device) { credentialConflict = d.credentialConflict; rebootstrap = DeviceView.rebootstrapState(d.rebootstrapHold) }
    }

    static func parameters(_ ctx: RequestContext) async throws -> HTTPResponse {
        let d = try ctx.device(try ctx.pathID())
        let prefix = ctx.query["prefix"] ?? ""
        if !prefix.isEmpty { _ = try Validate.path(prefix) }
        let limit = try ctx.query.int("limit", default: 5000, range: 1...50_000)
        let rows = try ctx.store.parameters(deviceID: d.id, prefix: prefix).prefix(limit)
        struct Out: Encodable { var parameters: [ParameterView] }
        return JSON.response(Out(parameters: rows.map { p in
            let secret = ManagementPaths.isSecret(p.path)
            return ParameterView(path: p.path, value: secret ? "" : p.value, type: p.type.rawValue, writable: p.writable, secret: secret,
                                 updatedAt: Time.iso(p.updatedAt), stale: p.updatedAt == 0)
        }))
    }
}
