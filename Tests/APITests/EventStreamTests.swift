import ACSCore
import Foundation
import Testing
@testable import API
@testable import Engine
import Storage

/// GET /api/v1/events (issue 16): live events as Server-Sent Events, filtered by the caller's organisation subtree
/// and event types, resumable with Last-Event-ID / since.
@Suite(.serialized, .stopsLiveServers) struct EventStreamTests {
    struct Frame { var id: Int64; var event: String; var data: [String: Any] }

    static func frames(_ text: String) -> [Frame] {
        text.components(separatedBy: "\n\n").compactMap { block in
            var id: Int64?, event: String?, data: String?
            for line in block.split(separator: "\n") {
                if line.hasPrefix("id: ") { id = Int64(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
            }
            guard let id, let event, let data, let json = (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] else { return nil }
            return Frame(id: id, event: event, data: json)
        }
    }

    @Test func streamsTheSubtreesEventsLiveAndResumes() async throws {
        EventStreamHandlers.poll = .milliseconds(100)
        defer { EventStreamHandlers.poll = .seconds(1) }
        let live = try await LiveServer()
        let store = live.store
        let sub = try await store.createOrganisation(name: "sub", parentID: 1, now: 1)
        let rootDevice = try await store.createDevice(Device(name: "00C0FF-R1", oui: "00C0FF", productClass: "P", serialNumber: "R1", createdAt: 1))
        var d = Device(name: "00C0FF-S1", oui: "00C0FF", productClass: "P", serialNumber: "S1", createdAt: 1)
        d.organisationID = sub.id
        let subDevice = try await store.createDevice(d)
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .viewer, org: 1))
        let subAdmin = APIClient(port: live.server.httpPort, token: try await live.token(role: .viewer, org: sub.id))

        #expect(try await admin.get("/events?types=device%20boot!").status == 400)

        // From the newest event now: the streams see what follows even if they start after it was written.
        let since = try store.latestEventID()
        async let all = admin.get("/events?types=device.*,campaign.*&timeout=3&since=\(since)")
        async let mine = subAdmin.get("/events?timeout=3&since=\(since)")
        try await Task.sleep(for: .milliseconds(300))
        func event(_ kind: String, _ device: Int64?, _ data: [String: Any] = [:]) async throws {
            try await store.apply([.automation(.event(EventRecord(at: Time.now, kind: kind, deviceID: device, data: EventRecord.data(data))))])
        }
        try await event("device.boot", rootDevice.id)
        try await event("task.done", rootDevice.id, ["task_id": 1])
        try await event("device.boot", subDevice.id)
        try await event("campaign.started", nil, ["campaign_id": 4, "organisation_id": sub.id])
        let (a, m) = try await (all, mine)
        #expect(a.status == 200 && a.headers.first("content-type")?.hasPrefix("text/event-stream") == true, "\(a.status) \(a.text)")
        let af = Self.frames(a.text), mf = Self.frames(m.text)
        // Root sees both boots and the sub-organisation's campaign, not the task (types); in the order they happened.
        #expect(af.map(\.event) == ["device.boot", "device.boot", "campaign.started"], "\(a.text)")
        #expect(af.map(\.id) == af.map(\.id).sorted())
        #expect((af.first?.data["device"] as? [String: Any])?["name"] as? String == "00C0FF-R1")
        #expect(af.first.map { String($0.id) } == af.first?.data["id"] as? String)
        // The sub-organisation sees its own only (all types).
        #expect(mf.map(\.event) == ["device.boot", "campaign.started"], "\(m.text)")
        #expect((mf.first?.data["device"] as? [String: Any])?["name"] as? String == "00C0FF-S1")

        // Reconnecting with the last id seen gets what came after it.
        let first = try #require(af.first?.id)
        let resumed = try await admin.send("GET", "/events?timeout=1", extra: [("Last-Event-ID", String(first))])
        #expect(Self.frames(resumed.text).map(\.event) == ["task.done", "device.boot", "campaign.started"], "\(resumed.text)")
        #expect(Self.frames(try await admin.get("/events?since=\(first)&types=task.*&timeout=1").text).map(\.event) == ["task.done"])
        // HEAD takes no stream slot (it never runs the stream): many of them leave the limit untouched.
        let token = try #require(admin.token)
        for _ in 0..<(EventStreamHandlers.maxStreams + 5) {
            #expect(try rawStatus(port: live.server.httpPort, "HEAD /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nConnection: close\r\n\r\n") == 200)
        }
        #expect(try await admin.get("/events?timeout=1").status == 200)
    }
}
