import CWMP
import Foundation
import Testing
@testable import DataModel

private func faultCode<T>(_ r: Result<T, CWMPFault>) -> Int? {
    if case .failure(let f) = r { return f.code }
    return nil
}

@Suite struct GetParameterValuesTests {
    @Test func fullPartialAndUnknown() throws {
        let dm = VirtualDataModel(template: Fixtures.tr181)
        let one = try dm.getParameterValues(["Device.ManagementServer.PeriodicInformInterval"]).get()
        #expect(one.count == 1)
        #expect(one[0].type == .unsignedInt)
        #expect(one[0].name == "Device.ManagementServer.PeriodicInformInterval")

        let ssid = try dm.getParameterValues(["Device.WiFi.SSID.1."]).get()
        #expect(ssid.contains { $0.name == "Device.WiFi.SSID.1.SSID" && $0.type == .string })
        #expect(ssid.contains { $0.name == "Device.WiFi.SSID.1.Stats.BytesSent" && $0.type == .unsignedLong })
        #expect(ssid.allSatisfy { $0.name.hasPrefix("Device.WiFi.SSID.1.") && !$0.name.hasSuffix(".") })
        #expect(!ssid.contains { $0.name.hasPrefix("Device.WiFi.SSID.2.") })
        // Tree order: an object's own parameters come before its sub-objects.
        let enableIdx = try #require(ssid.firstIndex { $0.name == "Device.WiFi.SSID.1.Enable" })
        let statsIdx = try #require(ssid.firstIndex { $0.name.hasPrefix("Device.WiFi.SSID.1.Stats.") })
        #expect(enableIdx < statsIdx)

        let start = Date()
        let all = try dm.getParameterValues([""]).get()
        print("GPV \"\" on TR-181: \(all.count) parameters in \(String(format: "%.1f", Date().timeIntervalSince(start) * 1000)) ms")
        #expect(all.count == Fixtures.tr181.parameterCount)
        #expect(Set(all.map(\.name)).count == all.count)

        // Several names in one call, results concatenated in request order.
        let two = try dm.getParameterValues(["Device.DeviceInfo.SoftwareVersion", "Device.WiFi.SSID.2.SSID"]).get()
        #expect(two.map(\.name) == ["Device.DeviceInfo.SoftwareVersion", "Device.WiFi.SSID.2.SSID"])

        // Any unknown name faults the whole call.
        #expect(faultCode(dm.getParameterValues(["Device.DeviceInfo.SoftwareVersion", "Device.Nope"])) == 9005)
        #expect(faultCode(dm.getParameterValues(["Device.WiFi.SSID.3."])) == 9005)
        #expect(faultCode(dm.getParameterValues(["Device.WiFi.SSID.1"])) == 9005)  // object without trailing dot
        #expect(faultCode(dm.getParameterValues(["Device.WiFi.SSID.1.SSID."])) == 9005)
    }

    @Test func hiddenValuesReadBackEmpty() throws {
        var dm = VirtualDataModel(template: Fixtures.tr181)
        let m1 = dm.setParameterValues([ParameterValue(name: "Device.ManagementServer.Password", value: "s3cret")])
        #expect(m1 == nil)
        let v = try dm.getParameterValues(["Device.ManagementServer.Password"]).get()
        #expect(v == [ParameterValue(name: "Device.ManagementServer.Password", value: "", type: .string)])
        let partial = try dm.getParameterValues(["Device.ManagementServer."]).get()
        #expect(partial.first { $0.name == "Device.ManagementServer.Password" }?.value == "")
        // The simulator itself sees the real value.
        #expect(dm["Device.ManagementServer.Password"] == "s3cret")
    }
}

@Suite struct SetParameterValuesTests {
    @Test func atomicWithPerParameterFaults() throws {
        var dm = VirtualDataModel(template: Fixtures.tr181)
        let before = dm["Device.ManagementServer.PeriodicInformInterval"]
        let m2 = dm.setParameterValues([
            ParameterValue(name: "Device.ManagementServer.PeriodicInformInterval", value: "300", type: .unsignedInt),
            ParameterValue(name: "Device.WiFi.SSID.1.SSID", value: "corral"),
            ParameterValue(name: "Device.NoSuch.Thing", value: "x"),
            ParameterValue(name: "Device.DeviceInfo.SoftwareVersion", value: "1.0"),
            ParameterValue(name: "Device.WiFi.SSID.1.Enable", value: "maybe", type: .boolean),
        ])
        let fault = try #require(m2)
        #expect(fault.code == 9003)
        #expect(fault.faultCode == "Client")
        let byName = Dictionary(uniqueKeysWithValues: fault.setParameterValuesFaults.map { ($0.parameterName, $0.code) })
        #expect(byName == ["Device.NoSuch.Thing": 9005, "Device.DeviceInfo.SoftwareVersion": 9008, "Device.WiFi.SSID.1.Enable": 9007])
        // Nothing applied.
        #expect(dm["Device.ManagementServer.PeriodicInformInterval"] == before)
        #expect(dm["Device.WiFi.SSID.1.SSID"] == "")
        #expect(dm.differenceCount == 0)

        // The good ones alone succeed.
        let m3 = dm.setParameterValues([
            ParameterValue(name: "Device.ManagementServer.PeriodicInformInterval", value: "300", type: .unsignedInt),
            ParameterValue(name: "Device.WiFi.SSID.1.SSID", value: "corral"),
        ])
        #expect(m3 == nil)
        #expect(dm["Device.ManagementServer.PeriodicInformInterval"] == "300")
        #expect(try dm.getParameterValues(["Device.WiFi.SSID.1.SSID"]).get()[0].value == "corral")
    }

    @Test func valueChecks() throws {
        var dm = VirtualDataModel(template: Fixtures.tr181)
        func code(_ name: String, _ v: String, _ t: XSDType = .string) -> Int? {
            dm.setParameterValues([ParameterValue(name: name, value: v, type: t)]).map { $0.setParameterValuesFaults.first?.code ?? $0.code }
        }
        let pii = "Device.ManagementServer.PeriodicInformInterval"
        #expect(code(pii, "-1") == 9007)
        #expect(code(pii, "4294967296") == 9007)
        #expect(code(pii, "abc") == 9007)
        #expect(code(pii, "0") == 9007)        // BBF range minInclusive=1
        #expect(code(pii, "60") == nil)
        #expect(code(pii, "true", .boolean) == 9006)
        #expect(code(pii, "60", .int) == nil)   // integer types are interchangeable
        #expect(code("Device.ManagementServer.EnableCWMP", "1", .boolean) == nil)
        #expect(code("Device.ManagementServer.EnableCWMP", "false") == nil)
        #expect(code("Device.ManagementServer.EnableCWMP", "yes") == 9007)
        #expect(code("Device.ManagementServer.PeriodicInformTime", "2024-05-01T10:00:00Z", .dateTime) == nil)
        #expect(code("Device.ManagementServer.PeriodicInformTime", "2024-05-01T10:00:00.123+02:00") == nil)
        #expect(code("Device.ManagementServer.PeriodicInformTime", "yesterday") == 9007)
        #expect(code("Device.ManagementServer.PeriodicInformTime", "2024-13-01T10:00:00Z") == 9007)
        // Enumeration and length facets.
        #expect(code("Device.WiFi.AccessPoint.1.Security.MFPConfig", "Optional") == nil)
        #expect(code("Device.WiFi.AccessPoint.1.Security.MFPConfig", "Bogus") == 9007)
        // Facets inherited from a named data type (DiagnosticsState).
        #expect(code("Device.IP.Diagnostics.IPPing.DiagnosticsState", "Requested") == nil)
        #expect(code("Device.IP.Diagnostics.IPPing.DiagnosticsState", "Bogus") == 9007)
        #expect(code("Device.WiFi.SSID.1.SSID", String(repeating: "x", count: 33)) == 9007)
        // Duplicates are rejected as a whole.
        let m4 = dm.setParameterValues([
            ParameterValue(name: "Device.WiFi.SSID.1.SSID", value: "a"), ParameterValue(name: "Device.WiFi.SSID.1.SSID", value: "b"),
        ])
        let dup = try #require(m4)
        #expect(dup.code == 9003)
        #expect(dm["Device.WiFi.SSID.1.SSID"] == "")
        // Objects cannot be set.
        #expect(code("Device.WiFi.SSID.1.", "x") == 9005)
    }

    @Test func forceIgnoresWritability() {
        var dm = VirtualDataModel(template: Fixtures.tr181)
        let m5 = dm.force("Device.DeviceInfo.SoftwareVersion", "9.9.9")
        #expect(m5)
        #expect(dm["Device.DeviceInfo.SoftwareVersion"] == "9.9.9")
        let m6 = dm.force("Device.DeviceInfo.Nope", "x")
        #expect(!m6)
        dm["Device.DeviceInfo.SerialNumber"] = "SN1"
        #expect(dm["Device.DeviceInfo.SerialNumber"] == "SN1")
        dm["Device.DeviceInfo.SerialNumber"] = nil
        #expect(dm["Device.DeviceInfo.SerialNumber"] == Fixtures.tr181.defaultValue(of: "Device.DeviceInfo.SerialNumber"))
        #expect(dm.type(of: "Device.DeviceInfo.UpTime") == .unsignedInt)
        #expect(dm.type(of: "Device.DeviceInfo.") == nil)
        #expect(dm.exists("Device.DeviceInfo."))
        #expect(!dm.exists("Device.DeviceInfo"))
        #expect(dm.isWritable("Device.WiFi.SSID.1.SSID"))
        #expect(!dm.isWritable("Device.DeviceInfo.UpTime"))
    }
}

@Suite struct GetParameterNamesTests {
    @Test func tableSemantics() throws {
        let dm = VirtualDataModel(template: Fixtures.tr181)
        #expect(try dm.getParameterNames(path: "", nextLevel: true).get() == [ParameterInfo(name: "Device.", writable: false)])

        let wifi = try dm.getParameterNames(path: "Device.WiFi.", nextLevel: true).get()
        let names = wifi.map(\.name)
        #expect(names.contains("Device.WiFi.SSID."))
        #expect(names.contains("Device.WiFi.SSIDNumberOfEntries"))
        #expect(!names.contains("Device.WiFi."))
        #expect(!names.contains("Device.WiFi.SSID.1."))
        #expect(wifi.first { $0.name == "Device.WiFi.SSID." }?.writable == true)
        #expect(wifi.first { $0.name == "Device.WiFi.Radio." }?.writable == false)
        #expect(wifi.allSatisfy { DataModelPath.parent($0.name) == "Device.WiFi." })

        let table = try dm.getParameterNames(path: "Device.WiFi.SSID.", nextLevel: true).get()
        #expect(table == [ParameterInfo(name: "Device.WiFi.SSID.1.", writable: true), ParameterInfo(name: "Device.WiFi.SSID.2.", writable: true)])

        let subtree = try dm.getParameterNames(path: "Device.WiFi.SSID.1.", nextLevel: false).get()
        #expect(subtree.first == ParameterInfo(name: "Device.WiFi.SSID.1.", writable: true))
        #expect(subtree.contains(ParameterInfo(name: "Device.WiFi.SSID.1.SSID", writable: true)))
        #expect(subtree.contains(ParameterInfo(name: "Device.WiFi.SSID.1.Stats.", writable: false)))
        #expect(subtree.contains(ParameterInfo(name: "Device.WiFi.SSID.1.Stats.BytesSent", writable: false)))

        #expect(try dm.getParameterNames(path: "Device.WiFi.SSID.1.SSID", nextLevel: false).get()
                == [ParameterInfo(name: "Device.WiFi.SSID.1.SSID", writable: true)])
        #expect(faultCode(dm.getParameterNames(path: "Device.WiFi.SSID.1.SSID", nextLevel: true)) == 9003)
        #expect(faultCode(dm.getParameterNames(path: "Device.WiFi.Bogus.", nextLevel: true)) == 9005)
        #expect(faultCode(dm.getParameterNames(path: "Device.WiFi.SSID.9.", nextLevel: false)) == 9005)

        let everything = try dm.getParameterNames(path: "", nextLevel: false).get()
        #expect(everything.count == Fixtures.tr181.entryCount)
        #expect(everything.first?.name == "Device.")
    }
}

@Suite struct ObjectTests {
    @Test func addAndDeleteInstances() throws {
        var dm = VirtualDataModel(template: Fixtures.tr181)
        let n = try dm.addObject("Device.WiFi.SSID.").get()
        #expect(n == 3)
        #expect(dm.exists("Device.WiFi.SSID.3."))
        #expect(dm.exists("Device.WiFi.SSID.3.Stats.BytesSent"))
        #expect(dm["Device.WiFi.SSID.3.Enable"] == "false")  // BBF default
        #expect(dm["Device.WiFi.SSIDNumberOfEntries"] == "3")
        #expect(dm.instanceNumbers(of: "Device.WiFi.SSID.") == [1, 2, 3])

        let table = try dm.getParameterNames(path: "Device.WiFi.SSID.", nextLevel: true).get().map(\.name)
        #expect(table == ["Device.WiFi.SSID.1.", "Device.WiFi.SSID.2.", "Device.WiFi.SSID.3."])
        let m7 = dm.setParameterValues([ParameterValue(name: "Device.WiFi.SSID.3.SSID", value: "guest")])
        #expect(m7 == nil)
        #expect(dm["Device.WiFi.SSID.3.SSID"] == "guest")

        // The added instance appears in partial GPV, in order after the template instances and before later siblings.
        let all = try dm.getParameterValues(["Device.WiFi."]).get().map(\.name)
        let i2 = try #require(all.lastIndex { $0.hasPrefix("Device.WiFi.SSID.2.") })
        let i3 = try #require(all.firstIndex { $0.hasPrefix("Device.WiFi.SSID.3.") })
        #expect(i2 < i3)
        if let ap = all.firstIndex(where: { $0.hasPrefix("Device.WiFi.AccessPoint.") }), ap > i2 { #expect(ap > i3) }
        let fullNames = try dm.getParameterNames(path: "", nextLevel: false).get().map(\.name)
        #expect(fullNames.count == Set(fullNames).count)
        #expect(fullNames.contains("Device.WiFi.SSID.3.Stats."))

        // Delete a template instance and the added one; numbers are not reused.
        let m8 = dm.deleteObject("Device.WiFi.SSID.1.")
        #expect(m8 == nil)
        #expect(!dm.exists("Device.WiFi.SSID.1.SSID"))
        #expect(faultCode(dm.getParameterValues(["Device.WiFi.SSID.1."])) == 9005)
        let m9 = dm.deleteObject("Device.WiFi.SSID.3.")
        #expect(m9 == nil)
        #expect(dm["Device.WiFi.SSID.3.SSID"] == nil)
        #expect(dm["Device.WiFi.SSIDNumberOfEntries"] == "1")
        let m10 = dm.addObject("Device.WiFi.SSID.")
        #expect(try m10.get() == 4)
        #expect(dm["Device.WiFi.SSID.4.SSID"] == "")   // fresh, not the old instance 3's value
        #expect(try dm.getParameterNames(path: "Device.WiFi.SSID.", nextLevel: true).get().map(\.name)
                == ["Device.WiFi.SSID.2.", "Device.WiFi.SSID.4."])

        // Faults.
        let m11 = dm.addObject("Device.WiFi.Radio.")
        #expect(faultCode(m11) == 9005)       // read-only table
        let m12 = dm.addObject("Device.WiFi.")
        #expect(faultCode(m12) == 9005)             // not a table
        let m13 = dm.addObject("Device.WiFi.SSID")
        #expect(faultCode(m13) == 9005)         // no trailing dot
        let m14 = dm.addObject("Device.WiFi.SSID.2.")
        #expect(faultCode(m14) == 9005)      // an instance
        let m15 = dm.deleteObject("Device.WiFi.SSID.")
        #expect(m15?.code == 9005)
        let m16 = dm.deleteObject("Device.WiFi.SSID.1.")
        #expect(m16?.code == 9005)        // already gone
        let m17 = dm.deleteObject("Device.WiFi.Radio.1.")
        #expect(m17?.code == 9005)       // read-only table
    }

    @Test func nestedTablesInAddedInstances() throws {
        var dm = VirtualDataModel(template: Fixtures.tr181)
        let ip = try dm.addObject("Device.IP.Interface.").get()
        #expect(ip == 3)
        #expect(dm.exists("Device.IP.Interface.3.IPv4Address."))
        #expect(dm.instanceNumbers(of: "Device.IP.Interface.3.IPv4Address.") == [])
        #expect(dm["Device.IP.Interface.3.IPv4AddressNumberOfEntries"] == "0")
        let a = try dm.addObject("Device.IP.Interface.3.IPv4Address.").get()
        #expect(a == 1)
        let m18 = dm.setParameterValues([ParameterValue(name: "Device.IP.Interface.3.IPv4Address.1.IPAddress", value: "10.0.0.1")])
        #expect(m18 == nil)
        #expect(dm["Device.IP.Interface.3.IPv4AddressNumberOfEntries"] == "1")
        let names = try dm.getParameterNames(path: "Device.IP.Interface.3.", nextLevel: false).get().map(\.name)
        #expect(names.first == "Device.IP.Interface.3.")
        #expect(names.contains("Device.IP.Interface.3.IPv4Address.1.IPAddress"))
        // Adding to a nested table of a template instance.
        let m19 = dm.addObject("Device.IP.Interface.1.IPv4Address.")
        #expect(try m19.get() == 2)
        let gpv = try dm.getParameterValues(["Device.IP.Interface.1.IPv4Address."]).get().map(\.name)
        #expect(gpv.contains("Device.IP.Interface.1.IPv4Address.2.IPAddress"))

        // Deleting the parent drops everything below, including its changes.
        let m20 = dm.deleteObject("Device.IP.Interface.3.")
        #expect(m20 == nil)
        #expect(!dm.exists("Device.IP.Interface.3.IPv4Address.1.IPAddress"))
        let m21 = dm.addObject("Device.IP.Interface.3.IPv4Address.")
        #expect(faultCode(m21) == 9005)
        #expect(dm.differenceCount == 1)  // only Interface.1.IPv4Address.2 is left; Interface.3's number stays reserved
        let m22 = dm.addObject("Device.IP.Interface.")
        #expect(try m22.get() == 4)
    }

    @Test func deletedAndAddedInstancesInTreeWalks() throws {
        var dm = VirtualDataModel(template: Fixtures.tr181)
        let d = dm.deleteObject("Device.IP.Interface.1.IPv4Address.1.")
        #expect(d == nil)
        let a = dm.addObject("Device.IP.Interface.1.IPv4Address.")
        #expect(try a.get() == 2)
        let b = dm.addObject("Device.IP.Interface.2.IPv4Address.")
        #expect(try b.get() == 2)
        let names = try dm.getParameterNames(path: "Device.IP.", nextLevel: false).get().map(\.name)
        #expect(!names.contains { $0.hasPrefix("Device.IP.Interface.1.IPv4Address.1.") })
        #expect(names.contains("Device.IP.Interface.2.IPv4Address.1."))
        let i1 = try #require(names.firstIndex(of: "Device.IP.Interface.1.IPv4Address.2."))
        let i2 = try #require(names.firstIndex(of: "Device.IP.Interface.2."))
        let i3 = try #require(names.firstIndex(of: "Device.IP.Interface.2.IPv4Address.2."))
        #expect(i1 < i2 && i2 < i3)
        // Every object is followed by its own subtree: each name's parent appears before it.
        var seen = Set<String>()
        for n in names {
            if let p = DataModelPath.parent(n), p != "Device." { #expect(seen.contains(p), "\(n) before its parent") }
            seen.insert(n)
        }
        #expect(dm["Device.IP.Interface.1.IPv4AddressNumberOfEntries"] == "1")
        #expect(dm["Device.IP.Interface.2.IPv4AddressNumberOfEntries"] == "2")
    }

    @Test func tr098Objects() throws {
        var dm = VirtualDataModel(template: Fixtures.tr098)
        let n = try dm.addObject("InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANIPConnection.1.PortMapping.").get()
        #expect(n == 1)
        let p = "InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANIPConnection.1.PortMapping.1."
        let m23 = dm.setParameterValues([
            ParameterValue(name: p + "ExternalPort", value: "8080", type: .unsignedInt),
            ParameterValue(name: p + "InternalClient", value: "192.168.1.10"),
        ])
        #expect(m23 == nil)
        #expect(dm["InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANIPConnection.1.PortMappingNumberOfEntries"] == "1")
        let m24 = dm.deleteObject(p)
        #expect(m24 == nil)
        #expect(dm["InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANIPConnection.1.PortMappingNumberOfEntries"] == "0")
    }
}

@Suite struct AttributeTests {
    @Test func getAndSetAttributes() throws {
        var dm = VirtualDataModel(template: Fixtures.tr181)
        let sw = try dm.getParameterAttributes(["Device.DeviceInfo.SoftwareVersion"]).get()
        #expect(sw == [ParameterAttribute(name: "Device.DeviceInfo.SoftwareVersion", notification: 2)])  // forceEnabled

        let m25 = dm.setParameterAttributes([
            SetParameterAttribute(name: "Device.WiFi.SSID.1.", notificationChange: true, notification: 1),
            SetParameterAttribute(name: "Device.WiFi.SSID.1.SSID", notificationChange: true, notification: 2,
                                  accessListChange: true, accessList: ["Subscriber"]),
        ])
        #expect(m25 == nil)
        let attrs = try dm.getParameterAttributes(["Device.WiFi.SSID.1."]).get()
        #expect(attrs.first { $0.name == "Device.WiFi.SSID.1.SSID" } == ParameterAttribute(name: "Device.WiFi.SSID.1.SSID", notification: 2, accessList: ["Subscriber"]))
        #expect(attrs.first { $0.name == "Device.WiFi.SSID.1.Enable" }?.notification == 1)
        // Partial paths leave canDeny parameters alone.
        #expect(attrs.first { $0.name == "Device.WiFi.SSID.1.Stats.BytesSent" }?.notification == 1)
        #expect(dm.notification(of: "Device.WiFi.SSID.2.SSID") == 0)
        #expect(dm.notificationAttributes().contains { $0.name == "Device.WiFi.SSID.1.SSID" && $0.notification == 2 })
        #expect(dm.notificationAttributes().contains { $0.name == "Device.DeviceInfo.SoftwareVersion" })

        // Faults: unknown (9005), bad notification (9003), active on canDeny (9009) - all atomic.
        let before = dm.attributes
        let m26 = dm.setParameterAttributes([
            SetParameterAttribute(name: "Device.WiFi.SSID.2.SSID", notificationChange: true, notification: 2),
            SetParameterAttribute(name: "Device.Nope.", notificationChange: true, notification: 1),
        ])
        #expect(m26?.code == 9005)
        let m27 = dm.setParameterAttributes([SetParameterAttribute(name: "Device.WiFi.SSID.2.SSID", notificationChange: true, notification: 7)])
        #expect(m27?.code == 9003)
        let m28 = dm.setParameterAttributes([SetParameterAttribute(name: "Device.DeviceInfo.UpTime", notificationChange: true, notification: 2)])
        #expect(m28?.code == 9009)
        #expect(dm.attributes == before)
        #expect(faultCode(dm.getParameterAttributes(["Device.Nope"])) == 9005)

        // Setting back to the default stores nothing.
        let m29 = dm.setParameterAttributes([SetParameterAttribute(name: "Device.WiFi.", notificationChange: true, notification: 0,
                                                                  accessListChange: true, accessList: [])])
        #expect(m29 == nil)
        #expect(dm.attributes.isEmpty)
        // A forceDefaultEnabled parameter may be turned off; that is a stored difference.
        let m32 = dm.setParameterAttributes([SetParameterAttribute(name: "Device.ManagementServer.ConnectionRequestURL", notificationChange: true, notification: 0)])
        #expect(m32 == nil)
        #expect(dm.notification(of: "Device.ManagementServer.ConnectionRequestURL") == 0)
        #expect(dm.attributes.count == 1)
    }
}

@Suite struct SharingTests {
    @Test func devicesShareTemplateButNotChanges() throws {
        let t = Fixtures.tr181
        var a = VirtualDataModel(template: t)
        var b = VirtualDataModel(template: t)
        let m30 = a.setParameterValues([ParameterValue(name: "Device.WiFi.SSID.1.SSID", value: "alpha")])
        #expect(m30 == nil)
        _ = try a.addObject("Device.WiFi.SSID.").get()
        let m31 = b.deleteObject("Device.WiFi.SSID.2.")
        #expect(m31 == nil)
        #expect(a["Device.WiFi.SSID.1.SSID"] == "alpha")
        #expect(b["Device.WiFi.SSID.1.SSID"] == "")
        #expect(a.exists("Device.WiFi.SSID.3.") && !b.exists("Device.WiFi.SSID.3."))
        #expect(a.exists("Device.WiFi.SSID.2.") && !b.exists("Device.WiFi.SSID.2."))
        // Value semantics: a copy diverges independently.
        var c = a
        c.force("Device.WiFi.SSID.1.SSID", "gamma")
        #expect(a["Device.WiFi.SSID.1.SSID"] == "alpha")
        a.resetToFactory()
        #expect(a.differenceCount == 0)
        #expect(a["Device.WiFi.SSID.1.SSID"] == "")
        #expect(!a.exists("Device.WiFi.SSID.3."))
        #expect(c["Device.WiFi.SSID.1.SSID"] == "gamma")
    }

    @Test func tenThousandDevices() throws {
        let t = Fixtures.tr181
        let start = Date()
        var devices: [VirtualDataModel] = []
        devices.reserveCapacity(10_000)
        for i in 0..<10_000 {
            var d = VirtualDataModel(template: t)
            d.force("Device.DeviceInfo.SerialNumber", "SN\(i)")
            d.force("Device.ManagementServer.ConnectionRequestURL", "http://10.0.\(i / 256).\(i % 256):7547/")
            devices.append(d)
        }
        print("10,000 TR-181 devices created in \(String(format: "%.1f", Date().timeIntervalSince(start) * 1000)) ms")
        #expect(devices[1234]["Device.DeviceInfo.SerialNumber"] == "SN1234")
        #expect(devices.allSatisfy { $0.differenceCount == 2 })
        #expect(devices[0].template === devices[9999].template)
    }
}

@Suite struct PathTests {
    @Test func helpers() {
        #expect(DataModelPath.parent("Device.WiFi.SSID.1.SSID") == "Device.WiFi.SSID.1.")
        #expect(DataModelPath.parent("Device.WiFi.SSID.1.") == "Device.WiFi.SSID.")
        #expect(DataModelPath.parent("Device.") == nil)
        #expect(DataModelPath.isObjectPath("Device.WiFi."))
        #expect(!DataModelPath.isObjectPath("Device.WiFi"))
        #expect(DataModelPath.lastSegment("Device.WiFi.SSID.3.") == "3")
        #expect(DataModelPath.pattern("Device.IP.Interface.2.IPv4Address.10.IPAddress") == "Device.IP.Interface.{i}.IPv4Address.{i}.IPAddress")
        #expect(DataModelPath.pattern("Device.DeviceInfo.") == "Device.DeviceInfo.")
        #expect(DataModelPath.matches(pattern: "Device.WiFi.SSID.{i}.", path: "Device.WiFi.SSID.3."))
        #expect(!DataModelPath.matches(pattern: "Device.WiFi.SSID.{i}.", path: "Device.WiFi.SSID."))
        #expect(!DataModelPath.matches(pattern: "Device.WiFi.SSID.{i}.", path: "Device.WiFi.SSID.x."))
        #expect(!DataModelPath.matches(pattern: "Device.WiFi.SSID.{i}.", path: "Device.WiFi.SSID.3.SSID"))
        #expect(DataModelPath.instanceNumbers("Device.IP.Interface.2.IPv4Address.1.IPAddress") == [2, 1])
        #expect(DataModelPath.instancePrefixes("Device.IP.Interface.2.IPv4Address.1.IPAddress")
                == ["Device.IP.Interface.2.", "Device.IP.Interface.2.IPv4Address.1."])
        #expect(DataModelPath.instantiate(pattern: "Device.IP.Interface.{i}.IPv4Address.{i}.", with: [2, 1]) == "Device.IP.Interface.2.IPv4Address.1.")
        #expect(DataModelPath.instantiate(pattern: "Device.IP.Interface.{i}.", with: [2, 1]) == nil)
        #expect(DataModelKind.detect(parameterNames: ["InternetGatewayDevice.DeviceInfo.SerialNumber"]) == .tr098)
        #expect(DataModelKind.detect(parameterNames: ["Device.DeviceInfo.SerialNumber"]) == .tr181)
        #expect(DataModelKind.detect(parameterNames: ["X"]) == nil)
    }

    @Test func validator() {
        #expect(ValueValidator.isDateTime("0001-01-01T00:00:00Z"))
        #expect(ValueValidator.isDateTime("2024-02-29T23:59:59"))
        #expect(!ValueValidator.isDateTime("2024-02-29 23:59:59"))
        #expect(!ValueValidator.isDateTime("2024-02-29T23:59:59+0200"))
        #expect(ValueValidator.isValid("AQID", as: .base64))
        #expect(!ValueValidator.isValid("AQI", as: .base64))
        #expect(ValueValidator.isValid("0aFF", as: .hexBinary))
        #expect(!ValueValidator.isValid("0aF", as: .hexBinary))
        #expect(ValueValidator.isValid("-2147483648", as: .int))
        #expect(!ValueValidator.isValid("2147483648", as: .int))
        #expect(ValueValidator.isValid("18446744073709551615", as: .unsignedLong))
    }
}
