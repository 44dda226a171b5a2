import Engine
import ACSCore
import ArgumentParser
import CWMP
import Foundation
import Storage

/// A realistic fleet for the population benchmarks: models from several vendors in both data models, skewed
/// software-version mixes (most devices on the current release, a tail on old ones), online/offline/never-seen
/// devices, regions as groups, and KPIs (Wi-Fi RSSI, optical level, CPU, memory, hosts, uptime).
struct BenchPopulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "populate", abstract: "Fill a store with generated devices (JSON summary).")
    @OptionGroup var store: StoreOptions
    @Option(help: "Devices to generate.") var devices = 1_000_000
    @Option(help: "Devices per transaction.") var batch = 5_000
    @Option(help: "Random seed.") var seed: UInt64 = 42

    struct Model {
        let manufacturer: String, oui: String, productClass: String, name: String, tr181: Bool
        let versions: [(String, Int)]   // version, weight
        let weight: Int
        let optical: Bool
    }

    static let models: [Model] = [
        Model(manufacturer: "Acme Networks", oui: "00A0C5", productClass: "HomeGateway", name: "AG-3000", tr181: true,
              versions: [("3.2.1", 70), ("3.1.9", 20), ("3.0.4", 8), ("2.9.0", 2)], weight: 25, optical: false),
        Model(manufacturer: "Acme Networks", oui: "00A0C5", productClass: "HomeGateway", name: "AG-3100ax", tr181: true,
              versions: [("4.0.2", 80), ("4.0.1", 15), ("3.9.8", 5)], weight: 15, optical: false),
        Model(manufacturer: "FiberCo", oui: "F4C7AA", productClass: "ONT", name: "FX-G240", tr181: true,
              versions: [("V5R21C10S115", 60), ("V5R21C10S100", 30), ("V5R20C00S098", 10)], weight: 20, optical: true),
        Model(manufacturer: "FiberCo", oui: "F4C7AA", productClass: "ONT", name: "FX-G120", tr181: false,
              versions: [("V3R17C10S230", 85), ("V3R17C10S201", 15)], weight: 8, optical: true),
        Model(manufacturer: "LegacyLink", oui: "0019CB", productClass: "ADSLRouter", name: "LL-5200", tr181: false,
              versions: [("1.8.12", 50), ("1.8.9", 30), ("1.7.3", 20)], weight: 12, optical: false),
        Model(manufacturer: "Zephyr", oui: "3C9066", productClass: "MeshAP", name: "ZM-Mesh6", tr181: true,
              versions: [("6.4.0", 65), ("6.3.2", 35)], weight: 10, optical: false),
        Model(manufacturer: "Zephyr", oui: "3C9066", productClass: "CableModem", name: "ZC-3.1", tr181: true,
              versions: [("2024.11", 55), ("2024.06", 35), ("2023.12", 10)], weight: 10, optical: false),
    ]
    static let regions = ["north", "south", "east", "west", "centre", "coast", "mountain", "capital"]

    func run() async throws {
        let config = try ConfigLoading.load(store)
        let s = try StoreOpener.open(config)
        defer { s.close() }
        var rng = SplitMix(seed: seed)
        let now = Int64(Date().timeIntervalSince1970)
        let totalWeight = Self.models.reduce(0) { $0 + $1.weight }
        let clock = ContinuousClock()
        let t0 = clock.now
        var made = 0, params = 0
        let start = try s.deviceCount()
        while made < devices {
            let n = min(batch, devices - made)
            var items: [(device: Device, parameters: [ParameterValue])] = []
            items.reserveCapacity(n)
            for k in 0..<n {
                let i = start + made + k
                var pick = Int(rng.next() % UInt64(totalWeight))
                var m = Self.models[0]
                for candidate in Self.models {
                    if pick < candidate.weight { m = candidate; break }
                    pick -= candidate.weight
                }
                let item = Self.device(i, model: m, now: now, rng: &rng)
                params += item.parameters.count
                items.append(item)
            }
            _ = try await s.importDevices(items, at: now)
            made += n
            if made % 100_000 == 0 { FileHandle.standardError.write(Data("populate: \(made) devices\n".utf8)) }
        }
        while try await s.syncTextIndex(batch: 20_000) == 20_000 {}
        try await s.analyze()
        try await s.checkpoint()
        let seconds = BenchStats.ms(clock.now - t0) / 1000
        try BenchStats.printJSON(["devices": try s.deviceCount(), "generated": made, "parameters": params, "seconds": seconds,
                                  "database_mb": Double(s.databaseBytes()) / 1_048_576])
    }

    static func pickVersion(_ m: Model, _ rng: inout SplitMix) -> String {
        let total = m.versions.reduce(0) { $0 + $1.1 }
        var r = Int(rng.next() % UInt64(total))
        for (v, w) in m.versions {
            if r < w { return v }
            r -= w
        }
        return m.versions[0].0
    }

    static func device(_ i: Int, model m: Model, now: Int64, rng: inout SplitMix) -> (device: Device, parameters: [ParameterValue]) {
        let serial = String(format: "%@%08d", m.productClass.prefix(2).uppercased(), i)
        let name = Device.name(oui: m.oui, serial: serial)
        let interval = [300, 600, 900, 3600][Int(rng.next() % 4)]
        // 85 % online, 12 % offline (silent for hours to weeks), 3 % never informed.
        let roll = rng.next() % 100
        let lastInform: Int64 = roll < 85 ? now - Int64(rng.next() % UInt64(interval)) :
            roll < 97 ? now - Int64(interval * 3) - Int64(rng.next() % (86_400 * 14)) : 0
        let created = now - 86_400 * 30 - Int64(rng.next() % (86_400 * 700))
        let version = pickVersion(m, &rng)
        let hw = ["A", "B", "C"][Int(rng.next() % 3)]
        let region = regions[Int(rng.next() % UInt64(regions.count))]
        let ip = "10.\(i >> 16 & 255).\(i >> 8 & 255).\(i & 255)"
        let uptime = lastInform > 0 ? rng.next() % (86_400 * 60) : 0
        let d = Device(name: name, oui: m.oui, productClass: m.productClass, serialNumber: serial, manufacturer: m.manufacturer,
                       modelName: m.name, softwareVersion: version, hardwareVersion: "HW-\(hw)",
                       profile: m.tr181 ? "generic-tr181" : "generic-tr098", dataModel: m.tr181 ? .tr181 : .tr098,
                       groups: [region] + (rng.next() % 10 == 0 ? ["business"] : []), location: region.capitalized,
                       description: "Onboarded (generated)", connectionRequestURL: "http://\(ip):7547/cr",
                       connectionRequestUsername: name, connectionRequestPassword: "cr-\(i)", username: name,
                       passwordHA1: String(format: "%032x", i), credentialsConfirmed: lastInform > 0, ipAddress: ip,
                       informInterval: interval, createdAt: created, onboardedAt: lastInform > 0 ? created : 0,
                       lastInform: lastInform, lastBoot: lastInform > 0 ? lastInform - Int64(uptime) : 0)
        guard lastInform > 0 else { return (d, []) }
        let r = m.tr181 ? "Device." : "InternetGatewayDevice."
        let rssi = -40 - Int(rng.next() % 50)         // dBm
        let hosts = Int(rng.next() % 25)
        var p: [ParameterValue] = [
            ParameterValue(name: r + "DeviceInfo.Manufacturer", value: m.manufacturer),
            ParameterValue(name: r + "DeviceInfo.ManufacturerOUI", value: m.oui),
            ParameterValue(name: r + "DeviceInfo.ModelName", value: m.name),
            ParameterValue(name: r + "DeviceInfo.ProductClass", value: m.productClass),
            ParameterValue(name: r + "DeviceInfo.SerialNumber", value: serial),
            ParameterValue(name: r + "DeviceInfo.SoftwareVersion", value: version),
            ParameterValue(name: r + "DeviceInfo.HardwareVersion", value: "HW-\(hw)"),
            ParameterValue(name: r + "DeviceInfo.UpTime", value: String(uptime), type: .unsignedInt),
            ParameterValue(name: r + "ManagementServer.ConnectionRequestURL", value: d.connectionRequestURL),
            ParameterValue(name: r + "ManagementServer.PeriodicInformInterval", value: String(interval), type: .unsignedInt),
        ]
        if m.tr181 {
            p += [
                ParameterValue(name: "Device.DeviceInfo.MemoryStatus.Free", value: String(20_000 + rng.next() % 200_000), type: .unsignedInt),
                ParameterValue(name: "Device.DeviceInfo.ProcessStatus.CPUUsage", value: String(rng.next() % 100), type: .unsignedInt),
                ParameterValue(name: "Device.Hosts.HostNumberOfEntries", value: String(hosts), type: .unsignedInt),
                ParameterValue(name: "Device.WiFi.SSID.1.SSID", value: "Home-\(String(i, radix: 16))"),
                ParameterValue(name: "Device.WiFi.Radio.1.Channel", value: String([1, 6, 11][Int(rng.next() % 3)]), type: .unsignedInt),
                ParameterValue(name: "Device.WiFi.AccessPoint.1.AssociatedDevice.1.SignalStrength", value: String(rssi), type: .int),
                ParameterValue(name: "Device.IP.Interface.1.IPv4Address.1.IPAddress", value: ip),
            ]
            if m.optical {
                p.append(ParameterValue(name: "Device.Optical.Interface.1.OpticalSignalLevel", value: String(-15_000 - Int(rng.next() % 13_000)), type: .int))
            }
        } else {
            p += [
                ParameterValue(name: "InternetGatewayDevice.LANDevice.1.Hosts.HostNumberOfEntries", value: String(hosts), type: .unsignedInt),
                ParameterValue(name: "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID", value: "Home-\(String(i, radix: 16))"),
                ParameterValue(name: "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.Channel", value: String([1, 6, 11][Int(rng.next() % 3)]), type: .unsignedInt),
                ParameterValue(name: "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.AssociatedDevice.1.X_RSSI", value: String(rssi), type: .int),
                ParameterValue(name: "InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANIPConnection.1.ExternalIPAddress", value: ip),
            ]
        }
        return (d, p)
    }
}

/// Small deterministic PRNG (the generator must give the same fleet for the same seed).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
