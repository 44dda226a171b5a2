import CWMP
import Foundation
import NetHTTP

/// File transfers a virtual CPE performs for Download and Upload RPCs, over real HTTP.
public enum Transfers {
    /// A firmware image ("1 ..." file type) that arrives whole is not installed here: its version (`imageVersion`)
    /// waits in `cpe.pendingFirmware` for the reboot that follows (`Simulator.perform`). With `simulateFailure`
    /// (`--fail-download-rate`) a firmware download that did arrive ends with 9010 instead, and nothing is pending.
    static func download(_ d: Download, cpe: VirtualCPE, simulateFailure: Bool = false) async -> TransferComplete {
        let start = SimClock.dateTime(Date())
        func done(_ code: Int, _ message: String) -> TransferComplete {
            TransferComplete(commandKey: d.commandKey, fault: FaultStruct(code: code, string: message), startTime: start,
                             completeTime: SimClock.dateTime(Date()))
        }
        var headers = HTTPFields()
        if !d.username.isEmpty { headers.set("Authorization", "Basic " + Data("\(d.username):\(d.password)".utf8).base64EncodedString()) }
        let response: HTTPResponse
        do {
            response = try await HTTPClient.send(url: d.url, headers: headers, timeout: .seconds(120))
        } catch {
            return done(9015, "File transfer failure: unable to contact file server (\(error))")
        }
        switch response.status {
        case 200: break
        case 401, 403: return done(9012, "File transfer server authentication failure")
        default: return done(9016, "File transfer failure: unable to access file (HTTP \(response.status))")
        }
        if d.fileSize > 0 && response.body.count != Int(d.fileSize) {
            return done(9018, "File transfer failure: file corrupted (\(response.body.count) bytes, expected \(d.fileSize))")
        }
        if d.fileType.hasPrefix("1 ") {
            if simulateFailure { return done(9010, "File transfer failure: simulated") }
            cpe.pendingFirmware = imageVersion(body: response.body, url: d.url)
                ?? "\(cpe.value(cpe.root + "DeviceInfo.SoftwareVersion") ?? "")+1"
        }
        return done(0, "")
    }

    static func upload(_ u: Upload, cpe: VirtualCPE) async -> TransferComplete {
        let start = SimClock.dateTime(Date())
        let body = Array((u.fileType.hasPrefix("2 ") ? log(cpe) : configuration(cpe)).utf8)
        var headers = HTTPFields()
        if !u.username.isEmpty { headers.set("Authorization", "Basic " + Data("\(u.username):\(u.password)".utf8).base64EncodedString()) }
        let tc: (Int, String)
        do {
            let r = try await HTTPClient.send(url: u.url, method: "PUT", headers: headers, body: body, timeout: .seconds(60))
            tc = (200..<300).contains(r.status) ? (0, "") : (9011, "Upload failure (HTTP \(r.status))")
        } catch {
            tc = (9011, "Upload failure: \(error)")
        }
        return TransferComplete(commandKey: u.commandKey, fault: FaultStruct(code: tc.0, string: tc.1), startTime: start,
                                completeTime: SimClock.dateTime(Date()))
    }

    /// A configuration file as a CPE might write it: `path=value` lines of what an operator changes (inform
    /// settings, Wi-Fi), so two backups differ where the device's configuration did.
    static func configuration(_ cpe: VirtualCPE) -> String {
        let r = cpe.root
        let wifi = r == "Device." ? [r + "WiFi.SSID."] : [r + "LANDevice.1.WLANConfiguration."]
        let names = [r + "DeviceInfo.SoftwareVersion", r + "ManagementServer.PeriodicInformEnable", r + "ManagementServer.PeriodicInformInterval"] + wifi
        var lines = ["# configuration of \(cpe.serial)"]
        for n in names {
            if case .success(let values) = cpe.withModel({ $0.getParameterValues([n]) }) {
                lines += values.filter { !$0.name.hasSuffix("KeyPassphrase") && !$0.name.hasSuffix("PreSharedKey") }.map { "\($0.name)=\($0.value)" }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func log(_ cpe: VirtualCPE) -> String {
        "\(SimClock.dateTime(Date())) \(cpe.serial) uploaded its log on request\n"
    }

    /// The version a firmware image installs: the first line of the image when it is `CORRAL-FIRMWARE <version>`
    /// (ASCII, up to the first LF, trimmed; 1-64 printable characters), else the part of the URL's file name between
    /// its last "-" and a trailing ".bin" (r1-2.1.0.bin -> 2.1.0), else the first dotted number in the name
    /// (fw_2.1.bin -> 2.1); nil when there is none (the caller then makes one up from the current version).
    public static func imageVersion(body: [UInt8], url: String) -> String? {
        if let v = headerVersion(body) { return v }
        var name = Substring(url)
        if let cut = name.firstIndex(where: { $0 == "?" || $0 == "#" }) { name = name[..<cut] }
        name = name.split(separator: "/").last ?? ""
        if name.lowercased().hasSuffix(".bin"), let dash = name.dropLast(4).lastIndex(of: "-") {
            let v = name[name.index(after: dash)..<name.index(name.endIndex, offsetBy: -4)]
            if (1...64).contains(v.count), v.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) { return String(v) }
        }
        return firmwareVersion(from: url)
    }

    /// The version on a `CORRAL-FIRMWARE <version>` first line (LF or CRLF), if the image starts with one.
    static func headerVersion(_ body: [UInt8]) -> String? {
        let magic = Array("CORRAL-FIRMWARE".utf8)
        guard body.starts(with: magic) else { return nil }
        // The rest of the first line; a line longer than this cannot hold a valid version (and a 100 MB image is not scanned).
        let rest = body.dropFirst(magic.count).prefix(256)
        let line = rest.prefix { $0 != 0x0A }
        guard line.count < 256, let first = line.first, first == 0x20 || first == 0x09 else { return nil }
        let isSpace = { (b: UInt8) in b == 0x20 || b == 0x09 || b == 0x0D }
        guard let lo = line.firstIndex(where: { !isSpace($0) }), let hi = line.lastIndex(where: { !isSpace($0) }) else { return nil }
        let version = line[lo...hi]
        guard version.count <= 64, version.allSatisfy({ (0x20...0x7E).contains($0) }) else { return nil }
        return String(decoding: version, as: UTF8.self)
    }

    static func firmwareVersion(from url: String) -> String? {
        let name = url.split(separator: "/").last.map(String.init) ?? ""
        let digits = name.split(whereSeparator: { !($0.isNumber || $0 == ".") }).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: ".")) }
        return digits.first { $0.contains(".") && !$0.isEmpty }
    }
}
