import ACSCore
import CWMP
import Foundation
import Storage

/// The events a session records for automations, written in the same transaction as what they report (so an
/// automation never misses one, and never sees one whose change was not stored). Pure: writes out.
enum EngineEvents {
    static func inform(_ inform: Inform, deviceID: Int64, now: Int64) -> [StoreWrite] {
        var out: [StoreWrite] = []
        if inform.hasEvent(EventCode.bootstrap) { out.append(event("device.bootstrap", deviceID, now)) }
        if inform.hasEvent(EventCode.boot) { out.append(event("device.boot", deviceID, now)) }
        return out
    }

    static func onboarded(deviceID: Int64, now: Int64) -> StoreWrite { event("device.onboarded", deviceID, now) }

    /// A task that reached a final state: done, or faulted for good (not a retry).
    static func task(_ t: DeviceTask, now: Int64) -> StoreWrite? {
        var data: [String: Any] = ["task_id": t.id, "action": t.kind.label]
        switch t.state {
        case .done: return event("task.done", t.deviceID, now, data)
        case .fault:
            if let f = t.fault { data["fault_code"] = f.code; data["fault"] = f.string }
            return event("task.fault", t.deviceID, now, data)
        default: return nil
        }
    }

    static func event(_ kind: String, _ deviceID: Int64, _ now: Int64, _ data: [String: Any] = [:]) -> StoreWrite {
        let json = (try? JSONSerialization.data(withJSONObject: data, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return .automation(.event(EventRecord(at: now, kind: kind, deviceID: deviceID, data: json)))
    }
}
