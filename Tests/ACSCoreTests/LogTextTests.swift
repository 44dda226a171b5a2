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

    @Test func reBootstrapPoliciesDecideWhatABootstrapWithOnboardingCredentialsGets() {
        let id = DeviceID(manufacturer: "M", oui: "00C0FF", productClass: "P", serialNumber: "SN9")
        var d = Device(id: 7, name: "00C0FF-SN9", oui: "00C0FF", productClass: "P", serialNumber: "SN9", passwordHA1: "new", credentialsConfirmed: true)
        let boot = Inform(deviceId: id, events: [EventStruct("0 BOOTSTRAP")], currentTime: "2026-12-06T00:00:00Z", parameters: [])
        let periodic = Inform(deviceId: id, events: [EventStruct("2 PERIODIC")], currentTime: "2026-12-06T00:00:00Z", parameters: [])
        let onboarding = Principal.onboarding(profile: "p")
        #expect(Onboarding.admit(onboarding, inform: boot, existing: d, policy: .allow) == .onboard(existing: d))
        if case .hold = Onboarding.admit(onboarding, inform: boot, existing: d, policy: .quarantine) {} else { Issue.record("quarantine did not hold") }
        if case .refuse(let why, _) = Onboarding.admit(onboarding, inform: boot, existing: d, policy: .certificate) {
            #expect(why.contains("client certificate"))
        } else { Issue.record("certificate policy let a re-bootstrap without a certificate through") }
        #expect(Onboarding.admit(onboarding, inform: boot, existing: d, policy: .certificate, certificateNames: ["00C0FF-SN9"]) == .onboard(existing: d))
        d.rebootstrapHold = .approved
        #expect(Onboarding.admit(onboarding, inform: boot, existing: d, policy: .quarantine) == .onboard(existing: d))
        // Without BOOTSTRAP the onboarding credentials get nothing; the pre-re-bootstrap credentials are a conflict.
        if case .refuse = Onboarding.admit(onboarding, inform: periodic, existing: d) {} else { Issue.record("periodic with onboarding credentials admitted") }
        #expect(Onboarding.admit(.supersededCredentials(7), inform: periodic, existing: d) == .conflict(d))
        // The device's own credentials with BOOTSTRAP need no policy.
        #expect(Onboarding.admit(.device(7), inform: boot, existing: d, policy: .quarantine) == .onboard(existing: d))
        #expect(Onboarding.carriesSecret(.setParameterValues([ParameterValue(name: "Device.WiFi.AccessPoint.1.Security.KeyPassphrase", value: "x")])))
        #expect(!Onboarding.carriesSecret(.setParameterValues([ParameterValue(name: "Device.WiFi.SSID.1.SSID", value: "x")])))
    }
}

struct ConnectionRequestTargetTests {
    @Test func connectionRequestsGoOnlyWhereTheDevicesSessionsComeFromOrAllowedNetworks() {
        #expect(ConnectionRequestTarget.problem(url: "http://203.0.113.5:7547/cr", sessionAddress: "203.0.113.5", allowed: []) == nil)
        #expect(ConnectionRequestTarget.problem(url: "http://[::ffff:203.0.113.5]:7547/", sessionAddress: "203.0.113.5", allowed: []) == nil)
        // SSRF: a device pointing Corral at the metadata service, a loopback port or a name.
        #expect(ConnectionRequestTarget.problem(url: "http://169.254.169.254/latest/meta-data", sessionAddress: "203.0.113.5", allowed: []) != nil)
        #expect(ConnectionRequestTarget.problem(url: "http://127.0.0.1:8080/api/v1/devices", sessionAddress: "203.0.113.5", allowed: []) != nil)
        #expect(ConnectionRequestTarget.problem(url: "http://internal.example/", sessionAddress: "203.0.113.5", allowed: ["10.0.0.0/8"]) != nil)
        // A management network the profile lists.
        #expect(ConnectionRequestTarget.problem(url: "http://10.20.30.40:7547/", sessionAddress: "203.0.113.5", allowed: ["10.0.0.0/8"]) == nil)
        #expect(ConnectionRequestTarget.problem(url: "http://10.20.30.40:7547/", sessionAddress: "203.0.113.5", allowed: ["10.20.30.0/25"]) == nil)
        #expect(ConnectionRequestTarget.problem(url: "http://10.20.30.200:7547/", sessionAddress: "203.0.113.5", allowed: ["10.20.30.0/25"]) != nil)
        #expect(ConnectionRequestTarget.problem(url: "http://[2001:db8::7]:7547/", sessionAddress: "198.51.100.1", allowed: ["2001:db8::/32"]) == nil)
        #expect(ConnectionRequestTarget.problem(url: "http://anything.example/", sessionAddress: "198.51.100.1", allowed: ["any"]) == nil)
        #expect(CIDR("10.0.0.0/33") == nil && CIDR("nope/8") == nil)
    }
}
