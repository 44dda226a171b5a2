// Messages an ACS sends: requests to the CPE and responses to CPE requests. The simulator decodes these.

enum ACSMessageReader {
    /// nil when `name` is not a message an ACS sends.
    static func read(_ rpc: XElem, name: String, _ ctx: DecodeContext) throws -> CWMPBody? {
        switch name {
        // ACS requests
        case "GetRPCMethods": return .acsRequest(.getRPCMethods)
        case "GetParameterNames":
            return .acsRequest(.getParameterNames(path: rpc.token("ParameterPath"), nextLevel: try rpc.bool("NextLevel", ctx)))
        case "GetParameterValues": return .acsRequest(.getParameterValues(names: rpc.stringArray("ParameterNames")))
        case "SetParameterValues":
            return .acsRequest(.setParameterValues(parameters: rpc.parameterValueList("ParameterList"),
                                                   parameterKey: rpc.string("ParameterKey")))
        case "GetParameterAttributes": return .acsRequest(.getParameterAttributes(names: rpc.stringArray("ParameterNames")))
        case "SetParameterAttributes":
            var list: [SetParameterAttribute] = []
            for item in rpc.arrayItems("ParameterList") {
                list.append(SetParameterAttribute(
                    name: item.token("Name"), notificationChange: try item.bool("NotificationChange", ctx),
                    notification: try item.int("Notification", ctx),
                    accessListChange: try item.bool("AccessListChange", ctx), accessList: item.stringArray("AccessList")))
            }
            return .acsRequest(.setParameterAttributes(parameters: list))
        case "AddObject":
            return .acsRequest(.addObject(objectName: rpc.token("ObjectName"), parameterKey: rpc.string("ParameterKey")))
        case "DeleteObject":
            return .acsRequest(.deleteObject(objectName: rpc.token("ObjectName"), parameterKey: rpc.string("ParameterKey")))
        case "Reboot": return .acsRequest(.reboot(commandKey: rpc.string("CommandKey")))
        case "FactoryReset": return .acsRequest(.factoryReset)
        case "Download":
            return .acsRequest(.download(Download(
                commandKey: rpc.string("CommandKey"), fileType: rpc.token("FileType"), url: rpc.token("URL"),
                username: rpc.string("Username"), password: rpc.string("Password"),
                fileSize: try rpc.uint32("FileSize", ctx), targetFileName: rpc.string("TargetFileName"),
                delaySeconds: try rpc.uint32("DelaySeconds", ctx), successURL: rpc.token("SuccessURL"),
                failureURL: rpc.token("FailureURL"))))
        case "Upload":
            return .acsRequest(.upload(Upload(
                commandKey: rpc.string("CommandKey"), fileType: rpc.token("FileType"), url: rpc.token("URL"),
                username: rpc.string("Username"), password: rpc.string("Password"),
                delaySeconds: try rpc.uint32("DelaySeconds", ctx))))
        case "ScheduleInform":
            return .acsRequest(.scheduleInform(delaySeconds: try rpc.uint32("DelaySeconds", ctx),
                                               commandKey: rpc.string("CommandKey")))
        case "ScheduleDownload":
            var windows: [TimeWindow] = []
            for item in rpc.arrayItems("TimeWindowList") {
                windows.append(TimeWindow(
                    windowStart: try item.uint32("WindowStart", ctx), windowEnd: try item.uint32("WindowEnd", ctx),
                    windowMode: item.child("WindowMode") == nil ? "1 At Any Time" : item.token("WindowMode"),
                    userMessage: item.string("UserMessage"), maxRetries: try item.int("MaxRetries", ctx, default: -1)))
            }
            return .acsRequest(.scheduleDownload(ScheduleDownload(
                commandKey: rpc.string("CommandKey"), fileType: rpc.token("FileType"), url: rpc.token("URL"),
                username: rpc.string("Username"), password: rpc.string("Password"),
                fileSize: try rpc.uint32("FileSize", ctx), targetFileName: rpc.string("TargetFileName"),
                timeWindows: windows)))
        case "CancelTransfer": return .acsRequest(.cancelTransfer(commandKey: rpc.string("CommandKey")))
        case "GetQueuedTransfers": return .acsRequest(.getQueuedTransfers)
        case "GetAllQueuedTransfers": return .acsRequest(.getAllQueuedTransfers)
        case "ChangeDUState":
            return .acsRequest(.changeDUState(operations: try operations(rpc, ctx), commandKey: rpc.string("CommandKey")))

        // Responses to CPE requests
        case "InformResponse": return .acsResponse(.inform(maxEnvelopes: try rpc.uint32("MaxEnvelopes", ctx, default: 1)))
        case "TransferCompleteResponse": return .acsResponse(.transferComplete)
        case "AutonomousTransferCompleteResponse": return .acsResponse(.autonomousTransferComplete)
        case "RequestDownloadResponse": return .acsResponse(.requestDownload)
        case "KickedResponse": return .acsResponse(.kicked(nextURL: rpc.token("NextURL")))
        case "GetRPCMethodsResponse": return .acsResponse(.getRPCMethods(methods: rpc.stringArray("MethodList")))
        case "DUStateChangeCompleteResponse": return .acsResponse(.duStateChangeComplete)
        case "AutonomousDUStateChangeCompleteResponse": return .acsResponse(.autonomousDUStateChangeComplete)
        default: return nil
        }
    }

    private enum OpKind { case install, update, uninstall }

    /// ChangeDUState operations. Schema form: repeated `Operations` elements with xsi:type="cwmp:InstallOpStruct"
    /// (UpdateOpStruct, UninstallOpStruct). Also accepted: an `Operations` SOAP array whose items are named
    /// InstallOpStruct/... or carry xsi:type, and untyped operations (kind inferred from the fields present).
    static func operations(_ rpc: XElem, _ ctx: DecodeContext) throws -> [DUOperation] {
        var out: [DUOperation] = []
        for ops in rpc.childElements where ops.isNamed("Operations") {
            if let kind = kind(ofTyped: ops) {
                out.append(operation(ops, kind))
            } else if ops.child("URL") != nil || ops.child("UUID") != nil || ops.firstChildElement == nil {
                out.append(operation(ops, inferKind(ops)))
            } else {
                for item in ops.childElements {
                    out.append(operation(item, kind(ofTyped: item) ?? kind(ofName: item) ?? inferKind(item)))
                }
            }
        }
        if out.isEmpty { throw ctx.invalid("ChangeDUState has no Operations") }
        return out
    }

    private static func kind(ofTyped e: XElem) -> OpKind? {
        guard let t = e.xsiType else { return nil }
        let local = t.split(separator: ":").last.map(String.init) ?? t
        switch local {
        case "InstallOpStruct": return .install
        case "UpdateOpStruct": return .update
        case "UninstallOpStruct": return .uninstall
        default: return nil
        }
    }

    private static func kind(ofName e: XElem) -> OpKind? {
        if e.isNamed("InstallOpStruct") { return .install }
        if e.isNamed("UpdateOpStruct") { return .update }
        if e.isNamed("UninstallOpStruct") { return .uninstall }
        return nil
    }

    /// Untyped operation: Install needs a URL, Uninstall has none; Version without ExecutionEnvRef next to a URL
    /// means Update; credentials without a URL also mean Update.
    private static func inferKind(_ e: XElem) -> OpKind {
        let hasURL = e.child("URL") != nil
        if e.child("ExecutionEnvRef") != nil { return hasURL ? .install : .uninstall }
        if hasURL { return e.child("Version") != nil ? .update : .install }
        if e.child("Username") != nil || e.child("Password") != nil { return .update }
        return .uninstall
    }

    private static func operation(_ e: XElem, _ kind: OpKind) -> DUOperation {
        switch kind {
        case .install:
            .install(url: e.token("URL"), uuid: e.token("UUID"), username: e.string("Username"),
                     password: e.string("Password"), executionEnvRef: e.string("ExecutionEnvRef"))
        case .update:
            .update(uuid: e.token("UUID"), version: e.string("Version"), url: e.token("URL"),
                    username: e.string("Username"), password: e.string("Password"))
        case .uninstall:
            .uninstall(uuid: e.token("UUID"), version: e.string("Version"), executionEnvRef: e.string("ExecutionEnvRef"))
        }
    }
}
