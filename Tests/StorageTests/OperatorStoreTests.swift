import Foundation
import Testing
import ACSCore
@testable import Storage

@Suite struct OperatorStoreTests {
    @Test(arguments: StoreEngine.allCases) func organisationTreeMoveRenameDelete(engine: StoreEngine) async throws {
        let store = try engine.makeStore()
        defer { store.close() }
        let a = try await store.createOrganisation(name: "A", parentID: 1, now: 1)
        let a1 = try await store.createOrganisation(name: "A1", parentID: a.id, now: 1)
        let a11 = try await store.createOrganisation(name: "A11", parentID: a1.id, now: 1)
        let b = try await store.createOrganisation(name: "B", parentID: 1, now: 1)
        #expect(a11.path == "/1/\(a.id)/\(a1.id)/\(a11.id)/")
        await #expect(throws: StoreConflict.self) { _ = try await store.createOrganisation(name: "A1", parentID: a.id, now: 1) }
        await #expect(throws: StoreConflict.self) { try await store.moveOrganisation(id: a.id, to: a11.id) }   // below itself

        try await store.moveOrganisation(id: a1.id, to: b.id)
        #expect(try store.organisation(id: a11.id)?.path == "/1/\(b.id)/\(a1.id)/\(a11.id)/")
        #expect(try store.organisations(under: b.path).map(\.name) == ["B", "A1", "A11"])
        #expect(try store.organisations(under: a.path).map(\.name) == ["A"])

        var d = Device(name: "00C0FF-X", oui: "00C0FF", productClass: "", serialNumber: "X", createdAt: 1)
        d.organisationID = a11.id
        _ = try await store.createDevice(d)
        var q = DeviceQuery()
        q.organisationPath = b.path
        #expect(try store.countDevices(q, now: 2) == 1)
        q.organisationPath = a.path
        #expect(try store.countDevices(q, now: 2) == 0)
        await #expect(throws: StoreConflict.self) { try await store.deleteOrganisation(id: a11.id) }   // has a device
        await #expect(throws: StoreConflict.self) { try await store.deleteOrganisation(id: 1) }
        try await store.renameOrganisation(id: a.id, name: "Acme")
        try await store.deleteOrganisation(id: a.id)
        #expect(try store.organisation(id: a.id) == nil)
    }

    @Test(arguments: StoreEngine.allCases) func preprovisionIsConsumedByTheDeviceItCreates(engine: StoreEngine) async throws {
        let store = try engine.makeStore()
        defer { store.close() }
        let org = try await store.createOrganisation(name: "Shop", parentID: 1, now: 1)
        try await store.savePreprovisions([Preprovision(serial: "SN9", organisationID: org.id, groups: ["g"]),
                                           Preprovision(oui: "00D09E", serial: "SN9", organisationID: 1, tags: ["exact"])])
        #expect(try store.preprovision(oui: "00D09E", serial: "SN9")?.tags == ["exact"])   // exact OUI first
        let any = try #require(try store.preprovision(oui: "00C0FF", serial: "SN9"))
        #expect(any.organisationID == org.id)
        var d = Device(name: "00C0FF-SN9", oui: "00C0FF", productClass: "", serialNumber: "SN9", createdAt: 1)
        any.apply(to: &d)
        let created = try await store.createDevice(d)
        #expect(try store.device(id: created.id)?.organisationID == org.id)
        #expect(try store.device(id: created.id)?.groups == ["g"])
        #expect(try store.preprovision(oui: "00C0FF", serial: "SN9") == nil)
        #expect(try store.preprovisions(under: "/1/").map(\.oui) == ["00D09E"])   // the other OUI's row stays
    }

    @Test(arguments: StoreEngine.allCases) func auditIsFilteredBySubtreeAndPagedNewestFirst(engine: StoreEngine) async throws {
        let store = try engine.makeStore()
        defer { store.close() }
        let a = try await store.createOrganisation(name: "A", parentID: 1, now: 1)
        for i in 0..<5 {
            try await store.appendAudit(AuditEntry(at: Int64(i), actor: "x", userID: 1, tokenID: nil, remote: "", organisationID: i % 2 == 0 ? a.id : 1,
                                                   action: "device.update", objectType: "device", objectID: "\(i)", status: 200))
        }
        var q = AuditQuery()
        q.organisationPath = a.path
        #expect(try store.audit(q).map(\.objectID) == ["4", "2", "0"])
        q.limit = 2
        let first = try store.audit(q)
        q.beforeID = first.last?.id
        #expect(try store.audit(q).map(\.objectID) == ["0"])
        q = AuditQuery()
        q.since = 3
        #expect(try store.audit(q).count == 2)
    }
}

/// Migration 5: campaigns belong to an organisation; lists by subtree, newest first; old rows are root's.
@Suite struct CampaignScopeStorageTests {
    @Test(arguments: StoreEngine.allCases) func campaignsListBySubtree(engine: StoreEngine) async throws {
        let store = try engine.makeStore()
        let a = try await store.createOrganisation(name: "A", parentID: 1, now: 1)
        let a1 = try await store.createOrganisation(name: "A1", parentID: a.id, now: 1)
        let b = try await store.createOrganisation(name: "B", parentID: 1, now: 1)
        func make(_ org: Int64?, _ name: String) async throws -> CampaignRecord {
            var c = CampaignRecord(name: name, scriptName: "x.lua", script: "", perMinute: 1, concurrent: 1, failureRate: 1, minDevices: 1,
                                   connectionRequest: false, createdAt: 1)
            if let org { c.organisationID = org; c.createdBy = "alice" }
            return try await store.createCampaign(c, targets: [])
        }
        let legacy = try await make(nil, "cli")
        _ = try await make(a.id, "a")
        _ = try await make(a1.id, "a1")
        _ = try await make(b.id, "b")
        #expect(try store.campaigns(states: [], under: a.path, limit: 10).map(\.name) == ["a1", "a"])
        #expect(try store.campaigns(states: [], under: "/1/", limit: 10).map(\.name) == ["b", "a1", "a", "cli"])
        #expect(try store.campaigns(states: [.done], under: "/1/", limit: 10).isEmpty)
        #expect(try store.campaigns(states: [], under: "/1/", limit: 2).count == 2)
        let read = try #require(try store.campaign(id: legacy.id))
        #expect(read.organisationID == 1 && read.createdBy == "")
        #expect(try store.campaign(id: legacy.id + 1)?.createdBy == "alice")
        #expect(try store.organisationPath(id: a1.id) == a1.path)
        #expect(try store.organisationPath(id: 999) == nil)
        // Deleting an organisation: refused while one of its campaigns is active; finished ones move to the parent.
        let gone = try await store.createOrganisation(name: "Gone", parentID: a.id, now: 1)
        var active = try await make(gone.id, "active")
        await #expect(throws: StoreConflict.self) { try await store.deleteOrganisation(id: gone.id) }
        active.state = .done
        try await store.apply([.automation(.updateCampaign(active))])
        try await store.deleteOrganisation(id: gone.id)
        #expect(try store.campaign(id: active.id)?.organisationID == a.id)
        store.close()
    }
}
