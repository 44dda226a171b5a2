import ACSCore
import Foundation
import NetHTTP
import Storage

/// Profiles (read-only until Lua profiles land) and analytics.
enum FleetHandlers {
    struct ProfileView: Encodable {
        var name: String
        var dataModel: String?
        var onboardingUsername: String
        var informInterval: Int
        init(_ p: DeviceProfile) { name = p.name; dataModel = p.dataModel?.rawValue; onboardingUsername = p.onboardingUsername; informInterval = p.informInterval }
    }
    struct ProfileList: Encodable { var profiles: [ProfileView] }

    static func profiles(_ ctx: RequestContext) async throws -> HTTPResponse {
        JSON.response(ProfileList(profiles: ctx.api.config.profiles.profiles.map(ProfileView.init)))
    }

    static func profile(_ ctx: RequestContext) async throws -> HTTPResponse {
        let name = ctx.params["name"] ?? ""
        guard let p = ctx.api.config.profiles.profile(named: name) else { throw APIError.notFound("profile \(name.prefix(80))") }
        return JSON.response(ProfileView(p))
    }

    struct Count: Encodable { var key: String; var count: Int }
    struct Analytics: Encodable {
        var total: Int
        var byStatus: [String: Int]
        var byManufacturer: [Count]
        var byModel: [Count]
        var bySoftwareVersion: [Count]
        var byProfile: [Count]
        var byOrganisation: [Count]
    }

    static func analytics(_ ctx: RequestContext) async throws -> HTTPResponse {
        let path = ctx.me.organisation.path
        let now = Time.now
        var byStatus: [String: Int] = [:]
        var total = 0
        for s in [DeviceStatus.online, .offline, .never] {
            var q = DeviceQuery()
            q.organisationPath = path
            q.status = s
            let n = try ctx.store.countDevices(q, now: now)
            byStatus[s.rawValue] = n
            total += n
        }
        func counts(_ c: DeviceCountColumn) throws -> [Count] { try ctx.store.deviceCounts(by: c, under: path).map { Count(key: $0.key, count: $0.count) } }
        return JSON.response(Analytics(total: total, byStatus: byStatus, byManufacturer: try counts(.manufacturer), byModel: try counts(.model),
                                       bySoftwareVersion: try counts(.softwareVersion), byProfile: try counts(.profile),
                                       byOrganisation: try counts(.organisation)))
    }

    static func openAPI(_ ctx: RequestContext) async throws -> HTTPResponse {
        HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: OpenAPIDocument.bytes)
    }
}
