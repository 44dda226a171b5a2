// Messages a CPE sends: its own requests (Inform, TransferComplete, ...) and responses to ACS requests.

enum CPEMessageReader {
    /// nil when `name` is not a message a CPE sends.
    static func read(_ rpc: XElem, name: String, _ ctx: DecodeContext) throws -> CWMPBody? {
        switch name {
        // CPE requests
        case "Inform": return .cpeRequest(.inform(try inform(rpc, ctx)))
        case "TransferComplete":
            return .cpeRequest(.transferComplete(TransferComplete(
                commandKey: rpc.string("CommandKey"), fault: try rpc.faultStruct("FaultStruct", ctx),
                startTime: rpc.dateTime("StartTime", default: CWMPDateTime.unknown),
                completeTime: rpc.dateTime("CompleteTime", default: CWMPDateTime.unknown))))
        case "AutonomousTransferComplete":
            return .cpeRequest(.autonomousTransferComplete(AutonomousTransferComplete(
                announceURL: rpc.token("AnnounceURL"), transferURL: rpc.token("TransferURL"),
                isDownload: try rpc.bool("IsDownload", ctx), fileType: rpc.token("FileType"),
                fileSize: try rpc.uint32("FileSize", ctx), targetFileName: rpc.string("TargetFileName"),
                fault: try rpc.faultStruct("FaultStruct", ctx),
                startTime: rpc.dateTime("StartTime", default: CWMPDateTime.unknown),
                completeTime: rpc.dateTime("CompleteTime", default: CWMPDateTime.unknown))))
        case "RequestDownload":
            let args = rpc.arrayItems("FileTypeArg").map { ArgStruct(name: $0.token("Name"), value: $0.string("Value")) }
            return .cpeRequest(.requestDownload(fileType: rpc.token("FileType"), args: args))
        case "Kicked":
            return .cpeRequest(.kicked(command: rpc.string("Command"), referer: rpc.string("Referer"),
                                       arg: rpc.string("Arg"), next: rpc.token("Next")))
        case "GetRPCMethods": return .cpeRequest(.getRPCMethods)
        case "DUStateChangeComplete":
            return .cpeRequest(.duStateChangeComplete(results: try rpc.opResults(ctx, autonomous: false),
                                                      commandKey: rpc.string("CommandKey")))
        case "AutonomousDUStateChangeComplete":
            return .cpeRequest(.autonomousDUStateChangeComplete(results: try rpc.opResults(ctx, autonomous: true)))

        // Responses to ACS requests
        case "GetRPCMethodsResponse": return .cpeResponse(.getRPCMethods(methods: rpc.stringArray("MethodList")))
        case "GetParameterNamesResponse":
            var infos: [ParameterInfo] = []
            for item in rpc.arrayItems("ParameterList") {
                infos.append(ParameterInfo(name: item.token("Name"), writable: try item.bool("Writable", ctx)))
            }
            return .cpeResponse(.getParameterNames(infos))
        case "GetParameterValuesResponse": return .cpeResponse(.getParameterValues(rpc.parameterValueList("ParameterList")))
        case "SetParameterValuesResponse": return .cpeResponse(.setParameterValues(status: try rpc.int("Status", ctx)))
        case "GetParameterAttributesResponse":
            var attrs: [ParameterAttribute] = []
            for item in rpc.arrayItems("ParameterList") {
                attrs.append(ParameterAttribute(name: item.token("Name"), notification: try item.int("Notification", ctx),
                                                accessList: item.stringArray("AccessList")))
            }
            return .cpeResponse(.getParameterAttributes(attrs))
        case "SetParameterAttributesResponse": return .cpeResponse(.setParameterAttributes)
        case "AddObjectResponse":
            return .cpeResponse(.addObject(instanceNumber: try rpc.uint32("InstanceNumber", ctx),
                                           status: try rpc.int("Status", ctx)))
        case "DeleteObjectResponse": return .cpeResponse(.deleteObject(status: try rpc.int("Status", ctx)))
        case "RebootResponse": return .cpeResponse(.reboot)
        case "FactoryResetResponse": return .cpeResponse(.factoryReset)
        case "DownloadResponse": return .cpeResponse(.download(try transferResponse(rpc, ctx)))
        case "UploadResponse": return .cpeResponse(.upload(try transferResponse(rpc, ctx)))
        case "ScheduleInformResponse": return .cpeResponse(.scheduleInform)
        case "ScheduleDownloadResponse": return .cpeResponse(.scheduleDownload)
        case "CancelTransferResponse": return .cpeResponse(.cancelTransfer)
        case "GetQueuedTransfersResponse":
            var list: [QueuedTransfer] = []
            for item in rpc.arrayItems("TransferList") {
                list.append(QueuedTransfer(commandKey: item.string("CommandKey"), state: try item.int("State", ctx)))
            }
            return .cpeResponse(.getQueuedTransfers(list))
        case "GetAllQueuedTransfersResponse":
            var list: [QueuedTransfer] = []
            for item in rpc.arrayItems("TransferList") {
                list.append(QueuedTransfer(
                    commandKey: item.string("CommandKey"), state: try item.int("State", ctx),
                    isDownload: try item.bool("IsDownload", ctx), fileType: item.token("FileType"),
                    fileSize: try item.uint32("FileSize", ctx), targetFileName: item.string("TargetFileName")))
            }
            return .cpeResponse(.getAllQueuedTransfers(list))
        case "ChangeDUStateResponse": return .cpeResponse(.changeDUState)
        default: return nil
        }
    }

    static func inform(_ rpc: XElem, _ ctx: DecodeContext) throws -> Inform {
        let dev = rpc.child("DeviceId")
        let deviceId = DeviceID(manufacturer: dev?.string("Manufacturer") ?? "", oui: dev?.token("OUI") ?? "",
                                productClass: dev?.string("ProductClass") ?? "",
                                serialNumber: dev?.token("SerialNumber") ?? "")
        let events = rpc.arrayItems("Event").map { EventStruct(trimmed($0.string("EventCode")), commandKey: $0.string("CommandKey")) }
        return Inform(deviceId: deviceId, events: events, maxEnvelopes: try rpc.uint32("MaxEnvelopes", ctx, default: 1),
                      currentTime: rpc.dateTime("CurrentTime"), retryCount: try rpc.uint32("RetryCount", ctx),
                      parameters: rpc.parameterValueList("ParameterList"))
    }

    static func transferResponse(_ rpc: XElem, _ ctx: DecodeContext) throws -> TransferResponse {
        TransferResponse(status: try rpc.int("Status", ctx),
                         startTime: rpc.dateTime("StartTime", default: CWMPDateTime.unknown),
                         completeTime: rpc.dateTime("CompleteTime", default: CWMPDateTime.unknown))
    }
}
