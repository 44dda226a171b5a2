import Foundation
import Testing
import API
import Engine
import Storage
import TestSupport

@Suite struct FirstAdminTests {
    /// Nodes started together on a new PostgreSQL database all find no user: exactly one creates the first admin and
    /// shows its password, the others go on without failing (a node once exited with "user admin already exists").
    /// The password hash is computed between the check and the insert, so the three overlap there.
    @Test func nodesStartingTogetherCreateOneFirstAdmin() async throws {
        let url = try PostgresServer.get().newDatabase("firstadmin")
        let dir = temporaryDirectory("firstadmin")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stores = try (0..<3).map { _ in try StoreOpener.open(url: url, dataDirectory: dir) }
        defer { stores.forEach { $0.close() } }
        let passwords = try await withThrowingTaskGroup(of: String?.self) { group in
            for s in stores { group.addTask { try await AccountBootstrap.ensureFirstAdmin(store: s, iterations: 200_000) } }
            return try await group.reduce(into: [String?]()) { $0.append($1) }
        }
        #expect(passwords.compactMap { $0 }.count == 1, "\(passwords)")
        #expect(try stores[1].userCount() == 1)
    }
}
