import ACSCore
import Foundation
import NetHTTP
import Storage

enum OrganisationHandlers {
    struct List: Encodable { var organisations: [OrganisationView] }

    static func list(_ ctx: RequestContext) async throws -> HTTPResponse {
        JSON.response(List(organisations: try ctx.store.organisations(under: ctx.me.organisation.path).map(OrganisationView.init)))
    }

    static func show(_ ctx: RequestContext) async throws -> HTTPResponse {
        JSON.response(OrganisationView(try ctx.organisation(try ctx.pathID())))
    }

    /// Organisations the caller may change: strictly below its own (its own is given to it), or any for a superadmin.
    static func changeable(_ ctx: RequestContext, _ id: Int64) throws -> Organisation {
        let o = try ctx.organisation(id)
        if o.id == ctx.me.organisation.id && ctx.me.role != .superadmin {
            throw APIError.forbidden("an admin cannot change its own organisation, only those below it")
        }
        return o
    }

    struct Create: Decodable { var name: String; var parentId: Int64? }

    static func create(_ ctx: RequestContext) async throws -> HTTPResponse {
        let body = try ctx.body(Create.self)
        let parent = try ctx.organisation(body.parentId ?? ctx.me.organisation.id)
        let name = try Validate.name(body.name, "name")
        let o = try await ctx.store.createOrganisation(name: name, parentID: parent.id, now: Time.now)
        ctx.touching("organisation", String(o.id), organisation: o.id)
        ctx.audit.after = JSON.text(OrganisationView(o))
        return JSON.response(OrganisationView(o), status: 201)
    }

    struct Rename: Decodable { var name: String }

    static func rename(_ ctx: RequestContext) async throws -> HTTPResponse {
        var o = try changeable(ctx, try ctx.pathID())
        ctx.touching("organisation", String(o.id), organisation: o.id)
        let name = try Validate.name(try ctx.body(Rename.self).name, "name")
        ctx.audit.before = JSON.text(OrganisationView(o))
        try await ctx.store.renameOrganisation(id: o.id, name: name)
        o.name = name
        ctx.audit.after = JSON.text(OrganisationView(o))
        return JSON.response(OrganisationView(o))
    }

    struct Move: Decodable { var parentId: Int64 }

    static func move(_ ctx: RequestContext) async throws -> HTTPResponse {
        let o = try changeable(ctx, try ctx.pathID())
        ctx.touching("organisation", String(o.id), organisation: o.id)
        let parent = try ctx.organisation(try ctx.body(Move.self).parentId)
        ctx.audit.before = JSON.text(OrganisationView(o))
        try await ctx.store.moveOrganisation(id: o.id, to: parent.id)
        let moved = try ctx.organisation(o.id)
        ctx.audit.after = JSON.text(OrganisationView(moved))
        return JSON.response(OrganisationView(moved))
    }

    static func delete(_ ctx: RequestContext) async throws -> HTTPResponse {
        let o = try changeable(ctx, try ctx.pathID())
        ctx.touching("organisation", String(o.id), organisation: o.parentID ?? o.id)
        ctx.audit.before = JSON.text(OrganisationView(o))
        try await ctx.store.deleteOrganisation(id: o.id)
        return HTTPResponse(status: 204)
    }

    /// Organisation ID -> "A/B" path of names relative to the caller's organisation ("" for its own): the CSV form.
    static func relativeNames(_ ctx: RequestContext) throws -> [Int64: String] {
        let orgs = try ctx.store.organisations(under: ctx.me.organisation.path)
        var byID: [Int64: Organisation] = [:]
        for o in orgs { byID[o.id] = o }
        var out: [Int64: String] = [:]
        for o in orgs {
            var names: [String] = []
            var cur: Organisation? = o
            while let c = cur, c.id != ctx.me.organisation.id {
                names.append(c.name)
                cur = c.parentID.flatMap { byID[$0] }
            }
            out[o.id] = names.reversed().joined(separator: "/")
        }
        return out
    }
}
