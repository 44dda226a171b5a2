import ACSCore
import Foundation
import Storage
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

    @Test func aCorruptDatabaseIsRefusedAtStartUnlessTheCheckIsOff() async throws {
        let data = temporaryDirectory("corrupt")
        defer { try? FileManager.default.removeItem(atPath: data) }
        let store = try SQLStore(directory: data)
        for i in 0..<400 {
            _ = try await store.createDevice(Device(name: "00D09E-K\(i)", oui: "00D09E", productClass: String(repeating: "k", count: 200),
                                                    serialNumber: "K\(i)", createdAt: 1))
        }
        store.close()
        let path = data + "/corral.db"
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let h = try #require(FileHandle(forWritingAtPath: path))
        // Pages near the end hold the devices just written (the schema's come first: the file must still open).
        for k in 2...5 {
            try h.seek(toOffset: UInt64(size / 4096 * 4096 - k * 4 * 4096))
            h.write(Data(repeating: 0xA5, count: 12))
        }
        try h.close()
        do {
            _ = try CorralServer(config: serverConfig(data: data))
            Issue.record("a corrupt database was served")
        } catch let e as ConfigError {
            #expect(e.description.contains("is corrupt") && e.description.contains("corral check"), "\(e)")
        }
        var c = serverConfig(data: data)
        c.startupCheck = false
        let server = try CorralServer(config: c)
        await server.stop()
    }
}
