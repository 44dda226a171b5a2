import Foundation
import Testing
import ACSCore
import Storage

/// `corral firmware` against a real data directory (issue 14): images in, a rollout started and steered from the CLI.
@Suite(.serialized) struct FirmwareCLITests {
    @Test func imagesAndRolloutsFromTheCommandLine() async throws {
        let data = temporaryDirectory("fw-cli")
        defer { try? FileManager.default.removeItem(atPath: data) }
        let store = try SQLStore(directory: data)
        var d = Device(name: "00C0FF-CLI1", oui: "00C0FF", productClass: "P", serialNumber: "CLI1", createdAt: 1)
        d.profile = "generic-tr181"; d.softwareVersion = "1.0"; d.modelName = "R1"
        _ = try await store.createDevice(d)
        store.close()

        let image = data + "/r1-3.1.bin"
        try Data(("CORRAL-FIRMWARE 3.1\n" + String(repeating: "x", count: 100_000)).utf8).write(to: URL(fileURLWithPath: image))
        let (s1, out1, err1) = try await runCorral(["firmware", "add", image, "--version", "3.1", "--model", "R*", "--data", data])
        #expect(s1 == 0 && out1.hasPrefix("added image 1: r1-3.1.bin version 3.1"), "\(out1)\(err1)")
        // The same bytes again: the image that is there.
        let (_, out2, _) = try await runCorral(["firmware", "add", image, "--version", "3.1", "--data", data])
        #expect(out2.hasPrefix("already stored as image 1"), "\(out2)")
        let (bad, _, badErr) = try await runCorral(["firmware", "add", image, "--version", "3.1", "--sha256", String(repeating: "0", count: 64), "--data", data])
        #expect(bad != 0 && badErr.contains("SHA-256 mismatch"), "\(badErr)")
        let (_, list, _) = try await runCorral(["firmware", "list", "--json", "--data", data])
        let images = list.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(images.count == 1 && images.first?["version"] as? String == "3.1" && images.first?["target_model"] as? String == "R*", "\(list)")

        let (none, _, noneErr) = try await runCorral(["firmware", "rollout", "--version", "3.1", "--target", "group=nobody", "--data", data])
        #expect(none != 0 && noneErr.contains("no device matches"), "\(noneErr)")
        let (s3, out3, err3) = try await runCorral(["firmware", "rollout", "--version", "3.1", "--waves", "50%,100%", "--window", "01:00-05:00",
                                                    "--timezone", "Europe/Paris", "--data", data])
        #expect(s3 == 0 && out3.hasPrefix("rollout 1: version 3.1 to 1 devices in 2 wave(s)") && out3.contains("window 01:00-05:00 Europe/Paris"), "\(out3)\(err3)")
        let (_, status, _) = try await runCorral(["firmware", "status", "1", "--data", data])
        #expect(status.contains("rollout 1 to 3.1: running") && status.contains("[") && status.contains("wave 2 (100%)"), "\(status)")
        let (_, paused, _) = try await runCorral(["firmware", "pause", "1", "--data", data])
        #expect(paused.contains("rollout 1: paused"), "\(paused)")
        let (_, cancelled, _) = try await runCorral(["firmware", "cancel", "1", "--data", data])
        #expect(cancelled.contains("rollout 1: cancelled"), "\(cancelled)")
        let (again, _, againErr) = try await runCorral(["firmware", "resume", "1", "--data", data])
        #expect(again != 0 && againErr.contains("only paused or stopped rollouts resume"), "\(againErr)")
        let (_, json, _) = try await runCorral(["firmware", "status", "1", "--json", "--data", data])
        let j = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(j["state"] as? String == "cancelled" && j["cancelled"] as? Int == 1, "\(json)")
    }
}
