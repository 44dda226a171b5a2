import Foundation
import Testing
import ACSCore
@testable import API
@testable import Storage
import Engine

@Suite struct PureLogicTests {
    @Test func onlySameSitePathsAreFollowedAfterLogin() {
        for ok in ["/devices?q=x", "/devices/12", "/"] { #expect(PageKit.safeNext(ok) == ok) }
        // Tabs and newlines are dropped by browsers ("/\t/evil" becomes "//evil"); backslashes read as slashes.
        for bad in ["/\t/evil.example/", "/\n/evil.example", "//evil.example", "/\\evil.example", "https://evil.example",
                    "evil", "/login?next=/x", " /devices", "/d\u{7f}", "/ü", nil] {
            #expect(PageKit.safeNext(bad) == "/", "\(String(describing: bad))")
        }
    }

    @Test func csvRoundTripAndFormulaGuard() throws {
        let line = CSV.line(["plain", "with,comma", "say \"hi\"", "multi\nline", "=SUM(A1)", "-12", "-x"])
        #expect(line == "plain,\"with,comma\",\"say \"\"hi\"\"\",\"multi\nline\",'=SUM(A1),-12,'-x\r\n")
        let rows = try CSV.parse("a,b\r\n\"1,2\",\"x\"\"y\"\n\n3,\n", maxRows: 10)
        #expect(rows == [["a", "b"], ["1,2", "x\"y"], ["3", ""]])
        #expect(throws: CSV.ParseError.self) { try CSV.parse("a\n\"open", maxRows: 10) }
        #expect(throws: CSV.ParseError.self) { try CSV.parse("a\nb\nc\n", maxRows: 2) }
    }

    /// Schemathesis found it with two workers: a user moved into an organisation that another request deleted
    /// during the (slow) password hashing failed the foreign key and answered 500.
    @Test func constraintRacesAnswerConflict() async throws {
        let dir = temporaryDirectory("constraint")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLStore(path: dir + "/corral.db")
        let org = try await store.createOrganisation(name: "gone", parentID: Organisation.rootID, now: 1)
        var u = try await store.createUser(UserAccount(username: "mover", passwordHash: "x", organisationID: Organisation.rootID,
                                                        role: .viewer, createdAt: 1))
        try await store.deleteOrganisation(id: org.id)
        u.organisationID = org.id
        do {
            try await store.updateUser(u)
            Issue.record("the foreign key should refuse a deleted organisation")
        } catch {
            let p = APIHandler.problem(for: error, log: Log(label: "test", level: .off))
            #expect(p.status == 409, "\(error)")
        }
        #expect(APIHandler.problem(for: SQLiteError(code: 1, message: "syntax"), log: Log(label: "test", level: .off)).status == 500)
    }

    @Test func failedLoginsFromOneAddressDoNotLockTheUserOutElsewhere() {
        let t = LockedThrottle()
        for i in 0..<5 { t.failed(user: "alice", address: "203.0.113.9", now: 100 + Int64(i)) }
        #expect(t.wait(user: "alice", address: "203.0.113.9", now: 105) > 0)
        #expect(t.wait(user: "alice", address: "198.51.100.7", now: 105) == 0)
        // Guessing spread over many addresses still slows down once the username has 50 failures.
        for i in 0..<50 { t.failed(user: "bob", address: "10.0.\(i).1", now: 200) }
        #expect(t.wait(user: "bob", address: "192.0.2.1", now: 201) > 0)
        t.succeeded(user: "alice", address: "203.0.113.9")
        #expect(t.wait(user: "alice", address: "203.0.113.9", now: 106) == 0)
    }

    @Test func passwordRulesAndTokenLifetimes() {
        for bad in ["short", "alice-2024-secret", "Password2024!", "aaaaaaaaaaaa", "1234567890", "qwertyuiop1", "0987654321",
                    "1q2w3e4r5t", "!!Welcome!!123", "ababababababab"] {
            #expect(AccountPolicy.passwordProblem(bad, username: "alice") != nil, "\(bad)")
        }
        for good in ["correct-horse-battery", "Tr0ub4dor&3x", "blue violin 42 kettle"] {
            #expect(AccountPolicy.passwordProblem(good, username: "alice") == nil, "\(good)")
        }
        #expect(AccountPolicy.maxTokenDays(.superadmin) < AccountPolicy.maxTokenDays(.admin))
        #expect(AccountPolicy.maxTokenDays(.viewer) == 365)
    }

    @Test func loginThrottleBacksOffAndForgets() {
        var t = LoginThrottle()
        for i in 0..<5 {
            #expect(t.wait("u", now: 100 + Int64(i)) == 0)
            t.failed("u", now: 100 + Int64(i))
        }
        #expect(t.wait("u", now: 105) == 14)        // 15 s after the 5th failure at 104
        t.failed("u", now: 120)
        #expect(t.wait("u", now: 120) == 30)        // doubles
        #expect(t.wait("other", now: 120) == 0)
        #expect(t.wait("u", now: 120 + 3600) == 0)  // the window passed
        t.succeeded("u")
        #expect(t.wait("u", now: 121) == 0)
    }

    @Test func parameterConditions() throws {
        let c = try DeviceHandlers.parameterCondition("Device.DeviceInfo.UpTime>=3600")
        #expect(c.paths == ["Device.DeviceInfo.UpTime"] && c.op == .ge && c.value == "3600")
        let e = try DeviceHandlers.parameterCondition("Device.WiFi.SSID.1.SSID=a=b")
        #expect(e.op == .eq && e.value == "a=b")
        #expect(try DeviceHandlers.parameterCondition("Device.X!=1").op == .ne)
        #expect(try DeviceHandlers.parameterCondition("Device.X~guest").op == .contains)
        #expect(throws: APIError.self) { try DeviceHandlers.parameterCondition("Device.X<abc") }
        #expect(throws: APIError.self) { try DeviceHandlers.parameterCondition("no operator") }
        #expect(throws: APIError.self) { try DeviceHandlers.parameterCondition("bad path!=1") }
    }

    @Test func parameterConditionsOnProfileAliases() throws {
        var a = DeviceProfile(name: "a")
        a.match.dataModel = .tr181
        a.aliases = ["lte.rssi": "Device.Cellular.Interface.1.RSSI"]
        var b = DeviceProfile(name: "b")
        b.match.dataModel = .tr181
        b.aliases = ["lte.rssi": "Cellular.Interface.1.X_B_RSSI"]   // relative to the data-model root
        let registry = ProfileRegistry([a, b])
        let c = try DeviceHandlers.parameterCondition("lte.rssi<-100", aliases: registry)
        #expect(c.paths == ["Device.Cellular.Interface.1.RSSI", "Device.Cellular.Interface.1.X_B_RSSI"] && c.op == .lt && c.value == "-100")
        #expect(throws: APIError.self) { try DeviceHandlers.parameterCondition("lte.sinr<0", aliases: registry) }
        // Without aliases a lower-case name is not a path.
        #expect(throws: APIError.self) { try DeviceHandlers.parameterCondition("lte.rssi<-100") }
    }
}

@Suite struct TimeFormatTests {
    @Test func rfc3339MatchesFoundation() {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        for t: Int64 in [1, 59, 86_399, 86_400, 951_782_400, 1_709_164_800, 1_764_147_600, 4_102_444_799, 253_402_300_799] {
            #expect(Time.iso(t) == f.string(from: Date(timeIntervalSince1970: Double(t))), "\(t)")
            #expect(Time.parse(Time.iso(t)!) == t)
        }
        #expect(Time.iso(0) == nil)
    }
}
