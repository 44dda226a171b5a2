import Foundation
import Testing
import ACSCore
@testable import API
import CWMP
import Engine
import Storage

/// Role × subtree × endpoint, over real HTTP against a live server. The expected role of every route is written
/// here, independently of the route table: a route missing from this table, declared with another permission, or
/// answering differently from the policy fails the test.
@Suite(.serialized, .stopsLiveServers) struct AuthorisationMatrixTests {
    /// The policy: least role per route action (nil = no credentials needed).
    static let policy: [String: Role?] = [
        "openapi.read": nil, "auth.login": nil,
        "auth.logout": .viewer, "me.read": .viewer, "me.password": .viewer,
        "automation.list": .viewer, "device.events": .viewer, "device.alerts": .viewer, "alert.list": .viewer, "alert.read": .viewer,
        "alert.acknowledge": .operator, "diagnostic.list_device": .viewer, "diagnostic.create": .operator, "diagnostic.list": .viewer,
        "diagnostic.summary": .viewer, "diagnostic.read": .viewer, "script.reload": .superadmin, "script.profile_put": .superadmin, "script.automation_put": .superadmin,
        "script.versions": .superadmin, "script.version": .superadmin,
        "me.two_factor": .viewer, "me.two_factor_enrol": .viewer, "me.two_factor_confirm": .viewer, "me.two_factor_disable": .viewer,
        "user.reset_2fa": .admin, "organisation.two_factor_read": .viewer, "organisation.two_factor": .admin,
        "organisation.speedtest_read": .viewer, "organisation.speedtest": .admin,
        "device.list": .viewer, "device.export": .viewer, "device.read": .viewer, "device.update": .operator, "device.move": .admin, "device.resolve_conflict": .admin, "device.approve_rebootstrap": .admin,
        "device.parameters": .viewer, "task.list": .viewer, "task.create": .operator, "task.factory_reset": .admin,
        "task.download": .admin, "device.summon": .operator, "task.read": .viewer, "task.cancel": .operator,
        "fault.list": .viewer, "fault.retry": .operator, "fault.delete": .operator,
        "profile.list": .viewer, "profile.read": .viewer, "profile.validate": .admin, "analytics.devices": .viewer,
        "file.list": .viewer, "file.upload": .admin, "file.read": .viewer, "file.delete": .admin,
        "firmware.list": .viewer, "firmware.add": .admin,
        "rollout.list": .viewer, "rollout.create": .admin, "rollout.read": .viewer, "rollout.pause": .admin, "rollout.resume": .admin,
        "rollout.cancel": .admin, "rollout.rollback": .admin,
        "webhook.list": .admin, "webhook.create": .admin, "webhook.read": .admin, "webhook.update": .admin, "webhook.delete": .admin,
        "webhook.deliveries": .admin, "webhook.test": .admin,
        "event.stream": .viewer, "device.delete": .admin, "device.reset_credentials": .admin, "onboarding.attempts": .viewer,
        "backup.create": .operator, "backup.list": .viewer, "backup.read": .viewer, "backup.content": .operator, "backup.diff": .operator,
        "backup.restore": .admin,
        "organisation.list": .viewer, "organisation.create": .admin, "organisation.read": .viewer, "organisation.update": .admin,
        "organisation.move": .admin, "organisation.delete": .admin,
        "user.list": .admin, "user.create": .admin, "user.read": .admin, "user.update": .admin, "user.delete": .admin,
        "token.list": .admin, "token.create": .admin, "token.revoke": .admin,
        "audit.list": .admin, "audit.export": .admin,
        "preprovisioning.list": .viewer, "preprovisioning.import": .admin, "preprovisioning.export": .admin, "preprovisioning.delete": .admin,
        "campaign.list": .viewer, "campaign.start": .admin, "campaign.dry_run": .admin, "campaign.read": .viewer, "campaign.devices": .viewer,
        "campaign.pause": .admin, "campaign.resume": .admin, "campaign.cancel": .admin, "campaign.scripts": .viewer,
        "report.list": .viewer, "report.run": .viewer,
        "validation.run": .operator, "validation.list": .viewer, "validation.read": .viewer,
    ]

    struct Sample {
        var method: String
        var path: String
        var json: Any? = nil
        var raw: [UInt8]? = nil
        var contentType: String? = nil
    }

    /// Builds fresh objects in `org` and the request that acts on them (mutations consume their objects).
    final class World: @unchecked Sendable {
        let live: LiveServer
        var a: Organisation!, a1: Organisation!, b: Organisation!
        var n = 0
        init(_ live: LiveServer) { self.live = live }
        var store: SQLStore { live.store }

        func setUp() async throws {
            a = try await store.createOrganisation(name: "A", parentID: 1, now: 1)
            a1 = try await store.createOrganisation(name: "A1", parentID: a.id, now: 1)
            b = try await store.createOrganisation(name: "B", parentID: 1, now: 1)
        }

        func unique() -> String { n += 1; return "x\(n)" }

        func device(_ org: Organisation) async throws -> Device {
            var d = Device(name: "00C0FF-M\(unique())", oui: "00C0FF", productClass: "P", serialNumber: "M\(n)", createdAt: 1)
            d.organisationID = org.id
            return try await store.createDevice(d)
        }

        func task(_ org: Organisation) async throws -> DeviceTask {
            try await TaskService(store: store).queue(.reboot, on: try await device(org))
        }

        func fault(_ org: Organisation) async throws -> Int64 {
            let t = try await task(org)
            try await store.apply([.fault(FaultRecord(deviceID: t.deviceID, taskID: t.id, source: "task", code: 9002, message: "x", at: 1))])
            return try store.faults(deviceID: t.deviceID, limit: 1)[0].id
        }

        func alert(_ org: Organisation) async throws -> Int64 {
            let d = try await device(org)
            try await store.apply([.automation(.effects([.raiseAlert(AlertRecord(name: "probe", deviceID: d.id, severity: .major, state: .active,
                                                                                 since: 1, raisedAt: 1, source: "test.lua#1"))]))])
            var q = AlertQuery()
            q.deviceID = d.id
            return try store.alerts(q)[0].alert.id
        }

        func diagnostic(_ org: Organisation) async throws -> Int64 {
            let d = try await device(org)
            try await store.apply([.diagnosticResult(DiagnosticRecord(deviceID: d.id, taskID: nil, test: "ping", state: "Complete", ok: true, at: 1,
                                                                      throughputBps: nil, avgRttUs: 1000, jitterUs: nil, loss: 0, result: "{}"))])
            return try store.diagnosticResults(DiagnosticQuery(deviceID: d.id, limit: 1))[0].id
        }

        func file(_ org: Organisation) async throws -> StoredFile {
            try await store.createFile(StoredFile(name: "f.bin", fileType: "1 Firmware Upgrade Image", organisationID: org.id, size: 1,
                                                  sha256: "", downloadKey: "k", createdAt: 1, uploadedBy: "t"))
        }

        /// A backup of one of `org`'s devices (its file on disk, so reading it works).
        func backup(_ org: Organisation) async throws -> Backup {
            let d = try await device(org)
            let t = try await TaskService(store: store).queue(.upload(fileType: Backup.configType), on: d)
            let (b, _) = try await store.createBackup(Backup(deviceID: d.id, taskID: t.id, fileType: Backup.configType, size: 4, sha256: "", createdAt: 1))
            let dir = live.data + "/backups"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try Data("a=1\n".utf8).write(to: URL(fileURLWithPath: dir + "/\(b.id).bin"))
            return b
        }

        /// A running rollout of `org` over one of its devices (no download URL in these tests: the runner sends nothing).
        func rollout(_ org: Organisation) async throws -> Rollout {
            let d = try await device(org)
            let r = Rollout(organisationID: org.id, fileID: try await file(org).id, version: "9", target: "", waves: [100], window: nil,
                            timeZone: "UTC", maxFailureRate: 1, concurrency: 1, createdAt: 1, createdBy: "t")
            return try await store.createRollout(r, devices: [RolloutDevice(rolloutID: 0, deviceID: d.id, wave: 0, state: .pending, previousVersion: "1")])
        }

        /// A saved launch checklist report of one of `org`'s devices.
        func validation(_ org: Organisation) async throws -> LaunchValidation {
            let d = try await device(org)
            return try await store.createValidation(LaunchValidation(deviceID: d.id, organisationID: org.id, startedAt: 1, finishedAt: 2,
                                                                     checks: [.fail("reachable", "no connection-request method")], createdBy: "t"))
        }

        /// A webhook of `org` (to a closed loopback port: its deliveries fail, which these tests do not look at).
        func webhook(_ org: Organisation) async throws -> Webhook {
            try await store.createWebhook(Webhook(organisationID: org.id, url: "http://127.0.0.1:9/hook", events: ["*"],
                                                  secret: "0123456789abcdef", createdAt: 1))
        }

        /// A campaign of `org` over one of its devices (the runner leaves it alone: the device never connects).
        func campaign(_ org: Organisation, state: CampaignState = .running) async throws -> CampaignRecord {
            let d = try await device(org)
            var c = CampaignRecord(name: "c\(n)", scriptName: "c.lua", script: "campaign{}", perMinute: 1, concurrent: 1, failureRate: 1,
                                   minDevices: 1, connectionRequest: false, createdAt: 1)
            c.organisationID = org.id
            c.state = state
            return try await store.createCampaign(c, targets: [(d.id, 0)])
        }

        static let campaignScript = #"campaign { name = "noop", target = {}, apply = function(dev) end }"#

        func org(_ parent: Organisation) async throws -> Organisation {
            try await store.createOrganisation(name: unique(), parentID: parent.id, now: 1)
        }

        func user(_ org: Organisation) async throws -> UserAccount { try await live.user(unique(), role: .viewer, org: org.id) }

        func token(_ org: Organisation) async throws -> APIToken {
            let u = try await user(org)
            _ = try await AccountBootstrap.addToken(store: store, username: u.username, name: "t", role: .viewer)
            return try store.tokens(under: org.path).last!
        }

        /// The request for `action` on objects in `org`; `callerOrg` is where the caller sits (CSV paths are relative).
        func sample(_ action: String, org: Organisation, callerOrg: Organisation) async throws -> Sample? {
            switch action {
            case "auth.logout": return Sample(method: "POST", path: "/auth/logout")
            case "me.read": return Sample(method: "GET", path: "/me")
            case "me.password": return Sample(method: "POST", path: "/me/password", json: ["current_password": "correct-horse-battery", "new_password": "another-long-one"])
            case "automation.list": return Sample(method: "GET", path: "/automations")
            case "device.events": return Sample(method: "GET", path: "/devices/\(try await device(org).id)/events")
            case "device.alerts": return Sample(method: "GET", path: "/devices/\(try await device(org).id)/alerts")
            case "alert.list": return Sample(method: "GET", path: "/alerts")
            case "diagnostic.list_device": return Sample(method: "GET", path: "/devices/\(try await device(org).id)/diagnostics")
            case "diagnostic.create": return Sample(method: "POST", path: "/devices/\(try await device(org).id)/diagnostics", json: ["test": "ping"])
            case "diagnostic.list": return Sample(method: "GET", path: "/diagnostics")
            case "diagnostic.summary": return Sample(method: "GET", path: "/diagnostics/summary")
            case "diagnostic.read": return Sample(method: "GET", path: "/diagnostics/\(try await diagnostic(org))")
            case "script.reload": return Sample(method: "POST", path: "/scripts/reload")
            case "script.profile_put": return Sample(method: "PUT", path: "/scripts/profiles/matrix.lua", json: ["script": "return profile { name = 'matrix', extends = 'generic-tr181' }"])
            case "script.automation_put": return Sample(method: "PUT", path: "/scripts/automations/matrix.lua", json: ["script": "every('1h', function() end)"])
            case "script.versions": return Sample(method: "GET", path: "/script-versions")
            case "script.version": return Sample(method: "GET", path: "/script-versions/1")
            case "alert.read": return Sample(method: "GET", path: "/alerts/\(try await alert(org))")
            case "alert.acknowledge": return Sample(method: "POST", path: "/alerts/\(try await alert(org))/acknowledge")
            case "me.two_factor": return Sample(method: "GET", path: "/me/2fa")
            case "me.two_factor_enrol": return Sample(method: "POST", path: "/me/2fa/enrol")
            case "me.two_factor_confirm": return Sample(method: "POST", path: "/me/2fa/confirm", json: ["code": "000000"])
            case "me.two_factor_disable": return Sample(method: "POST", path: "/me/2fa/disable", json: ["current_password": "correct-horse-battery"])
            case "user.reset_2fa": return Sample(method: "POST", path: "/users/\(try await user(org).id)/reset-2fa")
            case "organisation.speedtest_read": return Sample(method: "GET", path: "/organisations/\(try await self.org(org).id)/speedtest")
            case "organisation.speedtest": return Sample(method: "PUT", path: "/organisations/\(try await self.org(org).id)/speedtest", json: ["speedtest_base_url": "http://st.example:8081"])
            case "organisation.two_factor_read": return Sample(method: "GET", path: "/organisations/\(try await self.org(org).id)/two-factor")
            case "organisation.two_factor": return Sample(method: "PUT", path: "/organisations/\(try await self.org(org).id)/two-factor", json: ["required_for_admins": false])
            case "device.list": return Sample(method: "GET", path: "/devices")
            case "device.export": return Sample(method: "GET", path: "/devices/export")
            case "device.read": return Sample(method: "GET", path: "/devices/\(try await device(org).id)")
            case "device.update": return Sample(method: "PATCH", path: "/devices/\(try await device(org).id)", json: ["location": "here"])
            case "device.move": return Sample(method: "PUT", path: "/devices/\(try await device(org).id)/organisation", json: ["organisation_id": a1.id])
            case "device.parameters": return Sample(method: "GET", path: "/devices/\(try await device(org).id)/parameters")
            case "task.list": return Sample(method: "GET", path: "/devices/\(try await device(org).id)/tasks")
            case "task.create": return Sample(method: "POST", path: "/devices/\(try await device(org).id)/tasks", json: ["action": "reboot"])
            case "task.factory_reset": return Sample(method: "POST", path: "/devices/\(try await device(org).id)/factory-reset", json: [String: Any]())
            case "task.download": return Sample(method: "POST", path: "/devices/\(try await device(org).id)/download", json: ["url": "http://example.invalid/fw.bin"])
            case "device.summon": return Sample(method: "POST", path: "/devices/\(try await device(org).id)/summon")
            // 409 for a device without a conflict or a held re-bootstrap: access granted, nothing to do.
            case "device.resolve_conflict": return Sample(method: "POST", path: "/devices/\(try await device(org).id)/resolve-conflict")
            case "device.approve_rebootstrap": return Sample(method: "POST", path: "/devices/\(try await device(org).id)/approve-rebootstrap")
            case "task.read": return Sample(method: "GET", path: "/tasks/\(try await task(org).id)")
            case "task.cancel": return Sample(method: "DELETE", path: "/tasks/\(try await task(org).id)")
            case "fault.list": return Sample(method: "GET", path: "/faults")
            case "fault.retry": return Sample(method: "POST", path: "/faults/\(try await fault(org))/retry")
            case "fault.delete": return Sample(method: "DELETE", path: "/faults/\(try await fault(org))")
            case "profile.list": return Sample(method: "GET", path: "/profiles")
            case "profile.read": return Sample(method: "GET", path: "/profiles/generic-tr181")
            case "profile.validate": return Sample(method: "POST", path: "/profiles/validate", json: ["script": "return profile { name = \"\(unique())\" }"])
            case "analytics.devices": return Sample(method: "GET", path: "/analytics/devices")
            case "file.list": return Sample(method: "GET", path: "/files")
            case "file.upload": return Sample(method: "POST", path: "/files?name=fw.bin&organisation_id=\(org.id)", raw: Array("firmware".utf8))
            case "file.read": return Sample(method: "GET", path: "/files/\(try await file(org).id)")
            case "firmware.list": return Sample(method: "GET", path: "/firmware")
            case "backup.create": return Sample(method: "POST", path: "/devices/\(try await device(org).id)/backup", json: ["file_type": "config"])
            case "backup.list": return Sample(method: "GET", path: "/devices/\(try await device(org).id)/backups")
            case "backup.read": return Sample(method: "GET", path: "/backups/\(try await backup(org).id)")
            case "backup.content": return Sample(method: "GET", path: "/backups/\(try await backup(org).id)/content")
            case "backup.diff": return Sample(method: "GET", path: "/backups/\(try await backup(org).id)/diff")
            case "backup.restore": return Sample(method: "POST", path: "/backups/\(try await backup(org).id)/restore")
            case "device.delete": return Sample(method: "DELETE", path: "/devices/\(try await device(org).id)")
            case "device.reset_credentials": return Sample(method: "POST", path: "/devices/\(try await device(org).id)/reset-credentials")
            case "onboarding.attempts": return Sample(method: "GET", path: "/onboarding-attempts")
            case "event.stream": return Sample(method: "GET", path: "/events?timeout=1")
            case "webhook.list": return Sample(method: "GET", path: "/webhooks")
            case "webhook.create": return Sample(method: "POST", path: "/webhooks", json: ["url": "http://127.0.0.1:9/h", "events": ["device.boot"], "organisation_id": org.id])
            case "webhook.read": return Sample(method: "GET", path: "/webhooks/\(try await webhook(org).id)")
            case "webhook.update": return Sample(method: "PATCH", path: "/webhooks/\(try await webhook(org).id)", json: ["enabled": false])
            case "webhook.delete": return Sample(method: "DELETE", path: "/webhooks/\(try await webhook(org).id)")
            case "webhook.deliveries": return Sample(method: "GET", path: "/webhooks/\(try await webhook(org).id)/deliveries")
            case "webhook.test": return Sample(method: "POST", path: "/webhooks/\(try await webhook(org).id)/test")
            case "rollout.list": return Sample(method: "GET", path: "/rollouts")
            case "rollout.create": return Sample(method: "POST", path: "/rollouts", json: ["version": "none-\(unique())", "organisation_id": org.id])
            case "rollout.read": return Sample(method: "GET", path: "/rollouts/\(try await rollout(org).id)")
            case "rollout.pause": return Sample(method: "POST", path: "/rollouts/\(try await rollout(org).id)/pause")
            case "rollout.resume": return Sample(method: "POST", path: "/rollouts/\(try await rollout(org).id)/resume")
            case "rollout.cancel": return Sample(method: "POST", path: "/rollouts/\(try await rollout(org).id)/cancel")
            case "rollout.rollback": return Sample(method: "POST", path: "/rollouts/\(try await rollout(org).id)/rollback")
            case "firmware.add": return Sample(method: "POST", path: "/firmware?name=fw-\(unique()).bin&version=\(unique())&organisation_id=\(org.id)",
                                               raw: Array("firmware \(unique())".utf8))
            case "file.delete": return Sample(method: "DELETE", path: "/files/\(try await file(org).id)")
            case "organisation.list": return Sample(method: "GET", path: "/organisations")
            case "organisation.create": return Sample(method: "POST", path: "/organisations", json: ["name": unique(), "parent_id": org.id])
            case "organisation.read": return Sample(method: "GET", path: "/organisations/\(try await self.org(org).id)")
            case "organisation.update": return Sample(method: "PATCH", path: "/organisations/\(try await self.org(org).id)", json: ["name": unique()])
            case "organisation.move": return Sample(method: "POST", path: "/organisations/\(try await self.org(org).id)/move", json: ["parent_id": org.id == b.id ? a1.id : a.id])
            case "organisation.delete": return Sample(method: "DELETE", path: "/organisations/\(try await self.org(org).id)")
            case "user.list": return Sample(method: "GET", path: "/users")
            case "user.create": return Sample(method: "POST", path: "/users", json: ["username": unique(), "password": "long-enough-pw", "role": "viewer", "organisation_id": org.id])
            case "user.read": return Sample(method: "GET", path: "/users/\(try await user(org).id)")
            case "user.update": return Sample(method: "PATCH", path: "/users/\(try await user(org).id)", json: ["disabled": true])
            case "user.delete": return Sample(method: "DELETE", path: "/users/\(try await user(org).id)")
            case "token.list": return Sample(method: "GET", path: "/tokens")
            case "token.create": return Sample(method: "POST", path: "/tokens", json: ["name": unique(), "role": "viewer", "organisation_id": org.id])
            case "token.revoke": return Sample(method: "DELETE", path: "/tokens/\(try await token(org).id)")
            case "audit.list": return Sample(method: "GET", path: "/audit")
            case "audit.export": return Sample(method: "GET", path: "/audit/export")
            case "preprovisioning.list": return Sample(method: "GET", path: "/preprovisioning")
            case "preprovisioning.import":
                let rel = callerOrg.id == 1 ? "A/A1" : "A1"
                return Sample(method: "POST", path: "/preprovisioning/import", raw: Array("serial,organisation\nPP\(unique()),\(rel)\n".utf8), contentType: "text/csv")
            case "preprovisioning.export": return Sample(method: "GET", path: "/preprovisioning/export")
            case "preprovisioning.delete":
                let serial = "PD\(unique())"
                try await store.savePreprovisions([Preprovision(serial: serial, organisationID: org.id)])
                return Sample(method: "DELETE", path: "/preprovisioning/\(serial)")
            case "campaign.list": return Sample(method: "GET", path: "/campaigns")
            case "campaign.start":
                _ = try await device(org)
                return Sample(method: "POST", path: "/campaigns", json: ["script": Self.campaignScript])
            case "campaign.dry_run": return Sample(method: "POST", path: "/campaigns/dry-run", json: ["script": Self.campaignScript])
            case "campaign.read": return Sample(method: "GET", path: "/campaigns/\(try await campaign(org).id)")
            case "campaign.devices": return Sample(method: "GET", path: "/campaigns/\(try await campaign(org).id)/devices")
            case "campaign.pause": return Sample(method: "POST", path: "/campaigns/\(try await campaign(org).id)/pause")
            case "campaign.resume": return Sample(method: "POST", path: "/campaigns/\(try await campaign(org, state: .paused).id)/resume")
            case "campaign.cancel": return Sample(method: "POST", path: "/campaigns/\(try await campaign(org).id)/cancel")
            case "campaign.scripts": return Sample(method: "GET", path: "/campaign-scripts")
            case "report.list": return Sample(method: "GET", path: "/reports")
            case "report.run": return Sample(method: "POST", path: "/reports/run", json: ["library": "software-census"])
            // A device that never connected: the checklist fails at once (no connection-request method), saved all the same.
            case "validation.run": return Sample(method: "POST", path: "/devices/\(try await device(org).id)/validate", json: ["timeout": 1])
            case "validation.list": return Sample(method: "GET", path: "/devices/\(try await device(org).id)/validations")
            case "validation.read": return Sample(method: "GET", path: "/validations/\(try await validation(org).id)")
            default: return nil
            }
        }

        /// Routes acting on one object or organisation, which therefore have an "outside the subtree" variant.
        static func scoped(_ pattern: String, _ action: String) -> Bool {
            pattern.contains("{id}") || pattern.contains("{serial}") ||
                ["file.upload", "firmware.add", "rollout.create", "webhook.create", "organisation.create", "user.create", "token.create"].contains(action)
        }
    }

    func send(_ client: APIClient, _ s: Sample) async throws -> APIClient.Reply {
        try await client.send(s.method, s.path, json: s.json, body: s.raw, contentType: s.contentType)
    }

    @Test func everyRouteIsInThePolicyWithTheSamePermission() {
        for route in Routes.all {
            let expected = Self.policy[route.action]
            #expect(expected != nil, "route \(route.method) \(route.pattern) (\(route.action)) is missing from the policy table")
            guard let expected else { continue }
            switch (expected, route.permission) {
            case (nil, .anyone): break
            case (.viewer?, .signedIn): break
            case (let r?, .role(let declared)): #expect(declared == r, "\(route.action) declares \(declared), policy says \(r)")
            default: Issue.record("\(route.action) declares \(route.permission), policy says \(String(describing: expected))")
            }
        }
        #expect(Set(Routes.all.map(\.action)) == Set(Self.policy.keys))
        #expect(Routes.all.filter { $0.permission == .anyone }.map(\.action).sorted() == ["auth.login", "openapi.read"])
    }

    @Test func matrix() async throws {
        let live = try await LiveServer()
        let world = World(live)
        try await world.setUp()
        let anonymous = APIClient(port: live.server.httpPort)
        var callers: [(Role, Organisation, APIClient)] = []
        for role in [Role.viewer, .operator, .admin] {
            callers.append((role, world.a, APIClient(port: live.server.httpPort, token: try await live.token(role: role, org: world.a.id))))
        }
        let root = try #require(try live.store.organisation(id: 1))
        callers.append((.superadmin, root, APIClient(port: live.server.httpPort, token: try await live.token(role: .superadmin, org: 1))))

        var checked = 0
        for route in Routes.all {
            guard let needed = Self.policy[route.action] ?? nil else { continue }
            // Unprotected? Without credentials every non-public route must answer 401.
            let s0 = try #require(try await world.sample(route.action, org: world.a1, callerOrg: world.a), "no sample for \(route.action)")
            let r0 = try await send(anonymous, s0)
            #expect(r0.status == 401, "\(route.action) without credentials answered \(r0.status)")
            #expect(r0.headers.first("Content-Type") == "application/problem+json")

            for (role, org, client) in callers {
                let targets = World.scoped(route.pattern, route.action) ? [(world.a1!, true), (world.b!, role == .superadmin)] : [(world.a1!, true)]
                for (target, visible) in targets {
                    let s = try #require(try await world.sample(route.action, org: target, callerOrg: org))
                    let r = try await send(client, s)
                    let what = "\(role.rawValue) → \(route.action) on \(target.name): \(r.status) \(r.text.prefix(160))"
                    #expect(r.status < 500, "\(what)")
                    if role < needed {
                        #expect(r.status == 403, "\(what): expected 403")
                    } else if !visible {
                        #expect(r.status == 404, "\(what): expected 404 (outside the subtree)")
                    } else if ["me.password", "me.two_factor_enrol", "me.two_factor_confirm", "me.two_factor_disable"].contains(route.action) {
                        #expect(r.status == 403, "\(what): tokens cannot change passwords or two-factor settings")
                    } else {
                        #expect(![401, 403, 404].contains(r.status), "\(what): expected access")
                    }
                    checked += 1
                }
            }
        }
        #expect(checked > 150)
        for (_, _, c) in callers { await c.close() }
        await anonymous.close()
    }

    /// Lists are confined to the subtree: an admin of A never sees B's objects.
    @Test func listsNeverShowOtherSubtrees() async throws {
        let live = try await LiveServer()
        let world = World(live)
        try await world.setUp()
        let inside = try await world.device(world.a1)
        let outside = try await world.device(world.b)
        _ = try await world.fault(world.b)
        _ = try await world.file(world.b)
        _ = try await world.user(world.b)
        try await live.store.savePreprovisions([Preprovision(serial: "OUTSIDE", organisationID: world.b.id)])
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: world.a.id))
        // An audited change in B by a superadmin.
        let root = APIClient(port: live.server.httpPort, token: try await live.token(role: .superadmin, org: 1))
        #expect(try await root.send("PATCH", "/devices/\(outside.id)", json: ["location": "secret-place"]).status == 200)

        let devices = try await admin.get("/devices").json["devices"] as? [[String: Any]] ?? []
        #expect(devices.map { $0["id"] as? Int64 ?? ($0["id"] as? Int).map(Int64.init) ?? 0 } == [inside.id])
        #expect((try await admin.get("/faults").json["faults"] as? [Any])?.isEmpty == true)
        #expect((try await admin.get("/files").json["files"] as? [Any])?.isEmpty == true)
        #expect((try await admin.get("/preprovisioning").json["entries"] as? [Any])?.isEmpty == true)
        let orgs = (try await admin.get("/organisations").json["organisations"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(orgs == ["A", "A1"])
        let users = (try await admin.get("/users").json["users"] as? [[String: Any]] ?? []).compactMap { $0["username"] as? String }
        #expect(users.count == 1)   // the admin itself
        #expect(!(try await admin.get("/audit").text.contains("secret-place")))
        #expect(!(try await admin.get("/audit/export").text.contains("secret-place")))
        #expect(!(try await admin.get("/devices/export").text.contains(outside.name)))
        #expect(!(try await admin.get("/preprovisioning/export").text.contains(outside.serialNumber)))
        #expect(try await admin.get("/devices?organisation_id=\(world.b.id)").status == 404)
        let counts = try await admin.get("/analytics/devices").json
        #expect(counts["total"] as? Int == 1)
        #expect(try await root.get("/audit").text.contains("secret-place"))
        await admin.close()
        await root.close()
    }
}
