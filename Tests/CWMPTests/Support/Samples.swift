import Testing
import CWMP

/// One representative instance of every message, with the first schema version that defines it and who sends it.
struct Sample: CustomTestStringConvertible, Sendable {
    var label: String
    var body: CWMPBody
    /// First cwmp namespace whose schema declares the RPC.
    var since: CWMPVersion
    /// Who puts it on the wire (a fault can come from either side: `sender` nil = both).
    var sender: Peer?
    /// The RPC element's local name.
    var element: String
    var testDescription: String { label }

    func envelope(_ version: CWMPVersion, header: CWMPHeader = CWMPHeader(id: "42")) -> Envelope {
        Envelope(version: version, header: header, body: body)
    }
}

enum Samples {
    static let uuid = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
    static let t0 = "2025-03-04T05:06:07Z"
    static let t1 = "2025-03-04T05:07:08Z"

    static let params: [ParameterValue] = [
        ParameterValue(name: "Device.DeviceInfo.SoftwareVersion", value: "1.2.3 <beta> & \"more\"", type: .string),
        ParameterValue(name: "Device.ManagementServer.PeriodicInformInterval", value: "300", type: .unsignedInt),
        ParameterValue(name: "Device.WiFi.Radio.1.Channel", value: "-1", type: .int),
        ParameterValue(name: "Device.IP.Interface.1.Stats.BytesSent", value: "18446744073709551615", type: .unsignedLong),
        ParameterValue(name: "Device.X_Test.Long", value: "-9223372036854775808", type: .long),
        ParameterValue(name: "Device.WiFi.SSID.1.Enable", value: "1", type: .boolean),
        ParameterValue(name: "Device.DeviceInfo.FirstUseDate", value: "2024-01-01T00:00:00Z", type: .dateTime),
        ParameterValue(name: "Device.X_Test.Hex", value: "0a0B", type: .hexBinary),
        ParameterValue(name: "Device.X_Test.Empty", value: "", type: .string),
    ]

    static let acsRequests: [Sample] = [
        Sample(label: "GetRPCMethods (ACS)", body: .acsRequest(.getRPCMethods), since: .v1_0, sender: .acs, element: "GetRPCMethods"),
        Sample(label: "GetParameterNames", body: .acsRequest(.getParameterNames(path: "Device.WiFi.", nextLevel: true)),
               since: .v1_0, sender: .acs, element: "GetParameterNames"),
        Sample(label: "GetParameterValues",
               body: .acsRequest(.getParameterValues(names: ["Device.DeviceInfo.", "Device.DeviceInfo.UpTime"])),
               since: .v1_0, sender: .acs, element: "GetParameterValues"),
        Sample(label: "SetParameterValues", body: .acsRequest(.setParameterValues(parameters: params, parameterKey: "pk-1")),
               since: .v1_0, sender: .acs, element: "SetParameterValues"),
        Sample(label: "GetParameterAttributes", body: .acsRequest(.getParameterAttributes(names: ["Device.WiFi.SSID.1.SSID"])),
               since: .v1_0, sender: .acs, element: "GetParameterAttributes"),
        Sample(label: "SetParameterAttributes", body: .acsRequest(.setParameterAttributes(parameters: [
            SetParameterAttribute(name: "Device.WiFi.SSID.1.SSID", notificationChange: true, notification: 2,
                                  accessListChange: true, accessList: ["Subscriber"]),
            SetParameterAttribute(name: "Device.DeviceInfo.UpTime", notificationChange: false, notification: 0),
        ])), since: .v1_0, sender: .acs, element: "SetParameterAttributes"),
        Sample(label: "AddObject", body: .acsRequest(.addObject(objectName: "Device.WiFi.SSID.", parameterKey: "k")),
               since: .v1_0, sender: .acs, element: "AddObject"),
        Sample(label: "DeleteObject", body: .acsRequest(.deleteObject(objectName: "Device.WiFi.SSID.3.", parameterKey: "")),
               since: .v1_0, sender: .acs, element: "DeleteObject"),
        Sample(label: "Reboot", body: .acsRequest(.reboot(commandKey: "reboot-1")), since: .v1_0, sender: .acs, element: "Reboot"),
        Sample(label: "FactoryReset", body: .acsRequest(.factoryReset), since: .v1_0, sender: .acs, element: "FactoryReset"),
        Sample(label: "Download", body: .acsRequest(.download(Download(
            commandKey: "fw-1", fileType: "1 Firmware Upgrade Image", url: "http://acs.example/fw.bin?a=1&b=2",
            username: "u", password: "p", fileSize: 4_000_000, targetFileName: "fw.bin", delaySeconds: 5,
            successURL: "", failureURL: ""))), since: .v1_0, sender: .acs, element: "Download"),
        Sample(label: "Upload", body: .acsRequest(.upload(Upload(
            commandKey: "up-1", fileType: "2 Vendor Log File", url: "http://acs.example/up/1", username: "u",
            password: "p", delaySeconds: 0))), since: .v1_0, sender: .acs, element: "Upload"),
        Sample(label: "ScheduleInform", body: .acsRequest(.scheduleInform(delaySeconds: 60, commandKey: "si")),
               since: .v1_0, sender: .acs, element: "ScheduleInform"),
        Sample(label: "ScheduleDownload", body: .acsRequest(.scheduleDownload(ScheduleDownload(
            commandKey: "sd-1", fileType: "1 Firmware Upgrade Image", url: "https://acs.example/fw.bin",
            fileSize: 10, targetFileName: "", timeWindows: [
                TimeWindow(windowStart: 0, windowEnd: 3600, windowMode: "1 At Any Time", userMessage: "", maxRetries: -1),
                TimeWindow(windowStart: 7200, windowEnd: 10800, windowMode: "4 Confirmation Needed",
                           userMessage: "Update now?", maxRetries: 3),
            ]))), since: .v1_2, sender: .acs, element: "ScheduleDownload"),
        Sample(label: "CancelTransfer", body: .acsRequest(.cancelTransfer(commandKey: "sd-1")),
               since: .v1_2, sender: .acs, element: "CancelTransfer"),
        Sample(label: "GetQueuedTransfers", body: .acsRequest(.getQueuedTransfers), since: .v1_0, sender: .acs,
               element: "GetQueuedTransfers"),
        Sample(label: "GetAllQueuedTransfers", body: .acsRequest(.getAllQueuedTransfers), since: .v1_1, sender: .acs,
               element: "GetAllQueuedTransfers"),
        Sample(label: "ChangeDUState", body: .acsRequest(.changeDUState(operations: [
            .install(url: "http://acs.example/du.ipk", uuid: uuid, username: "u", password: "p", executionEnvRef: "Device.SoftwareModules.ExecEnv.1"),
            .install(url: "http://acs.example/du2.ipk", uuid: "", username: "", password: "", executionEnvRef: ""),
            .update(uuid: uuid, version: "2.0", url: "http://acs.example/du-2.ipk", username: "", password: ""),
            .update(uuid: uuid, version: "", url: "", username: "", password: ""),
            .uninstall(uuid: uuid, version: "1.0", executionEnvRef: "Device.SoftwareModules.ExecEnv.1"),
            .uninstall(uuid: uuid, version: "", executionEnvRef: ""),
        ], commandKey: "du-1")), since: .v1_2, sender: .acs, element: "ChangeDUState"),
    ]

    static let acsResponses: [Sample] = [
        Sample(label: "InformResponse", body: .acsResponse(.inform(maxEnvelopes: 1)), since: .v1_0, sender: .acs, element: "InformResponse"),
        Sample(label: "TransferCompleteResponse", body: .acsResponse(.transferComplete), since: .v1_0, sender: .acs,
               element: "TransferCompleteResponse"),
        Sample(label: "AutonomousTransferCompleteResponse", body: .acsResponse(.autonomousTransferComplete), since: .v1_1,
               sender: .acs, element: "AutonomousTransferCompleteResponse"),
        Sample(label: "RequestDownloadResponse", body: .acsResponse(.requestDownload), since: .v1_0, sender: .acs,
               element: "RequestDownloadResponse"),
        Sample(label: "KickedResponse", body: .acsResponse(.kicked(nextURL: "http://lan.example/next")), since: .v1_0,
               sender: .acs, element: "KickedResponse"),
        Sample(label: "GetRPCMethodsResponse (ACS)",
               body: .acsResponse(.getRPCMethods(methods: ["Inform", "GetRPCMethods", "TransferComplete"])), since: .v1_0,
               sender: .acs, element: "GetRPCMethodsResponse"),
        Sample(label: "DUStateChangeCompleteResponse", body: .acsResponse(.duStateChangeComplete), since: .v1_2,
               sender: .acs, element: "DUStateChangeCompleteResponse"),
        Sample(label: "AutonomousDUStateChangeCompleteResponse", body: .acsResponse(.autonomousDUStateChangeComplete),
               since: .v1_2, sender: .acs, element: "AutonomousDUStateChangeCompleteResponse"),
    ]

    static let opResult = DUOpResult(
        uuid: uuid, deploymentUnitRef: "Device.SoftwareModules.DeploymentUnit.1", version: "1.0",
        currentState: "Installed", resolved: true, executionUnitRefList: "Device.SoftwareModules.ExecutionUnit.1",
        startTime: t0, completeTime: t1)
    static let failedOpResult = DUOpResult(
        uuid: uuid, currentState: "Failed", resolved: false, startTime: CWMPDateTime.unknown,
        completeTime: CWMPDateTime.unknown, fault: FaultStruct(code: 9026, string: "Duplicate Deployment Unit"))

    static let inform = Inform(
        deviceId: DeviceID(manufacturer: "Example & Co", oui: "00D09E", productClass: "HGW", serialNumber: "SN-1"),
        events: [EventStruct(EventCode.boot), EventStruct(EventCode.mReboot, commandKey: "reboot-1")],
        maxEnvelopes: 1, currentTime: "2025-01-01T00:00:00Z", retryCount: 2, parameters: params)

    static let cpeRequests: [Sample] = [
        Sample(label: "Inform", body: .cpeRequest(.inform(inform)), since: .v1_0, sender: .cpe, element: "Inform"),
        Sample(label: "TransferComplete (ok)", body: .cpeRequest(.transferComplete(TransferComplete(
            commandKey: "fw-1", fault: .none, startTime: t0, completeTime: t1))), since: .v1_0, sender: .cpe,
               element: "TransferComplete"),
        Sample(label: "TransferComplete (failed)", body: .cpeRequest(.transferComplete(TransferComplete(
            commandKey: "fw-1", fault: FaultStruct(code: 9010, string: "Download failed"),
            startTime: CWMPDateTime.unknown, completeTime: CWMPDateTime.unknown))), since: .v1_0, sender: .cpe,
               element: "TransferComplete"),
        Sample(label: "AutonomousTransferComplete", body: .cpeRequest(.autonomousTransferComplete(AutonomousTransferComplete(
            announceURL: "http://cdn.example/announce", transferURL: "http://cdn.example/fw.bin", isDownload: true,
            fileType: "1 Firmware Upgrade Image", fileSize: 123, targetFileName: "fw.bin", fault: .none,
            startTime: t0, completeTime: t1))), since: .v1_1, sender: .cpe, element: "AutonomousTransferComplete"),
        Sample(label: "RequestDownload", body: .cpeRequest(.requestDownload(fileType: "3 Vendor Configuration File", args: [
            ArgStruct(name: "Version", value: "1.0"), ArgStruct(name: "Profile", value: "a<b"),
        ])), since: .v1_0, sender: .cpe, element: "RequestDownload"),
        Sample(label: "Kicked", body: .cpeRequest(.kicked(command: "cmd", referer: "http://lan/", arg: "x=1", next: "http://lan/next")),
               since: .v1_0, sender: .cpe, element: "Kicked"),
        Sample(label: "GetRPCMethods (CPE)", body: .cpeRequest(.getRPCMethods), since: .v1_0, sender: .cpe, element: "GetRPCMethods"),
        Sample(label: "DUStateChangeComplete", body: .cpeRequest(.duStateChangeComplete(
            results: [opResult, failedOpResult], commandKey: "du-1")), since: .v1_2, sender: .cpe, element: "DUStateChangeComplete"),
        Sample(label: "AutonomousDUStateChangeComplete", body: .cpeRequest(.autonomousDUStateChangeComplete(results: [
            { var r = opResult; r.operationPerformed = "Install"; return r }(),
            { var r = failedOpResult; r.operationPerformed = "Uninstall"; return r }(),
        ])), since: .v1_2, sender: .cpe, element: "AutonomousDUStateChangeComplete"),
    ]

    static let cpeResponses: [Sample] = [
        Sample(label: "GetRPCMethodsResponse (CPE)", body: .cpeResponse(.getRPCMethods(methods: ["GetRPCMethods", "Reboot"])),
               since: .v1_0, sender: .cpe, element: "GetRPCMethodsResponse"),
        Sample(label: "GetParameterNamesResponse", body: .cpeResponse(.getParameterNames([
            ParameterInfo(name: "Device.WiFi.", writable: false), ParameterInfo(name: "Device.WiFi.SSID.", writable: true),
        ])), since: .v1_0, sender: .cpe, element: "GetParameterNamesResponse"),
        Sample(label: "GetParameterNamesResponse (empty)", body: .cpeResponse(.getParameterNames([])), since: .v1_0,
               sender: .cpe, element: "GetParameterNamesResponse"),
        Sample(label: "GetParameterValuesResponse", body: .cpeResponse(.getParameterValues(params)), since: .v1_0,
               sender: .cpe, element: "GetParameterValuesResponse"),
        Sample(label: "SetParameterValuesResponse", body: .cpeResponse(.setParameterValues(status: 1)), since: .v1_0,
               sender: .cpe, element: "SetParameterValuesResponse"),
        Sample(label: "GetParameterAttributesResponse", body: .cpeResponse(.getParameterAttributes([
            ParameterAttribute(name: "Device.WiFi.SSID.1.SSID", notification: 2, accessList: ["Subscriber"]),
            ParameterAttribute(name: "Device.DeviceInfo.UpTime", notification: 0, accessList: []),
        ])), since: .v1_0, sender: .cpe, element: "GetParameterAttributesResponse"),
        Sample(label: "SetParameterAttributesResponse", body: .cpeResponse(.setParameterAttributes), since: .v1_0,
               sender: .cpe, element: "SetParameterAttributesResponse"),
        Sample(label: "AddObjectResponse", body: .cpeResponse(.addObject(instanceNumber: 3, status: 0)), since: .v1_0,
               sender: .cpe, element: "AddObjectResponse"),
        Sample(label: "DeleteObjectResponse", body: .cpeResponse(.deleteObject(status: 0)), since: .v1_0, sender: .cpe,
               element: "DeleteObjectResponse"),
        Sample(label: "RebootResponse", body: .cpeResponse(.reboot), since: .v1_0, sender: .cpe, element: "RebootResponse"),
        Sample(label: "FactoryResetResponse", body: .cpeResponse(.factoryReset), since: .v1_0, sender: .cpe,
               element: "FactoryResetResponse"),
        Sample(label: "DownloadResponse", body: .cpeResponse(.download(TransferResponse(status: 1))), since: .v1_0,
               sender: .cpe, element: "DownloadResponse"),
        Sample(label: "UploadResponse", body: .cpeResponse(.upload(TransferResponse(status: 0, startTime: t0, completeTime: t1))),
               since: .v1_0, sender: .cpe, element: "UploadResponse"),
        Sample(label: "ScheduleInformResponse", body: .cpeResponse(.scheduleInform), since: .v1_0, sender: .cpe,
               element: "ScheduleInformResponse"),
        Sample(label: "ScheduleDownloadResponse", body: .cpeResponse(.scheduleDownload), since: .v1_2, sender: .cpe,
               element: "ScheduleDownloadResponse"),
        Sample(label: "CancelTransferResponse", body: .cpeResponse(.cancelTransfer), since: .v1_2, sender: .cpe,
               element: "CancelTransferResponse"),
        Sample(label: "GetQueuedTransfersResponse", body: .cpeResponse(.getQueuedTransfers([
            QueuedTransfer(commandKey: "fw-1", state: 1), QueuedTransfer(commandKey: "fw-2", state: 2),
        ])), since: .v1_0, sender: .cpe, element: "GetQueuedTransfersResponse"),
        Sample(label: "GetAllQueuedTransfersResponse", body: .cpeResponse(.getAllQueuedTransfers([
            QueuedTransfer(commandKey: "fw-1", state: 2, isDownload: true, fileType: "1 Firmware Upgrade Image",
                           fileSize: 1000, targetFileName: "fw.bin"),
            QueuedTransfer(commandKey: "", state: 1, isDownload: false, fileType: "3 Vendor Configuration File", fileSize: 0,
                           targetFileName: ""),
        ])), since: .v1_1, sender: .cpe, element: "GetAllQueuedTransfersResponse"),
        Sample(label: "ChangeDUStateResponse", body: .cpeResponse(.changeDUState), since: .v1_2, sender: .cpe,
               element: "ChangeDUStateResponse"),
    ]

    static let faults: [Sample] = [
        Sample(label: "Fault 9003 with SetParameterValuesFault", body: .fault(CWMPFault(
            code: 9003, string: "Invalid arguments", setParameterValuesFaults: [
                .init(parameterName: "Device.WiFi.Radio.1.Channel", code: 9007, string: "Invalid parameter value"),
                .init(parameterName: "Device.DeviceInfo.UpTime", code: 9008, string: "Non-writable"),
            ])), since: .v1_0, sender: nil, element: "Fault"),
        Sample(label: "Fault 9000 (CPE)", body: .fault(CWMPFault(code: 9000, string: "Method not supported")),
               since: .v1_0, sender: nil, element: "Fault"),
        Sample(label: "Fault 8005 (ACS)", body: .fault(CWMPFault(code: 8005, string: "Retry request", faultString: "CWMP fault")),
               since: .v1_0, sender: nil, element: "Fault"),
        Sample(label: "Fault 8003 Client (ACS)", body: .fault(CWMPFault(code: 8003, string: "Invalid arguments")),
               since: .v1_0, sender: nil, element: "Fault"),
    ]

    static let all: [Sample] = acsRequests + acsResponses + cpeRequests + cpeResponses + faults

    /// Versions (with the schema file defining them) a sample must validate against: its first version up to 1-2.
    static func schemaTargets(for sample: Sample) -> [(CWMPVersion, String)] {
        let ordered: [(CWMPVersion, String)] = [(.v1_0, "cwmp-1-0.xsd"), (.v1_1, "cwmp-1-1.xsd"), (.v1_2, "cwmp-1-2.xsd")]
        let start = ordered.firstIndex { $0.0 == sample.since }!
        return Array(ordered[start...])
    }
}
