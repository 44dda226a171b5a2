import CWMP
import Foundation
import HTTPAuth

/// An operator's HTTP endpoint that receives Corral's events as signed JSON (issue 16). It belongs to an
/// organisation and sees only the events of that subtree.
public struct Webhook: Sendable, Equatable {
    public var id: Int64 = 0
    public var organisationID: Int64
    public var url: String
    /// Event kinds or patterns: `device.boot`, `task.*`, `*`.
    public var events: [String]
    /// The HMAC key of `X-Corral-Signature`; never shown back.
    public var secret: String
    public var enabled = true
    public var description = ""
    public var createdAt: Int64
    public var createdBy = ""
    /// Only events after this one are delivered (the newest when the webhook was made: no history replay).
    public var afterEventID: Int64 = 0

    public init(organisationID: Int64, url: String, events: [String], secret: String, createdAt: Int64) {
        self.organisationID = organisationID; self.url = url; self.events = events; self.secret = secret; self.createdAt = createdAt
    }
}

/// One event for one webhook: the body is fixed when queued (the same bytes, and signature, on every attempt).
public struct WebhookDelivery: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable { case pending, delivered, failed }
    public var id: Int64 = 0
    public var webhookID: Int64
    public var eventID: Int64
    public var event: String
    public var body: String
    public var state: State = .pending
    public var attempts = 0
    public var nextAt: Int64
    /// HTTP status of the last attempt (0: no answer).
    public var lastStatus = 0
    public var lastError = ""
    public var createdAt: Int64
    public var finishedAt: Int64 = 0

    public init(webhookID: Int64, eventID: Int64, event: String, body: String, nextAt: Int64, createdAt: Int64) {
        self.webhookID = webhookID; self.eventID = eventID; self.event = event; self.body = body; self.nextAt = nextAt; self.createdAt = createdAt
    }
}

/// What webhooks accept and how deliveries are retried. Pure.
public enum WebhookRules {
    /// The event kinds Corral emits (custom automation events pass through `*` and exact names too).
    public static let knownEvents = [
        "device.onboarded", "device.boot", "device.bootstrap", "device.offline", "device.online",
        "task.done", "task.fault", "campaign.started", "campaign.finished", "campaign.stopped", "campaign.paused", "campaign.resumed",
        "campaign.cancelled", "firmware.done", "firmware.fault", "firmware.failed", "rollout.started", "rollout.wave", "rollout.stopped", "rollout.finished",
        "rollout.paused", "rollout.resumed", "rollout.cancelled", "alert.raised", "alert.cleared", "validate.done", "webhook.test",
    ]
    /// Attempts before a delivery is given up (about 3.4 hours of retries).
    public static let maxAttempts = 12
    /// Seconds one attempt may take (connect and answer).
    public static let attemptTimeout: Int64 = 10
    public static let maxURLLength = 2000
    public static let maxPatterns = 50
    public static let minSecretLength = 16

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
        public init(_ d: String) { description = d }
    }

    /// The URL and patterns checked as a webhook needs them.
    public static func validate(url: String, events: [String], secret: String) throws {
        guard url.utf8.count <= maxURLLength else { throw Invalid("url is longer than \(maxURLLength) characters") }
        guard let u = URL(string: url), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = u.host, !host.isEmpty else {
            throw Invalid("url must be an absolute http:// or https:// URL with a host, not \"\(url.prefix(200))\"")
        }
        guard u.user == nil, u.password == nil else { throw Invalid("url must not carry user:password (the signature authenticates Corral)") }
        guard !events.isEmpty else { throw Invalid("events must list at least one event kind or pattern (\"*\" for all)") }
        guard events.count <= maxPatterns else { throw Invalid("at most \(maxPatterns) event patterns") }
        for e in events {
            guard isPattern(e) else {
                throw Invalid("\"\(e.prefix(100))\" is not an event kind or pattern (e.g. device.boot, task.*, *); known kinds: \(knownEvents.joined(separator: ", "))")
            }
        }
        guard secret.utf8.count >= minSecretLength, secret.utf8.count <= 256 else {
            throw Invalid("secret must be \(minSecretLength) to 256 characters (it keys the HMAC-SHA256 signature)")
        }
    }

    /// Whether the URL's host is one of `allowed` (exact, or `*.domain` for its subdomains); any host when empty.
    public static func hostAllowed(_ url: String, _ allowed: [String]) -> Bool {
        guard !allowed.isEmpty else { return true }
        guard let host = URL(string: url)?.host?.lowercased() else { return false }
        return allowed.contains { a in
            let p = a.lowercased()
            return p.hasPrefix("*.") ? host.hasSuffix(String(p.dropFirst(1))) : host == p
        }
    }

    /// Whether `host` is named in `allowed` itself (exact or by a `*.domain` entry), not merely allowed by an empty list.
    public static func listed(_ host: String, _ allowed: [String]) -> Bool {
        let h = host.lowercased()
        return allowed.contains { a in
            let p = a.lowercased()
            return p.hasPrefix("*.") ? h.hasSuffix(String(p.dropFirst(1))) : h == p
        }
    }

    /// An address webhooks must not reach unless listed: loopback, private (RFC 1918, RFC 6598 shared, ULA),
    /// link-local (cloud metadata lives there), unspecified, multicast.
    public static func isInternal(_ ip: String) -> Bool {
        let parts = ip.split(separator: ".").compactMap { UInt8($0) }
        if parts.count == 4 {
            let (a, b) = (parts[0], parts[1])
            return a == 0 || a == 10 || a == 127 || (a == 100 && (64...127).contains(b)) || (a == 169 && b == 254)
                || (a == 172 && (16...31).contains(b)) || (a == 192 && b == 168) || a >= 224
        }
        let v6 = ip.lowercased()
        guard v6.contains(":") else { return false }
        if v6 == "::1" || v6 == "::" { return true }
        if let mapped = v6.components(separatedBy: "::ffff:").last, mapped.contains(".") , v6.hasPrefix("::ffff:") { return isInternal(mapped) }
        return v6.hasPrefix("fc") || v6.hasPrefix("fd") || v6.hasPrefix("fe8") || v6.hasPrefix("fe9") || v6.hasPrefix("fea")
            || v6.hasPrefix("feb") || v6.hasPrefix("ff")
    }

    public static func isPattern(_ p: String) -> Bool {
        if p == "*" { return true }
        let name = p.hasSuffix(".*") ? String(p.dropLast(2)) : p
        guard !name.isEmpty, name.count <= 100 else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }
            && !name.hasPrefix(".") && !name.hasSuffix(".")
    }

    /// `*` takes everything, `task.*` every kind starting `task.`, anything else the kind itself.
    public static func matches(_ patterns: [String], kind: String) -> Bool {
        patterns.contains { p in
            p == "*" || p == kind || (p.hasSuffix(".*") && kind.hasPrefix(String(p.dropLast(1))))
        }
    }

    /// Whether `hook` takes the event with this kind and id, from a device (or fleet object) in `organisationPath`.
    public static func takes(_ hook: Webhook, hookPath: String, eventID: Int64, kind: String, organisationPath: String) -> Bool {
        hook.enabled && eventID > hook.afterEventID && organisationPath.hasPrefix(hookPath) && matches(hook.events, kind: kind)
    }

    /// Seconds before attempt `attempts + 1` after `attempts` failed ones: 10 s doubling to 1 hour.
    public static func backoff(afterAttempts attempts: Int) -> Int64 {
        let n = max(0, min(attempts - 1, 20))
        return min(10 << n, 3600)
    }

    /// The delivery after an attempt: 2xx delivers; anything else (redirects included: they are not followed) is
    /// retried until `maxAttempts`.
    public static func record(_ d: WebhookDelivery, status: Int, error: String, now: Int64) -> WebhookDelivery {
        var out = d
        out.attempts += 1
        out.lastStatus = status
        if (200..<300).contains(status) {
            out.state = .delivered; out.lastError = ""; out.finishedAt = now
            return out
        }
        out.lastError = String((error.isEmpty ? (300..<400).contains(status) ? "redirect not followed (HTTP \(status))" : "HTTP \(status)" : error).prefix(300))
        if out.attempts >= maxAttempts {
            out.state = .failed; out.finishedAt = now
        } else {
            out.nextAt = now + backoff(afterAttempts: out.attempts)
        }
        return out
    }

    /// `sha256=<hex HMAC-SHA256(secret, body)>`, the value of X-Corral-Signature.
    public static func signature(secret: String, body: [UInt8]) -> String {
        "sha256=" + hex(HMAC.sha256(key: Array(secret.utf8), message: body))
    }

    /// The JSON body of an event: `{"id", "event", "time", "organisation", "device": {...}?, "data": {...}}`, with
    /// sorted keys. `data` is the event's stored JSON object text.
    public static func body(eventID: Int64, kind: String, at: Int64, organisationPath: String, device: Device?, data: String) -> String {
        var object: [String: Any] = [
            "id": String(eventID), "event": kind, "time": CWMPDateTime.format(unixSeconds: at), "organisation": organisationPath,
            "data": (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] ?? [:],
        ]
        if let d = device {
            object["device"] = ["id": d.id, "name": d.name, "oui": d.oui, "serial": d.serialNumber, "product_class": d.productClass,
                                "manufacturer": d.manufacturer, "model": d.modelName, "software_version": d.softwareVersion,
                                "profile": d.profile] as [String: Any]
        }
        let bytes = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: bytes, as: UTF8.self)
    }

}
