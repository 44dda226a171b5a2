// Messages an ACS sends (what Corral puts on the wire): requests to the CPE and responses to CPE requests.

enum ACSMessageWriter {
    static func write(_ request: ACSRequest, into w: inout XMLWriter) {
        switch request {
        case .getRPCMethods:
            w.empty("cwmp:GetRPCMethods")
        case .getParameterNames(let path, let nextLevel):
            w.open("cwmp:GetParameterNames")
            w.leaf("ParameterPath", path)
            w.leaf("NextLevel", nextLevel)
            w.close("cwmp:GetParameterNames")
        case .getParameterValues(let names):
            w.open("cwmp:GetParameterValues")
            EnvelopeWriter.stringArray("ParameterNames", names, into: &w)
            w.close("cwmp:GetParameterValues")
        case .setParameterValues(let params, let key):
            w.open("cwmp:SetParameterValues")
            EnvelopeWriter.parameterValueList("ParameterList", params, into: &w)
            w.leaf("ParameterKey", key)
            w.close("cwmp:SetParameterValues")
        case .getParameterAttributes(let names):
            w.open("cwmp:GetParameterAttributes")
            EnvelopeWriter.stringArray("ParameterNames", names, into: &w)
            w.close("cwmp:GetParameterAttributes")
        case .setParameterAttributes(let params):
            w.open("cwmp:SetParameterAttributes")
            w.openArray("ParameterList", type: "cwmp:SetParameterAttributesStruct", count: params.count)
            for p in params {
                w.open("SetParameterAttributesStruct")
                w.leaf("Name", p.name)
                w.leaf("NotificationChange", p.notificationChange)
                w.leaf("Notification", p.notification)
                w.leaf("AccessListChange", p.accessListChange)
                EnvelopeWriter.stringArray("AccessList", p.accessList, into: &w)
                w.close("SetParameterAttributesStruct")
            }
            w.close("ParameterList")
            w.close("cwmp:SetParameterAttributes")
        case .addObject(let objectName, let key):
            w.open("cwmp:AddObject")
            w.leaf("ObjectName", objectName)
            w.leaf("ParameterKey", key)
            w.close("cwmp:AddObject")
        case .deleteObject(let objectName, let key):
            w.open("cwmp:DeleteObject")
            w.leaf("ObjectName", objectName)
            w.leaf("ParameterKey", key)
            w.close("cwmp:DeleteObject")
        case .reboot(let key):
            w.open("cwmp:Reboot")
            w.leaf("CommandKey", key)
            w.close("cwmp:Reboot")
        case .factoryReset:
            w.empty("cwmp:FactoryReset")
        case .download(let d):
            w.open("cwmp:Download")
            w.leaf("CommandKey", d.commandKey)
            w.leaf("FileType", d.fileType)
            w.leaf("URL", d.url)
            w.leaf("Username", d.username)
            w.leaf("Password", d.password)
            w.leaf("FileSize", d.fileSize)
            w.leaf("TargetFileName", d.targetFileName)
            w.leaf("DelaySeconds", d.delaySeconds)
            w.leaf("SuccessURL", d.successURL)
            w.leaf("FailureURL", d.failureURL)
            w.close("cwmp:Download")
        case .upload(let u):
            w.open("cwmp:Upload")
            w.leaf("CommandKey", u.commandKey)
            w.leaf("FileType", u.fileType)
            w.leaf("URL", u.url)
            w.leaf("Username", u.username)
            w.leaf("Password", u.password)
            w.leaf("DelaySeconds", u.delaySeconds)
            w.close("cwmp:Upload")
        case .scheduleInform(let delay, let key):
            w.open("cwmp:ScheduleInform")
            w.leaf("DelaySeconds", delay)
            w.leaf("CommandKey", key)
            w.close("cwmp:ScheduleInform")
        case .scheduleDownload(let d):
            w.open("cwmp:ScheduleDownload")
            w.leaf("CommandKey", d.commandKey)
            w.leaf("FileType", d.fileType)
            w.leaf("URL", d.url)
            w.leaf("Username", d.username)
            w.leaf("Password", d.password)
            w.leaf("FileSize", d.fileSize)
            w.leaf("TargetFileName", d.targetFileName)
            w.openArray("TimeWindowList", type: "cwmp:TimeWindowStruct", count: d.timeWindows.count)
            for t in d.timeWindows {
                w.open("TimeWindowStruct")
                w.leaf("WindowStart", t.windowStart)
                w.leaf("WindowEnd", t.windowEnd)
                w.leaf("WindowMode", t.windowMode)
                w.leaf("UserMessage", t.userMessage)
                w.leaf("MaxRetries", t.maxRetries)
                w.close("TimeWindowStruct")
            }
            w.close("TimeWindowList")
            w.close("cwmp:ScheduleDownload")
        case .cancelTransfer(let key):
            w.open("cwmp:CancelTransfer")
            w.leaf("CommandKey", key)
            w.close("cwmp:CancelTransfer")
        case .getQueuedTransfers:
            w.empty("cwmp:GetQueuedTransfers")
        case .getAllQueuedTransfers:
            w.empty("cwmp:GetAllQueuedTransfers")
        case .changeDUState(let operations, let key):
            w.open("cwmp:ChangeDUState")
            for op in operations { writeOperation(op, into: &w) }
            w.leaf("CommandKey", key)
            w.close("cwmp:ChangeDUState")
        }
    }

    /// One `Operations` element per operation, typed with xsi:type (the schema's OperationStruct is abstract).
    /// Optional elements are written only when non-empty, except Uninstall's required UUID and Install's URL.
    static func writeOperation(_ op: DUOperation, into w: inout XMLWriter) {
        switch op {
        case .install(let url, let uuid, let username, let password, let eeRef):
            w.raw("<Operations xsi:type=\"cwmp:InstallOpStruct\">")
            w.leaf("URL", url)
            if !uuid.isEmpty { w.leaf("UUID", uuid) }
            if !username.isEmpty { w.leaf("Username", username) }
            if !password.isEmpty { w.leaf("Password", password) }
            if !eeRef.isEmpty { w.leaf("ExecutionEnvRef", eeRef) }
        case .update(let uuid, let version, let url, let username, let password):
            w.raw("<Operations xsi:type=\"cwmp:UpdateOpStruct\">")
            if !uuid.isEmpty { w.leaf("UUID", uuid) }
            if !version.isEmpty { w.leaf("Version", version) }
            if !url.isEmpty { w.leaf("URL", url) }
            if !username.isEmpty { w.leaf("Username", username) }
            if !password.isEmpty { w.leaf("Password", password) }
        case .uninstall(let uuid, let version, let eeRef):
            w.raw("<Operations xsi:type=\"cwmp:UninstallOpStruct\">")
            w.leaf("UUID", uuid)
            if !version.isEmpty { w.leaf("Version", version) }
            if !eeRef.isEmpty { w.leaf("ExecutionEnvRef", eeRef) }
        }
        w.close("Operations")
    }

    static func write(_ response: ACSResponse, into w: inout XMLWriter) {
        switch response {
        case .inform(let maxEnvelopes):
            w.open("cwmp:InformResponse")
            w.leaf("MaxEnvelopes", maxEnvelopes)
            w.close("cwmp:InformResponse")
        case .transferComplete: w.empty("cwmp:TransferCompleteResponse")
        case .autonomousTransferComplete: w.empty("cwmp:AutonomousTransferCompleteResponse")
        case .requestDownload: w.empty("cwmp:RequestDownloadResponse")
        case .kicked(let nextURL):
            w.open("cwmp:KickedResponse")
            w.leaf("NextURL", nextURL)
            w.close("cwmp:KickedResponse")
        case .getRPCMethods(let methods):
            w.open("cwmp:GetRPCMethodsResponse")
            EnvelopeWriter.stringArray("MethodList", methods, into: &w)
            w.close("cwmp:GetRPCMethodsResponse")
        case .duStateChangeComplete: w.empty("cwmp:DUStateChangeCompleteResponse")
        case .autonomousDUStateChangeComplete: w.empty("cwmp:AutonomousDUStateChangeCompleteResponse")
        }
    }
}
