import Foundation
import Testing
import ACSCore
import CWMP
import HTTPAuth
@testable import Engine
import NetHTTP
import Storage

/// What CPEs ask for themselves (issue 14 item 5): RequestDownload and AutonomousTransferComplete are answered,
/// recorded, and (by profile policy) a firmware request gets the newest image that fits.
@Suite(.serialized) struct TransferRequestTests {
    @Test func requestDownloadIsRecordedAndAnsweredWithTheLatestImage() async throws {
        let profiles = temporaryDirectory("reqdl-profiles")
        try """
            return profile {
              name = "eager", extends = "generic-tr181", match = { data_model = "tr181" }, priority = 10, inform_interval = 300,
              request_download = "latest_firmware",
            }
            """.write(toFile: profiles + "/eager.lua", atomically: true, encoding: .utf8)
        var config = serverConfig(data: temporaryDirectory("reqdl"), informInterval: 300)
        config.profilesDirectory = profiles
        let server = try CorralServer(config: config)
        try await server.start()
        defer { Task { await server.stop() } }
        server.cwmp.transferPrefixes.withLockedValue { $0 = ["http://127.0.0.1:9/files/"] }
        let (_, device, user, password) = try await RebootstrapTests.onboardOne(server, prefix: "RQ-")
        #expect(device.profile == "eager")
        for (version, id) in [("2.0", 0), ("3.0", 1)] {
            var f = StoredFile(name: "img-\(version).bin", fileType: StoredFile.firmwareType, organisationID: 1, size: 10, sha256: "s\(id)",
                               downloadKey: "k\(id)", createdAt: 1, uploadedBy: "t")
            f.version = version
            _ = try await server.store.createFile(f)
        }

        // A session of the device asking for firmware, then reporting a transfer it made on its own (failed).
        var cpe = try await RawCPE.connect(server.cwmpPort)
        let inform = try await cpe.postAuthenticated(RawCPE.inform(serial: "RQ-000000", events: ["9 REQUEST DOWNLOAD", "10 AUTONOMOUS TRANSFER COMPLETE"]),
                                                     user: user, password: password)
        #expect(inform.status == 200)
        let ask = try await cpe.post(CWMPEncoder.encode(Envelope(version: .v1_2, header: CWMPHeader(id: "2"), body: .cpeRequest(
            .requestDownload(fileType: "1 Firmware Upgrade Image", args: [ArgStruct(name: "Version", value: "any")])))))
        guard case .acsResponse(.requestDownload) = try CWMPDecoder.decode(ask.body, from: .acs).body else { Issue.record("no RequestDownloadResponse"); return }
        let auto = AutonomousTransferComplete(announceURL: "", transferURL: "http://vendor.example/fw.bin", isDownload: true,
                                              fileType: "1 Firmware Upgrade Image", fileSize: 5, targetFileName: "",
                                              fault: FaultStruct(code: 9016, string: "Unable to access file"), startTime: "2026-12-06T10:00:00Z",
                                              completeTime: "2026-12-06T10:00:01Z")
        let told = try await cpe.post(CWMPEncoder.encode(Envelope(version: .v1_2, header: CWMPHeader(id: "3"), body: .cpeRequest(.autonomousTransferComplete(auto)))))
        guard case .acsResponse(.autonomousTransferComplete) = try CWMPDecoder.decode(told.body, from: .acs).body else { Issue.record("no response"); return }

        try await waitUntil("the download of the newest image queued", seconds: 10) {
            try server.store.tasks(deviceID: device.id, states: [.pending]).contains {
                if case .download(let url, _, _, _) = $0.kind { return url.hasSuffix("/img-3.0.bin") } else { return false }
            }
        }
        // Its clock's offset (CurrentTime "…Z": UTC) is kept for device-local rollout windows.
        #expect(try server.store.device(id: device.id)?.utcOffsetMinutes == 0)
        let events = try server.store.events(deviceID: device.id, limit: 50)
        let requested = try #require(events.first { $0.kind == "transfer.requested" })
        #expect(requested.data.contains("\"file_type\":\"1 Firmware Upgrade Image\"") && requested.data.contains("\"arg.Version\":\"any\""))
        #expect(events.contains { $0.kind == "transfer.autonomous" && $0.data.contains("\"fault_code\":9016") })
        #expect(try server.store.faults(deviceID: device.id, limit: 10).contains { $0.code == 9016 && $0.source == "transfer" })
    }
}
