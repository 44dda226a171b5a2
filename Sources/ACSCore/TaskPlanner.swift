import CWMP

/// Where a task stands after the CPE answered.
public enum TaskOutcome: Sendable, Equatable {
    case done(TaskResult)
    /// Accepted; the result arrives with a later event or TransferComplete.
    case waiting(TaskResult)
    case fault(CWMPFault)
    /// Transient failure: pending again after a backoff.
    case retry(CWMPFault)
    /// The CPE lacks what this way of doing it needs (9005): pending again at once, done another way.
    case replan(TaskKind, CWMPFault)
}

/// Pure rules turning tasks into RPCs and answers into task outcomes.
public enum TaskPlanner {
    public static func request(for task: DeviceTask) -> ACSRequest {
        let key = task.commandKey.isEmpty ? DeviceTask.commandKey(forTaskID: task.id) : task.commandKey
        switch task.kind {
        case .reboot: return .reboot(commandKey: key)
        case .factoryReset: return .factoryReset
        case .setParameterValues(let values): return .setParameterValues(parameters: values, parameterKey: key)
        case .getParameterValues(let names): return .getParameterValues(names: names)
        case .refresh(let path): return .getParameterValues(names: [path])
        case .addObject(let name): return .addObject(objectName: name, parameterKey: key)
        case .deleteObject(let name): return .deleteObject(objectName: name, parameterKey: key)
        case .download(let url, let fileType, let size, let target):
            return .download(Download(commandKey: key, fileType: fileType, url: url, fileSize: size, targetFileName: target))
        case .diagnostics(let d): return .setParameterValues(parameters: d.plan.values, parameterKey: key)
        case .upload(let fileType):
            return .upload(Upload(commandKey: key, fileType: fileType, url: "", username: "", password: "", delaySeconds: 0))
        case .scheduleDownload(let url, let fileType, let size, let target, let start, let end):
            return .scheduleDownload(ScheduleDownload(commandKey: key, fileType: fileType, url: url, fileSize: size, targetFileName: target,
                                                      timeWindows: [TimeWindow(windowStart: start, windowEnd: end)]))
        case .cancelTransfer(let commandKey): return .cancelTransfer(commandKey: commandKey)
        case .queuedTransfers: return .getAllQueuedTransfers
        }
    }

    /// The diagnostics object a SetParameterValues starts (`X.DiagnosticsState = Requested`), if any.
    public static func diagnosticsObject(of task: DeviceTask) -> String? {
        if case .diagnostics(let d) = task.kind { return d.plan.object }
        guard case .setParameterValues(let values) = task.kind else { return nil }
        guard let p = values.first(where: { $0.name.hasSuffix(".DiagnosticsState") && $0.value == "Requested" }) else { return nil }
        return String(p.name.dropLast("DiagnosticsState".count))
    }

    public static func outcome(for task: DeviceTask, response: CPEResponse) -> TaskOutcome {
        switch response {
        case .reboot:
            return .waiting(TaskResult())                      // confirmed by the next boot (resolveWaiting)
        case .factoryReset:
            return .waiting(TaskResult())                      // confirmed by "0 BOOTSTRAP" (or a boot on onboarding credentials)
        case .download(let r), .upload(let r):
            return r.status == 0 ? .done(TaskResult(status: 0)) : .waiting(TaskResult(status: r.status))
        case .setParameterValues(let status):
            if diagnosticsObject(of: task) != nil { return .waiting(TaskResult(status: status)) }
            return .done(TaskResult(status: status))
        case .getParameterValues(let values):
            // A read is done only if every path asked for came back: a CPE leaving one out has not read it.
            if let missing = missingPaths(task, values).first {
                return .fault(CWMPFault(code: 9005, string: "Invalid parameter name: the CPE returned no value for \(missing)"))
            }
            return .done(TaskResult(values: values))
        case .addObject(let n, let status):
            // Instance numbers start at 1: 0 means the CPE did not create one, whatever status it claims.
            if n == 0 { return .fault(CWMPFault(code: 9002, string: "Internal error: the CPE answered AddObject with instance number 0")) }
            return .done(TaskResult(instanceNumber: n, status: status))
        case .deleteObject(let status):
            return .done(TaskResult(status: status))
        case .scheduleDownload:
            return .waiting(TaskResult())                      // TransferComplete once the window opened
        case .getAllQueuedTransfers(let list):
            return .done(TaskResult(values: queuedTransferValues(list)))
        default:
            return .done(TaskResult())
        }
    }

    public static func outcome(for task: DeviceTask, fault: CWMPFault) -> TaskOutcome {
        // A vendor object the CPE does not have, or TR-181 2.9 inputs an older CPE lacks: the next path set.
        if case .diagnostics(let d) = task.kind, Self.lacksParameter(fault), let next = d.next() {
            return .replan(.diagnostics(next), fault)
        }
        if RetryPolicy.isTransient(fault.code) && task.attempts + 1 < RetryPolicy.maxAttempts { return .retry(fault) }
        return .fault(fault)
    }

    /// Paths a GetParameterValues task asked for that no returned value answers (a parameter by name, an object by
    /// at least one value below it; an empty object may legitimately return nothing and is not counted).
    static func missingPaths(_ task: DeviceTask, _ values: [ParameterValue]) -> [String] {
        let asked: [String]
        switch task.kind {
        case .getParameterValues(let names): asked = names
        case .refresh(let path): asked = [path]
        default: return []
        }
        let names = Set(values.map(\.name))
        return asked.filter { !$0.hasSuffix(".") && !$0.isEmpty && !names.contains($0) }
    }

    /// 9005 (invalid parameter name), directly or for any parameter of a SetParameterValues.
    public static func lacksParameter(_ f: CWMPFault) -> Bool {
        f.code == 9005 || f.setParameterValuesFaults.contains { $0.code == 9005 }
    }

    /// Does this Inform finish a task that was waiting? Returns the outcome if so.
    /// `quirks` are the device profile's: with `reboot_without_commandkey` any Inform of a later session confirms
    /// a reboot (the CPE's boot carries no trace of it).
    public static func resolveWaiting(_ task: DeviceTask, inform: Inform, quirks: ProfileQuirks = ProfileQuirks()) -> TaskOutcome? {
        switch task.kind {
        case .reboot:
            // Our CommandKey confirms it; so does any later boot: CPEs send "M Reboot" with an empty or another key,
            // or only "1 BOOT" (the task waits from the session that sent it, so this boot came after).
            if quirks.rebootWithoutCommandKey { return .done(TaskResult()) }
            let ours = inform.events.contains { $0.code == EventCode.mReboot && $0.commandKey == task.commandKey }
            return ours || inform.hasEvent(EventCode.boot) || inform.hasEvent(EventCode.mReboot) ? .done(TaskResult()) : nil
        case .factoryReset:
            return inform.hasEvent(EventCode.bootstrap) ? .done(TaskResult()) : nil
        default:
            return nil
        }
    }

    /// A GetAllQueuedTransfers answer as the values of a task result (QueuedTransfers.<n>.CommandKey, State, …).
    public static func queuedTransferValues(_ list: [QueuedTransfer]) -> [ParameterValue] {
        list.enumerated().flatMap { i, t -> [ParameterValue] in
            let p = "QueuedTransfers.\(i + 1)."
            var v = [ParameterValue(name: p + "CommandKey", value: t.commandKey),
                     ParameterValue(name: p + "State", value: String(t.state), type: .int)]
            if let d = t.isDownload { v.append(ParameterValue(name: p + "IsDownload", value: d ? "true" : "false", type: .boolean)) }
            if let f = t.fileType { v.append(ParameterValue(name: p + "FileType", value: f)) }
            if let s = t.fileSize { v.append(ParameterValue(name: p + "FileSize", value: String(s), type: .unsignedInt)) }
            if let n = t.targetFileName { v.append(ParameterValue(name: p + "TargetFileName", value: n)) }
            return v
        }
    }

    /// How long a task may wait for its confirming event before it is failed.
    public static func waitingDeadline(_ kind: TaskKind) -> Int64 {
        switch kind {
        case .reboot, .factoryReset: 3600
        case .diagnostics(let d): Int64(d.options.deadlineSeconds)
        case .scheduleDownload(_, _, _, _, _, let end): Int64(end) + 86_400
        default: 86_400
        }
    }

    /// A waiting task this Inform cannot confirm any more: the device bootstrapped (state wiped), or the deadline passed.
    public static func expireWaiting(_ task: DeviceTask, inform: Inform, now: Int64) -> TaskOutcome? {
        if inform.hasEvent(EventCode.bootstrap), task.kind != .factoryReset {
            return .fault(CWMPFault(code: 8002, string: "the device bootstrapped (factory reset or new ACS) before confirming the \(task.kind.label)"))
        }
        if now - task.updatedAt > waitingDeadline(task.kind) {
            if case .diagnostics = task.kind {
                return .fault(CWMPFault(code: 8002, string: "no 8 DIAGNOSTICS COMPLETE within \(waitingDeadline(task.kind)) s: the test timed out"))
            }
            return .fault(CWMPFault(code: 8002, string: "no confirmation of the \(task.kind.label) within \(waitingDeadline(task.kind)) s"))
        }
        return nil
    }

    /// TransferComplete for a waiting Download.
    public static func resolveTransfer(_ task: DeviceTask, _ tc: TransferComplete) -> TaskOutcome? {
        switch task.kind {
        case .download, .upload, .scheduleDownload: break
        default: return nil
        }
        guard tc.commandKey == task.commandKey else { return nil }
        if tc.fault.code == 0 { return .done(TaskResult(status: 0)) }
        return .fault(CWMPFault(code: tc.fault.code, string: tc.fault.string))
    }
}
