import CWMP
import Foundation
import NetHTTP

/// File transfers a virtual CPE performs for Download and Upload RPCs, over real HTTP.
enum Transfers {
    static func download(_ d: Download, cpe: VirtualCPE) async -> TransferComplete {
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
            // "Install" the image: the software version is taken from the file name (fw-2.1.0.bin -> 2.1.0).
            cpe.set(cpe.root + "DeviceInfo.SoftwareVersion", firmwareVersion(from: d.url) ?? "\(cpe.value(cpe.root + "DeviceInfo.SoftwareVersion") ?? "")+1")
        }
        return done(0, "")
    }

    static func upload(_ u: Upload, cpe: VirtualCPE) async -> TransferComplete {
        let start = SimClock.dateTime(Date())
        let body = Array("simulated \(u.fileType) of \(cpe.serial)\n".utf8)
        let tc: (Int, String)
        do {
            let r = try await HTTPClient.send(url: u.url, method: "PUT", body: body, timeout: .seconds(60))
            tc = (200..<300).contains(r.status) ? (0, "") : (9011, "Upload failure (HTTP \(r.status))")
        } catch {
            tc = (9011, "Upload failure: \(error)")
        }
        return TransferComplete(commandKey: u.commandKey, fault: FaultStruct(code: tc.0, string: tc.1), startTime: start,
                                completeTime: SimClock.dateTime(Date()))
    }

    static func firmwareVersion(from url: String) -> String? {
        let name = url.split(separator: "/").last.map(String.init) ?? ""
        let digits = name.split(whereSeparator: { !($0.isNumber || $0 == ".") }).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: ".")) }
        return digits.first { $0.contains(".") && !$0.isEmpty }
    }
}
