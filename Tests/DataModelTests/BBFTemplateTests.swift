import CWMP
import Foundation
import Testing
@testable import DataModel

/// The BBF files are loaded once per test process and shared, like the simulator does.
enum Fixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let tr181Path = repoRoot.appendingPathComponent("datamodels/tr-181-2-19-1-cwmp-full.xml").path
    static let tr098Path = repoRoot.appendingPathComponent("datamodels/tr-098-1-8-0-full.xml").path
    static let tr181: ModelTemplate = try! ModelTemplate.loadBBF(path: tr181Path)
    static let tr098: ModelTemplate = try! ModelTemplate.loadBBF(path: tr098Path)

    static func timedLoad(_ path: String) throws -> (ModelTemplate, Double) {
        let start = Date()
        let t = try ModelTemplate.loadBBF(path: path)
        return (t, Date().timeIntervalSince(start))
    }
}

@Suite struct BBFTemplateTests {
    @Test func loadsTR181() throws {
        let (t, seconds) = try Fixtures.timedLoad(Fixtures.tr181Path)
        print("TR-181 template: \(t.entryCount) entries (\(t.parameterCount) parameters, \(t.objectCount) objects), "
              + "\(t.definitionCount) definitions, loaded in \(String(format: "%.3f", seconds)) s")
        #expect(t.root == "Device.")
        #expect(t.kind == .tr181)
        #expect(t.modelName == "Device:2.19")
        #expect(t.parameterCount > 1000)
        #expect(seconds < 5) // debug build; release is far faster

        let pii = try #require(t.definition(of: "Device.ManagementServer.PeriodicInformInterval"))
        #expect(pii.type == .unsignedInt)
        #expect(pii.writable)
        #expect(pii.kind == .parameter)

        let sw = try #require(t.definition(of: "Device.DeviceInfo.SoftwareVersion"))
        #expect(sw.type == .string)
        #expect(!sw.writable)
        #expect(sw.forcedInform)

        #expect(t.contains("Device.WiFi.SSID.1.SSID"))
        #expect(t.contains("Device.WiFi.SSID.2.SSID"))
        #expect(!t.contains("Device.WiFi.SSID.3.SSID"))
        #expect(t.definition(of: "Device.WiFi.SSID.1.SSID")?.writable == true)
        #expect(t.definition(of: "Device.WiFi.SSID.")?.kind == .table)
        #expect(t.definition(of: "Device.WiFi.SSID.")?.writable == true)
        #expect(t.definition(of: "Device.WiFi.SSID.{i}.")?.kind == .instance)
        #expect(t.definition(of: "Device.WiFi.Radio.")?.writable == false)

        let pw = try #require(t.definition(of: "Device.ManagementServer.Password"))
        #expect(pw.hidden)
        #expect(pw.writable)

        let rssi = try #require(t.definition(of: "Device.Cellular.Interface.1.RSSI"))
        #expect(rssi.type == .int)
        #expect(t.contains("Device.Cellular.Interface.1.RSSI"))

        // dataType refs resolve to their base type: StatsCounter64 → unsignedLong, Dbm1000 → int.
        #expect(t.definition(of: "Device.WiFi.SSID.1.Stats.BytesSent")?.type == .unsignedLong)
        #expect(t.definition(of: "Device.IP.Interface.1.IPv4Address.1.IPAddress")?.type == .string)
        #expect(t.definition(of: "Device.ManagementServer.EnableCWMP")?.type == .boolean)
        #expect(t.definition(of: "Device.DeviceInfo.UpTime")?.activeNotify == .canDeny)
        // BBF defaults.
        #expect(t.defaultValue(of: "Device.WiFi.SSID.1.Enable") == "false")
        // NumberOfEntries reflect the instantiated tables.
        #expect(t.defaultValue(of: "Device.WiFi.SSIDNumberOfEntries") == "2")
        #expect(t.defaultValue(of: "Device.WiFi.RadioNumberOfEntries") == "2")
        // Uninstantiated tables exist as empty objects.
        #expect(t.contains("Device.Hosts.Host."))
        #expect(!t.contains("Device.Hosts.Host.1."))
        // Nested tables exist under every parent instance.
        #expect(t.contains("Device.IP.Interface.2.IPv4Address.1.IPAddress"))
        // Deprecated / deleted items are skipped by default.
        #expect(t.definition(of: "Device.DeviceInfo.Processor.{i}.") == nil)
        #expect(t.forcedInformParameters.contains("Device.DeviceInfo.SoftwareVersion"))
    }

    @Test func loadsTR098() throws {
        let (t, seconds) = try Fixtures.timedLoad(Fixtures.tr098Path)
        print("TR-098 template: \(t.entryCount) entries (\(t.parameterCount) parameters, \(t.objectCount) objects), "
              + "\(t.definitionCount) definitions, loaded in \(String(format: "%.3f", seconds)) s")
        #expect(t.root == "InternetGatewayDevice.")
        #expect(t.kind == .tr098)
        let ssid = try #require(t.definition(of: "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID"))
        #expect(ssid.writable)
        #expect(ssid.type == .string)
        #expect(t.contains("InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID"))
        #expect(t.contains("InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANIPConnection.1.ExternalIPAddress"))
        #expect(t.definition(of: "InternetGatewayDevice.ManagementServer.PeriodicInformInterval")?.type == .unsignedInt)
        // PreSharedKey is a fixed-size table (minEntries = maxEntries = 10): always fully instantiated.
        #expect(t.contains("InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.PreSharedKey.10."))
        #expect(t.definition(of: "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.PreSharedKey.1.PreSharedKey")?.hidden == true)
        #expect(seconds < 5)
    }

    @Test func customInstanceCounts() throws {
        let t = try ModelTemplate.loadBBF(path: Fixtures.tr181Path, instances: ["Device.WiFi.SSID.": 4, "Device.Hosts.Host.{i}.": 3])
        #expect(t.contains("Device.WiFi.SSID.4.SSID"))
        #expect(t.contains("Device.Hosts.Host.3.IPAddress"))
        #expect(!t.contains("Device.WiFi.Radio.1."))  // not in the custom set
        #expect(t.defaultValue(of: "Device.Hosts.HostNumberOfEntries") == "3")
    }

    @Test func loadByExtensionAndErrors() throws {
        let t = try ModelTemplate.load(path: Fixtures.tr098Path)
        #expect(t.kind == .tr098)
        #expect(throws: ModelLoadError.self) { try ModelTemplate.load(path: "/nonexistent/model.yaml") }
        #expect(throws: ModelLoadError.self) { try ModelTemplate.loadBBF(path: "/nonexistent/model.xml") }
    }
}
