import ACSCore
import CWMP
import DataModel
import Foundation
import Testing
@testable import Scripting

enum Repo {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static var profiles: String { root + "/profiles" }
}

struct ProfileTests {
    @Test func builtinsAreTheShippedFiles() throws {
        for source in BuiltinProfiles.sources {
            let file = Repo.profiles + "/" + source.file.replacingOccurrences(of: "builtin:", with: "")
            #expect(try String(contentsOfFile: file, encoding: .utf8) == source.text, "\(file) differs from the built-in copy")
        }
        let (lib, problems) = ProfileLibrary.load(directory: nil)
        #expect(problems.isEmpty, "\(problems)")
        let tr181 = try #require(lib.registry.profile(named: "generic-tr181"))
        #expect(tr181.onboardingUsername == "corral-tr181" && tr181.onboardingPassword == "onboard-tr181")
        #expect(tr181.path(for: "wifi.ssid", kind: .tr181) == "Device.WiFi.SSID.1.SSID")
        #expect(lib.registry.profile(named: "generic-tr098")?.path(for: "wifi.ssid", kind: .tr098) == "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID")
    }

    @Test func shippedProfilesLoadWithSecretsFromTheConfig() throws {
        let (without, warnings) = ProfileLibrary.load(directory: Repo.profiles)
        #expect(warnings.allSatisfy { $0.kind == .warning }, "\(warnings)")
        #expect(warnings.contains { $0.message.contains("acme-r1-onboarding") && $0.message.contains("CORRAL_SECRET_ACME_R1_ONBOARDING") })
        #expect(without.registry.profile(named: "acme-lte-r1")?.onboardingUsername == "")

        let secrets = SecretResolver(values: ["acme-r1-onboarding": "r1-pass"], environment: ["ACME_ONT_ONBOARDING": "ont-pass"])
        let (lib, problems) = ProfileLibrary.load(directory: Repo.profiles, secrets: secrets)
        #expect(problems.isEmpty, "\(problems)")
        #expect(lib.registry.profiles.map(\.name).sorted() == ["acme-lte-r1", "acme-ont-g1", "generic-tr098", "generic-tr181"])
        let lte = try #require(lib.registry.profile(named: "acme-lte-r1"))
        #expect(lte.onboardingUsername == "acme-r1" && lte.onboardingPassword == "r1-pass")
        #expect(lib.registry.profile(named: "acme-ont-g1")?.onboardingPassword == "ont-pass")
        // Inherited from generic-tr181, plus its own vendor aliases.
        #expect(lte.path(for: "wifi.ssid", kind: .tr181) == "Device.WiFi.SSID.1.SSID")
        #expect(lte.path(for: "lte.sinr", kind: .tr181) == "Device.Cellular.Interface.1.X_ACME_SINR")
        #expect(lte.informInterval == 900)
        #expect(lte.kpis == ["lte.rssi", "lte.rsrp", "lte.rsrq", "lte.sinr"])
        #expect(lte.hooks == ["inform", "bootstrap"])
        #expect(lte.desired.contains(DesiredValue(name: "ManagementServer.STUNEnable", value: "true", type: .boolean)))
        #expect(lte.desired.contains(DesiredValue(name: "ManagementServer.STUNServerPort", value: "3478", type: .unsignedInt)))
        #expect(lte.desired.contains(DesiredValue(name: "lte.apn", value: "internet", type: nil)))
        #expect(lte.path(for: "ManagementServer.STUNEnable", kind: .tr181) == "Device.ManagementServer.STUNEnable")
        // Queries over the population use every profile's path for an alias.
        #expect(Set(lib.registry.paths(forAlias: "wifi.ssid")) == ["Device.WiFi.SSID.1.SSID", "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID"])
    }

    @Test func theMostSpecificProfileMatches() throws {
        let (lib, _) = ProfileLibrary.load(directory: Repo.profiles, secrets: SecretResolver(values: ["acme-r1-onboarding": "x", "acme-ont-onboarding": "y"]))
        let r = lib.registry
        let lte = DeviceID(manufacturer: "ACME", oui: "00D09E", productClass: "LTE-R1", serialNumber: "1")
        #expect(r.bestMatch(lte, model: nil, kind: .tr181)?.name == "acme-lte-r1")
        #expect(r.bestMatch(DeviceID(manufacturer: "X", oui: "001122", productClass: "GW", serialNumber: "1"), model: nil, kind: .tr181)?.name == "generic-tr181")
        #expect(r.bestMatch(DeviceID(manufacturer: "ACME", oui: "00D09E", productClass: "ONT-G1", serialNumber: "1"), model: nil, kind: .tr098)?.name == "acme-ont-g1")
        // Bound to a profile whose credentials it used: an R1 onboarding with the generic credentials stays generic.
        #expect(r.bestMatch(lte, model: nil, kind: .tr181, sameCredentialsAs: r.profile(named: "generic-tr181"))?.name == "generic-tr181")
        #expect(Glob.matches("R1*", "r1-eu") && !Glob.matches("R1*", "XR1"))
    }

    @Test func brokenProfilesAreReportedWithTheirFile() {
        func problem(_ text: String) -> String {
            let (_, problems) = ProfileLibrary.load(sources: [ProfileSource(file: "bad.lua", text: text)])
            return problems.map(\.message).joined(separator: "\n")
        }
        #expect(problem("return profile { name = 'x', colour = 'red' }").hasPrefix("bad.lua: unknown field 'colour'"))
        #expect(problem("return profile { name = 'x', onboarding = { username = 'u', password = 'plain' } }").contains("never live in profile files"))
        #expect(problem("return profile { name = 'x', on = { boot = 5 } }") == "bad.lua: hook 'boot' must be a function")
        #expect(problem("return profile { name = 'x', extends = 'nope' }") == "bad.lua: extends unknown profile 'nope'")
        #expect(problem("local n = nil\nreturn profile { name = n.x }") .hasPrefix("bad.lua:2: attempt to index"))
        #expect(problem("for d in devices{} do end") == "bad.lua:1: devices is not available while loading a profile")
        #expect(problem("while true do end").contains("instruction limit exceeded"))
        #expect(problem("x = 1") == "bad.lua: the file never calls profile{}")
        #expect(problem("return profile { name = 'x', wake = { 'udp', 'carrier-pigeon' } }").contains("wake must list"))
        #expect(problem("return profile { name = 'x', wake = { 'udp', 'udp' } }").contains("each once"))
    }

    @Test func stunAndWakeOrderAreParsedAndInherited() throws {
        let (lib, problems) = ProfileLibrary.load(sources: [
            ProfileSource(file: "p.lua", text: "return profile { name = 'p', match = { data_model = 'tr181' }, stun = { enable = true, server = '' }, wake = { 'udp', 'http' } }"),
            ProfileSource(file: "c.lua", text: "return profile { name = 'c', extends = 'p' }"),
        ])
        #expect(problems.filter { $0.kind != .warning }.isEmpty, "\(problems)")
        for name in ["p", "c"] {
            let p = try #require(lib.registry.profile(named: name))
            #expect(p.stunEnabled)
            #expect(p.wakeOrder == [.udp, .http])
            #expect(p.desired.contains { $0.name == "ManagementServer.STUNServerAddress" && $0.value == "" })
        }
        let (plain, _) = ProfileLibrary.load(sources: [ProfileSource(file: "q.lua", text: "return profile { name = 'q' }")])
        #expect(plain.registry.profile(named: "q")?.wakeOrder == nil)
        #expect(plain.registry.profile(named: "q")?.stunEnabled == false)
    }

    @Test func quirkSwitchesAreParsedCheckedAndInherited() throws {
        let (lib, problems) = ProfileLibrary.load(sources: [
            ProfileSource(file: "p.lua", text: "return profile { name = 'p', quirks = { no_cookies = true, string_values = false } }"),
            ProfileSource(file: "c.lua", text: "return profile { name = 'c', extends = 'p' }"),
            ProfileSource(file: "d.lua", text: "return profile { name = 'd', extends = 'p', quirks = { reboot_without_commandkey = true } }"),
        ])
        #expect(problems.filter { $0.kind != .warning }.isEmpty, "\(problems)")
        #expect(lib.registry.profile(named: "p")?.quirks == ProfileQuirks(noCookies: true))
        #expect(lib.registry.profile(named: "c")?.quirks == ProfileQuirks(noCookies: true))
        #expect(lib.registry.profile(named: "d")?.quirks == ProfileQuirks(rebootWithoutCommandKey: true))
        #expect(lib.registry.anyNoCookies)
        func problem(_ text: String) -> String {
            ProfileLibrary.load(sources: [ProfileSource(file: "bad.lua", text: text)]).1.map(\.message).joined(separator: "\n")
        }
        #expect(problem("return profile { name = 'x', quirks = { no_cookie = true } }")
                == "bad.lua: unknown quirk 'no_cookie' (known: no_cookies, reboot_without_commandkey, string_values)")
        #expect(problem("return profile { name = 'x', quirks = { no_cookies = 1 } }") == "bad.lua: quirks.no_cookies must be true or false")
        #expect(problem("return profile { name = 'x', quirks = { 'no_cookies' } }").hasPrefix("bad.lua: quirks must be a table of name = true"))
        #expect(problem("return profile { name = 'x', quirks = 'no_cookies' }").hasPrefix("bad.lua: quirks must be a table"))
    }
}
