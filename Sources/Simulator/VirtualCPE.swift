import CWMP
import DataModel
import Foundation

/// One simulated device: its data model, pending events and what it must do next. One session at a time;
/// the lock guards the state shared with the connection-request listener.
public final class VirtualCPE: @unchecked Sendable {
    public let index: Int
    public let serial: String
    let lock = NSLock()
    private(set) var model: VirtualDataModel
    private var events: [EventStruct]
    /// TransferCompletes not yet acknowledged by the ACS, oldest first (each session sends them all).
    var pendingTransfers: [TransferComplete] = []
    /// Transfers accepted and not yet performed (ScheduleDownload, Download with DelaySeconds).
    private var transfers = TransferQueue()
    var inSession = false
    /// A connection request arrived (during a session or between): open a session as soon as possible.
    var wakeRequested = false
    var retryCount: UInt32 = 0
    /// Successful sessions so far (the first one onboards a factory-fresh device).
    var completedSessions = 0
    var nextInformAt: Double = 0
    /// The next session is the periodic one (it carries "2 PERIODIC").
    var periodicDue = false
    /// Unix time of the last (simulated) boot; UpTime is derived from it.
    var bootedAt = Date().timeIntervalSince1970
    let onboarding: (username: String, password: String)
    let identity: [String: String]
    /// Parameters with notification on that changed since the last Inform (sent with 4 VALUE CHANGE).
    private var changed: Set<String> = []
    /// The address the CPE's sockets are bound to (NAT detection compares the STUN-mapped address with it).
    var localAddress = ""
    private var _link = LinkProfile.unshaped
    private var _pingUDPPort = 7
    /// Diagnostics result rows for a model without the result tables, by diagnostics object (see `publishDiagnostics`).
    private var extraRows: [String: [ParameterValue]] = [:]
    /// The current run of each diagnostics object (numbers from `runsStarted`): only it may publish results.
    private var currentRun: [String: Int] = [:]
    private var runsStarted = 0
    private var _pendingFirmware: String?
    private var firmwareDownloads = 0

    public var root: String { model.template.root }

    init(index: Int, serial: String, template: ModelTemplate, identity: [String: String], onboarding: (String, String)) {
        self.index = index
        self.serial = serial
        self.identity = identity
        self.onboarding = onboarding
        model = VirtualDataModel(template: template)
        events = [EventStruct(EventCode.bootstrap), EventStruct(EventCode.boot)]
        applyFactoryIdentity()
    }

    /// What a factory-fresh device has: its identity and the onboarding credentials of its model.
    private func applyFactoryIdentity() {
        for (path, value) in identity { _ = model.force(path, value) }
        _ = model.force(root + "ManagementServer.Username", onboarding.username)
        _ = model.force(root + "ManagementServer.Password", onboarding.password)
    }

    public func value(_ path: String) -> String? { lock.withLock { model[path] } }
    /// The access link its diagnostics traffic goes through (`--link-mbps`, `--link-latency-ms`).
    public var link: LinkProfile {
        get { lock.withLock { _link } }
        set { lock.withLock { _link = newValue } }
    }
    /// UDP echo port that IPPing and TraceRoute probe (`--ping-udp-port`): ping is simulated with UDP echo.
    public var pingUDPPort: Int {
        get { lock.withLock { _pingUDPPort } }
        set { lock.withLock { _pingUDPPort = newValue } }
    }
    /// The version of a firmware image downloaded and not yet booted: the reboot after the download installs it
    /// (`applyPendingFirmware`).
    public internal(set) var pendingFirmware: String? {
        get { lock.withLock { _pendingFirmware } }
        set { lock.withLock { _pendingFirmware = newValue } }
    }
    /// Numbers this device's firmware downloads 0, 1, 2, … (the failure draws of a seeded run depend on it).
    func nextFirmwareDownload() -> Int { lock.withLock { defer { firmwareDownloads += 1 }; return firmwareDownloads } }
    /// The reboot after a firmware download: with `install`, SoftwareVersion becomes the pending version; without (an
    /// image that does not take), the device keeps its version. Either way nothing is pending after. Returns true when
    /// SoftwareVersion changed.
    func applyPendingFirmware(install: Bool) -> Bool {
        lock.withLock {
            defer { _pendingFirmware = nil }
            let path = root + "DeviceInfo.SoftwareVersion"
            guard install, let v = _pendingFirmware, model[path] != v else { return false }
            _ = model.force(path, v)
            return true
        }
    }
    public func withModel<T>(_ body: (inout VirtualDataModel) -> T) -> T { lock.withLock { body(&model) } }

    var credentials: (String, String) {
        lock.withLock { (model[root + "ManagementServer.Username"] ?? "", model[root + "ManagementServer.Password"] ?? "") }
    }
    var connectionRequestCredentials: (String, String) {
        lock.withLock { (model[root + "ManagementServer.ConnectionRequestUsername"] ?? "",
                         model[root + "ManagementServer.ConnectionRequestPassword"] ?? "") }
    }
    var informInterval: Double {
        lock.withLock {
            let enabled = model[root + "ManagementServer.PeriodicInformEnable"].map { $0 == "1" || $0 == "true" } ?? true
            let v = Double(model[root + "ManagementServer.PeriodicInformInterval"] ?? "") ?? 300
            return enabled ? max(1, v) : 86_400
        }
    }

    func addEvent(_ e: EventStruct) {
        lock.withLock {
            // Single events appear once; "M ..." events once per command key.
            if !events.contains(e) { events.append(e) }
        }
    }

    /// The Inform for a new session, with the events not yet acknowledged.
    func makeInform(now: Date) -> Inform {
        lock.withLock {
            refreshUpTime()
            driftRadio()
            var names = model.template.forcedInformParameters
            for extra in [root + "ManagementServer.ConnectionRequestURL", root + "DeviceInfo.SoftwareVersion"] + changed.sorted() where !names.contains(extra) {
                names.append(extra)
            }
            let params: [ParameterValue] = names.compactMap { n in
                guard let v = model[n] else { return nil }
                return ParameterValue(name: n, value: v, type: model.type(of: n) ?? .string)
            }
            return Inform(deviceId: DeviceID(manufacturer: identity[root + "DeviceInfo.Manufacturer"] ?? "",
                                             oui: identity[root + "DeviceInfo.ManufacturerOUI"] ?? "",
                                             productClass: identity[root + "DeviceInfo.ProductClass"] ?? "",
                                             serialNumber: serial),
                          events: events, maxEnvelopes: 1, currentTime: SimClock.dateTime(now), retryCount: retryCount, parameters: params)
        }
    }

    /// InformResponse received: the events that Inform carried are delivered (events added meanwhile, e.g. by a
    /// connection request, stay), except those a later TransferCompleteResponse acknowledges.
    func informAcknowledged(_ sent: [EventStruct], keepTransferEvents: Bool) {
        lock.withLock {
            events.removeAll { e in sent.contains(e) && !(keepTransferEvents && Self.isTransferEvent(e)) }
            if sent.contains(where: { $0.code == EventCode.valueChange }) { changed.removeAll() }
        }
    }

    static func isTransferEvent(_ e: EventStruct) -> Bool {
        e.code == EventCode.transferComplete || e.code == EventCode.mDownload || e.code == EventCode.mUpload
            || e.code == EventCode.mScheduleDownload
    }

    /// The ACS acknowledged `tc` (TransferCompleteResponse): it is no longer pending, and its "M ..." event goes
    /// (unless another pending transfer has the same command key), and "7 TRANSFER COMPLETE" once none is pending.
    func transferAcknowledged(_ tc: TransferComplete) {
        lock.withLock {
            if let i = pendingTransfers.firstIndex(of: tc) { pendingTransfers.remove(at: i) }
            let keys = Set(pendingTransfers.map(\.commandKey))
            events.removeAll { e in
                Self.isTransferEvent(e) && (e.code == EventCode.transferComplete ? pendingTransfers.isEmpty : !keys.contains(e.commandKey))
            }
        }
    }

    // MARK: queued transfers

    /// Takes the earliest transfer whose time has come (or passed) and marks it under way; nil when none is due.
    /// Call `finishTransfer` with its id when it is over.
    func beginDueTransfer(now: Double) -> TransferQueue.Entry? { lock.withLock { transfers.beginNextDue(now: now) } }
    func finishTransfer(id: Int) { lock.withLock { transfers.finish(id: id) } }
    func hasDueTransfer(now: Double) -> Bool { lock.withLock { !transfers.due(now: now).isEmpty } }
    /// What GetAllQueuedTransfers would answer now.
    public var queuedTransfers: [QueuedTransfer] { lock.withLock { transfers.list(detailed: true) } }

    func handle(_ request: ACSRequest, now: Double = Date().timeIntervalSince1970) -> RPCHandler.Outcome {
        lock.withLock {
            refreshUpTime()
            var outcome = RPCHandler.handle(request, model: &model, transfers: &transfers, now: now)
            if !extraRows.isEmpty, case .getParameterValues(let names) = request, case .cpeResponse(.getParameterValues(var list)) = outcome.body {
                for name in names where name.isEmpty || name.hasSuffix(".") {
                    for object in extraRows.keys.sorted() where object.hasPrefix(name) || name.hasPrefix(object) {
                        list += extraRows[object, default: []].filter { $0.name.hasPrefix(name) }
                    }
                }
                outcome.body = .cpeResponse(.getParameterValues(list))
            }
            return outcome
        }
    }

    // MARK: diagnostics results

    /// A diagnostics run starts: the previous results go (outputs back to their defaults, result tables emptied).
    /// Returns the run's number; a run still going on the same object is superseded (it will not publish).
    func beginDiagnostics(object: String, outputs: [String], tables: [String]) -> Int {
        lock.withLock {
            for name in outputs { model[object + name] = nil }
            for t in tables { _ = model.forceInstances(object + t + ".", count: 0) }
            extraRows[object] = nil
            runsStarted += 1
            currentRun[object] = runsStarted
            return runsStarted
        }
    }

    /// Writes a run's results and its final DiagnosticsState at once, so a GetParameterValues never sees half of them.
    /// Parameters the model lacks are skipped. Result tables become instances 1…n of the model's read-only tables;
    /// a model without them (a CPE model file) gets them as extra rows that GetParameterValues on the object
    /// returns, with the NumberOfEntries parameter set, as a TR-181 2.9–2.14 CPE reports them.
    /// Returns false (nothing written) when `run` is no longer the object's current run.
    func publishDiagnostics(object: String, run: Int, state: String, values: [(String, String)], tables: [(String, [[(String, String)]])]) -> Bool {
        lock.withLock {
            guard currentRun[object] == run else { return false }
            currentRun[object] = nil
            for (name, v) in values { _ = model.force(object + name, v) }
            for (table, rows) in tables {
                let path = object + table + "."
                if model.forceInstances(path, count: rows.count) {
                    for (i, row) in rows.enumerated() {
                        for (name, v) in row { _ = model.force(path + String(i + 1) + "." + name, v) }
                    }
                } else {
                    var extra = extraRows[object, default: []]
                    for (i, row) in rows.enumerated() {
                        for (name, v) in row { extra.append(ParameterValue(name: path + String(i + 1) + "." + name, value: v, type: Self.resultType(name))) }
                    }
                    extraRows[object] = extra
                    _ = model.force(object + table + "NumberOfEntries", String(rows.count))
                }
            }
            _ = model.force(object + "DiagnosticsState", state)
            return true
        }
    }

    /// The xsd type of a result-row parameter (extra rows only; the model's tables carry their own).
    static func resultType(_ name: String) -> XSDType {
        if name.hasSuffix("Time") { return .dateTime }
        if name == "PacketSuccess" { return .boolean }
        if name.hasSuffix("Host") || name.hasSuffix("HostAddress") || name.hasSuffix("RTTimes") { return .string }
        return name.hasPrefix("TestBytes") || name.hasPrefix("TotalBytes") ? .unsignedLong : .unsignedInt
    }

    /// Signal levels wander a little between sessions (±2 within the metric's range), so sampled KPIs draw a
    /// history rather than a flat line. Only values the model already has and that are not the BBF default 0.
    static let radio: [(suffix: String, range: ClosedRange<Int>)] = [("RSSI", -113...(-51)), ("RSRP", -140...(-44)), ("RSRQ", -20...(-3)), ("SINR", -10...30)]
    var radioPaths: [(path: String, range: ClosedRange<Int>)]?

    /// Call with the lock held.
    private func driftRadio() {
        if radioPaths == nil {
            let base = root + "Cellular.Interface.1."
            radioPaths = (model.parameterNames(under: base) ?? []).compactMap { n in
                Self.radio.first { n.hasSuffix($0.suffix) && !n.dropFirst(base.count).contains(".") }.map { (n, $0.range) }
            }
        }
        for (path, range) in radioPaths ?? [] {
            guard let v = Int(model[path] ?? ""), v != 0 else { continue }
            _ = model.force(path, String(min(range.upperBound, max(range.lowerBound, v + Int.random(in: -2...2)))))
        }
    }

    /// Call with the lock held.
    private func refreshUpTime() {
        _ = model.force(root + "DeviceInfo.UpTime", String(max(0, Int(Date().timeIntervalSince1970 - bootedAt))))
    }

    func rebooted() { lock.withLock { bootedAt = Date().timeIntervalSince1970 } }

    /// Factory reset: every change is gone, onboarding credentials are back, the next contact is a BOOTSTRAP (or,
    /// with the boot-not-bootstrap quirk, only a BOOT).
    func factoryReset(announceBootstrap: Bool = true) {
        lock.withLock {
            model.resetToFactory()
            events = announceBootstrap ? [EventStruct(EventCode.bootstrap), EventStruct(EventCode.boot)] : [EventStruct(EventCode.boot)]
            pendingTransfers = []
            transfers.removeAll()
            _pendingFirmware = nil
            extraRows = [:]
            currentRun = [:]
            bootedAt = Date().timeIntervalSince1970
        }
        lock.withLock { applyFactoryIdentity() }
    }

    /// A CPE that lost the credentials the ACS gave it without a factory reset (a firmware that rewrites its
    /// defaults, a config restored from an old backup): the onboarding credentials are back, everything else stays,
    /// and its next contact is a plain BOOT.
    public func loseCredentials() {
        lock.withLock {
            _ = model.force(root + "ManagementServer.Username", onboarding.username)
            _ = model.force(root + "ManagementServer.Password", onboarding.password)
            events = [EventStruct(EventCode.boot)]
            bootedAt = Date().timeIntervalSince1970
        }
    }

    func set(_ path: String, _ value: String) { lock.withLock { _ = model.force(path, value) } }

    var stunEnabled: Bool {
        lock.withLock { model[root + "ManagementServer.STUNEnable"].map { $0 == "1" || $0 == "true" } ?? false }
    }

    /// The XMPP client bound a (new) JID. ConnReqJabberID is active-notification by default (TR-181), so with `notify`
    /// a change is reported at once: returns true when the CPE must inform now.
    func jabberIDChanged(to jid: String, notify: Bool) -> Bool {
        lock.withLock {
            let path = root + "ManagementServer.ConnReqJabberID"
            guard model[path] != jid else { return false }
            _ = model.force(path, jid)
            guard notify else { return false }
            changed.insert(path)
            let e = EventStruct(EventCode.valueChange)
            if !events.contains(e) { events.append(e) }
            return true
        }
    }

    /// The STUN client learned a new mapping: UDPConnectionRequestAddress and NATDetected follow it. With
    /// notification on the address, the next Inform carries 4 VALUE CHANGE; returns true when it is active (2), i.e.
    /// the CPE must inform now.
    func mappedAddressChanged(to address: String, natDetected: Bool) -> Bool {
        lock.withLock {
            let path = root + "ManagementServer.UDPConnectionRequestAddress"
            _ = model.force(path, address)
            _ = model.force(root + "ManagementServer.NATDetected", natDetected ? "true" : "false")
            let notification = (try? model.getParameterAttributes([path]).get())?.first?.notification ?? 0
            guard notification > 0 else { return false }
            changed.insert(path)
            let e = EventStruct(EventCode.valueChange)
            if !events.contains(e) { events.append(e) }
            return notification == 2
        }
    }
}

enum SimClock {
    /// CurrentTime of an Inform. CWMPDateTime rather than a new ISO8601DateFormatter per Inform (which cost more than
    /// the rest of building the Inform).
    static func dateTime(_ d: Date) -> String {
        CWMPDateTime.format(unixSeconds: Int64(d.timeIntervalSince1970.rounded(.down)))
    }
}
