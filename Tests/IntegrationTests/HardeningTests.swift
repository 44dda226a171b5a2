import Foundation
import Testing
@testable import Engine

/// Security fixes from the review of issue 11 that need a live server.
@Suite(.serialized) struct HardeningTests {
    @Test func asecondServerOnTheSameDataDirectoryIsRefusedUntilTheFirstStops() async throws {
        let data = temporaryDirectory("lock")
        defer { try? FileManager.default.removeItem(atPath: data) }
        let first = try CorralServer(config: serverConfig(data: data))
        try await first.start()
        do {
            _ = try CorralServer(config: serverConfig(data: data))
            Issue.record("a second server opened the same data directory")
        } catch let e as ConfigError {
            #expect(e.description.contains("another corral serve is using the data directory"), "\(e)")
            #expect(e.description.contains("pid \(getpid())"), "\(e)")
        }
        await first.stop()
        let second = try CorralServer(config: serverConfig(data: data))
        try await second.start()
        await second.stop()
    }
}
