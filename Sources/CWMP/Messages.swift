// Typed CWMP messages. The codec (CWMPDecoder / CWMPEncoder) turns SOAP envelopes into these and back.
// Field names follow the BBF cwmp-1-x.xsd element names so the mapping stays obvious.

/// The namespace URI the peer used; Corral answers in the same one.
public enum CWMPVersion: String, Sendable, Codable, CaseIterable {
    case v1_0 = "urn:dslforum-org:cwmp-1-0"
    case v1_1 = "urn:dslforum-org:cwmp-1-1"
    case v1_2 = "urn:dslforum-org:cwmp-1-2"
    /// Never published by the BBF, but some stacks send them; we answer in the same string.
    case v1_3 = "urn:dslforum-org:cwmp-1-3"
    case v1_4 = "urn:dslforum-org:cwmp-1-4"
}

/// xsd types a parameter value can carry (`xsi:type`). Unknown or missing types decode as `.string`.
public enum XSDType: String, Sendable, Codable, CaseIterable {
    case string, int, unsignedInt, long, unsignedLong, boolean, dateTime, base64, hexBinary
    /// The wire form, e.g. "xsd:string".
    public var qualified: String { "xsd:" + rawValue }
}

public struct ParameterValue: Sendable, Equatable, Codable {
    public var name: String
    public var value: String
    public var type: XSDType
    public init(name: String, value: String, type: XSDType = .string) {
        self.name = name; self.value = value; self.type = type
    }
}

public struct ParameterInfo: Sendable, Equatable, Codable {
    public var name: String
    public var writable: Bool
    public init(name: String, writable: Bool) { self.name = name; self.writable = writable }
}

public struct ParameterAttribute: Sendable, Equatable, Codable {
    public var name: String
    public var notification: Int
    public var accessList: [String]
    public init(name: String, notification: Int, accessList: [String] = []) {
        self.name = name; self.notification = notification; self.accessList = accessList
    }
}

public struct SetParameterAttribute: Sendable, Equatable, Codable {
    public var name: String
    public var notificationChange: Bool
    public var notification: Int
    public var accessListChange: Bool
    public var accessList: [String]
    public init(name: String, notificationChange: Bool, notification: Int, accessListChange: Bool = false, accessList: [String] = []) {
        self.name = name; self.notificationChange = notificationChange; self.notification = notification
        self.accessListChange = accessListChange; self.accessList = accessList
    }
}

public struct DeviceID: Sendable, Equatable, Hashable, Codable {
    public var manufacturer: String
    public var oui: String
    public var productClass: String
    public var serialNumber: String
    public init(manufacturer: String, oui: String, productClass: String, serialNumber: String) {
        self.manufacturer = manufacturer; self.oui = oui; self.productClass = productClass; self.serialNumber = serialNumber
    }
}

public struct EventStruct: Sendable, Equatable, Codable {
    public var code: String
    public var commandKey: String
    public init(_ code: String, commandKey: String = "") { self.code = code; self.commandKey = commandKey }
}

/// Well-known event codes.
public enum EventCode {
    public static let bootstrap = "0 BOOTSTRAP"
    public static let boot = "1 BOOT"
    public static let periodic = "2 PERIODIC"
    public static let scheduled = "3 SCHEDULED"
    public static let valueChange = "4 VALUE CHANGE"
    public static let kicked = "5 KICKED"
    public static let connectionRequest = "6 CONNECTION REQUEST"
    public static let transferComplete = "7 TRANSFER COMPLETE"
    public static let diagnosticsComplete = "8 DIAGNOSTICS COMPLETE"
    public static let requestDownload = "9 REQUEST DOWNLOAD"
    public static let autonomousTransferComplete = "10 AUTONOMOUS TRANSFER COMPLETE"
    public static let duStateChangeComplete = "11 DU STATE CHANGE COMPLETE"
    public static let autonomousDUStateChangeComplete = "12 AUTONOMOUS DU STATE CHANGE COMPLETE"
    public static let wakeup = "13 WAKEUP"
    public static let heartbeat = "14 HEARTBEAT"
    public static let mReboot = "M Reboot"
    public static let mScheduleInform = "M ScheduleInform"
    public static let mDownload = "M Download"
    public static let mScheduleDownload = "M ScheduleDownload"
    public static let mUpload = "M Upload"
    public static let mChangeDUState = "M ChangeDUState"
}

public struct FaultStruct: Sendable, Equatable, Codable {
    public var code: Int
    public var string: String
    public init(code: Int, string: String = "") { self.code = code; self.string = string }
    public static let none = FaultStruct(code: 0, string: "")
}

/// A SOAP Fault carrying a cwmp:Fault, from either side.
public struct CWMPFault: Sendable, Equatable, Codable, Error {
    public struct ParameterFault: Sendable, Equatable, Codable {
        public var parameterName: String
        public var code: Int
        public var string: String
        public init(parameterName: String, code: Int, string: String = "") {
            self.parameterName = parameterName; self.code = code; self.string = string
        }
    }
    /// SOAP faultcode: "Client" or "Server".
    public var faultCode: String
    public var faultString: String
    public var code: Int
    public var string: String
    public var setParameterValuesFaults: [ParameterFault]
    public init(code: Int, string: String, faultCode: String? = nil, faultString: String = "CWMP fault",
                setParameterValuesFaults: [ParameterFault] = []) {
        self.code = code; self.string = string
        self.faultCode = faultCode ?? CWMPFault.defaultFaultCode(for: code)
        self.faultString = faultString
        self.setParameterValuesFaults = setParameterValuesFaults
    }
    /// "Client" for argument errors (8003, 9003, 9005-9008, 9020, 9021), "Server" otherwise.
    public static func defaultFaultCode(for code: Int) -> String {
        [8003, 9003, 9005, 9006, 9007, 9008, 9020, 9021].contains(code) ? "Client" : "Server"
    }
}

public struct TimeWindow: Sendable, Equatable, Codable {
    public var windowStart: UInt32
    public var windowEnd: UInt32
    public var windowMode: String
    public var userMessage: String
    public var maxRetries: Int
    public init(windowStart: UInt32, windowEnd: UInt32, windowMode: String = "1 At Any Time", userMessage: String = "", maxRetries: Int = -1) {
        self.windowStart = windowStart; self.windowEnd = windowEnd; self.windowMode = windowMode
        self.userMessage = userMessage; self.maxRetries = maxRetries
    }
}

public struct QueuedTransfer: Sendable, Equatable, Codable {
    public var commandKey: String
    public var state: Int
    /// Only in GetAllQueuedTransfersResponse.
    public var isDownload: Bool?
    public var fileType: String?
    public var fileSize: UInt32?
    public var targetFileName: String?
    public init(commandKey: String, state: Int, isDownload: Bool? = nil, fileType: String? = nil, fileSize: UInt32? = nil, targetFileName: String? = nil) {
        self.commandKey = commandKey; self.state = state; self.isDownload = isDownload
        self.fileType = fileType; self.fileSize = fileSize; self.targetFileName = targetFileName
    }
}

public enum DUOperation: Sendable, Equatable, Codable {
    case install(url: String, uuid: String, username: String, password: String, executionEnvRef: String)
    case update(uuid: String, version: String, url: String, username: String, password: String)
    case uninstall(uuid: String, version: String, executionEnvRef: String)
}

public struct DUOpResult: Sendable, Equatable, Codable {
    public var uuid: String
    public var deploymentUnitRef: String
    public var version: String
    public var currentState: String
    public var resolved: Bool
    public var executionUnitRefList: String
    public var startTime: String
    public var completeTime: String
    public var fault: FaultStruct
    /// Only for AutonomousDUStateChangeComplete: Install / Update / Uninstall.
    public var operationPerformed: String?
    public init(uuid: String, deploymentUnitRef: String = "", version: String = "", currentState: String, resolved: Bool = true,
                executionUnitRefList: String = "", startTime: String, completeTime: String, fault: FaultStruct = .none,
                operationPerformed: String? = nil) {
        self.uuid = uuid; self.deploymentUnitRef = deploymentUnitRef; self.version = version; self.currentState = currentState
        self.resolved = resolved; self.executionUnitRefList = executionUnitRefList; self.startTime = startTime
        self.completeTime = completeTime; self.fault = fault; self.operationPerformed = operationPerformed
    }
}

public struct ArgStruct: Sendable, Equatable, Codable {
    public var name: String
    public var value: String
    public init(name: String, value: String) { self.name = name; self.value = value }
}

// MARK: - Message bodies

public struct Inform: Sendable, Equatable, Codable {
    public var deviceId: DeviceID
    public var events: [EventStruct]
    public var maxEnvelopes: UInt32
    /// As sent; CPEs often omit the time zone, so it stays a string.
    public var currentTime: String
    public var retryCount: UInt32
    public var parameters: [ParameterValue]
    public init(deviceId: DeviceID, events: [EventStruct], maxEnvelopes: UInt32 = 1, currentTime: String, retryCount: UInt32 = 0, parameters: [ParameterValue]) {
        self.deviceId = deviceId; self.events = events; self.maxEnvelopes = maxEnvelopes
        self.currentTime = currentTime; self.retryCount = retryCount; self.parameters = parameters
    }
    public func hasEvent(_ code: String) -> Bool { events.contains { $0.code == code } }
}

public struct TransferComplete: Sendable, Equatable, Codable {
    public var commandKey: String
    public var fault: FaultStruct
    public var startTime: String
    public var completeTime: String
    public init(commandKey: String, fault: FaultStruct, startTime: String, completeTime: String) {
        self.commandKey = commandKey; self.fault = fault; self.startTime = startTime; self.completeTime = completeTime
    }
}

public struct AutonomousTransferComplete: Sendable, Equatable, Codable {
    public var announceURL: String
    public var transferURL: String
    public var isDownload: Bool
    public var fileType: String
    public var fileSize: UInt32
    public var targetFileName: String
    public var fault: FaultStruct
    public var startTime: String
    public var completeTime: String
    public init(announceURL: String, transferURL: String, isDownload: Bool, fileType: String, fileSize: UInt32, targetFileName: String,
                fault: FaultStruct, startTime: String, completeTime: String) {
        self.announceURL = announceURL; self.transferURL = transferURL; self.isDownload = isDownload; self.fileType = fileType
        self.fileSize = fileSize; self.targetFileName = targetFileName; self.fault = fault
        self.startTime = startTime; self.completeTime = completeTime
    }
}

public struct Download: Sendable, Equatable, Codable {
    public var commandKey: String
    public var fileType: String
    public var url: String
    public var username: String
    public var password: String
    public var fileSize: UInt32
    public var targetFileName: String
    public var delaySeconds: UInt32
    public var successURL: String
    public var failureURL: String
    public init(commandKey: String, fileType: String, url: String, username: String = "", password: String = "", fileSize: UInt32 = 0,
                targetFileName: String = "", delaySeconds: UInt32 = 0, successURL: String = "", failureURL: String = "") {
        self.commandKey = commandKey; self.fileType = fileType; self.url = url; self.username = username; self.password = password
        self.fileSize = fileSize; self.targetFileName = targetFileName; self.delaySeconds = delaySeconds
        self.successURL = successURL; self.failureURL = failureURL
    }
}

public struct Upload: Sendable, Equatable, Codable {
    public var commandKey: String
    public var fileType: String
    public var url: String
    public var username: String
    public var password: String
    public var delaySeconds: UInt32
    public init(commandKey: String, fileType: String, url: String, username: String = "", password: String = "", delaySeconds: UInt32 = 0) {
        self.commandKey = commandKey; self.fileType = fileType; self.url = url; self.username = username
        self.password = password; self.delaySeconds = delaySeconds
    }
}

public struct ScheduleDownload: Sendable, Equatable, Codable {
    public var commandKey: String
    public var fileType: String
    public var url: String
    public var username: String
    public var password: String
    public var fileSize: UInt32
    public var targetFileName: String
    public var timeWindows: [TimeWindow]
    public init(commandKey: String, fileType: String, url: String, username: String = "", password: String = "", fileSize: UInt32 = 0,
                targetFileName: String = "", timeWindows: [TimeWindow]) {
        self.commandKey = commandKey; self.fileType = fileType; self.url = url; self.username = username; self.password = password
        self.fileSize = fileSize; self.targetFileName = targetFileName; self.timeWindows = timeWindows
    }
}

/// Result of Download/Upload: Status 0 = done (times valid), 1 = later (TransferComplete follows).
public struct TransferResponse: Sendable, Equatable, Codable {
    public var status: Int
    public var startTime: String
    public var completeTime: String
    public init(status: Int, startTime: String = "0001-01-01T00:00:00Z", completeTime: String = "0001-01-01T00:00:00Z") {
        self.status = status; self.startTime = startTime; self.completeTime = completeTime
    }
}

/// Requests the ACS sends to the CPE.
public enum ACSRequest: Sendable, Equatable, Codable {
    case getRPCMethods
    case getParameterNames(path: String, nextLevel: Bool)
    case getParameterValues(names: [String])
    case setParameterValues(parameters: [ParameterValue], parameterKey: String)
    case getParameterAttributes(names: [String])
    case setParameterAttributes(parameters: [SetParameterAttribute])
    case addObject(objectName: String, parameterKey: String)
    case deleteObject(objectName: String, parameterKey: String)
    case reboot(commandKey: String)
    case factoryReset
    case download(Download)
    case upload(Upload)
    case scheduleInform(delaySeconds: UInt32, commandKey: String)
    case scheduleDownload(ScheduleDownload)
    case cancelTransfer(commandKey: String)
    case getQueuedTransfers
    case getAllQueuedTransfers
    case changeDUState(operations: [DUOperation], commandKey: String)

    /// The RPC element name, e.g. "GetParameterValues".
    public var methodName: String {
        switch self {
        case .getRPCMethods: "GetRPCMethods"
        case .getParameterNames: "GetParameterNames"
        case .getParameterValues: "GetParameterValues"
        case .setParameterValues: "SetParameterValues"
        case .getParameterAttributes: "GetParameterAttributes"
        case .setParameterAttributes: "SetParameterAttributes"
        case .addObject: "AddObject"
        case .deleteObject: "DeleteObject"
        case .reboot: "Reboot"
        case .factoryReset: "FactoryReset"
        case .download: "Download"
        case .upload: "Upload"
        case .scheduleInform: "ScheduleInform"
        case .scheduleDownload: "ScheduleDownload"
        case .cancelTransfer: "CancelTransfer"
        case .getQueuedTransfers: "GetQueuedTransfers"
        case .getAllQueuedTransfers: "GetAllQueuedTransfers"
        case .changeDUState: "ChangeDUState"
        }
    }
}

/// Responses the CPE sends to ACS requests.
public enum CPEResponse: Sendable, Equatable, Codable {
    case getRPCMethods(methods: [String])
    case getParameterNames([ParameterInfo])
    case getParameterValues([ParameterValue])
    case setParameterValues(status: Int)
    case getParameterAttributes([ParameterAttribute])
    case setParameterAttributes
    case addObject(instanceNumber: UInt32, status: Int)
    case deleteObject(status: Int)
    case reboot
    case factoryReset
    case download(TransferResponse)
    case upload(TransferResponse)
    case scheduleInform
    case scheduleDownload
    case cancelTransfer
    case getQueuedTransfers([QueuedTransfer])
    case getAllQueuedTransfers([QueuedTransfer])
    case changeDUState

    /// The request method this answers, e.g. "GetParameterValues".
    public var methodName: String {
        switch self {
        case .getRPCMethods: "GetRPCMethods"
        case .getParameterNames: "GetParameterNames"
        case .getParameterValues: "GetParameterValues"
        case .setParameterValues: "SetParameterValues"
        case .getParameterAttributes: "GetParameterAttributes"
        case .setParameterAttributes: "SetParameterAttributes"
        case .addObject: "AddObject"
        case .deleteObject: "DeleteObject"
        case .reboot: "Reboot"
        case .factoryReset: "FactoryReset"
        case .download: "Download"
        case .upload: "Upload"
        case .scheduleInform: "ScheduleInform"
        case .scheduleDownload: "ScheduleDownload"
        case .cancelTransfer: "CancelTransfer"
        case .getQueuedTransfers: "GetQueuedTransfers"
        case .getAllQueuedTransfers: "GetAllQueuedTransfers"
        case .changeDUState: "ChangeDUState"
        }
    }
}

/// Requests the CPE sends to the ACS.
public enum CPERequest: Sendable, Equatable, Codable {
    case inform(Inform)
    case transferComplete(TransferComplete)
    case autonomousTransferComplete(AutonomousTransferComplete)
    case requestDownload(fileType: String, args: [ArgStruct])
    case kicked(command: String, referer: String, arg: String, next: String)
    case getRPCMethods
    case duStateChangeComplete(results: [DUOpResult], commandKey: String)
    case autonomousDUStateChangeComplete(results: [DUOpResult])

    public var methodName: String {
        switch self {
        case .inform: "Inform"
        case .transferComplete: "TransferComplete"
        case .autonomousTransferComplete: "AutonomousTransferComplete"
        case .requestDownload: "RequestDownload"
        case .kicked: "Kicked"
        case .getRPCMethods: "GetRPCMethods"
        case .duStateChangeComplete: "DUStateChangeComplete"
        case .autonomousDUStateChangeComplete: "AutonomousDUStateChangeComplete"
        }
    }
}

/// Responses the ACS sends to CPE requests.
public enum ACSResponse: Sendable, Equatable, Codable {
    case inform(maxEnvelopes: UInt32)
    case transferComplete
    case autonomousTransferComplete
    case requestDownload
    case kicked(nextURL: String)
    case getRPCMethods(methods: [String])
    case duStateChangeComplete
    case autonomousDUStateChangeComplete
}

/// Everything that can be in a SOAP body, in both directions.
public enum CWMPBody: Sendable, Equatable, Codable {
    case acsRequest(ACSRequest)
    case cpeResponse(CPEResponse)
    case cpeRequest(CPERequest)
    case acsResponse(ACSResponse)
    case fault(CWMPFault)
}

/// SOAP header fields CWMP defines.
public struct CWMPHeader: Sendable, Equatable, Codable {
    /// cwmp:ID; nil when absent (some CPEs send no header at all).
    public var id: String?
    public var holdRequests: Bool?
    public var sessionTimeout: UInt32?
    public var supportedCWMPVersions: String?
    public var useCWMPVersion: String?
    public init(id: String? = nil, holdRequests: Bool? = nil, sessionTimeout: UInt32? = nil,
                supportedCWMPVersions: String? = nil, useCWMPVersion: String? = nil) {
        self.id = id; self.holdRequests = holdRequests; self.sessionTimeout = sessionTimeout
        self.supportedCWMPVersions = supportedCWMPVersions; self.useCWMPVersion = useCWMPVersion
    }
}

public struct Envelope: Sendable, Equatable, Codable {
    public var version: CWMPVersion
    public var header: CWMPHeader
    public var body: CWMPBody
    public init(version: CWMPVersion, header: CWMPHeader = CWMPHeader(), body: CWMPBody) {
        self.version = version; self.header = header; self.body = body
    }
}
