import ACSCore
import Foundation
import HTTPAuth
import NetHTTP
import Testing
@testable import API

/// Firmware images through the operator port (issue 14): streamed uploads, deduplication, refusals that leave
/// nothing behind, and the download server's HEAD, ranges and ETag.
@Suite(.serialized) struct FirmwareTests {
    static func image(_ n: Int, seed: UInt64) -> [UInt8] {
        var x = seed | 1
        return (0..<n).map { _ in x ^= x << 13; x ^= x >> 7; x ^= x << 17; return UInt8(truncatingIfNeeded: x) }
    }

    func spoolLeftovers(_ live: LiveServer) -> [String] {
        let dir = live.data + "/files/spool"
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".part") }
    }

    @Test func imagesAreStreamedDeduplicatedAndRefusedCleanly() async throws {
        let live = try await LiveServer()
        let token = try await live.token(role: .admin, org: 1)
        let admin = APIClient(port: live.server.httpPort, token: token)
        // 3 MiB: three times the operator port's in-memory body limit, so it must have been spooled.
        let bytes = Self.image(3 << 20, seed: 7)
        let digest = hex(SHA256.hash(bytes))
        let up = try await admin.send("POST", "/firmware?name=r1-2.1.bin&version=2.1&profile=generic-tr181&model=R1*&notes=fixes", body: bytes,
                                      extra: [("X-Checksum-SHA256", digest)])
        #expect(up.status == 201, "\(up.text)")
        #expect(up.json["version"] as? String == "2.1" && up.json["target_profile"] as? String == "generic-tr181")
        #expect(up.json["target_model"] as? String == "R1*" && up.json["sha256"] as? String == digest)
        #expect(up.json["file_type"] as? String == StoredFile.firmwareType && up.json["size"] as? Int == bytes.count)
        let id = try #require(up.json["id"] as? Int)
        let list = try await admin.get("/firmware")
        let images = try #require(list.json["firmware"] as? [[String: Any]])
        #expect(images.map { $0["id"] as? Int } == [id])

        // The same bytes again: the same image; under another version: refused.
        let again = try await admin.send("POST", "/firmware?name=copy.bin&version=2.1", body: bytes)
        #expect(again.status == 200 && again.json["id"] as? Int == id, "\(again.text)")
        #expect(try await admin.send("POST", "/firmware?name=copy.bin&version=2.2", body: bytes).status == 409)

        // Refusals store nothing and leave nothing in the spool.
        let other = Self.image(100_000, seed: 9)
        #expect(try await admin.send("POST", "/firmware?name=x.bin&version=3", body: other,
                                     extra: [("X-Checksum-SHA256", digest)]).status == 422)
        #expect(try await admin.send("POST", "/firmware?name=x.bin&version=3&profile=nope", body: other).status == 422)
        #expect(try await admin.send("POST", "/firmware?name=x.bin", body: other).status == 422)
        // Over max_upload_bytes (4 MiB here): refused from the head, before a byte of the body is read.
        #expect(try rawStatus(port: live.server.httpPort, "POST /api/v1/firmware?name=x.bin&version=3 HTTP/1.1\r\nHost: x\r\n"
                              + "Authorization: Bearer \(token)\r\nContent-Length: \(5 << 20)\r\n\r\n") == 413)
        #expect(try live.store.files(under: "/").count == 1)
        try await waitUntil("the spool is empty", seconds: 5) { spoolLeftovers(live).isEmpty }
        await admin.close()
    }

    @Test func downloadsAnswerHeadRangesAndETags() async throws {
        let live = try await LiveServer()
        let admin = APIClient(port: live.server.httpPort, token: try await live.token(role: .admin, org: 1))
        let bytes = Self.image(2 << 20, seed: 3)
        let up = try await admin.send("POST", "/firmware?name=ont-1.0.bin&version=1.0", body: bytes)
        #expect(up.status == 201, "\(up.text)")
        let url = try #require(up.json["download_url"] as? String)
        let etag = "\"\(hex(SHA256.hash(bytes)))\""
        let token = try #require(admin.token)
        // An operator's token opens the file server like a device's transfer credentials do.
        func send(_ method: String = "GET", _ headers: [String: String] = [:]) async throws -> HTTPResponse {
            var h = HTTPFields(["Authorization": "Bearer \(token)"].map { ($0.key, $0.value) })
            for (k, v) in headers { h.set(k, v) }
            return try await HTTPClient.send(url: url, method: method, headers: h)
        }

        let whole = try await send()
        #expect(whole.status == 200 && whole.body == bytes)
        #expect(whole.headers.first("ETag") == etag && whole.headers.first("Accept-Ranges") == "bytes")
        let head = try await send("HEAD")
        #expect(head.status == 200 && head.body.isEmpty && head.headers.first("Content-Length") == String(bytes.count))

        // A resumed download: the rest from an offset, a middle part, the last bytes.
        let rest = try await send("GET", ["Range": "bytes=1000000-"])
        #expect(rest.status == 206 && rest.body == Array(bytes[1_000_000...]))
        #expect(rest.headers.first("Content-Range") == "bytes 1000000-\(bytes.count - 1)/\(bytes.count)")
        let middle = try await send("GET", ["Range": "bytes=100-199"])
        #expect(middle.status == 206 && middle.body == Array(bytes[100..<200]))
        let tail = try await send("GET", ["Range": "bytes=-10"])
        #expect(tail.body == Array(bytes.suffix(10)))
        let past = try await send("GET", ["Range": "bytes=\(bytes.count)-"])
        #expect(past.status == 416 && past.headers.first("Content-Range") == "bytes */\(bytes.count)")
        // A range against another version of the file: all of it.
        let changed = try await send("GET", ["Range": "bytes=0-9", "If-Range": "\"other\""])
        #expect(changed.status == 200 && changed.body.count == bytes.count)

        // A CPE that has it already.
        #expect(try await send("GET", ["If-None-Match": etag]).status == 304)
        await admin.close()
    }

    @Test func byteRangesFollowRFC9110() {
        #expect(ByteRange.parse(nil, size: 10) == .whole)
        #expect(ByteRange.parse("bytes=0-", size: 10) == .part(first: 0, last: 9))
        #expect(ByteRange.parse("bytes=2-4", size: 10) == .part(first: 2, last: 4))
        #expect(ByteRange.parse("bytes=2-400", size: 10) == .part(first: 2, last: 9))
        #expect(ByteRange.parse("bytes=-3", size: 10) == .part(first: 7, last: 9))
        #expect(ByteRange.parse("bytes=-30", size: 10) == .part(first: 0, last: 9))
        #expect(ByteRange.parse("bytes=10-", size: 10) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=-0", size: 10) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=0-1,4-5", size: 10) == .whole)
        #expect(ByteRange.parse("bytes=5-2", size: 10) == .whole)
        #expect(ByteRange.parse("items=0-1", size: 10) == .whole)
        #expect(ByteRange.parse("bytes=x-1", size: 10) == .whole)
    }

    @Test func releaseFieldsAreChecked() {
        var f = StoredFile(name: "a.bin", fileType: "3 Vendor Configuration File", organisationID: 1, size: 1, sha256: "", downloadKey: "k",
                           createdAt: 0, uploadedBy: "t")
        #expect(FirmwareRelease.apply(version: " ", profile: nil, model: nil, notes: nil, to: &f, profileExists: { _ in true }) != nil)
        #expect(FirmwareRelease.apply(version: "1\u{7}", profile: nil, model: nil, notes: nil, to: &f, profileExists: { _ in true }) != nil)
        #expect(FirmwareRelease.apply(version: "2.1", profile: "x", model: nil, notes: nil, to: &f, profileExists: { _ in false }) == "no profile named x")
        #expect(FirmwareRelease.apply(version: " 2.1 ", profile: "p", model: "R1*", notes: "n", to: &f, profileExists: { _ in true }) == nil)
        #expect(f.version == "2.1" && f.fileType == StoredFile.firmwareType && f.isFirmware)
        #expect(FirmwareRelease.fits(f, profile: "p", model: "R1-EU") && !FirmwareRelease.fits(f, profile: "p", model: "X1")
                && !FirmwareRelease.fits(f, profile: "q", model: "R1"))
    }
}
