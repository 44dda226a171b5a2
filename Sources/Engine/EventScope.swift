import ACSCore
import Foundation
import Storage

/// Where a stored event belongs: its device and that device's organisation path; fleet events (rollouts,
/// campaigns) name their organisation in their data; anything else (and a device since deleted) is the root's.
/// Caches what it looked up (bounded), for one pass or one live stream.
public struct EventScope {
    let store: WebhookStore
    private var devices: [Int64: (Device, String)?] = [:]
    private var paths: [Int64: String] = [:]

    public init(store: WebhookStore) { self.store = store }

    public mutating func resolve(_ e: EventRecord) throws -> (device: Device?, path: String) {
        if devices.count > 10_000 { devices = [:] }
        if let id = e.deviceID {
            if devices[id] == nil {
                devices[id] = try store.device(id: id).map { ($0, try path(of: $0.organisationID)) } ?? nil
            }
            if let (d, p) = devices[id] ?? nil { return (d, p) }
        } else if let org = Self.number(e.data, "organisation_id") {
            return (nil, try path(of: org))
        }
        return (nil, try path(of: Organisation.rootID))
    }

    mutating func path(of organisation: Int64) throws -> String {
        if let p = paths[organisation] { return p }
        let p = try store.organisationPath(id: organisation) ?? "/\(Organisation.rootID)/"
        paths[organisation] = p
        return p
    }

    public static func number(_ data: String, _ key: String) -> Int64? {
        guard let o = (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] else { return nil }
        return (o[key] as? NSNumber)?.int64Value
    }
}
