import CWMP
import DataModel
import Foundation
import HTTPAuth
import NetHTTP
import STUN

/// Thousands of virtual CPEs in one process, talking to an ACS only over CWMP/HTTP.
public final class Simulator: @unchecked Sendable {
    public let config: SimulatorConfig
    public let template: ModelTemplate
    public private(set) var devices: [VirtualCPE] = []
    public let stats = SimulatorStats()
    let acs: URLParts
    /// TLS towards an https:// ACS (one context for all CPEs: it loads the trust store once).
    let tls: TLSClientContext?
    private var bySerial: [String: VirtualCPE] = [:]
    private let schedule = WakeSchedule()
    private var crServer: HTTPServer?
    private var loop: Task<Void, Never>?
    public private(set) var crPort = 0
    private let running = RunningCount()
    private let stopped = Flag()
    private let nonces = NonceSource.random()
    private var stunClients: [STUNClient] = []
    private var xmppClients: [XMPPCPEClient] = []
    /// `--xmpp`, parsed once.
    let xmppTarget: (host: String, port: Int)?
    /// `--stun`, parsed once.
    let stunTarget: Endpoint?

    public init(config: SimulatorConfig) throws {
        self.config = config
        guard let acs = URLParts.parse(config.acsURL) else {
            throw SimulatorError("--acs must be an http:// or https:// URL, got \(config.acsURL)")
        }
        self.acs = acs
        if acs.scheme == "https" {
            do {
                tls = try TLSClientContext(caPath: config.caFile, clientCertificatePath: config.clientCertificate, clientKeyPath: config.clientKey)
            } catch { throw SimulatorError("TLS: \(error)") }
        } else {
            guard config.caFile == nil, config.clientCertificate == nil else { throw SimulatorError("--ca and --client-cert need an https:// ACS URL") }
            tls = nil
        }
        stunTarget = config.stunServer.flatMap(Endpoint.init)
        if let s = config.stunServer, stunTarget == nil { throw SimulatorError("--stun must be ip:port, got \(s)") }
        xmppTarget = config.xmppServer.flatMap(Self.hostPort)
        if let s = config.xmppServer, xmppTarget == nil { throw SimulatorError("--xmpp must be host:port, got \(s)") }
        template = try Self.loadTemplate(config)
    }

    static func loadTemplate(_ config: SimulatorConfig) throws -> ModelTemplate {
        switch config.model {
        case "tr181": return try ModelTemplate.loadBBF(path: config.dataModelDirectory + "/tr-181-2-19-1-cwmp-full.xml")
        case "tr098": return try ModelTemplate.loadBBF(path: config.dataModelDirectory + "/tr-098-1-8-0-full.xml")
        default: return try ModelTemplate.load(path: config.model)
        }
    }

    public var kind: DataModelKind { template.root == "InternetGatewayDevice." ? .tr098 : .tr181 }

    public func device(serial: String) -> VirtualCPE? { bySerial[serial] }

    public func start() async throws {
        if config.httpConnectionRequests {
            let server = HTTPServer(host: config.crHost, port: config.crPort, limits: ServerLimits(maxBodyBytes: 4096)) { [weak self] request in
                guard let self else { return HTTPResponse(status: 503) }
                return self.connectionRequest(request)
            }
            crPort = try await server.start()
            crServer = server
        }

        let root = template.root
        let creds = config.onboardingCredentials(for: kind)
        let now = Date().timeIntervalSince1970
        for i in 0..<config.count {
            let serial = config.serialPrefix + String(format: "%06d", config.serialOffset + i)
            let cpe = VirtualCPE(index: i, serial: serial, template: template, identity: identity(serial: serial, root: root), onboarding: creds)
            cpe.localAddress = config.crHost
            cpe.link = config.link(serial: serial)
            cpe.pingUDPPort = config.pingUDPPort
            if !config.quirks.isDisjoint(with: [.missingModelName, .echoPasswords, .stringValues]) {
                let quirks = config.quirks
                cpe.withModel { m in
                    if quirks.contains(.missingModelName) { m.absent.insert(root + "DeviceInfo.ModelName") }
                    m.echoSecrets = quirks.contains(.echoPasswords)
                    m.stringValuesOnly = quirks.contains(.stringValues)
                }
            }
            if let stun = stunTarget {
                let client = STUNClient(cpe: cpe, server: stun, keepAlive: config.stunKeepAlive, stats: stats) { [weak self] in self?.wake($0) }
                try await client.start(host: config.crHost)
                stunClients.append(client)
            }
            if let x = xmppTarget {
                xmppClients.append(XMPPCPEClient(cpe: cpe, host: x.host, port: x.port, domain: config.xmppDomain,
                                                 keepAlive: .milliseconds(Int64(config.xmppKeepAlive * 1000)), stats: stats) { [weak self] in self?.wake($0) })
            }
            devices.append(cpe)
            bySerial[serial] = cpe
            let first = now + (config.startSpread > 0 ? Double.random(in: 0...config.startSpread) : 0)
            cpe.lock.withLock { cpe.nextInformAt = first }
            schedule.push(first, i)
        }
        // Log every CPE in to XMPP (32 at a time) before the first Informs, so that they report their JIDs.
        let clients = xmppClients
        for start in stride(from: 0, to: clients.count, by: 32) {
            await withTaskGroup(of: Void.self) { g in
                for c in clients[start..<min(clients.count, start + 32)] { g.addTask { await c.start() } }
            }
        }
        if let failed = clients.first(where: { !$0.lastError.isEmpty }) {
            FileHandle.standardError.write(Data("sim: XMPP login of \(failed.cpe.serial) failed: \(failed.lastError) (retrying in the background)\n".utf8))
        }
        loop = Task { [weak self] in await self?.runLoop() }
    }

    static func hostPort(_ s: String) -> (host: String, port: Int)? {
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        var host = String(s[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    public func stop() async {
        stopped.set()
        loop?.cancel()
        _ = await loop?.value
        for c in stunClients { await c.stop() }
        for c in xmppClients { await c.stop() }
        try? await crServer?.shutdown()
    }

    private func identity(serial: String, root: String) -> [String: String] {
        let productClass = config.productClass ?? template.deviceID["ProductClass"] ?? (kind == .tr098 ? "SimGateway" : "SimRouter")
        var id: [String: String] = [
            root + "DeviceInfo.Manufacturer": template.deviceID["Manufacturer"] ?? config.manufacturer,
            root + "DeviceInfo.ManufacturerOUI": template.deviceID["OUI"] ?? config.oui,
            root + "DeviceInfo.ProductClass": productClass,
            root + "DeviceInfo.SerialNumber": serial,
            // A BBF file's model name is the data model's ("Device:2.19"), not a product's: only model files name products.
            root + "DeviceInfo.ModelName": config.modelName ?? (config.kindHint == nil ? template.modelName : nil) ?? "Corral \(productClass)",
            root + "DeviceInfo.SoftwareVersion": config.softwareVersion,
            root + "DeviceInfo.HardwareVersion": "HW-1",
            root + "ManagementServer.URL": config.acsURL,
            root + "ManagementServer.PeriodicInformEnable": "1",
            root + "ManagementServer.PeriodicInformInterval": String(config.informInterval),
            root + "ManagementServer.ConnectionRequestURL": config.httpConnectionRequests ? "http://\(config.crHost):\(crPort)/cr/\(serial)" : "",
        ]
        if let stun = stunTarget {
            id[root + "ManagementServer.STUNEnable"] = "true"
            id[root + "ManagementServer.STUNServerAddress"] = stun.host
            id[root + "ManagementServer.STUNServerPort"] = String(stun.port)
            id[root + "ManagementServer.STUNMinimumKeepAlivePeriod"] = String(Int(config.stunKeepAlive.lowerBound))
        }
        if xmppTarget != nil {
            id[root + "ManagementServer.ConnReqJabberID"] = ""
            let methods = (config.httpConnectionRequests ? ["HTTP"] : []) + (stunTarget != nil ? ["STUN"] : []) + ["XMPP"]
            id[root + "ManagementServer.SupportedConnReqMethods"] = methods.joined(separator: ",")
        }
        let ssid = "Corral-" + serial.suffix(4)
        if kind == .tr181 {
            id["Device.RootDataModelVersion"] = "2.19"
            id["Device.WiFi.SSID.1.SSID"] = ssid
            // Plausible, per-serial radio values where the BBF defaults are 0, so dashboards have a distribution to
            // show. A model file keeps its own values.
            if config.kindHint != nil {
                let h = serial.unicodeScalars.reduce(UInt32(2166136261)) { ($0 ^ $1.value) &* 16777619 }
                id["Device.WiFi.Radio.1.Channel"] = String([1, 6, 11][Int(h % 3)])
                id["Device.Cellular.Interface.1.RSSI"] = String(-105 + Int(h % 50))
                id["Device.Cellular.Interface.1.RSRP"] = String(-125 + Int(h / 50 % 50))
                id["Device.Cellular.Interface.1.RSRQ"] = String(-19 + Int(h / 2500 % 15))
            }
        } else {
            id["InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID"] = ssid
        }
        return id
    }

    // MARK: scheduling

    private func runLoop() async {
        while !Task.isCancelled {
            let now = Date().timeIntervalSince1970
            while running.value < config.maxConcurrentSessions, let i = schedule.popDue(now: now) {
                launch(devices[i], now: now)
            }
            let wait = min(0.05, max(0.002, (schedule.nextTime ?? now + 0.05) - Date().timeIntervalSince1970))
            try? await Task.sleep(for: .milliseconds(Int(wait * 1000)))
        }
        stopped.set()
    }

    /// Starts a session of `cpe` unless it is in one or not due (a stale heap entry).
    private func launch(_ cpe: VirtualCPE, now: Double) {
        let due = cpe.lock.withLock { () -> Bool in
            guard !cpe.inSession, cpe.nextInformAt <= now + 0.001 else { return false }
            cpe.inSession = true
            return true
        }
        guard due else { return }
        running.add(1)
        Task { [weak self] in
            guard let self else { return }
            var next = await self.session(cpe)
            // Benchmark mode: the next session right away, on this task, while the run lasts.
            while self.config.backToBack, let n = next, n <= Date().timeIntervalSince1970 + 0.001, !self.stopped.value,
                  cpe.lock.withLock({ () -> Bool in
                      guard !cpe.inSession else { return false }
                      cpe.inSession = true
                      return true
                  }) {
                next = await self.session(cpe)
            }
            if let next { self.reschedule(cpe, at: next) }
            self.running.add(-1)
        }
    }

    private func reschedule(_ cpe: VirtualCPE, at time: Double) {
        cpe.lock.withLock { cpe.nextInformAt = time }
        schedule.push(time, cpe.index)
    }

    /// Runs one session, then whatever the ACS asked for, and returns when the next contact is due
    /// (the caller schedules it).
    private func session(_ cpe: VirtualCPE) async -> Double? {
        // Queued transfers whose time has come go first, as a real CPE starts them when their window opens and informs
        // when they are over (after the reboot that installs a firmware image): the Inform then carries 7 TRANSFER
        // COMPLETE and M ScheduleDownload / M Download, and TransferComplete follows in this session. The CPE is
        // claimed meanwhile, as for a Download performed after a session. A transfer whose window has passed without
        // it starting (the simulator was busy, the CPE offline) is performed now all the same, late: simpler than a
        // second window or a 9xxx "window missed" failure, and what the ACS expects to hear about.
        while let entry = cpe.beginDueTransfer(now: Date().timeIntervalSince1970) {
            await performDownload(entry.download, event: entry.scheduled ? EventCode.mScheduleDownload : EventCode.mDownload, on: cpe)
            cpe.finishTransfer(id: entry.id)
        }
        let clock = ContinuousClock()
        let started = clock.now
        let runner = CPESession(cpe: cpe, acs: acs, tls: tls, basicOnly: config.basicOnly, basicFirst: config.quirks.contains(.basicFirst),
                                noCookies: config.quirks.contains(.noCookies), timeout: .milliseconds(Int(config.httpTimeoutSeconds * 1000)))
        if cpe.lock.withLock({ () -> Bool in let p = cpe.periodicDue; cpe.periodicDue = false; return p }) {
            cpe.addEvent(EventStruct(EventCode.periodic))
        }
        var next: Double
        var result = CPESession.Result()
        var periodic = false
        do {
            try await runner.run(into: &result)
            let first = cpe.lock.withLock { () -> Bool in
                cpe.retryCount = 0
                cpe.completedSessions += 1
                return cpe.completedSessions == 1
            }
            stats.recordSuccess(duration: clock.now - started, requests: result.requestsAnswered, httpRequests: result.httpRequests, first: first)
            var immediate = false
            for action in result.deferred { immediate = await perform(action, on: cpe) || immediate }
            let interval = config.backToBack ? 0 : cpe.informInterval
            periodic = !immediate
            next = Date().timeIntervalSince1970 + (immediate ? 0.05 : interval * (1 + Double.random(in: -config.jitter...config.jitter)))
        } catch CPESession.Failure.busy(let retryAfter) {
            // The ACS sheds load: come back when it says (a fraction of a second of jitter spreads the herd),
            // or after the TR-069 retry wait when it does not say.
            stats.recordBusy(retryAfter: retryAfter != nil)
            // Transfers the CPE queued before the ACS turned busy still start on time.
            for case .transferQueued(let at) in result.deferred { _ = await perform(.transferQueued(startAt: at), on: cpe) }
            let n = cpe.lock.withLock { () -> UInt32 in cpe.retryCount += 1; return cpe.retryCount }
            next = Date().timeIntervalSince1970 + (retryAfter.map { $0 + Double.random(in: 0..<1) } ?? Self.retryWait(n))
        } catch {
            // What the CPE accepted before the cut still happens (a real CPE reboots after answering Reboot).
            for action in result.deferred { _ = await perform(action, on: cpe) }
            stats.recordFailure("\(cpe.serial): \(error)")
            let n = cpe.lock.withLock { () -> UInt32 in cpe.retryCount += 1; return cpe.retryCount }
            next = Date().timeIntervalSince1970 + Self.retryWait(n)
        }
        let wake = cpe.lock.withLock { () -> Bool in
            cpe.inSession = false
            let w = cpe.wakeRequested
            cpe.wakeRequested = false
            return w
        }
        if wake { next = Date().timeIntervalSince1970 }
        cpe.lock.withLock { cpe.periodicDue = periodic && !wake }
        return next
    }

    /// TR-069 3.2.1.1 retry wait, with a 5 s minimum interval and multiplier 2.
    static func retryWait(_ n: UInt32) -> Double {
        let low = 5.0 * pow(2, Double(min(n, 10) - 1))
        return Double.random(in: low...(low * 2))
    }

    /// Returns true when the CPE opens a new session right away (after reboot, reset, transfer); diagnostics wake
    /// the CPE themselves when they end.
    private func perform(_ action: DeferredAction, on cpe: VirtualCPE) async -> Bool {
        switch action {
        case .reboot(let key):
            cpe.rebooted()
            if config.quirks.contains(.silentReboot) {
                cpe.addEvent(EventStruct(EventCode.periodic))
            } else {
                cpe.addEvent(EventStruct(EventCode.boot))
                cpe.addEvent(EventStruct(EventCode.mReboot, commandKey: config.quirks.contains(.emptyCommandKey) ? "" : key))
            }
            return true
        case .factoryReset:
            cpe.factoryReset(announceBootstrap: !config.quirks.contains(.bootNotBootstrap))
            return true
        case .download(let d):
            await performDownload(d, event: EventCode.mDownload, on: cpe)
            return true
        case .transferQueued(let startAt):
            // Wake the CPE when the transfer may start; the session that opens performs it first (`session`). A
            // transfer cancelled, or already performed by an earlier session, by then wakes nothing.
            Task { [weak self] in
                while true {
                    let wait = startAt - Date().timeIntervalSince1970
                    if wait > 0 { try? await Task.sleep(for: .milliseconds(Int64((wait * 1000).rounded(.up)))) }
                    guard let self, !self.stopped.value else { return }
                    let now = Date().timeIntervalSince1970
                    if cpe.hasDueTransfer(now: now) { return self.wake(cpe) }
                    if now >= startAt { return }
                }
            }
            return false
        case .upload(let u):
            let tc = await Transfers.upload(u, cpe: cpe)
            cpe.lock.withLock { cpe.pendingTransfers.append(tc) }
            cpe.addEvent(EventStruct(EventCode.transferComplete))
            cpe.addEvent(EventStruct(EventCode.mUpload, commandKey: u.commandKey))
            return true
        case .scheduleInform(let delay, let key):
            Task { [weak self] in
                try? await Task.sleep(for: .seconds(Int(delay)))
                cpe.addEvent(EventStruct(EventCode.scheduled))
                cpe.addEvent(EventStruct(EventCode.mScheduleInform, commandKey: key))
                self?.wake(cpe)
            }
            return false
        case .diagnostics(let object):
            // The test runs on its own, as on a real CPE (which keeps informing meanwhile), without holding a session
            // slot; when it is over the CPE informs with 8 DIAGNOSTICS COMPLETE. A run superseded by a newer request
            // of the same object reports nothing.
            Task { [weak self] in
                guard await Diagnostics.run(object: object, cpe: cpe) else { return }
                cpe.addEvent(EventStruct(EventCode.diagnosticsComplete))
                self?.wake(cpe)
            }
            return false
        }
    }

    /// A download over HTTP with its credentials, reported by 7 TRANSFER COMPLETE, the `event` ("M Download" or
    /// "M ScheduleDownload") with its command key, and a TransferComplete in the next session. A firmware image
    /// ("1 ..." file type) that arrived is installed by the reboot that follows (1 BOOT, 4 VALUE CHANGE when
    /// SoftwareVersion changed), subject to the failure injection of `SimulatorConfig.firmwareFailures`.
    private func performDownload(_ d: Download, event: String, on cpe: VirtualCPE) async {
        let firmware = d.fileType.hasPrefix("1 ")
        let failures = firmware ? config.firmwareFailures(serial: cpe.serial, download: cpe.nextFirmwareDownload())
                                : (failDownload: false, badImage: false)
        let tc = await Transfers.download(d, cpe: cpe, simulateFailure: failures.failDownload)
        cpe.lock.withLock { cpe.pendingTransfers.append(tc) }
        cpe.addEvent(EventStruct(EventCode.transferComplete))
        cpe.addEvent(EventStruct(event, commandKey: d.commandKey))
        if tc.fault.code == 0 && firmware {
            // The new image boots: SoftwareVersion (forced active notification) becomes the image's version, unless
            // the image does not take (--bad-image-rate) and the CPE comes back on the old one.
            cpe.rebooted()
            let changed = cpe.applyPendingFirmware(install: !failures.badImage)
            cpe.addEvent(EventStruct(EventCode.boot))
            if changed { cpe.addEvent(EventStruct(EventCode.valueChange)) }
        }
    }

    /// A connection request or another reason to open a session now.
    func wake(_ cpe: VirtualCPE) {
        let inSession = cpe.lock.withLock { () -> Bool in
            if cpe.inSession { cpe.wakeRequested = true } else { cpe.periodicDue = false }
            return cpe.inSession
        }
        guard !inSession else { return }
        let now = Date().timeIntervalSince1970
        cpe.lock.withLock { cpe.nextInformAt = now }
        if running.value < config.maxConcurrentSessions, !stopped.value {
            // Start the session now rather than at the scheduler's next tick (up to 50 ms later).
            launch(cpe, now: now)
        } else {
            schedule.push(now, cpe.index)
        }
    }

    // MARK: connection requests

    private func connectionRequest(_ request: HTTPRequest) -> HTTPResponse {
        guard request.method == "GET", request.path.hasPrefix("/cr/"), let cpe = bySerial[String(request.path.dropFirst(4))] else {
            return HTTPResponse(status: 404, text: "no such device\n")
        }
        let (user, pass) = cpe.connectionRequestCredentials
        if !(user.isEmpty && pass.isEmpty) {
            let challenge = DigestChallenge(realm: "Corral CPE simulator", nonce: nonces.make(), qop: "auth", algorithm: "MD5")
            guard let header = request.headers.first("Authorization"), case .digest(let c)? = AuthorizationHeader.parse(header),
                  nonces.check(c.nonce) == .valid, c.username == user, Digest.verify(credentials: c, password: pass, method: "GET") else {
                stats.recordConnectionRequest(accepted: false)
                return HTTPResponse(status: 401, headers: ["WWW-Authenticate": challenge.headerValue], text: "authentication required\n")
            }
        }
        stats.recordConnectionRequest(accepted: true)
        cpe.addEvent(EventStruct(EventCode.connectionRequest))
        wake(cpe)
        return HTTPResponse(status: 200, text: "")
    }
}

public struct SimulatorError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var v = false
    var value: Bool { lock.withLock { v } }
    func set() { lock.withLock { v = true } }
}

final class RunningCount: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    var value: Int { lock.withLock { n } }
    func add(_ d: Int) { lock.withLock { n += d } }
}
