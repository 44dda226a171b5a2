import Testing
import CWMP
import DataModel
@testable import ACSCore

private func inform(_ serial: String, events: [String]) -> Inform {
    Inform(deviceId: DeviceID(manufacturer: "ACME", oui: "00D09E", productClass: "R1", serialNumber: serial),
           events: events.map { EventStruct($0) }, currentTime: "", parameters: [])
}

private func device(id: Int64, serial: String, confirmed: Bool) -> Device {
    Device(id: id, name: "00D09E-\(serial)", oui: "00D09E", productClass: "R1", serialNumber: serial, credentialsConfirmed: confirmed)
}

@Suite struct OnboardingTests {
    let onboard = Principal.onboarding(profile: "generic-tr181")

    @Test func unknownDeviceWithOnboardingCredentialsIsOnboarded() {
        #expect(Onboarding.admit(onboard, inform: inform("A", events: ["0 BOOTSTRAP", "1 BOOT"]), existing: nil) == .onboard(existing: nil))
    }

    @Test func onboardedDeviceMustUseItsOwnCredentials() {
        let d = device(id: 3, serial: "A", confirmed: true)
        guard case .refuse = Onboarding.admit(onboard, inform: inform("A", events: ["2 PERIODIC"]), existing: d) else {
            Issue.record("an onboarded device was let in with the shared onboarding credentials"); return
        }
        #expect(Onboarding.admit(.device(3), inform: inform("A", events: ["2 PERIODIC"]), existing: d) == .known(d))
    }

    @Test func bootstrapWithOnboardingCredentialsReonboardsTheSameDevice() {
        let d = device(id: 3, serial: "A", confirmed: true)
        #expect(Onboarding.admit(onboard, inform: inform("A", events: ["0 BOOTSTRAP", "1 BOOT"]), existing: d) == .onboard(existing: d))
    }

    @Test func aFactoryResetAnnouncedAsBootIsAcceptedOnlyWhileOneIsAwaited() {
        let d = device(id: 3, serial: "A", confirmed: true)
        let boot = inform("A", events: ["1 BOOT"])
        guard case .refuse = Onboarding.admit(onboard, inform: boot, existing: d) else { Issue.record("a boot on onboarding credentials let in"); return }
        #expect(Onboarding.admit(onboard, inform: boot, existing: d, awaitingReset: true) == .onboard(existing: d))
        guard case .refuse = Onboarding.admit(onboard, inform: inform("A", events: ["2 PERIODIC"]), existing: d, awaitingReset: true) else {
            Issue.record("a periodic inform on onboarding credentials let in"); return
        }
    }

    @Test func unfinishedOnboardingIsRetried() {
        let d = device(id: 3, serial: "A", confirmed: false)
        #expect(Onboarding.admit(onboard, inform: inform("A", events: ["2 PERIODIC"]), existing: d) == .onboard(existing: d))
    }

    @Test func anotherDevicesCredentialsAreRefused() {
        let b = device(id: 4, serial: "B", confirmed: true)
        guard case .refuse = Onboarding.admit(.device(3), inform: inform("B", events: ["2 PERIODIC"]), existing: b) else {
            Issue.record("device 3's credentials opened device B"); return
        }
    }

    @Test func previousCredentialsRedoTheSwapForTheirOwnDeviceOnly() {
        let d = device(id: 3, serial: "A", confirmed: false)
        #expect(Onboarding.admit(.devicePreviousCredentials(3), inform: inform("A", events: ["2 PERIODIC"]), existing: d) == .onboard(existing: d))
        let b = device(id: 4, serial: "B", confirmed: true)
        guard case .refuse = Onboarding.admit(.devicePreviousCredentials(3), inform: inform("B", events: ["2 PERIODIC"]), existing: b) else {
            Issue.record("device 3's old credentials opened device B"); return
        }
    }

    @Test func generatedCredentialsAreUniqueAndTheSPVIsAtomic() {
        let a = Onboarding.generateCredentials(deviceName: "00D09E-A")
        let b = Onboarding.generateCredentials(deviceName: "00D09E-A")
        #expect(a.password != b.password)
        #expect(a.password.count == 24)
        #expect(a.username == "00D09E-A")
        let items = Onboarding.workItems(kind: .tr098, credentials: a, informInterval: 600)
        guard case .setParameterValues(let values, _) = items[0].request else { Issue.record("first item is not an SPV"); return }
        #expect(values.map(\.name).contains("InternetGatewayDevice.ManagementServer.Password"))
        #expect(values.first { $0.name.hasSuffix("PeriodicInformInterval") }?.value == "600")
        #expect(values.first { $0.name.hasSuffix("PeriodicInformInterval") }?.type == .unsignedInt)
    }

    @Test func statusFollowsTheInformInterval() {
        #expect(DeviceStatus.of(lastInform: 0, informInterval: 300, now: 1000) == .never)
        #expect(DeviceStatus.of(lastInform: 1000, informInterval: 300, now: 1000 + 500) == .online)
        #expect(DeviceStatus.of(lastInform: 1000, informInterval: 300, now: 1000 + 511) == .offline)
    }
}
