import ACSCore
import Foundation
import HTTPAuth
import NetHTTP
import Storage

/// Delivers events to webhooks (issue 16). Every `tick` it follows the persisted `events` table past its cursor,
/// queues one delivery per matching webhook (organisation subtree and event patterns) in the outbox, and POSTs the
/// due ones, a few at a time, each with a 10 s limit; failures retry with backoff (10 s doubling to an hour, 12
/// attempts). Sessions only ever write events, so a slow or dead receiver never holds a CWMP session; the outbox
/// survives restarts (delivery is at least once: receivers dedupe by the event `id`).
public final class WebhookDispatcher: @unchecked Sendable {
    let store: WebhookStore
    let log: Log
    let tick: Double
    /// Concurrent POSTs per tick.
    public var parallel = 16
    /// Deliveries taken per tick.
    public var batch = 64
    /// Finished deliveries are kept this long for the delivery log.
    public var keepSeconds: Int64 = 7 * 86400
    /// TLS trust for https receivers (nil: the system's store).
    public var tls: TLSClientContext?
    /// webhook_hosts: a delivery to any other host fails (the list may have changed since the webhook was made).
    public var allowedHosts: [String] = []
    /// Seconds one POST may take (connect and answer).
    public var attemptTimeout = WebhookRules.attemptTimeout
    private var loop: Task<Void, Never>?
    private var lastPrune: Int64 = 0

    public init(store: WebhookStore, log: Log = Log(label: "webhook"), tick: Double = 1) {
        self.store = store; self.log = log; self.tick = tick
    }

    /// Steps only while `leader` says this node leads (one node of a cluster delivers webhooks).
    public func start(leader: Leadership = .always) {
        loop = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                // Store reads and name lookups off the event loops.
                if leader.isLeader { await withTaskExecutorPreference(Executors.api) { await self.step(now: Int64(Date().timeIntervalSince1970)) } }
                try? await Task.sleep(for: .milliseconds(Int(self.tick * 1000)))
            }
        }
    }

    public func stop() async {
        loop?.cancel()
        _ = await loop?.value
        loop = nil
    }

    /// One pass: fan out new events, send what is due, prune old log rows. Serial (the loop calls it).
    public func step(now: Int64) async {
        do {
            while try await fanOut(now: now) {}
            try await send(now: now)
            if now - lastPrune >= 3600 {
                lastPrune = now
                while try await store.pruneWebhookDeliveries(finishedBefore: now - keepSeconds, batch: 10_000) == 10_000 {}
            }
        } catch {
            log.error("webhook dispatch failed: \(error)")
        }
    }

    /// Queues the deliveries of up to 500 events; true when there may be more.
    func fanOut(now: Int64) async throws -> Bool {
        let (cursor, events) = try store.eventsForWebhooks(limit: 500)
        guard let last = events.last else { return false }
        var hooks: [(Webhook, String)] = []
        for h in try store.webhooks(under: "/") where h.enabled {
            if let p = try store.organisationPath(id: h.organisationID) { hooks.append((h, p)) }
        }
        var deliveries: [WebhookDelivery] = []
        if !hooks.isEmpty {
            var scope = EventScope(store: store)
            for e in events {
                let (device, path) = try scope.resolve(e)
                // A test event goes to the webhook it names, whatever its patterns.
                let test = e.kind == "webhook.test" ? EventScope.number(e.data, "webhook_id") : nil
                let takers = e.kind == "webhook.test"
                    ? hooks.filter { $0.0.id == test && e.id > $0.0.afterEventID }
                    : hooks.filter { WebhookRules.takes($0.0, hookPath: $0.1, eventID: e.id, kind: e.kind, organisationPath: path) }
                guard !takers.isEmpty else { continue }
                let body = WebhookRules.body(eventID: e.id, kind: e.kind, at: e.at, organisationPath: path, device: device, data: e.data)
                for (h, _) in takers {
                    deliveries.append(WebhookDelivery(webhookID: h.id, eventID: e.id, event: e.kind, body: body, nextAt: now, createdAt: now))
                }
            }
        }
        // Another node that moved the cursor first queued the same rows (or will): nothing lost, nothing doubled.
        _ = try await store.queueWebhookDeliveries(deliveries, cursor: cursor, to: last.id)
        return events.count == 500
    }

    func send(now: Int64) async throws {
        let due = try await store.claimWebhookDeliveries(now: now, lease: attemptTimeout * 3, limit: batch)
        guard !due.isEmpty else { return }
        var hooks: [Int64: Webhook] = [:]
        for id in Set(due.map(\.webhookID)) { hooks[id] = try store.webhook(id: id) }
        let tls = self.tls, parallel = self.parallel, allowed = self.allowedHosts, timeout = self.attemptTimeout
        var results: [WebhookDelivery] = []
        await withTaskGroup(of: WebhookDelivery.self) { group in
            var next = 0
            func add() {
                guard next < due.count else { return }
                let d = due[next]
                next += 1
                let hook = hooks[d.webhookID]
                group.addTask { await Self.attempt(d, hook: hook, allowed: allowed, timeout: timeout, tls: tls, now: now) }
            }
            for _ in 0..<min(parallel, due.count) { add() }
            while let r = await group.next() {
                results.append(r)
                add()
            }
        }
        try await store.recordWebhookDeliveries(results)
        // A receiver that failed holds back its webhook's other deliveries until its own next attempt.
        var failing: [Int64: Int64] = [:]
        for r in results where r.state == .pending && r.attempts > 0 && r.lastStatus / 100 != 2 && !r.lastError.isEmpty {
            failing[r.webhookID] = min(failing[r.webhookID] ?? .max, r.nextAt)
        }
        for (id, until) in failing { try await store.postponeWebhookDeliveries(webhookID: id, until: until) }
        for r in results where r.state == .failed {
            log.error("webhook \(r.webhookID): gave up on event \(r.eventID) (\(r.event)) after \(r.attempts) attempts: \(r.lastError)")
        }
    }

    /// The addresses a host name resolves to (an address literal: itself).
    static func resolve(_ host: String) -> [String] {
        let h = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(h, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(list) }
        var out: [String] = []
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let a = p {
            var buf = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(a.pointee.ai_addr, a.pointee.ai_addrlen, &buf, socklen_t(buf.count), nil, 0, NI_NUMERICHOST) == 0 {
                out.append(String(cString: buf))
            }
            p = a.pointee.ai_next
        }
        return out
    }

    /// One POST; the delivery as it stands after it.
    static func attempt(_ d: WebhookDelivery, hook: Webhook?, allowed: [String], timeout: Int64, tls: TLSClientContext?, now: Int64) async -> WebhookDelivery {
        guard let hook else {
            var gone = d
            gone.state = .failed; gone.lastError = "webhook deleted"; gone.finishedAt = now
            return gone
        }
        guard hook.enabled else {
            // Paused: keep the delivery for when it is enabled again, without counting an attempt.
            var later = d
            later.nextAt = now + 60
            return later
        }
        guard WebhookRules.hostAllowed(hook.url, allowed) else {
            var refused = d
            refused.attempts += 1; refused.state = .failed; refused.finishedAt = now
            refused.lastError = "host not in webhook_hosts"
            return refused
        }
        // Not into the ACS's own network unless the operator listed the host (the address is checked as resolved now).
        if let host = URL(string: hook.url)?.host, !WebhookRules.listed(host, allowed),
           let inside = resolve(host).first(where: WebhookRules.isInternal) {
            var refused = d
            refused.attempts += 1; refused.state = .failed; refused.finishedAt = now
            refused.lastError = "\(host) is \(inside), an internal address: list the host in webhook_hosts to allow it"
            return refused
        }
        let body = Array(d.body.utf8)
        var headers = HTTPFields()
        headers.set("Content-Type", "application/json")
        headers.set("User-Agent", "Corral-Webhook/1")
        headers.set("X-Corral-Event", d.event)
        headers.set("X-Corral-Event-Id", String(d.eventID))
        headers.set("X-Corral-Delivery", String(d.id))
        headers.set("X-Corral-Signature", WebhookRules.signature(secret: hook.secret, body: body))
        do {
            let response = try await HTTPClient.send(url: hook.url, method: "POST", headers: headers, body: body,
                                                     timeout: .seconds(timeout), tls: tls)
            return WebhookRules.record(d, status: response.status, error: "", now: now)
        } catch {
            return WebhookRules.record(d, status: 0, error: "\(error)", now: now)
        }
    }
}
