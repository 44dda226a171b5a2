import ACSCore
import CWMP
import Foundation
import Storage

/// The event kinds some automation handler listens to (set by the runner at load and reload).
public final class EventInterest: @unchecked Sendable {
    private let lock = NSLock()
    private var kinds: Set<String> = []
    public init() {}
    public func set(_ k: Set<String>) { lock.withLock { kinds = k } }
    public func contains(_ kind: String) -> Bool { lock.withLock { kinds.contains(kind) } }
}

/// The events a session records for automations, written in the same transaction as what they report (so an
/// automation never misses one, and never sees one whose change was not stored). Pure: writes out.
public enum EngineEvents {
    /// `before`: the device as stored before this Inform (nil for a new one): an Inform from a device that had turned
    /// offline is `device.online`.
    static func inform(_ inform: Inform, deviceID: Int64, before: Device?, now: Int64) -> [StoreWrite] {
        var out: [StoreWrite] = []
        if let b = before, b.status(now: now) == .offline {
            out.append(event("device.online", deviceID, now, ["offline_since": b.lastInform + Int64(b.informInterval) * 3 / 2 + 60]))
        }
        if inform.hasEvent(EventCode.bootstrap) { out.append(event("device.bootstrap", deviceID, now)) }
        if inform.hasEvent(EventCode.boot) { out.append(event("device.boot", deviceID, now)) }
        return out
    }

    static func onboarded(deviceID: Int64, now: Int64) -> StoreWrite { event("device.onboarded", deviceID, now) }

    /// One `kpi` event per sample ({name, value}); written only while an automation listens (one per KPI per session).
    static func kpis(_ samples: [(String, Double)], deviceID: Int64, now: Int64) -> [StoreWrite] {
        samples.map { event("kpi", deviceID, now, ["name": $0.0, "value": $0.1]) }
    }

    /// A task that reached a final state: done, or faulted for good (not a retry). A firmware download also gives
    /// `firmware.done` / `firmware.fault`.
    static func task(_ t: DeviceTask, now: Int64) -> [StoreWrite] {
        var data: [String: Any] = ["task_id": t.id, "action": t.kind.label]
        let kind: String
        switch t.state {
        case .done: kind = "done"
        case .fault:
            if let f = t.fault { data["fault_code"] = f.code; data["fault"] = f.string }
            kind = "fault"
        default: return []
        }
        var out = [event("task.\(kind)", t.deviceID, now, data)]
        var firmware: (url: String, type: String)?
        if case .download(let url, let fileType, _, _) = t.kind { firmware = (url, fileType) }
        if case .scheduleDownload(let url, let fileType, _, _, _, _) = t.kind { firmware = (url, fileType) }
        if let (url, fileType) = firmware, fileType.hasPrefix("1 ") {
            data["url"] = url
            out.append(event("firmware.\(kind)", t.deviceID, now, data))
        }
        return out
    }

    /// rollout.started, .wave, .stopped, .finished, .paused, .resumed, .cancelled: fleet events, no device.
    static func rollout(_ kind: String, _ r: Rollout, now: Int64, _ extra: [String: Any] = [:]) -> StoreWrite {
        var data: [String: Any] = ["rollout_id": r.id, "organisation_id": r.organisationID, "version": r.version, "state": r.state.rawValue, "wave": r.wave + 1, "waves": r.waves.count]
        if !r.reason.isEmpty { data["reason"] = r.reason }
        for (k, v) in extra { data[k] = v }
        return .automation(.event(EventRecord(at: now, kind: kind, deviceID: nil, data: EventRecord.data(data))))
    }

    /// campaign.started, .paused, .resumed, .cancelled, .stopped (its stop rule or script), .finished: fleet events.
    public static func campaign(_ kind: String, _ c: CampaignRecord, now: Int64) -> StoreWrite {
        var data: [String: Any] = ["campaign_id": c.id, "organisation_id": c.organisationID, "name": c.name, "state": c.state.rawValue]
        if !c.stopReason.isEmpty { data["reason"] = c.stopReason }
        return .automation(.event(EventRecord(at: now, kind: "campaign.\(kind)", deviceID: nil, data: EventRecord.data(data))))
    }

    /// `validate.done`: a launch checklist run ended and was saved ({validation_id, device_id, passed, failed}: the
    /// numbers of checks that passed and failed; failed 0 = signed off).
    public static func validate(_ v: LaunchValidation, now: Int64) -> StoreWrite {
        event("validate.done", v.deviceID, now, ["validation_id": v.id, "device_id": v.deviceID, "passed": v.passedCount, "failed": v.failedCount])
    }

    static func event(_ kind: String, _ deviceID: Int64, _ now: Int64, _ data: [String: Any] = [:]) -> StoreWrite {
        .automation(.event(EventRecord(at: now, kind: kind, deviceID: deviceID, data: EventRecord.data(data))))
    }
}
