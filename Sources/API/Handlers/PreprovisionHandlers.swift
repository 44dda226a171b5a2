import ACSCore
import Foundation
import NetHTTP
import Storage

/// Pre-provisioning and migration: a CSV of serials with where they belong. Rows for devices that already exist
/// update them; the others wait for the device's first Inform (CWMPService applies them at onboarding).
///
/// Columns (header required, any order): serial (required), oui, organisation (names path relative to the
/// caller's organisation, "" = its own, e.g. "Acme/North"), groups, tags (";"-separated), location, description,
/// profile. Export writes the same columns for pending rows and existing devices, so an export imports again.
enum PreprovisionHandlers {
    static let columns = ["serial", "oui", "organisation", "groups", "tags", "location", "description", "profile"]
    static let maxRows = 100_000

    struct List: Encodable { var entries: [PreprovisionView] }

    static func list(_ ctx: RequestContext) async throws -> HTTPResponse {
        JSON.response(List(entries: try ctx.store.preprovisions(under: ctx.me.organisation.path).map(PreprovisionView.init)))
    }

    struct ImportResult: Encodable { var pending: Int; var updatedDevices: Int }

    static func importCSV(_ ctx: RequestContext) async throws -> HTTPResponse {
        let ct = ctx.request.headers.first("Content-Type")?.lowercased() ?? ""
        guard ct.hasPrefix("text/csv") else { throw APIError.unsupportedMediaType("send the body as text/csv") }
        guard ctx.request.body.count <= 16 << 20 else { throw APIError.tooLarge("CSV imports are limited to 16 MiB") }
        let rows: [[String]]
        do { rows = try CSV.parse(String(decoding: ctx.request.body, as: UTF8.self), maxRows: maxRows + 1) } catch {
            throw APIError.invalid("\(error)")
        }
        guard let header = rows.first?.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) else {
            throw APIError.invalid("the CSV is empty; the first line names the columns: \(columns.joined(separator: ","))")
        }
        if let unknown = header.first(where: { !columns.contains($0) }) {
            throw APIError.invalid("unknown column \(unknown.prefix(40)); columns: \(columns.joined(separator: ","))")
        }
        guard header.contains("serial") else { throw APIError.invalid("the serial column is required") }

        // Organisation names path -> ID, within the caller's subtree.
        var orgByPath: [String: Int64] = [:]
        for (id, path) in try OrganisationHandlers.relativeNames(ctx) { orgByPath[path.lowercased()] = id }
        let now = Time.now
        var pending: [Preprovision] = []
        var updates: [(Device, Device)] = []
        var errors: [String] = []
        for (i, row) in rows.dropFirst().enumerated() {
            let line = i + 2
            func col(_ name: String) -> String {
                guard let idx = header.firstIndex(of: name), idx < row.count else { return "" }
                return row[idx].trimmingCharacters(in: .whitespaces)
            }
            do {
                let serial = col("serial")
                guard !serial.isEmpty, serial.count <= 64 else { throw APIError.invalid("serial is required (at most 64 characters)") }
                let oui = col("oui")
                guard oui.count <= 6 else { throw APIError.invalid("oui is at most 6 characters") }
                guard let org = orgByPath[col("organisation").lowercased()] else {
                    throw APIError.invalid("organisation \"\(col("organisation").prefix(80))\" is not in your organisation tree")
                }
                let split = { (s: String) in s.split(separator: ";").map { String($0) } }
                let profile = col("profile")
                if !profile.isEmpty && ctx.api.config.profiles.profile(named: profile) == nil {
                    throw APIError.invalid("unknown profile \(profile.prefix(40))")
                }
                let p = Preprovision(oui: oui, serial: serial, organisationID: org, groups: try Validate.labels(split(col("groups")), "groups"),
                                     tags: try Validate.labels(split(col("tags")), "tags"), location: try Validate.text(col("location"), "location", max: 200),
                                     description: try Validate.text(col("description"), "description"), profile: profile, createdAt: now)
                let existing = try ctx.store.devices(serial: serial).filter { oui.isEmpty || $0.oui == oui }
                if existing.isEmpty {
                    pending.append(p)
                } else {
                    for d in existing {
                        guard ctx.me.sees(try ctx.organisationPath(d.organisationID)) else {
                            throw APIError.invalid("serial \(serial) belongs to a device outside your organisation tree")
                        }
                        var changed = d
                        p.apply(to: &changed)
                        updates.append((d, changed))
                    }
                }
            } catch let e as APIError {
                errors.append("line \(line): \(e.detail)")
                if errors.count >= 20 { break }
            }
        }
        // All or nothing: an import with errors changes nothing.
        guard errors.isEmpty else { throw APIError.invalid(errors.joined(separator: "; ")) }
        try await ctx.store.savePreprovisions(pending)
        for (_, d) in updates { try await ctx.store.updateDeviceMetadata(d) }
        ctx.touching("preprovisioning", "import", organisation: ctx.me.organisation.id)
        ctx.audit.after = JSON.text(["pending": pending.map(\.serial), "updated_devices": updates.map(\.1.name)])
        ctx.audit.before = JSON.text(updates.map { DeviceMetadataView($0.0) })
        return JSON.response(ImportResult(pending: pending.count, updatedDevices: updates.count))
    }

    static func export(_ ctx: RequestContext) async throws -> HTTPResponse {
        let names = try OrganisationHandlers.relativeNames(ctx)
        var out = CSV.line(columns)
        for p in try ctx.store.preprovisions(under: ctx.me.organisation.path) {
            out += CSV.line([p.serial, p.oui, names[p.organisationID] ?? "", p.groups.joined(separator: ";"), p.tags.joined(separator: ";"),
                             p.location, p.description, p.profile])
        }
        var q = DeviceQuery()
        q.organisationPath = ctx.me.organisation.path
        var n = 0
        try ctx.store.forEachDevice(q, now: Time.now) { d in
            n += 1
            out += CSV.line([d.serialNumber, d.oui, names[d.organisationID] ?? "", d.groups.joined(separator: ";"), d.tags.joined(separator: ";"),
                             d.location, d.description, d.profile])
            return n < DeviceHandlers.maxExportRows
        }
        return DeviceHandlers.csv(out, filename: "preprovisioning.csv")
    }

    static func delete(_ ctx: RequestContext) async throws -> HTTPResponse {
        let serial = ctx.params["serial"] ?? ""
        let oui = ctx.query["oui"] ?? ""
        guard let p = try ctx.store.preprovisions(under: ctx.me.organisation.path).first(where: { $0.serial == serial && $0.oui == oui }) else {
            throw APIError.notFound("pre-provisioning entry \(serial.prefix(64))")
        }
        ctx.touching("preprovisioning", oui.isEmpty ? serial : "\(oui)-\(serial)", organisation: p.organisationID)
        ctx.audit.before = JSON.text(PreprovisionView(p))
        try await ctx.store.deletePreprovision(oui: oui, serial: serial)
        return HTTPResponse(status: 204)
    }
}
