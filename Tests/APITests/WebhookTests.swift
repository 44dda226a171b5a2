import ACSCore
import Foundation
import HTTPAuth
import NetHTTP
import Testing
@testable import API
@testable import Engine
import Storage

/// Webhooks (issue 16) against a real local HTTP receiver: signed bodies, organisation subtrees, patterns, retries
/// with backoff (a fake clock steps the dispatcher), redirects not followed, timeouts, giving up, and end to end
/// from a simulated CPE's onboarding.
@Suite(.serialized, .stopsLiveServers) struct WebhookTests {
    /// Records what it receives; answers each request with the next scripted status (then 200).
    final class Receiver: @unchecked Sendable {
        let lock = NSLock()
        var received: [HTTPRequest] = []
        var script: [Int] = []
        /// Answers after this long (a receiver that hangs).
        var delay: Duration = .zero
        var server: HTTPServer!
        var port = 0
        var url: String { "http://127.0.0.1:\(port)/hook" }

        static func start() async throws -> Receiver {
            let r = Receiver()
            r.server = HTTPServer(host: "127.0.0.1", port: 0) { [r] request in
                let (status, delay) = r.lock.withLock { () -> (Int, Duration) in
                    r.received.append(request)
                    return (r.script.isEmpty ? 200 : r.script.removeFirst(), r.delay)
                }
                if delay > .zero { try? await Task.sleep(for: delay) }
                var headers = HTTPFields()
                if (300..<400).contains(status) { headers.set("Location", "/hook") }
                return HTTPResponse(status: status, headers: headers, body: Array("ok".utf8))
            }
            r.port = try await r.server.start()
            StopsLiveServers.Started.current?.add { try? await r.server.shutdown() }
            return r
        }

        var requests: [HTTPRequest] { lock.withLock { received } }
        func events(_ kind: String) -> [[String: Any]] {
            requests.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.body))) as? [String: Any] }.filter { $0["event"] as? String == kind }
        }
    }

    func store(_ tag: String) throws -> (SQLStore, String) {
        let dir = temporaryDirectory(tag)
        return (try SQLStore(path: dir + "/corral.db"), dir)
    }

    func event(_ store: SQLStore, _ kind: String, device: Int64?, at: Int64, data: [String: Any] = [:]) async throws {
        try await store.apply([.automation(.event(EventRecord(at: at, kind: kind, deviceID: device, data: EventRecord.data(data))))])
    }

    @Test func signedDeliveriesFollowSubtreesAndPatterns() async throws {
        let (store, dir) = try store("wh-fanout")
        defer { store.close(); try? FileManager.default.removeItem(atPath: dir) }
        let receiver = try await Receiver.start()
        let a = try await store.createOrganisation(name: "A", parentID: 1, now: 1)
        let b = try await store.createOrganisation(name: "B", parentID: 1, now: 1)
        var da = Device(name: "00D09E-A1", oui: "00D09E", productClass: "P", serialNumber: "A1", createdAt: 1)
        da.organisationID = a.id
        da = try await store.createDevice(da)
        var db = Device(name: "00D09E-B1", oui: "00D09E", productClass: "P", serialNumber: "B1", createdAt: 1)
        db.organisationID = b.id
        db = try await store.createDevice(db)
        // An event from before the webhook existed is never sent.
        try await event(store, "device.boot", device: da.id, at: 90)
        let secret = "s3cret-s3cret-s3cret"
        let hookA = try await store.createWebhook(Webhook(organisationID: a.id, url: receiver.url + "?org=a", events: ["device.*", "task.done"], secret: secret, createdAt: 100))
        let root = try await store.createWebhook(Webhook(organisationID: 1, url: receiver.url + "?org=root", events: ["*"], secret: secret, createdAt: 100))
        try await event(store, "device.boot", device: da.id, at: 101)
        try await event(store, "task.fault", device: da.id, at: 102, data: ["task_id": 7, "fault_code": 9002])
        try await event(store, "device.boot", device: db.id, at: 103)
        try await event(store, "rollout.started", device: nil, at: 104, data: ["rollout_id": 3, "organisation_id": a.id])

        let d = WebhookDispatcher(store: store)
        d.allowedHosts = ["127.0.0.1"]
        await d.step(now: 200)
        let got = receiver.requests
        // Root sees all four; A sees its device's boot and its rollout, not the fault (pattern) nor B's boot (subtree).
        #expect(got.filter { $0.uri.hasSuffix("org=root") }.count == 4)
        let forA = got.filter { $0.uri.hasSuffix("org=a") }
        #expect(forA.count == 1, "\(forA.map(\.bodyString))")
        for r in got {
            #expect(r.headers.first("X-Corral-Signature") == WebhookRules.signature(secret: secret, body: r.body))
            #expect(r.headers.first("Content-Type") == "application/json")
        }
        let boot = try #require(forA.first.flatMap { (try? JSONSerialization.jsonObject(with: Data($0.body))) as? [String: Any] })
        #expect(boot["event"] as? String == "device.boot" && boot["time"] as? String == "1970-01-01T00:01:41Z")
        #expect((boot["device"] as? [String: Any])?["name"] as? String == "00D09E-A1")
        #expect(boot["organisation"] as? String == a.path)
        #expect(forA.first?.headers.first("X-Corral-Event-Id") == boot["id"] as? String)
        // The fleet event's organisation comes from its data: A's rollout reaches root only by pattern "*" (A's hook wants device.*).
        #expect(receiver.events("rollout.started").count == 1)
        #expect(try store.webhookDeliveryCounts(webhookID: hookA.id)[.delivered] == 1)
        #expect(try store.webhookDeliveryCounts(webhookID: root.id)[.delivered] == 4)
        // A second pass sends nothing again.
        await d.step(now: 201)
        #expect(receiver.requests.count == got.count)
    }

    @Test func failuresRetryWithBackoffThenGiveUp() async throws {
        let (store, dir) = try store("wh-retry")
        defer { store.close(); try? FileManager.default.removeItem(atPath: dir) }
        let receiver = try await Receiver.start()
        receiver.lock.withLock { receiver.script = [500, 302] }
        let hook = try await store.createWebhook(Webhook(organisationID: 1, url: receiver.url, events: ["*"], secret: "0123456789abcdef", createdAt: 1))
        try await event(store, "device.offline", device: nil, at: 10)
        let d = WebhookDispatcher(store: store)
        d.allowedHosts = ["127.0.0.1"]
        await d.step(now: 100)
        var log = try store.webhookDeliveries(webhookID: hook.id, limit: 10)
        #expect(log.first?.state == .pending && log.first?.lastStatus == 500 && log.first?.nextAt == 110)
        await d.step(now: 105)
        #expect(receiver.requests.count == 1, "not due before its backoff")
        await d.step(now: 110)
        log = try store.webhookDeliveries(webhookID: hook.id, limit: 10)
        // A redirect is a failure (never followed), retried 20 s later.
        #expect(log.first?.lastStatus == 302 && log.first?.lastError.contains("redirect") == true && log.first?.nextAt == 130)
        await d.step(now: 130)
        log = try store.webhookDeliveries(webhookID: hook.id, limit: 10)
        #expect(log.first?.state == .delivered && log.first?.attempts == 3)
        // Every attempt sent the same bytes with the same signature.
        let bodies = Set(receiver.requests.map(\.bodyString)), signatures = Set(receiver.requests.compactMap { $0.headers.first("X-Corral-Signature") })
        #expect(receiver.requests.count == 3 && bodies.count == 1 && signatures.count == 1)

        // A receiver that always fails: 12 attempts, then the delivery is given up and logged as failed.
        receiver.lock.withLock { receiver.script = Array(repeating: 503, count: 50) }
        try await event(store, "device.offline", device: nil, at: 200)
        var now: Int64 = 1000
        for _ in 0..<40 {
            await d.step(now: now)
            now += 3600
        }
        log = try store.webhookDeliveries(webhookID: hook.id, limit: 10)
        #expect(log.first?.state == .failed && log.first?.attempts == WebhookRules.maxAttempts && log.first?.lastStatus == 503)
        #expect(receiver.requests.count == 3 + WebhookRules.maxAttempts)
    }

    @Test func aHangingOrAbsentReceiverTimesOutWithoutHoldingOthers() async throws {
        let (store, dir) = try store("wh-timeout")
        defer { store.close(); try? FileManager.default.removeItem(atPath: dir) }
        let slow = try await Receiver.start()
        slow.lock.withLock { slow.delay = .seconds(5) }
        let fast = try await Receiver.start()
        let closed = try await Receiver.start()
        try await closed.server.shutdown()
        let hSlow = try await store.createWebhook(Webhook(organisationID: 1, url: slow.url, events: ["*"], secret: "0123456789abcdef", createdAt: 1))
        let hFast = try await store.createWebhook(Webhook(organisationID: 1, url: fast.url, events: ["*"], secret: "0123456789abcdef", createdAt: 1))
        let hClosed = try await store.createWebhook(Webhook(organisationID: 1, url: closed.url, events: ["*"], secret: "0123456789abcdef", createdAt: 1))
        try await event(store, "device.offline", device: nil, at: 10)
        let d = WebhookDispatcher(store: store)
        d.allowedHosts = ["127.0.0.1"]
        d.attemptTimeout = 1
        let started = ContinuousClock.now
        await d.step(now: 100)
        #expect(ContinuousClock.now - started < .seconds(4), "attempts run side by side, each bounded")
        #expect(try store.webhookDeliveries(webhookID: hFast.id, limit: 1).first?.state == .delivered)
        let s = try #require(try store.webhookDeliveries(webhookID: hSlow.id, limit: 1).first)
        #expect(s.state == .pending && s.lastStatus == 0 && !s.lastError.isEmpty && s.attempts == 1)
        let c = try #require(try store.webhookDeliveries(webhookID: hClosed.id, limit: 1).first)
        #expect(c.state == .pending && c.lastStatus == 0 && !c.lastError.isEmpty)
    }

    @Test func apiManagesWebhooksAndDeliversTheFleetsEvents() async throws {
        let receiver = try await Receiver.start()
        let live = try await LiveServer { $0.webhookTick = 0.2; $0.webhookHosts = ["127.0.0.1"] }
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1))
        // Bad input: a clear 422, nothing stored.
        for bad: [String: Any] in [["url": "ftp://x/", "events": ["*"]], ["url": receiver.url, "events": []],
                                   ["url": receiver.url, "events": ["device boot"]], ["url": receiver.url, "events": ["*"], "secret": "short"]] {
            let r = try await admin.send("POST", "/webhooks", json: bad)
            #expect(r.status == 422, "\(bad): \(r.text)")
        }
        let created = try await admin.send("POST", "/webhooks", json: ["url": receiver.url, "events": ["device.*", "webhook.test"], "description": "OSS"])
        #expect(created.status == 201, "\(created.text)")
        let secret = try #require(created.json["secret"] as? String)
        let id = try #require((created.json["id"] as? NSNumber)?.int64Value)
        #expect(try await admin.get("/webhooks/\(id)").json["secret"] == nil, "the secret is shown once")
        #expect((try await admin.get("/webhooks").json["webhooks"] as? [[String: Any]])?.count == 1)

        let sim = try live.simulator(count: 1, prefix: "WH-")
        try await sim.start()
        try await waitUntil("device.onboarded delivered", seconds: 30) { !receiver.events("device.onboarded").isEmpty }
        let onboarded = try #require(receiver.events("device.onboarded").first)
        #expect(((onboarded["device"] as? [String: Any])?["name"] as? String)?.contains("-WH-") == true, "\(onboarded)")
        for r in receiver.requests {
            #expect(r.headers.first("X-Corral-Signature") == WebhookRules.signature(secret: secret, body: r.body))
        }
        let test = try await admin.send("POST", "/webhooks/\(id)/test")
        #expect(test.status == 202)
        try await waitUntil("webhook.test delivered", seconds: 10) { !receiver.events("webhook.test").isEmpty }
        let log = try await admin.get("/webhooks/\(id)/deliveries").json["deliveries"] as? [[String: Any]] ?? []
        #expect(log.contains { $0["event"] as? String == "webhook.test" && $0["state"] as? String == "delivered" })

        // Disabled: nothing more is queued; deleted: gone with its log.
        #expect(try await admin.send("PATCH", "/webhooks/\(id)", json: ["enabled": false]).json["enabled"] as? Bool == false)
        #expect(try await admin.send("DELETE", "/webhooks/\(id)").status == 204)
        #expect(try await admin.get("/webhooks/\(id)").status == 404)
        await sim.stop()
    }

    @Test func deletingADeviceNeverMakesEventIdsComeBack() async throws {
        let (store, dir) = try store("wh-ids")
        defer { store.close(); try? FileManager.default.removeItem(atPath: dir) }
        let receiver = try await Receiver.start()
        _ = try await store.createWebhook(Webhook(organisationID: 1, url: receiver.url, events: ["*"], secret: "0123456789abcdef", createdAt: 1))
        let dev = try await store.createDevice(Device(name: "00D09E-GONE", oui: "00D09E", productClass: "P", serialNumber: "GONE", createdAt: 1))
        try await event(store, "device.boot", device: dev.id, at: 10)
        let d = WebhookDispatcher(store: store)
        d.allowedHosts = ["127.0.0.1"]
        await d.step(now: 100)
        let newest = try store.latestEventID()
        // The device's events were the newest; deleting it must not free their ids for the next events.
        _ = try await store.deleteDevice(id: dev.id)
        try await event(store, "validate.done", device: nil, at: 11)
        #expect(try store.latestEventID() > newest)
        await d.step(now: 101)
        #expect(receiver.events("validate.done").count == 1, "the event after the deletion is delivered")
        // History retention keeps the newest event for the same reason.
        _ = try await store.pruneHistory(.events, olderThan: 1_000_000)
        #expect(try store.latestEventID() > newest)
    }

    @Test func internalAddressesAreRefusedUnlessListed() async throws {
        let (store, dir) = try store("wh-internal")
        defer { store.close(); try? FileManager.default.removeItem(atPath: dir) }
        let receiver = try await Receiver.start()
        let hook = try await store.createWebhook(Webhook(organisationID: 1, url: receiver.url, events: ["*"], secret: "0123456789abcdef", createdAt: 1))
        try await event(store, "device.offline", device: nil, at: 10)
        let d = WebhookDispatcher(store: store)   // no webhook_hosts: any public host, nothing internal
        await d.step(now: 100)
        let log = try #require(try store.webhookDeliveries(webhookID: hook.id, limit: 1).first)
        #expect(log.state == .failed && log.lastError.contains("internal address") && log.lastError.contains("webhook_hosts"), "\(log)")
        #expect(receiver.requests.isEmpty)
        for ip in ["127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fd00::1", "fe80::1", "::ffff:10.0.0.1"] {
            #expect(WebhookRules.isInternal(ip), "\(ip)")
        }
        for ip in ["8.8.8.8", "172.32.0.1", "100.128.0.1", "2001:db8::1", "193.0.14.129"] { #expect(!WebhookRules.isInternal(ip), "\(ip)") }
        #expect(WebhookRules.listed("a.oss.example.net", ["*.oss.example.net"]) && !WebhookRules.listed("oss.example.net", ["*.oss.example.net"]))
    }

    @Test func webhookHostsLimitWhereWebhooksMayPoint() async throws {
        let live = try await LiveServer { $0.webhookHosts = ["hooks.example.net", "*.oss.example.net"] }
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1))
        let inside = try await admin.send("POST", "/webhooks", json: ["url": "https://a.oss.example.net/x", "events": ["*"]])
        #expect(inside.status == 201, "\(inside.text)")
        let outside = try await admin.send("POST", "/webhooks", json: ["url": "http://127.0.0.1:9/x", "events": ["*"]])
        #expect(outside.status == 422 && outside.text.contains("webhook_hosts"), "\(outside.text)")
        #expect(WebhookRules.hostAllowed("https://hooks.example.net/x", ["hooks.example.net"]))
        #expect(!WebhookRules.hostAllowed("https://evil-hooks.example.net/x", ["hooks.example.net", "*.oss.example.net"]))
    }
}
