import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// LISTEN on one channel over a connection of its own, opened again when lost. `onNotification` gets each
/// payload; `onListening` runs each time listening (re)starts, since what was notified before is lost (callers re-read).
public final class PostgresListener: @unchecked Sendable {
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var task: Task<Void, Never>?

    public init(url: String, channel: String, onNotification: @escaping @Sendable (String) -> Void,
                onListening: @escaping @Sendable () -> Void = {}) throws {
        let target = try PostgresTarget(url: url)
        var logger = Logger(label: "corral.postgres.listen")
        logger.logLevel = .error
        let group = self.group
        task = Task {
            while !Task.isCancelled {
                do {
                    let c = try await PostgresConnection.connect(on: group.next(), configuration: target.configuration, id: 1, logger: logger)
                    do {
                        try await c.listen(on: channel) { notifications in
                            onListening()
                            for try await n in notifications { onNotification(n.payload) }
                        }
                    } catch {}
                    try? await c.close()
                } catch {}
                try? await Task.sleep(for: .seconds(2))
            }
        }
    }

    /// Stops listening and closes the connection.
    public func stop() async {
        let t = task
        task = nil
        t?.cancel()
        await t?.value
        try? await group.shutdownGracefully()
    }
}
