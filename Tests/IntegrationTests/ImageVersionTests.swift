import Testing
import Simulator

/// The version a simulated CPE reads from a firmware image, and the seeded failure draws (pure, no network).
@Suite struct ImageVersionTests {
    @Test func headerLineWinsOverFileName() {
        let body = Array("CORRAL-FIRMWARE 3.0.1-rc2\nrest of the image".utf8)
        #expect(Transfers.imageVersion(body: body, url: "http://files/r1-2.1.0.bin") == "3.0.1-rc2")
    }

    @Test func headerWithCRLFAndPadding() {
        #expect(Transfers.imageVersion(body: Array("CORRAL-FIRMWARE  4.2 \r\n\u{0}\u{1}".utf8), url: "http://files/x.bin") == "4.2")
        #expect(Transfers.imageVersion(body: Array("CORRAL-FIRMWARE 5.0".utf8), url: "http://files/x.bin") == "5.0")
    }

    @Test func versionFromFileName() {
        #expect(Transfers.imageVersion(body: [0x5A, 0x5A], url: "http://files/r1-2.1.0.bin") == "2.1.0")
        #expect(Transfers.imageVersion(body: [], url: "http://files/fw-v3-2.2.bin") == "2.2")
        #expect(Transfers.imageVersion(body: [], url: "http://files/dl/ont-1.0b.bin?token=a-b") == "1.0b")
    }

    @Test func invalidHeaderFallsBackToFileName() {
        let url = "http://files/r1-2.1.0.bin"
        #expect(Transfers.imageVersion(body: Array("CORRAL-FIRMWARE \nimage".utf8), url: url) == "2.1.0")
        #expect(Transfers.imageVersion(body: Array("CORRAL-FIRMWARE    \r\n".utf8), url: url) == "2.1.0")
        #expect(Transfers.imageVersion(body: Array("CORRAL-FIRMWARE \(String(repeating: "9", count: 65))\n".utf8), url: url) == "2.1.0")
        #expect(Transfers.imageVersion(body: Array("CORRAL-FIRMWARE 1.\u{7}\n".utf8), url: url) == "2.1.0")
        #expect(Transfers.imageVersion(body: Array("CORRAL-FIRMWAREX 7.0\n".utf8), url: url) == "2.1.0")
        #expect(Transfers.imageVersion(body: Array("corral-firmware 7.0\n".utf8), url: url) == "2.1.0")
    }

    @Test func nameWithoutDashVersion() {
        #expect(Transfers.imageVersion(body: [], url: "http://files/fw_2.1.bin") == "2.1")  // dotted number in the name
        #expect(Transfers.imageVersion(body: [], url: "http://files/fw-.bin") == nil)
        #expect(Transfers.imageVersion(body: [], url: "http://files/firmware.bin") == nil)  // the CPE makes one up
    }

    @Test func seededFailureDrawsAreReproducible() {
        var c = SimulatorConfig(acsURL: "http://127.0.0.1/cwmp", count: 1, model: "tr181")
        let never = c.firmwareFailures(serial: "SIM000001", download: 0)  // rates 0
        #expect(!never.failDownload && !never.badImage)
        c.failDownloadRate = 1; c.badImageRate = 1
        let always = c.firmwareFailures(serial: "SIM000001", download: 0)
        #expect(always.failDownload && always.badImage)
        c.failDownloadRate = 0.5; c.badImageRate = 0.5; c.failureSeed = 42
        func draws() -> [Bool] {
            (0..<64).flatMap { n -> [Bool] in
                let r = c.firmwareFailures(serial: "SIM000001", download: n)
                return [r.failDownload, r.badImage]
            }
        }
        let first = draws()
        #expect(first == draws())
        let fails = stride(from: 0, to: first.count, by: 2).filter { first[$0] }.count
        let bad = stride(from: 1, to: first.count, by: 2).filter { first[$0] }.count
        #expect((16...48).contains(fails) && (16...48).contains(bad), "\(fails) failed, \(bad) bad of 64")
        c.failureSeed = 43
        #expect(first != draws())
    }
}
