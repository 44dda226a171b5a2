import ACSCore
import CWMP
import Foundation
import Storage

/// Queues operator tasks and waits for their results (used by the CLI, later by the API).
public struct TaskService: Sendable {
    let store: CorralStore
    public init(store: CorralStore) { self.store = store }

    /// Finds a device by ID, name (OUI-Serial) or serial number. A reference that fits several devices (e.g. "1001"
    /// as an ID and as another device's serial) is an error rather than a guess: tasks must hit the intended device.
    public func findDevice(_ ref: String) throws -> Device? {
        var found: [Int64: Device] = [:]
        if let id = Int64(ref), let d = try store.device(id: id) { found[d.id] = d }
        if let d = try store.device(name: ref) { found[d.id] = d }
        for d in try store.devices(serial: ref) { found[d.id] = d }
        guard found.count <= 1 else {
            throw AmbiguousDevice(reference: ref, candidates: found.values.sorted { $0.id < $1.id }.map { "\($0.name) (ID \($0.id))" })
        }
        return found.values.first
    }

    public func queue(_ kind: TaskKind, on device: Device) async throws -> DeviceTask {
        let now = Int64(Date().timeIntervalSince1970)
        return try await store.createTask(DeviceTask(deviceID: device.id, kind: kind, createdAt: now, updatedAt: now))
    }

    /// Queues a TR-143 test with the paths for the device's data model (and its profile's vendor object, if any),
    /// pointed at `servers` unless the options name another host. Errors are for the operator.
    public func diagnose(_ test: DiagnosticTest, options: DiagnosticOptions, on device: Device, profile: DeviceProfile?,
                         servers: DiagnosticServers) async throws -> DeviceTask {
        try await queue(try Self.diagnostics(test, options: options, on: device, profile: profile, servers: servers), on: device)
    }

    /// The task of a TR-143 test on this device (the CLI and the API queue it their own way).
    public static func diagnostics(_ test: DiagnosticTest, options: DiagnosticOptions, on device: Device, profile: DeviceProfile?,
                                   servers: DiagnosticServers) throws(DiagnosticPlanError) -> TaskKind {
        .diagnostics(try DiagnosticsPlanner.spec(test: test, options: options, kind: device.dataModel,
                                                 vendorObject: profile?.aliases[DiagnosticsPlanner.aliasName(test)], servers: servers,
                                                 tag: DiagnosticSpec.newTag()))
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

public struct AmbiguousDevice: Error, CustomStringConvertible {
    public let reference: String
    public let candidates: [String]
    public var description: String {
        "\(reference) matches several devices: \(candidates.joined(separator: ", ")); use the OUI-Serial name"
    }
}
