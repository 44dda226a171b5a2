import CWMP
import Foundation
import Testing
@testable import DataModel

/// A small model in genieacs-sim's CSV format (header exactly as in genieacs-sim's data_model_*.csv).
let genieacsSimCSV = """
Parameter,Object,Writable,Value,Value type
DeviceID.Manufacturer,false,false,"ACME Networks, Inc.",xsd:string
DeviceID.OUI,false,false,00AA11,xsd:string
DeviceID.ProductClass,false,false,GW-1,xsd:string
DeviceID.SerialNumber,false,false,0000001,xsd:string
InternetGatewayDevice,true,false,,
InternetGatewayDevice.DeviceInfo,true,false,,
InternetGatewayDevice.DeviceInfo.Manufacturer,false,false,"ACME Networks, Inc.",xsd:string
InternetGatewayDevice.DeviceInfo.SoftwareVersion,false,false,1.2.3,xsd:string
InternetGatewayDevice.DeviceInfo.UpTime,false,false,4242,xsd:unsignedInt
InternetGatewayDevice.DeviceInfo.Description,false,false,"A ""quoted"" gateway",xsd:string
InternetGatewayDevice.ManagementServer,true,false,,
InternetGatewayDevice.ManagementServer.PeriodicInformEnable,false,true,true,xsd:boolean
InternetGatewayDevice.ManagementServer.PeriodicInformInterval,false,true,300,xsd:unsignedInt
InternetGatewayDevice.LANDevice,true,false,,
InternetGatewayDevice.LANDevice.1,true,false,,
InternetGatewayDevice.LANDevice.1.Hosts,true,false,,
InternetGatewayDevice.LANDevice.1.Hosts.Host,true,false,,
InternetGatewayDevice.LANDevice.1.Hosts.Host.1,true,false,,
InternetGatewayDevice.LANDevice.1.Hosts.Host.1.HostName,false,false,laptop,xsd:string
InternetGatewayDevice.LANDevice.1.Hosts.Host.1.LeaseTimeRemaining,false,false,-1,xsd:int
InternetGatewayDevice.LANDevice.1.Hosts.Host.2,true,false,,
InternetGatewayDevice.LANDevice.1.Hosts.Host.2.HostName,false,false,phone,xsd:string
InternetGatewayDevice.LANDevice.1.Hosts.Host.2.LeaseTimeRemaining,false,false,600,xsd:int
InternetGatewayDevice.LANDevice.1.Hosts.HostNumberOfEntries,false,false,2,xsd:unsignedInt
InternetGatewayDevice.LANDevice.1.LANHostConfigManagement,true,false,,
InternetGatewayDevice.LANDevice.1.LANHostConfigManagement.DHCPConditionalServingPool,true,true,,
InternetGatewayDevice.LANDevice.1.LANHostConfigManagement.DHCPConditionalServingPool.1,true,true,,
InternetGatewayDevice.LANDevice.1.LANHostConfigManagement.DHCPConditionalServingPool.1.Enable,false,true,true,xsd:boolean
InternetGatewayDevice.LANDevice.1.LANHostConfigManagement.DHCPConditionalServingPool.1.VendorClassID,false,true,STB,xsd:string
InternetGatewayDevice.LANDevice.1.LANHostConfigManagement.X_ACME_StaticRoute,true,true,,
InternetGatewayDevice.LANDevice.1.WLANConfiguration,true,false,,
InternetGatewayDevice.LANDevice.1.WLANConfiguration.1,true,false,,
InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID,false,true,ACME-1234,xsd:string
InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.KeyPassphrase,false,true,,xsd:string

"""

private func tempFile(_ name: String, _ contents: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("corral-dm-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent(name)
    try contents.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}

@Suite struct CSVLoaderTests {
    @Test func genieacsSimFormat() throws {
        let path = try tempFile("model.csv", genieacsSimCSV)
        let t = try ModelTemplate.load(path: path)
        #expect(t.root == "InternetGatewayDevice.")
        #expect(t.kind == .tr098)
        #expect(t.deviceID["Manufacturer"] == "ACME Networks, Inc.")
        #expect(t.deviceID["SerialNumber"] == "0000001")
        #expect(!t.contains("DeviceID.Manufacturer"))
        #expect(t.parameterCount == 15)

        var dm = VirtualDataModel(template: t)
        #expect(dm["InternetGatewayDevice.DeviceInfo.Manufacturer"] == "ACME Networks, Inc.")
        #expect(dm["InternetGatewayDevice.DeviceInfo.Description"] == "A \"quoted\" gateway")
        #expect(dm.type(of: "InternetGatewayDevice.DeviceInfo.UpTime") == .unsignedInt)
        #expect(dm.type(of: "InternetGatewayDevice.LANDevice.1.Hosts.Host.1.LeaseTimeRemaining") == .int)
        #expect(dm.isWritable("InternetGatewayDevice.ManagementServer.PeriodicInformInterval"))
        #expect(!dm.isWritable("InternetGatewayDevice.DeviceInfo.SoftwareVersion"))

        // Tables: numbered children make a table; a writable childless object is an (empty) table.
        #expect(dm.instanceNumbers(of: "InternetGatewayDevice.LANDevice.1.Hosts.Host.") == [1, 2])
        #expect(dm.definition(of: "InternetGatewayDevice.LANDevice.1.Hosts.Host.")?.writable == false)
        #expect(dm.instanceNumbers(of: "InternetGatewayDevice.LANDevice.1.LANHostConfigManagement.X_ACME_StaticRoute.") == [])

        let names = try dm.getParameterNames(path: "InternetGatewayDevice.LANDevice.1.Hosts.", nextLevel: true).get()
        #expect(names == [ParameterInfo(name: "InternetGatewayDevice.LANDevice.1.Hosts.HostNumberOfEntries", writable: false),
                          ParameterInfo(name: "InternetGatewayDevice.LANDevice.1.Hosts.Host.", writable: false)])

        // AddObject on a writable table from the CSV: the new instance has the pattern's parameters with neutral values.
        let pool = "InternetGatewayDevice.LANDevice.1.LANHostConfigManagement.DHCPConditionalServingPool."
        let added = dm.addObject(pool)
        #expect(try added.get() == 2)
        #expect(dm[pool + "2.Enable"] == "false")
        #expect(dm[pool + "2.VendorClassID"] == "")
        #expect(dm[pool + "1.VendorClassID"] == "STB")
        let addHost = dm.addObject("InternetGatewayDevice.LANDevice.1.Hosts.Host.")
        if case .failure(let f) = addHost { #expect(f.code == 9005) } else { Issue.record("AddObject on a read-only table succeeded") }
        let del = dm.deleteObject(pool + "1.")
        #expect(del == nil)
        #expect(dm.instanceNumbers(of: pool) == [2])

        let gpv = try dm.getParameterValues(["InternetGatewayDevice.DeviceInfo."]).get()
        #expect(gpv.map(\.name) == ["InternetGatewayDevice.DeviceInfo.Manufacturer", "InternetGatewayDevice.DeviceInfo.SoftwareVersion",
                                    "InternetGatewayDevice.DeviceInfo.UpTime", "InternetGatewayDevice.DeviceInfo.Description"])
    }

    @Test func genieacsExportHeaderWithExtraColumns() throws {
        let csv = """
        Parameter,Object,Object timestamp,Writable,Writable timestamp,Value,Value type,Value timestamp,Notification,Notification timestamp,Access list,Access list timestamp\r
        Device,true,1700000000000,false,1700000000000,,,,,,,\r
        Device.DeviceInfo,true,1700000000000,false,1700000000000,,,,,,,\r
        Device.DeviceInfo.SerialNumber,false,1700000000000,false,1700000000000,SN42,xsd:string,1700000000000,0,,,\r
        Device.WiFi.SSID.1.SSID,false,1700000000000,true,1700000000000,home,xsd:string,1700000000000,,,,\r
        Device.WiFi.SSID.1.Enable,false,1700000000000,true,1700000000000,1,xsd:boolean,1700000000000,,,,\r

        """
        let t = try ModelTemplate.parseCSV(csv)
        #expect(t.kind == .tr181)
        let dm = VirtualDataModel(template: t)
        #expect(dm["Device.DeviceInfo.SerialNumber"] == "SN42")
        #expect(dm["Device.WiFi.SSID.1.SSID"] == "home")
        #expect(dm.type(of: "Device.WiFi.SSID.1.Enable") == .boolean)
        // Implied objects and tables.
        #expect(dm.exists("Device.WiFi.SSID.1."))
        #expect(dm.instanceNumbers(of: "Device.WiFi.SSID.") == [1])
        #expect(throws: ModelLoadError.self) { try ModelTemplate.parseCSV("Name,Value\nx,y\n") }
    }
}

@Suite struct JSONLoaderTests {
    @Test func corralJSONFormat() throws {
        let json = """
        {
          "deviceID": {"Manufacturer": "ACME", "OUI": "001122", "ProductClass": "GW", "SerialNumber": "0001"},
          "parameters": [
            {"path": "Device.DeviceInfo.Manufacturer", "value": "ACME", "type": "xsd:string", "writable": false},
            {"path": "Device.DeviceInfo.UpTime", "value": 17},
            {"path": "Device.ManagementServer.Password", "value": "pw", "writable": true, "hidden": true},
            {"path": "Device.ManagementServer.PeriodicInformEnable", "value": true, "writable": true},
            {"path": "Device.ManagementServer.PeriodicInformInterval", "value": "600", "type": "unsignedInt", "writable": true},
            {"path": "Device.WiFi.SSID.", "writable": true},
            {"path": "Device.WiFi.SSID.1.", "writable": true},
            {"path": "Device.WiFi.SSID.1.SSID", "value": "corral", "writable": true},
            {"path": "Device.Hosts.Host", "object": true}
          ]
        }
        """
        let path = try tempFile("model.json", json)
        let t = try ModelTemplate.load(path: path)
        #expect(t.deviceID["OUI"] == "001122")
        var dm = VirtualDataModel(template: t)
        #expect(dm.type(of: "Device.DeviceInfo.UpTime") == .unsignedInt)
        #expect(dm["Device.DeviceInfo.UpTime"] == "17")
        #expect(dm.type(of: "Device.ManagementServer.PeriodicInformEnable") == .boolean)
        #expect(dm["Device.ManagementServer.PeriodicInformEnable"] == "true")
        #expect(dm.type(of: "Device.ManagementServer.PeriodicInformInterval") == .unsignedInt)
        #expect(dm.exists("Device.Hosts.Host."))
        #expect(try dm.getParameterValues(["Device.ManagementServer.Password"]).get().first?.value == "")
        #expect(dm["Device.ManagementServer.Password"] == "pw")

        let bad = dm.setParameterValues([ParameterValue(name: "Device.ManagementServer.PeriodicInformInterval", value: "-5")])
        #expect(bad?.setParameterValuesFaults.first?.code == 9007)
        let n = dm.addObject("Device.WiFi.SSID.")
        #expect(try n.get() == 2)
        #expect(dm["Device.WiFi.SSID.2.SSID"] == "")

        #expect(throws: ModelLoadError.self) { try ModelTemplate.parseJSON(Data("{\"params\": []}".utf8)) }
        #expect(throws: ModelLoadError.self) { try ModelTemplate.parseJSON(Data("{\"parameters\": [{\"value\": 1}]}".utf8)) }
    }
}
