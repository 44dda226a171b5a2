import ACSCore
import DataModel

/// Where the device page's cards find WiFi and LTE values, per data model. A stand-in for the profile aliases
/// that come with Lua profiles; the first existing path of each list is used.
enum Aliases {
    struct WiFi {
        var label: String
        var ssid: String
        var channel: String
        var passphrase: String
        var enable: String
    }

    static func wifi(_ kind: DataModelKind?) -> [WiFi] {
        switch kind {
        case .tr098?:
            return (1...2).map { i in
                let b = "InternetGatewayDevice.LANDevice.1.WLANConfiguration.\(i)."
                return WiFi(label: "WLAN \(i)", ssid: b + "SSID", channel: b + "Channel", passphrase: b + "KeyPassphrase", enable: b + "Enable")
            }
        default:
            return (1...2).map { i in
                WiFi(label: "SSID \(i)", ssid: "Device.WiFi.SSID.\(i).SSID", channel: "Device.WiFi.Radio.\(i).Channel",
                     passphrase: "Device.WiFi.AccessPoint.\(i).Security.KeyPassphrase", enable: "Device.WiFi.SSID.\(i).Enable")
            }
        }
    }

    struct Signal {
        var name: String
        var unit: String
        var paths: [String]
        /// meter range: worst, best; and the "good" threshold.
        var worst: Double
        var best: Double
        var good: Double
        /// Dashboard buckets: lower edges (a last open bucket above the last edge).
        var edges: [Int]
    }

    static let lteRoot = "Device.Cellular.Interface.1."
    static let signals: [Signal] = [
        Signal(name: "RSSI", unit: "dBm", paths: [lteRoot + "RSSI"], worst: -113, best: -51, good: -75, edges: [-110, -100, -90, -80, -70, -60]),
        Signal(name: "RSRP", unit: "dBm", paths: [lteRoot + "RSRP"], worst: -140, best: -44, good: -95, edges: [-130, -120, -110, -100, -90, -80]),
        Signal(name: "RSRQ", unit: "dB", paths: [lteRoot + "RSRQ"], worst: -20, best: -3, good: -10, edges: [-20, -15, -10, -5]),
        Signal(name: "SINR", unit: "dB", paths: [lteRoot + "SINR", lteRoot + "X_CORRAL_SINR"], worst: -10, best: 30, good: 13,
               edges: [-10, 0, 5, 10, 15, 20]),
    ]
    static var rssi: Signal { signals[0] }
    static var sinr: Signal { signals[3] }
}
