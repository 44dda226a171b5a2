import ACSCore
import Foundation
import NetHTTP
import Storage

/// Analytics and the OpenAPI document.
enum FleetHandlers {
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
