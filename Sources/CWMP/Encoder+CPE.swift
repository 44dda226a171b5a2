// Messages a CPE sends (what the simulator puts on the wire): its requests and responses to ACS requests.

enum CPEMessageWriter {
    static func write(_ request: CPERequest, into w: inout XMLWriter) {
        switch request {
        case .inform(let inform):
            w.open("cwmp:Inform")
            w.open("DeviceId")
            w.leaf("Manufacturer", inform.deviceId.manufacturer)
            w.leaf("OUI", inform.deviceId.oui)
            w.leaf("ProductClass", inform.deviceId.productClass)
            w.leaf("SerialNumber", inform.deviceId.serialNumber)
            w.close("DeviceId")
            w.openArray("Event", type: "cwmp:EventStruct", count: inform.events.count)
            for e in inform.events {
                w.open("EventStruct")
                w.leaf("EventCode", e.code)
                w.leaf("CommandKey", e.commandKey)
                w.close("EventStruct")
            }
            w.close("Event")
            w.leaf("MaxEnvelopes", inform.maxEnvelopes)
            w.dateTime("CurrentTime", inform.currentTime)
            w.leaf("RetryCount", inform.retryCount)
            EnvelopeWriter.parameterValueList("ParameterList", inform.parameters, into: &w)
            w.close("cwmp:Inform")
        case .transferComplete(let t):
            w.open("cwmp:TransferComplete")
            w.leaf("CommandKey", t.commandKey)
            EnvelopeWriter.faultStruct("FaultStruct", t.fault, into: &w)
            w.dateTime("StartTime", t.startTime)
            w.dateTime("CompleteTime", t.completeTime)
            w.close("cwmp:TransferComplete")
        case .autonomousTransferComplete(let t):
            w.open("cwmp:AutonomousTransferComplete")
            w.leaf("AnnounceURL", t.announceURL)
            w.leaf("TransferURL", t.transferURL)
            w.leaf("IsDownload", t.isDownload)
            w.leaf("FileType", t.fileType)
            w.leaf("FileSize", t.fileSize)
            w.leaf("TargetFileName", t.targetFileName)
            EnvelopeWriter.faultStruct("FaultStruct", t.fault, into: &w)
            w.dateTime("StartTime", t.startTime)
            w.dateTime("CompleteTime", t.completeTime)
            w.close("cwmp:AutonomousTransferComplete")
        case .requestDownload(let fileType, let args):
            w.open("cwmp:RequestDownload")
            w.leaf("FileType", fileType)
            w.openArray("FileTypeArg", type: "cwmp:ArgStruct", count: args.count)
            for a in args {
                w.open("ArgStruct")
                w.leaf("Name", a.name)
                w.leaf("Value", a.value)
                w.close("ArgStruct")
            }
            w.close("FileTypeArg")
            w.close("cwmp:RequestDownload")
        case .kicked(let command, let referer, let arg, let next):
            w.open("cwmp:Kicked")
            w.leaf("Command", command)
            w.leaf("Referer", referer)
            w.leaf("Arg", arg)
            w.leaf("Next", next)
            w.close("cwmp:Kicked")
        case .getRPCMethods:
            w.empty("cwmp:GetRPCMethods")
        case .duStateChangeComplete(let results, let key):
            w.open("cwmp:DUStateChangeComplete")
            for r in results { writeOpResult(r, autonomous: false, into: &w) }
            w.leaf("CommandKey", key)
            w.close("cwmp:DUStateChangeComplete")
        case .autonomousDUStateChangeComplete(let results):
            w.open("cwmp:AutonomousDUStateChangeComplete")
            for r in results { writeOpResult(r, autonomous: true, into: &w) }
            w.close("cwmp:AutonomousDUStateChangeComplete")
        }
    }

    /// One `Results` element per result, as cwmp-1-2.xsd defines it (repeated element, not a SOAP array).
    static func writeOpResult(_ r: DUOpResult, autonomous: Bool, into w: inout XMLWriter) {
        w.open("Results")
        w.leaf("UUID", r.uuid)
        w.leaf("DeploymentUnitRef", r.deploymentUnitRef)
        w.leaf("Version", r.version)
        w.leaf("CurrentState", r.currentState)
        w.leaf("Resolved", r.resolved)
        w.leaf("ExecutionUnitRefList", r.executionUnitRefList)
        w.dateTime("StartTime", r.startTime)
        w.dateTime("CompleteTime", r.completeTime)
        EnvelopeWriter.faultStruct("Fault", r.fault, into: &w)
        if autonomous { w.leaf("OperationPerformed", r.operationPerformed ?? "") }
        w.close("Results")
    }

    static func write(_ response: CPEResponse, into w: inout XMLWriter) {
        switch response {
        case .getRPCMethods(let methods):
            w.open("cwmp:GetRPCMethodsResponse")
            EnvelopeWriter.stringArray("MethodList", methods, into: &w)
            w.close("cwmp:GetRPCMethodsResponse")
        case .getParameterNames(let infos):
            w.open("cwmp:GetParameterNamesResponse")
            w.openArray("ParameterList", type: "cwmp:ParameterInfoStruct", count: infos.count)
            for i in infos {
                w.open("ParameterInfoStruct")
                w.leaf("Name", i.name)
                w.leaf("Writable", i.writable)
                w.close("ParameterInfoStruct")
            }
            w.close("ParameterList")
            w.close("cwmp:GetParameterNamesResponse")
        case .getParameterValues(let params):
            w.open("cwmp:GetParameterValuesResponse")
            EnvelopeWriter.parameterValueList("ParameterList", params, into: &w)
            w.close("cwmp:GetParameterValuesResponse")
        case .setParameterValues(let status):
            w.open("cwmp:SetParameterValuesResponse")
            w.leaf("Status", status)
            w.close("cwmp:SetParameterValuesResponse")
        case .getParameterAttributes(let attrs):
            w.open("cwmp:GetParameterAttributesResponse")
            w.openArray("ParameterList", type: "cwmp:ParameterAttributeStruct", count: attrs.count)
            for a in attrs {
                w.open("ParameterAttributeStruct")
                w.leaf("Name", a.name)
                w.leaf("Notification", a.notification)
                EnvelopeWriter.stringArray("AccessList", a.accessList, into: &w)
                w.close("ParameterAttributeStruct")
            }
            w.close("ParameterList")
            w.close("cwmp:GetParameterAttributesResponse")
        case .setParameterAttributes: w.empty("cwmp:SetParameterAttributesResponse")
        case .addObject(let instance, let status):
            w.open("cwmp:AddObjectResponse")
            w.leaf("InstanceNumber", instance)
            w.leaf("Status", status)
            w.close("cwmp:AddObjectResponse")
        case .deleteObject(let status):
            w.open("cwmp:DeleteObjectResponse")
            w.leaf("Status", status)
            w.close("cwmp:DeleteObjectResponse")
        case .reboot: w.empty("cwmp:RebootResponse")
        case .factoryReset: w.empty("cwmp:FactoryResetResponse")
        case .download(let r): transferResponse("cwmp:DownloadResponse", r, into: &w)
        case .upload(let r): transferResponse("cwmp:UploadResponse", r, into: &w)
        case .scheduleInform: w.empty("cwmp:ScheduleInformResponse")
        case .scheduleDownload: w.empty("cwmp:ScheduleDownloadResponse")
        case .cancelTransfer: w.empty("cwmp:CancelTransferResponse")
        case .getQueuedTransfers(let list):
            w.open("cwmp:GetQueuedTransfersResponse")
            w.openArray("TransferList", type: "cwmp:QueuedTransferStruct", count: list.count)
            for t in list {
                w.open("QueuedTransferStruct")
                w.leaf("CommandKey", t.commandKey)
                w.leaf("State", t.state)
                w.close("QueuedTransferStruct")
            }
            w.close("TransferList")
            w.close("cwmp:GetQueuedTransfersResponse")
        case .getAllQueuedTransfers(let list):
            w.open("cwmp:GetAllQueuedTransfersResponse")
            w.openArray("TransferList", type: "cwmp:AllQueuedTransferStruct", count: list.count)
            for t in list {
                w.open("AllQueuedTransferStruct")
                w.leaf("CommandKey", t.commandKey)
                w.leaf("State", t.state)
                w.leaf("IsDownload", t.isDownload ?? true)
                w.leaf("FileType", t.fileType ?? "1 Firmware Upgrade Image")
                w.leaf("FileSize", t.fileSize ?? 0)
                w.leaf("TargetFileName", t.targetFileName ?? "")
                w.close("AllQueuedTransferStruct")
            }
            w.close("TransferList")
            w.close("cwmp:GetAllQueuedTransfersResponse")
        case .changeDUState: w.empty("cwmp:ChangeDUStateResponse")
        }
    }

    static func transferResponse(_ name: StaticString, _ r: TransferResponse, into w: inout XMLWriter) {
        w.open(name)
        w.leaf("Status", r.status)
        w.dateTime("StartTime", r.startTime)
        w.dateTime("CompleteTime", r.completeTime)
        w.close(name)
    }
}
