import Testing
import CWMP
@testable import ACSCore

struct LogTextTests {
    @Test func networkTextCannotForgeLogLines() {
        #expect(LogText.safe("SN1\n2026-12-06 corral: admin logged in") == "SN1\\n2026-12-06 corral: admin logged in")
        #expect(LogText.safe("a\r\tb\u{0}c\u{1b}[31m\u{2028}") == "a\\r\\tb\\u{0}c\\u{1b}[31m\\u{2028}")
        #expect(LogText.safe("Ünïcode serial") == "Ünïcode serial")
        #expect(LogText.safe(String(repeating: "x", count: 500), limit: 10) == String(repeating: "x", count: 10) + "…")
    }

    @Test func certificateNamesMustNameTheDevice() {
        var p = DeviceProfile(name: "mtls")
        let id = DeviceID(manufacturer: "M", oui: "00C0FF", productClass: "P", serialNumber: "SN9")
        #expect(Onboarding.certificateProblem(profile: p, deviceId: id, certificateNames: nil) == nil)
        p.requireClientCertificate = true
        #expect(Onboarding.certificateProblem(profile: p, deviceId: id, certificateNames: nil)?.contains("requires a client certificate") == true)
        #expect(Onboarding.certificateProblem(profile: p, deviceId: id, certificateNames: ["sn9"]) == nil)
        #expect(Onboarding.certificateProblem(profile: p, deviceId: id, certificateNames: ["other", "00c0ff-SN9"]) == nil)
        #expect(Onboarding.certificateProblem(profile: p, deviceId: id, certificateNames: ["00C0FF-SN90"]) != nil)
        #expect(Onboarding.certificateProblem(profile: p, deviceId: id, certificateNames: []) != nil)
    }
}
