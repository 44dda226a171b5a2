import Foundation
import Logging
import NIOCore
import NIOPosix

/// Leader election among the nodes of one database: the node whose own connection holds the session advisory
/// lock `key` is the leader. A thread tries for the lock every `interval` seconds and, once held, checks the
/// connection that holds it; a lost connection means a lost lock (the server releases it when the session ends,
/// including when the process is killed), and the thread starts trying again.
public final class PostgresLeaderLock: @unchecked Sendable {
    public static let defaultKey: Int64 = 0x636f7272616c_01
    private let target: PostgresTarget
    private let key: Int64
    private let interval: Double
    private let onChange: @Sendable (Bool) -> Void
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let lock = NSLock()
    private var leader = false
    private var stopping = false
    private var thread: Thread?

    public init(url: String, key: Int64 = defaultKey, interval: Double = 2, onChange: @escaping @Sendable (Bool) -> Void = { _ in }) throws {
        target = try PostgresTarget(url: url)
        self.key = key
        self.interval = interval
        self.onChange = onChange
        let t = Thread { [self] in loop() }
        t.name = "corral-leader-lock"
        thread = t
        t.start()
    }

    public var isLeader: Bool { lock.withLock { leader && !stopping } }

    /// Gives the lock up (closing its connection) and stops trying.
    public func stop() {
        lock.withLock { stopping = true }
        while thread?.isFinished == false { usleep(10_000) }
        thread = nil
        group.shutdownGracefully { _ in }   // not the sync form: stop may run on an event loop (NIO is the global executor)
    }

    private func set(_ value: Bool) {
        let changed = lock.withLock { () -> Bool in
            defer { leader = value }
            return leader != value
        }
        if changed { onChange(value) }
    }

    private func loop() {
        var connection: PostgresSQLConnection?
        while !lock.withLock({ stopping }) {
            do {
                if connection == nil { connection = try PostgresSQLConnection(target: target, eventLoop: group.next()) }
                if isLeader {
                    _ = try connection!.scalar("SELECT 1")
                } else if try connection!.scalar("SELECT pg_try_advisory_lock(?)", [.int(key)]).int == 1 {
                    set(true)
                }
            } catch {
                set(false)
                connection?.close()
                connection = nil
            }
            var waited = 0.0
            while waited < interval, !lock.withLock({ stopping }) { usleep(50_000); waited += 0.05 }
        }
        set(false)
        connection?.close()
    }
}
