/// A node's claim on a device's CWMP session, so that several nodes on one database never run two sessions of the
/// same device at once (two sessions would both send its queued tasks, or requeue each other's).
public struct SessionLease: Sendable, Equatable {
    public var deviceID: Int64
    /// The node holding it (`node_name`; host and CWMP port by default), so a restarted node takes its own back.
    public var node: String
    /// The session's cookie token: only that session renews or releases it.
    public var token: String
    /// Unix seconds after which another node may take the device's next session.
    public var expiresAt: Int64

    public init(deviceID: Int64, node: String, token: String, expiresAt: Int64) {
        self.deviceID = deviceID; self.node = node; self.token = token; self.expiresAt = expiresAt
    }
}

/// A `.takeLease` refused: another node runs a session of this device, until `expiresAt` at the latest.
public struct LeaseHeld: Error, CustomStringConvertible, Equatable {
    public var node: String
    public var expiresAt: Int64
    public var description: String { "another node (\(node)) holds this device's session until \(expiresAt)" }
}
