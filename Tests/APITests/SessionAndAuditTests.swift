import Foundation
import Testing
import ACSCore
@testable import API
import HTTPAuth
import NetHTTP
import Storage

@Suite(.serialized, .stopsLiveServers) struct SessionAndAuditTests {
    @Test func anonymousBodiesAreSmallBeforeAuthentication() async throws {
        let live = try await LiveServer()
        let port = live.server.httpPort
        // Refused by the declared size alone, before any body byte is read (the attack sent 250 MiB logins in parallel).
        #expect(try rawStatus(port: port, "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 262144000\r\n\r\n") == 413)
        #expect(try rawStatus(port: port, "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 204800\r\n\r\n") == 413)
        // Answered as the API answers errors: RFC 9457 problem+json.
        let answer = try rawAnswer(port: port, "POST /api/v1/profiles/validate HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 413") && answer.lowercased().contains("content-type: application/problem+json"), "\(answer)")
        #expect(answer.contains("\"status\":413"), "\(answer)")
        // An upload is read only with credentials that check out: refused from its head otherwise (a made-up token
        // or a viewer's too), so nobody writes to the disk before authenticating. JSON anywhere is capped at 1 MiB.
        #expect(try rawStatus(port: port, "POST /api/v1/files?name=x.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n") == 401)
        #expect(try rawStatus(port: port, "POST /api/v1/firmware?name=x.bin&version=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer crl_madeup\r\nContent-Length: 2097152\r\n\r\n") == 401)
        let viewer = try await live.token(role: .viewer, org: 1)
        #expect(try rawStatus(port: port, "POST /api/v1/files?name=x.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(viewer)\r\nContent-Length: 2097152\r\n\r\n") == 403)
        #expect(try rawStatus(port: port, "PUT /uploads/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Basic Y3BlLTE6eA==\r\nContent-Length: 2097152\r\n\r\n") == 401)
        let spool = live.data + "/files/spool"
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: spool)) ?? []).isEmpty)
        #expect(try rawStatus(port: port, "POST /api/v1/devices/search HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n") == 413)
        // With a token, a 2 MiB upload gets through to the handler.
        let token = try await live.token(role: .admin, org: 1)
        let admin = APIClient(port: port, token: token)
        let up = try await admin.send("POST", "/files?name=fw.bin", body: Array(repeating: 7, count: 2 << 20))
        #expect(up.status == 201 || up.status == 200, "\(up.status) \(up.text)")
    }

    @Test func anOlderCheaperPasswordHashIsUpgradedOnTheNextSuccessfulLogin() async throws {
        let live = try await LiveServer()
        // A hash made before the cost went up (fewer iterations than the server's worker uses).
        let old = PasswordHash.make(password: "correct-horse-battery", iterations: testIterations / 2)
        _ = try await live.store.createUser(UserAccount(username: "legacy", passwordHash: old, organisationID: 1, role: .operator, createdAt: 1))
        let c = APIClient(port: live.server.httpPort)
        #expect(try await c.send("POST", "/auth/login", json: ["username": "legacy", "password": "wrong-password-1"]).status == 401)
        #expect(try live.store.user(username: "legacy")?.passwordHash == old, "a failed login must not touch the hash")
        #expect(try await c.send("POST", "/auth/login", json: ["username": "legacy", "password": "correct-horse-battery"]).status == 200)
        let upgraded = try #require(try live.store.user(username: "legacy")?.passwordHash)
        #expect(upgraded != old)
        #expect(PasswordHash.iterations(of: upgraded) == testIterations)
        #expect(PasswordHash.verify(password: "correct-horse-battery", against: upgraded))
        // Once upgraded, a login leaves it alone.
        #expect(try await c.send("POST", "/auth/login", json: ["username": "legacy", "password": "correct-horse-battery"]).status == 200)
        #expect(try live.store.user(username: "legacy")?.passwordHash == upgraded)
    }

    @Test func loginSessionCookieCSRFAndThrottling() async throws {
        let live = try await LiveServer()
        let org = try await live.store.createOrganisation(name: "Ops", parentID: 1, now: 1)
        _ = try await live.user("alice", role: .operator, org: org.id)
        let stored = try #require(try live.store.user(username: "alice"))
        #expect(stored.passwordHash.hasPrefix("pbkdf2-sha256$"))
        #expect(!stored.passwordHash.contains("correct-horse"))

        let c = APIClient(port: live.server.httpPort)
        let ok = try await c.send("POST", "/auth/login", json: ["username": "alice", "password": "correct-horse-battery"])
        #expect(ok.status == 200)
        let cookie = try #require(ok.headers.first("Set-Cookie"))
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
        let csrf = try #require(ok.json["csrf_token"] as? String)
        let value = String(cookie.split(separator: ";")[0])
        // Only the hash of the cookie value is stored.
        #expect(try live.store.session(hash: SHA256.hex(String(value.split(separator: "=")[1]))) != nil)
        c.headers.set("Cookie", value)

        #expect(try await c.get("/me").json["role"] as? String == "operator")
        let d = try await live.store.createDevice(Device(name: "00C0FF-S1", oui: "00C0FF", productClass: "", serialNumber: "S1", createdAt: 1)
            .moved(to: org.id))
        // A state-changing request on a cookie needs the CSRF token.
        let noCSRF = try await c.send("PATCH", "/devices/\(d.id)", json: ["location": "x"])
        #expect(noCSRF.status == 403)
        #expect(noCSRF.text.contains("X-CSRF-Token"))
        #expect(try await c.send("PATCH", "/devices/\(d.id)", json: ["location": "x"], extra: [("X-CSRF-Token", "wrong")]).status == 403)
        #expect(try await c.send("PATCH", "/devices/\(d.id)", json: ["location": "x"], extra: [("X-CSRF-Token", csrf)]).status == 200)
        #expect(try await c.send("POST", "/auth/logout", extra: [("X-CSRF-Token", csrf)]).status == 204)
        #expect(try await c.get("/me").status == 401)

        // Brute force: after 5 failures the account is throttled (429 + Retry-After), even with the right password.
        let b = APIClient(port: live.server.httpPort)
        for _ in 0..<5 {
            #expect(try await b.send("POST", "/auth/login", json: ["username": "alice", "password": "wrong-password!"]).status == 401)
        }
        let throttled = try await b.send("POST", "/auth/login", json: ["username": "alice", "password": "correct-horse-battery"])
        #expect(throttled.status == 429)
        #expect(Int(throttled.headers.first("Retry-After") ?? "") ?? 0 > 0)
        #expect(try await b.send("POST", "/auth/login", json: ["username": "nobody", "password": "x"]).status == 401)
        // Failed logins are audited.
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .superadmin, org: 1))
        let fails = try await admin.get("/audit?action=auth.login&actor=alice").json["entries"] as? [[String: Any]] ?? []
        #expect(fails.filter { $0["status"] as? Int == 401 }.count == 5)
        for x in [c, b, admin] { await x.close() }
    }

    @Test func tokensExpireAreRevocableAndNeverExceedTheirOwner() async throws {
        let live = try await LiveServer()
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1, name: "boss"))
        #expect(try await admin.send("POST", "/tokens", json: ["name": "too-much", "role": "superadmin"]).status == 403)
        let t = try await admin.send("POST", "/tokens", json: ["name": "short", "role": "viewer", "expires_in_days": 1])
        let tokenID = try #require(t.json["id"] as? Int)
        let viewer = APIClient(port: live.server.httpPort, token: try #require(t.json["token"] as? String))
        #expect(try await viewer.get("/devices").status == 200)
        // The list never shows secrets.
        #expect(!(try await admin.get("/tokens").text.contains(t.json["token"] as! String)))
        #expect(try await admin.send("DELETE", "/tokens/\(tokenID)").status == 204)
        #expect(try await viewer.get("/devices").status == 401)
        // Expired.
        let stored = try #require(try live.store.token(id: Int64(tokenID)))
        _ = try await live.store.createToken(APIToken(userID: stored.userID, name: "old", tokenHash: Secrets.hash("crl_expired"), prefix: "crl_e",
                                                      organisationID: 1, role: .viewer, createdAt: 1, expiresAt: 2))
        #expect(try await APIClient(port: live.server.httpPort, token: "crl_expired").get("/devices").status == 401)
        // A garbage header is a clear 401 problem.
        let garbage = APIClient(port: live.server.httpPort)
        garbage.headers.set("Authorization", "Basic Zm9vOmJhcg==")
        let r = try await garbage.get("/devices")
        #expect(r.status == 401 && r.headers.first("Content-Type") == "application/problem+json")
        #expect(r.json["detail"] as? String == "use Authorization: Bearer <token>")
        await admin.close()
    }

    @Test func auditRecordsMetadataBeforeAndAfterAndExportsCSV() async throws {
        let live = try await LiveServer()
        let op = APIClient(port: live.server.httpPort, token: try await live.token(role: .operator, org: 1, name: "op"))
        var dev = Device(name: "00C0FF-AU1", oui: "00C0FF", productClass: "", serialNumber: "AU1", createdAt: 1)
        dev.location = "old place"
        let d = try await live.store.createDevice(dev)
        let r = try await op.send("PATCH", "/devices/\(d.id)", json: ["location": "new place", "groups": ["g1", "g2"], "tags": ["t"]])
        #expect(r.status == 200)
        #expect(r.json["groups"] as? [String] == ["g1", "g2"])
        let bad = try await op.send("PATCH", "/devices/\(d.id)", json: ["groups": ["a,b"]])
        #expect(bad.status == 422 && bad.headers.first("Content-Type") == "application/problem+json")
        let notJSON = try await op.send("PATCH", "/devices/\(d.id)", body: Array("location=x".utf8), contentType: "application/x-www-form-urlencoded")
        #expect(notJSON.status == 415)

        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1, name: "adm"))
        let entries = try await admin.get("/audit?action=device.update&object_id=\(d.id)").json["entries"] as? [[String: Any]] ?? []
        #expect(entries.count == 3)   // the change and the two refused ones
        let change = try #require(entries.first { $0["status"] as? Int == 200 })
        #expect((change["before"] as? String)?.contains("old place") == true)
        #expect((change["after"] as? String)?.contains("new place") == true)
        #expect(change["actor"] as? String == "u-op (token t-op)")
        #expect(change["object_type"] as? String == "device")
        let csv = try await admin.get("/audit/export?action=device.update")
        #expect(csv.headers.first("Content-Type")?.hasPrefix("text/csv") == true)
        #expect(csv.text.hasPrefix("id,at,actor,user_id,token_id,remote,organisation_id,action,object_type,object_id,status,before,after\r\n"))
        #expect(csv.text.contains("new place"))
        // Reads are not audited.
        #expect((try await admin.get("/audit?action=device.list").json["entries"] as? [Any])?.isEmpty == true)
        await op.close()
        await admin.close()
    }

    @Test func firmwareUploadChecksumAndCPEDownload() async throws {
        let live = try await LiveServer()
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1))
        let firmware = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let digest = hex(SHA256.hash(firmware))
        let wrong = try await admin.send("POST", "/files?name=fw-2.1.bin", body: firmware, extra: [("X-Checksum-SHA256", String(repeating: "0", count: 64))])
        #expect(wrong.status == 422)
        let up = try await admin.send("POST", "/files?name=fw-2.1.bin&file_type=firmware", body: firmware, extra: [("X-Checksum-SHA256", digest)])
        #expect(up.status == 201, "\(up.text)")
        #expect(up.json["sha256"] as? String == digest)
        #expect(up.json["file_type"] as? String == "1 Firmware Upgrade Image")
        let url = try #require(up.json["download_url"] as? String)
        #expect(url.hasPrefix("http://127.0.0.1:\(live.server.httpPort)/files/"))
        // The URL alone is not enough: a CPE shows its transfer credentials (from its Download RPC), Digest or Basic.
        let bare = try await HTTPClient.send(url: url)
        #expect(bare.status == 401)
        let challenges = bare.headers.all("WWW-Authenticate")
        #expect(challenges.contains { $0.hasPrefix("Digest ") } && challenges.contains { $0.hasPrefix("Basic ") })
        let transfers = try #require(live.api.services.config.transfers)
        let device = try await live.store.createDevice(Device(name: "00C0FF-DL1", oui: "00C0FF", productClass: "P", serialNumber: "DL1", createdAt: 1))
        let basic = BasicCredentials(username: transfers.username(device.id), password: transfers.password(device.id, generation: "")).headerValue
        let got = try await HTTPClient.send(url: url, headers: ["Authorization": basic])
        #expect(got.status == 200 && got.body == firmware)
        let challenge = try #require(DigestChallenge.parse(challenges))
        let parts = try #require(URLParts.parse(url))
        let digestAuth = try #require(Digest.authorize(challenge: challenge, username: transfers.username(device.id), password: transfers.password(device.id, generation: ""),
                                                       method: "GET", uri: parts.pathAndQuery))
        #expect(try await HTTPClient.send(url: url, headers: ["Authorization": digestAuth.headerValue]).status == 200)
        // Another device's password, a device of another organisation, an operator's token.
        let wrongDevice = BasicCredentials(username: transfers.username(device.id + 1), password: transfers.password(device.id, generation: "")).headerValue
        #expect(try await HTTPClient.send(url: url, headers: ["Authorization": wrongDevice]).status == 401)
        let other = try await live.store.createOrganisation(name: "Elsewhere", parentID: 1, now: 1)
        let uploadedAtOther = try await admin.send("POST", "/files?name=other.bin&organisation_id=\(other.id)", body: [1, 2, 3])
        let otherURL = try #require(uploadedAtOther.json["download_url"] as? String)
        // Files are for the devices of their organisation's subtree: a sub-organisation's file is not a root device's.
        #expect(try await HTTPClient.send(url: otherURL, headers: ["Authorization": basic]).status == 403)
        var outside = Device(name: "00C0FF-DL2", oui: "00C0FF", productClass: "P", serialNumber: "DL2", createdAt: 1)
        outside.organisationID = other.id
        outside = try await live.store.createDevice(outside)
        let outsideBasic = BasicCredentials(username: transfers.username(outside.id), password: transfers.password(outside.id, generation: "")).headerValue
        #expect(try await HTTPClient.send(url: url, headers: ["Authorization": outsideBasic]).status == 200, "a root file is for every device")
        #expect(try await HTTPClient.send(url: otherURL, headers: ["Authorization": outsideBasic]).status == 200)
        #expect(try await HTTPClient.send(url: url, headers: ["Authorization": "Bearer \(admin.token ?? "")"]).status == 200)
        let guessed = try await HTTPClient.send(url: url.replacingOccurrences(of: "/files/1/", with: "/files/1/x"), headers: ["Authorization": basic])
        #expect(guessed.status == 404)
        #expect(try await admin.send("POST", "/files?name=../etc/passwd", body: [1]).status == 400)
        let id = try #require(up.json["id"] as? Int)
        #expect(try await admin.send("DELETE", "/files/\(id)").status == 204)
        #expect(try await HTTPClient.send(url: url).status == 404)
        await admin.close()
    }
}

extension Device {
    func moved(to org: Int64) -> Device { var d = self; d.organisationID = org; return d }
}
