import ACSCore
import Engine
import Foundation
import NetHTTP
import Storage

/// Onboarding troubleshooting (issue 16): the refused first contacts with the usual cause of each, credential
/// recovery for a device that lost its own credentials, and removing a device.
enum OnboardingHandlers {
    struct AttemptView: Encodable {
        var id: Int64
        var firstAt: String?
        var lastAt: String?
        var count: Int
        var address: String
        var oui: String
        var serial: String
        var productClass: String
        var username: String
        var reason: String
        var detail: String
        var hint: String
        var deviceId: Int64?
        init(_ a: OnboardingAttempt) {
            id = a.id; firstAt = Time.iso(a.firstAt); lastAt = Time.iso(a.lastAt); count = a.count; address = a.address; oui = a.oui
            serial = a.serial; productClass = a.productClass; username = a.username; reason = a.reason.rawValue; detail = a.detail
            hint = a.reason.hint; deviceId = a.deviceID
        }
    }

    struct AttemptList: Encodable {
        var attempts: [AttemptView]
        /// What to check when the device is not in the list at all.
        var notListed: String
    }

    /// GET /onboarding-attempts?device_id=&search=&limit=
    static func attempts(_ ctx: RequestContext) async throws -> HTTPResponse {
        let device = try ctx.query.id("device_id").map { try ctx.device($0) }
        let search = try Validate.text(ctx.query["search"] ?? "", "search", max: 100)
        let limit = try ctx.query.int("limit", default: 200, range: 1...1000)
        let list = try ctx.store.onboardingAttempts(organisationPath: ctx.me.organisation.path, deviceID: device?.id, search: search, limit: limit)
        return JSON.response(AttemptList(attempts: list.map(AttemptView.init), notListed: OnboardingAttempt.noAttemptHint))
    }

    /// POST /devices/{id}/reset-credentials: the device may onboard once more with its profile's onboarding
    /// credentials, without a BOOTSTRAP (it gets new unique credentials then; until it confirms them, its current
    /// ones stay valid too).
    static func resetCredentials(_ ctx: RequestContext) async throws -> HTTPResponse {
        var d = try ctx.device(try ctx.pathID())
        ctx.touching("device", String(d.id), organisation: d.organisationID)
        ctx.audit.before = JSON.text(["credentials_confirmed": d.credentialsConfirmed])
        try await ctx.store.apply([.resetCredentials(deviceID: d.id)])
        d.credentialsConfirmed = false
        d.previousPasswordHA1 = ""
        ctx.audit.after = JSON.text(["credentials_confirmed": false])
        return JSON.response(DeviceView(d, now: Time.now))
    }

    /// DELETE /devices/{id}: the device and everything stored about it (parameters, tasks, history, backups). A CPE
    /// that informs again with onboarding credentials is onboarded as a new device.
    static func delete(_ ctx: RequestContext) async throws -> HTTPResponse {
        let d = try ctx.device(try ctx.pathID())
        ctx.touching("device", String(d.id), organisation: d.organisationID)
        ctx.audit.before = JSON.text(DeviceView(d, now: Time.now))
        let backups = try await ctx.store.deleteDevice(id: d.id)
        for id in backups { try? FileManager.default.removeItem(atPath: BackupHandlers.path(id, ctx.api)) }
        return HTTPResponse(status: 204)
    }
}
