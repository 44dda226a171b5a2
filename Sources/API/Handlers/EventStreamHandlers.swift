import ACSCore
import Engine
import Foundation
import NetHTTP
import Storage

/// GET /events: the caller's organisation subtree's events, live, as Server-Sent Events (issue 16). Each stream
/// follows the persisted events table (so it sees every node's events, and `Last-Event-ID` resumes after a
/// reconnect), filtered by the caller's subtree and `types` patterns; the data is the webhook body. A client that
/// stops reading is dropped after 30 s (NetHTTP's stall limit); streams are limited per server.
enum EventStreamHandlers {
    /// Open streams at most (each polls the table once per `poll`).
    static let maxStreams = 200
    /// How often a stream looks for new events (tests shorten it).
    nonisolated(unsafe) static var poll: Duration = .seconds(1)
    static let heartbeatSeconds: Double = 15
    static let maxReplay: Int64 = 10_000
    /// A stream ends after an hour (the browser reconnects at once, resuming, and its credentials are checked again).
    static let maxLifetimeSeconds: Double = 3600
    private static let open = Counter()

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func take(max: Int) -> Bool { lock.withLock { guard n < max else { return false }; n += 1; return true } }
        func release() { lock.withLock { n -= 1 } }
        var count: Int { lock.withLock { n } }
    }

    static func stream(_ ctx: RequestContext) async throws -> HTTPResponse {
        let types = (ctx.query["types"] ?? "*").split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
        guard !types.isEmpty, types.count <= WebhookRules.maxPatterns, types.allSatisfy(WebhookRules.isPattern) else {
            throw APIError.badRequest("types must list event kinds or patterns separated by commas (device.boot, task.*, *)")
        }
        var start = try ctx.store.latestEventID()
        if let last = ctx.request.headers.first("Last-Event-ID") ?? ctx.query["since"] {
            guard let id = Int64(last), id >= 0 else { throw APIError.badRequest("Last-Event-ID (or since) must be an event id") }
            // At most `maxReplay` events back: a reconnect resumes, it does not re-read history.
            start = max(min(id, start), start - maxReplay)
        }
        // A script can listen for a while (`timeout` seconds) and get a complete response.
        let timeout = try ctx.query.int("timeout", default: 0, range: 0...86_400)
        guard open.count < maxStreams else {
            throw APIError.tooManyRequests("\(maxStreams) live event streams are open on this server; retry later", retryAfter: 10)
        }
        let store = ctx.store, path = ctx.me.organisation.path, from = start
        var headers = HTTPFields()
        headers.set("Content-Type", "text/event-stream; charset=utf-8")
        headers.set("Cache-Control", "no-store")
        // Reverse proxies (nginx) would otherwise buffer the stream.
        headers.set("X-Accel-Buffering", "no")
        return HTTPResponse(status: 200, headers: headers, stream: StreamBody { writer in
            // The slot is taken where the stream runs (a HEAD request or a client gone before the head never runs it).
            guard open.take(max: maxStreams) else {
                _ = await writer.write(Array("retry: 10000\n: too many live event streams on this server\n\n".utf8))
                return
            }
            defer { open.release() }
            // Store reads off the event loops.
            await withTaskExecutorPreference(Executors.api) {
                await follow(writer, store: store, path: path, types: types, from: from, timeout: timeout)
            }
        })
    }

    /// Writes the events after `from` as they are stored, until the client goes, `timeout` passes, or the stream's
    /// lifetime ends (the client reconnects with Last-Event-ID and is authenticated again).
    static func follow(_ writer: StreamWriter, store: APIStore, path: String, types: [String], from: Int64, timeout: Int) async {
        var cursor = from
        var scope = EventScope(store: store)
        var scopeAge = Date()
        guard await writer.write(Array("retry: 3000\n: Corral live events\n\n".utf8)) else { return }
        var beat = Date()
        let end = Date().addingTimeInterval(timeout > 0 ? Double(timeout) : maxLifetimeSeconds)
        while writer.isOpen && !Task.isCancelled && Date() < end {
            // Devices move between organisations: what the stream knows of them is re-read every minute.
            if Date().timeIntervalSince(scopeAge) > 60 { scope = EventScope(store: store); scopeAge = Date() }
            let events = (try? store.events(after: cursor, limit: 500)) ?? []
            var out = ""
            for e in events {
                cursor = e.id
                guard WebhookRules.matches(types, kind: e.kind), let (device, p) = try? scope.resolve(e), p.hasPrefix(path) else { continue }
                out += frame(e, device: device, path: p)
            }
            if !out.isEmpty {
                guard await writer.write(Array(out.utf8)) else { return }
                beat = Date()
            }
            if events.count == 500 { continue }
            if Date().timeIntervalSince(beat) >= heartbeatSeconds {
                guard await writer.write(Array(": ping\n\n".utf8)) else { return }
                beat = Date()
            }
            try? await Task.sleep(for: poll)
        }
    }

    /// One SSE message: `id`, `event` and the JSON of the webhook body on one `data` line.
    static func frame(_ e: EventRecord, device: Device?, path: String) -> String {
        let body = WebhookRules.body(eventID: e.id, kind: e.kind, at: e.at, organisationPath: path, device: device, data: e.data)
        return "id: \(e.id)\nevent: \(e.kind)\ndata: \(body)\n\n"
    }
}
