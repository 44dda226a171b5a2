import Foundation
import NIOConcurrencyHelpers
import PostgresStore

/// Whether this node runs the cluster-wide periodic work (campaigns, rollouts, automations and their events,
/// webhooks, retention). One SQLite node always does; nodes sharing a PostgreSQL database elect one through an
/// advisory lock (`PostgresLeaderLock`): the lock dies with its holder's connection, so a killed leader's duties
/// move to another node within a few seconds.
public final class Leadership: Sendable {
    private let check: @Sendable () -> Bool
    private let stopper: @Sendable () -> Void

    public init(check: @escaping @Sendable () -> Bool, stop: @escaping @Sendable () -> Void = {}) {
        self.check = check
        stopper = stop
    }

    public static let always = Leadership(check: { true })

    public var isLeader: Bool { check() }
    public func stop() { stopper() }

    /// Campaigns, rollouts, … on the node holding the advisory lock of the database at `url`.
    public static func postgres(url: String, onChange: @escaping @Sendable (Bool) -> Void = { _ in }) throws -> Leadership {
        let lock = try PostgresLeaderLock(url: url, onChange: onChange)
        return Leadership(check: { lock.isLeader }, stop: { lock.stop() })
    }
}
