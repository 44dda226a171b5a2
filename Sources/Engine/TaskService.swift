import ACSCore
import CWMP
import Foundation
import Storage

/// Queues operator tasks and waits for their results (used by the CLI, later by the API).
public struct TaskService: Sendable {
    let store: CorralStore
    public init(store: CorralStore) { self.store = store }

    /// Finds a device by ID, name (OUI-Serial) or serial number.
    public func findDevice(_ ref: String) throws -> Device? {
        if let id = Int64(ref), let d = try store.device(id: id) { return d }
        if let d = try store.device(name: ref) { return d }
        let bySerial = try store.devices(serial: ref)
        return bySerial.count == 1 ? bySerial[0] : nil
    }

    public func queue(_ kind: TaskKind, on device: Device) async throws -> DeviceTask {
        let now = Int64(Date().timeIntervalSince1970)
        return try await store.createTask(DeviceTask(deviceID: device.id, kind: kind, createdAt: now, updatedAt: now))
    }

    /// Polls until the task is final (or waiting, when `untilAccepted`), or the timeout passes.
    public func wait(for id: Int64, timeout: Duration, untilAccepted: Bool = false) async throws -> DeviceTask? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var last: DeviceTask?
        while clock.now < deadline {
            last = try store.task(id: id)
            if let t = last, t.state.isFinal || (untilAccepted && t.state == .waiting) { return t }
            try await Task.sleep(for: .milliseconds(20))
        }
        return last
    }
}
