import CWMP
import DataModel
import Testing
@testable import ACSCore

/// The launch checklist's pure rules (issue 16): each check passing, and failing for each reason it can.
@Suite struct LaunchChecklistTests {
    static func device() -> Device {
        Device(id: 7, name: "00C0FF-SIM1", oui: "00C0FF", productClass: "P", serialNumber: "SIM1", profile: "generic-tr181", dataModel: .tr181,
               description: "Onboarded 2025-01-01 00:00:00 UTC", connectionRequestURL: "http://10.0.0.2:7547/cr", connectionRequestUsername: "cr-abc",
               connectionRequestPassword: "secret", username: "00C0FF-SIM1", passwordHA1: "0123abcd", credentialsConfirmed: true,
               informInterval: 300, createdAt: 900, onboardedAt: 950, lastInform: 1000)
    }

    @Test func onboardedNeedsUniqueConfirmedCredentials() {
        let d = Self.device()
        let ok = LaunchChecklist.onboarded(d, owner: d, onboardingUsername: "corral-tr181")
        #expect(ok.passed && ok.name == "onboarded" && ok.evidence.hasPrefix("unique credentials confirmed (username 00C0FF-SIM1"), "\(ok.evidence)")

        var unconfirmed = d
        unconfirmed.credentialsConfirmed = false
        #expect(!LaunchChecklist.onboarded(unconfirmed, owner: d, onboardingUsername: nil).passed)
        var none = d
        none.username = ""
        #expect(LaunchChecklist.onboarded(none, owner: nil, onboardingUsername: nil).evidence.contains("not been onboarded"))
        var shared = d
        shared.username = "corral-tr181"
        #expect(LaunchChecklist.onboarded(shared, owner: shared, onboardingUsername: "corral-tr181").evidence.contains("shared onboarding username"))
        var other = d
        other.id = 8
        other.name = "00C0FF-SIM2"
        let dup = LaunchChecklist.onboarded(d, owner: other, onboardingUsername: nil)
        #expect(!dup.passed && dup.evidence.contains("also belongs to 00C0FF-SIM2 (ID 8)"))
        var conflict = d
        conflict.credentialConflict = true
        #expect(!LaunchChecklist.onboarded(conflict, owner: conflict, onboardingUsername: nil).passed)
    }

    @Test func inventoryFields() {
        let d = Self.device()
        let ok = LaunchChecklist.inventory(d, profileKnown: true, now: 1010)
        #expect(ok.passed, "\(ok.evidence)")
        #expect(ok.evidence.contains("name 00C0FF-SIM1, ID 7, status online, profile generic-tr181, serial SIM1"))

        var renamed = d
        renamed.name = "router-1"
        #expect(LaunchChecklist.inventory(renamed, profileKnown: true, now: 1010).evidence.contains("not OUI-Serial"))
        var described = d
        described.description = "kitchen"
        #expect(LaunchChecklist.inventory(described, profileKnown: true, now: 1010).evidence.contains("does not start with \"Onboarded\""))
        var silent = d
        silent.lastInform = 0
        #expect(LaunchChecklist.inventory(silent, profileKnown: true, now: 1010).evidence.contains("status never"))
        #expect(LaunchChecklist.inventory(d, profileKnown: false, now: 1010).evidence.contains("profile generic-tr181 is not loaded"))
        // Offline is still a status: the field is there.
        #expect(LaunchChecklist.inventory(d, profileKnown: true, now: 100_000).passed)
    }

    @Test func reachabilityNeedsEveryMethod() {
        let http = WakeProbe(method: .http, outcome: "woke", millis: 12, sessionMillis: 85)
        let ok = LaunchChecklist.reachability([http])
        #expect(ok.passed && ok.evidence == "http: session after 85 ms (request answered in 12 ms)", "\(ok.evidence)")
        let udp = WakeProbe(method: .udp, outcome: "no session within 3 s", millis: 3001)
        let partly = LaunchChecklist.reachability([udp, http])
        #expect(!partly.passed && partly.evidence.hasPrefix("udp: no session within 3 s (3001 ms); http: session after 85 ms"))
        let nothing = LaunchChecklist.reachability([], noMethod: "00C0FF-X has not reported a ConnectionRequestURL or UDP address yet")
        #expect(!nothing.passed && nothing.evidence == "no connection-request method: 00C0FF-X has not reported a ConnectionRequestURL or UDP address yet")
        // Accepted but no session: not reached.
        #expect(!LaunchChecklist.reachability([WakeProbe(method: .http, outcome: "woke", millis: 5)]).passed)
    }

    @Test func linesAndSummary() {
        let pass = LaunchCheck.pass("onboarded", "unique credentials confirmed")
        let fail = LaunchCheck.fail("factory-reset", LaunchChecklist.notReachable)
        #expect(LaunchChecklist.line(pass) == "PASS  onboarded      unique credentials confirmed")
        #expect(LaunchChecklist.line(fail) == "FAIL  factory-reset  skipped: device not reachable")
        var v = LaunchValidation(deviceID: 7, organisationID: 1, startedAt: 10, finishedAt: 20, checks: [pass], createdBy: "t")
        #expect(v.passed && v.summary == "PASS: all 1 checks passed" && !v.includesFactoryReset)
        v.checks.append(fail)
        #expect(!v.passed && v.passedCount == 1 && v.failedCount == 1 && v.includesFactoryReset)
        #expect(v.summary == "FAIL: 1 of 2 checks failed (factory-reset)")
        #expect(v.lines.count == 2)
        v.checks = []
        #expect(!v.passed)   // nothing checked is not a sign-off
    }

    @Test func checksRoundTripAsStored() {
        let checks = [LaunchCheck.pass("reads", "identity: \"x\" / y", ms: 140), .fail("reboot", "no M Reboot", ms: 3000)]
        let text = LaunchValidation.encode(checks)
        #expect(text.contains("\"duration_ms\":140"))
        #expect(LaunchValidation.decode(text) == checks)
        #expect(LaunchValidation.decode("not json").isEmpty)
    }

    @Test func readsAndChangePaths() {
        var p = DeviceProfile(name: "p")
        p.aliases = ["wifi.ssid": "Device.WiFi.SSID.1.SSID", "uptime": "DeviceInfo.UpTime", "score": "VirtualParameters.score",
                     "igd.only": "InternetGatewayDevice.Time.NTPServer1"]
        let (read, skipped) = LaunchChecklist.aliasPaths(p, kind: .tr181)
        #expect(read.map(\.alias) == ["uptime", "wifi.ssid"])
        #expect(read.map(\.path) == ["Device.DeviceInfo.UpTime", "Device.WiFi.SSID.1.SSID"])
        #expect(skipped == ["igd.only", "score"])
        #expect(LaunchChecklist.aliasPaths(nil, kind: .tr181).read.isEmpty)

        #expect(LaunchChecklist.defaultChangePath(profile: p, kind: .tr181) == "Device.WiFi.SSID.1.SSID")
        #expect(LaunchChecklist.defaultChangePath(profile: nil, kind: .tr098) == "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID")
        #expect(LaunchChecklist.defaultChangePath(profile: nil, kind: nil) == "Device.WiFi.SSID.1.SSID")
        let v = LaunchChecklist.changeValue()
        #expect(v.hasPrefix("corral-validate-") && v.count == 22 && v != LaunchChecklist.changeValue())

        #expect(LaunchChecklist.identityPaths(root: "Device.").contains("Device.DeviceInfo.SerialNumber"))
        let d = Self.device()
        #expect(LaunchChecklist.identityProblem(["Device.DeviceInfo.SerialNumber": "SIM1", "Device.DeviceInfo.ManufacturerOUI": "00c0ff"], device: d, root: "Device.") == nil)
        #expect(LaunchChecklist.identityProblem(["Device.DeviceInfo.SerialNumber": "OTHER"], device: d, root: "Device.")?.contains("serial OTHER") == true)
    }

    @Test func valuesAndFaults() {
        #expect(LaunchChecklist.same("1", "true", type: .boolean) && !LaunchChecklist.same("0", "true", type: .boolean))
        #expect(LaunchChecklist.same("600", "600", type: .unsignedInt) && LaunchChecklist.same("07", "7", type: .int))
        #expect(!LaunchChecklist.same("abc", "ABC", type: .string))
        var f = CWMPFault(code: 9003, string: "Invalid arguments")
        f.setParameterValuesFaults = [.init(parameterName: "Device.DeviceInfo.Manufacturer", code: 9008, string: "Attempt to set a non-writable parameter")]
        #expect(LaunchChecklist.faultText(f) == "fault 9003 Invalid arguments (Device.DeviceInfo.Manufacturer: 9008 Attempt to set a non-writable parameter)")
        #expect(LaunchChecklist.quoted("Device.WiFi.AccessPoint.1.Security.KeyPassphrase", "hunter22") == "\"********\"")
        #expect(LaunchChecklist.seconds(850) == "850 ms" && LaunchChecklist.seconds(4200) == "4.2 s")
    }
}
