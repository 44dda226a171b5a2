import ACSCore
import CWMP
import Engine
import Foundation
import NetHTTP
import Storage

/// The launch checklist (issue 16): POST /devices/{id}/validate runs it against the live device (bounded waits) and
/// answers the saved report; the reports stay as the device's launch sign-off records.
enum ValidationHandlers {
    struct RunBody: Decodable {
        /// Also factory-reset the device and check it onboards again as the same ID (admin role).
        var includeFactoryReset: Bool?
        /// The configuration change (default: the WiFi SSID, set to a random name and restored).
        var set: ParameterValueView?
        /// Seconds each step may wait for the device (1-300, default 60); reboot and factory reset get 3 times as long.
        var timeout: Int?
    }

    struct CheckView: Encodable {
        var name: String
        var passed: Bool
        var evidence: String
        var durationMs: Int
    }

    struct ValidationView: Encodable {
        var id: Int64
        var deviceId: Int64
        var organisationId: Int64
        var startedAt: String?
        var finishedAt: String?
        var passed: Bool
        var passedChecks: Int
        var failedChecks: Int
        var includeFactoryReset: Bool
        var createdBy: String
        var summary: String
        var checks: [CheckView]
        /// The report as a terminal shows it: one line per check.
        var lines: [String]
        init(_ v: LaunchValidation) {
            id = v.id; deviceId = v.deviceID; organisationId = v.organisationID
            startedAt = Time.iso(v.startedAt); finishedAt = Time.iso(v.finishedAt)
            passed = v.passed; passedChecks = v.passedCount; failedChecks = v.failedCount
            includeFactoryReset = v.includesFactoryReset; createdBy = v.createdBy; summary = v.summary
            checks = v.checks.map { CheckView(name: $0.name, passed: $0.passed, evidence: $0.evidence, durationMs: $0.durationMs) }
            lines = v.lines
        }
    }

    struct ValidationList: Encodable { var validations: [ValidationView] }

    /// Devices being validated in this process: a second run at the same time would mix their tasks.
    static let running = RunningDevices()

    static func run(_ ctx: RequestContext) async throws -> HTTPResponse {
        let device = try ctx.device(try ctx.pathID())
        ctx.touching("device", String(device.id), organisation: device.organisationID)
        let body = ctx.request.body.isEmpty ? RunBody() : try ctx.body(RunBody.self)
        let timeout = body.timeout ?? 60
        guard (1...300).contains(timeout) else { throw APIError.invalid("timeout must be 1-300 seconds (each step; reboot and factory reset get 3 times as long)") }
        let reset = body.includeFactoryReset ?? false
        if reset { try ctx.require(.admin, "a validation with a factory reset") }
        var setting: LaunchSetting?
        if let s = body.set {
            let path = try TaskHandlers.resolve(s.path, device: device, ctx, object: false)
            guard !path.isEmpty else { throw APIError.invalid("set.path is empty") }
            guard !ManagementPaths.isSecret(path) else {
                throw APIError.invalid("\(path) is a secret: it reads back empty, so the change cannot be verified; pick another parameter")
            }
            guard s.value.utf8.count <= 16_384 else { throw APIError.invalid("set.value is longer than 16384 bytes") }
            var type: XSDType?
            if let t = s.type {
                guard let parsed = XSDType(rawValue: t.hasPrefix("xsd:") ? String(t.dropFirst(4)) : t) else {
                    throw APIError.invalid("unknown type \(t); one of \(XSDType.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                type = parsed
            }
            setting = LaunchSetting(path: path, value: s.value, type: type)
        }
        guard running.begin(device.id) else { throw APIError.conflict("a validation of device \(device.id) is running already") }
        defer { running.end(device.id) }

        let config = ctx.api.config
        let waking: DeviceWaking = config.waker ?? HTTPConnectionRequests(profiles: { config.profiles })
        let runner = ValidationRunner(store: ctx.store, waking: waking, profiles: { config.profiles })
        let options = ValidationRunner.Options(includeFactoryReset: reset, setting: setting, stepTimeout: .seconds(timeout),
                                               rebootTimeout: .seconds(timeout * 3), createdBy: ctx.me.actor)
        let v = try await runner.run(device, options: options)
        ctx.audit.objectType = "validation"
        ctx.audit.objectID = String(v.id)
        ctx.audit.after = #"{"device_id":\#(v.deviceID),"passed":\#(v.passed),"passed_checks":\#(v.passedCount),"failed_checks":\#(v.failedCount)}"#
        return JSON.response(ValidationView(v), status: 201)
    }

    /// GET /devices/{id}/validations: newest first.
    static func list(_ ctx: RequestContext) async throws -> HTTPResponse {
        let device = try ctx.device(try ctx.pathID())
        let limit = try ctx.query.int("limit", default: 20, range: 1...200)
        return JSON.response(ValidationList(validations: try ctx.store.validations(deviceID: device.id, limit: limit).map(ValidationView.init)))
    }

    static func show(_ ctx: RequestContext) async throws -> HTTPResponse {
        let id = try ctx.pathID()
        guard let v = try ctx.store.validation(id: id), (try? ctx.device(v.deviceID)) != nil else { throw APIError.notFound("validation \(id)") }
        return JSON.response(ValidationView(v))
    }
}

final class RunningDevices: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: Set<Int64> = []
    func begin(_ id: Int64) -> Bool { lock.withLock { ids.insert(id).inserted } }
    func end(_ id: Int64) { _ = lock.withLock { ids.remove(id) } }
}
