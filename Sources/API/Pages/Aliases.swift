import ACSCore

/// The device page's WiFi and LTE cards and the dashboard's signal charts find their parameters through profile
/// aliases (wifi.ssid, lte.rssi …): a profile that maps a vendor's paths to these names gets the cards and charts
/// without GUI changes. A device whose profile lacks an alias simply shows no value for it.
enum Aliases {
    /// WiFi radios by alias prefix: "wifi.ssid", "wifi.channel", "wifi.password"; "wifi5.ssid" …
    static let wifiBands: [(prefix: String, label: String)] = [("wifi", "WiFi 2.4 GHz"), ("wifi5", "WiFi 5 GHz")]

    struct Signal {
        var name: String
        var unit: String
        /// The alias sampled as a KPI and shown on the card ("lte.rssi").
        var alias: String
        /// meter range: worst, best; and the "good" threshold.
        var worst: Double
        var best: Double
        var good: Double
        /// Dashboard buckets: lower edges (a last open bucket above the last edge).
        var edges: [Int]
    }

    static let signals: [Signal] = [
        Signal(name: "RSSI", unit: "dBm", alias: "lte.rssi", worst: -113, best: -51, good: -75, edges: [-110, -100, -90, -80, -70, -60]),
        Signal(name: "RSRP", unit: "dBm", alias: "lte.rsrp", worst: -140, best: -44, good: -95, edges: [-130, -120, -110, -100, -90, -80]),
        Signal(name: "RSRQ", unit: "dB", alias: "lte.rsrq", worst: -20, best: -3, good: -10, edges: [-20, -15, -10, -5]),
        Signal(name: "SINR", unit: "dB", alias: "lte.sinr", worst: -10, best: 30, good: 13, edges: [-10, 0, 5, 10, 15, 20]),
    ]
    static var rssi: Signal { signals[0] }
    static var sinr: Signal { signals[3] }

    /// The path of `alias` on this device (through its profile), nil if its profile does not define it.
    static func path(_ alias: String, _ d: Device, _ registry: ProfileRegistry) -> String? {
        guard let p = registry.profile(named: d.profile), p.aliases[alias] != nil else { return nil }
        return p.path(for: alias, kind: d.dataModel)
    }
}
