import CWMP
import DataModel

/// Work a virtual CPE does after the session that asked for it, as a real CPE does.
public enum DeferredAction: Sendable, Equatable {
    case reboot(commandKey: String)
    case factoryReset
    /// A Download performed right after the session (DelaySeconds 0).
    case download(Download)
    case upload(Upload)
    case scheduleInform(delaySeconds: UInt32, commandKey: String)
    /// A diagnostics object whose DiagnosticsState was set to Requested, e.g. "Device.IP.Diagnostics.DownloadDiagnostics.".
    case diagnostics(object: String)
    /// A transfer went into the CPE's `TransferQueue` (ScheduleDownload, or Download with DelaySeconds): wake the CPE
    /// at this Unix time, when it may start; the session that follows performs it before its Inform.
    case transferQueued(startAt: Double)
}

/// Answers ACS requests on a virtual data model. Pure: no I/O.
public enum RPCHandler {
    public static let cpeMethods = ["GetRPCMethods", "GetParameterNames", "GetParameterValues", "SetParameterValues",
                                    "GetParameterAttributes", "SetParameterAttributes", "AddObject", "DeleteObject",
                                    "Reboot", "FactoryReset", "Download", "Upload", "ScheduleInform", "ScheduleDownload",
                                    "CancelTransfer", "GetQueuedTransfers", "GetAllQueuedTransfers"]

    public struct Outcome: Sendable, Equatable {
        public var body: CWMPBody
        public var deferred: DeferredAction?
    }

    /// `transfers` is the CPE's queue of transfers not yet performed; `now` the Unix time the request arrived
    /// (ScheduleDownload windows and DelaySeconds count from it).
    public static func handle(_ request: ACSRequest, model: inout VirtualDataModel, transfers: inout TransferQueue, now: Double) -> Outcome {
        let root = model.template.root
        func ok(_ r: CPEResponse, _ d: DeferredAction? = nil) -> Outcome { Outcome(body: .cpeResponse(r), deferred: d) }
        func fault(_ f: CWMPFault) -> Outcome { Outcome(body: .fault(f), deferred: nil) }
        func queueFull(_ capacity: Int) -> CWMPFault { CWMPFault(code: 9004, string: "Resources exceeded: \(capacity) transfers already queued") }

        switch request {
        case .getRPCMethods:
            return ok(.getRPCMethods(methods: cpeMethods))
        case .getParameterNames(let path, let nextLevel):
            switch model.getParameterNames(path: path, nextLevel: nextLevel) {
            case .success(let list): return ok(.getParameterNames(list))
            case .failure(let f): return fault(f)
            }
        case .getParameterValues(let names):
            switch model.getParameterValues(names) {
            case .success(let list): return ok(.getParameterValues(list))
            case .failure(let f): return fault(f)
            }
        case .setParameterValues(let params, let key):
            if let f = model.setParameterValues(params) { return fault(f) }
            _ = model.force(root + "ManagementServer.ParameterKey", key)
            let diag = params.first { $0.name.hasSuffix(".DiagnosticsState") && $0.value == "Requested" }
            return ok(.setParameterValues(status: 0), diag.map { .diagnostics(object: String($0.name.dropLast("DiagnosticsState".count))) })
        case .getParameterAttributes(let names):
            switch model.getParameterAttributes(names) {
            case .success(let list): return ok(.getParameterAttributes(list))
            case .failure(let f): return fault(f)
            }
        case .setParameterAttributes(let list):
            if let f = model.setParameterAttributes(list) { return fault(f) }
            return ok(.setParameterAttributes)
        case .addObject(let name, let key):
            switch model.addObject(name) {
            case .success(let n):
                _ = model.force(root + "ManagementServer.ParameterKey", key)
                return ok(.addObject(instanceNumber: n, status: 0))
            case .failure(let f): return fault(f)
            }
        case .deleteObject(let name, let key):
            if let f = model.deleteObject(name) { return fault(f) }
            _ = model.force(root + "ManagementServer.ParameterKey", key)
            return ok(.deleteObject(status: 0))
        case .reboot(let key):
            return ok(.reboot, .reboot(commandKey: key))
        case .factoryReset:
            return ok(.factoryReset, .factoryReset)
        case .download(let d):
            guard d.url.hasPrefix("http://") else { return fault(CWMPFault(code: 9013, string: "Unsupported protocol for file transfer")) }
            guard d.delaySeconds > 0 else { return ok(.download(TransferResponse(status: 1)), .download(d)) }
            guard let e = transfers.add(d, now: now) else { return fault(queueFull(transfers.capacity)) }
            return ok(.download(TransferResponse(status: 1)), .transferQueued(startAt: e.start))
        case .scheduleDownload(let s):
            if let f = TransferQueue.validate(s.timeWindows) { return fault(f) }
            guard s.url.hasPrefix("http://") else { return fault(CWMPFault(code: 9013, string: "Unsupported protocol for file transfer")) }
            guard let e = transfers.add(s, now: now) else { return fault(queueFull(transfers.capacity)) }
            return ok(.scheduleDownload, .transferQueued(startAt: e.start))
        case .cancelTransfer(let key):
            guard transfers.cancel(commandKey: key) else {
                return fault(CWMPFault(code: 9021, string: "Cancelation of file transfer not permitted in current transfer state"))
            }
            return ok(.cancelTransfer)
        case .upload(let u):
            guard u.url.hasPrefix("http://") else { return fault(CWMPFault(code: 9013, string: "Unsupported protocol for file transfer")) }
            return ok(.upload(TransferResponse(status: 1)), .upload(u))
        case .scheduleInform(let delay, let key):
            return ok(.scheduleInform, .scheduleInform(delaySeconds: delay, commandKey: key))
        case .getQueuedTransfers:
            return ok(.getQueuedTransfers(transfers.list()))
        case .getAllQueuedTransfers:
            return ok(.getAllQueuedTransfers(transfers.list(detailed: true)))
        case .changeDUState:
            return fault(CWMPFault(code: 9000, string: "Method not supported"))
        }
    }
}
