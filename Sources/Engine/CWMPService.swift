import ACSCore
import CWMP
import DataModel
import Foundation
import HTTPAuth
import NIOConcurrencyHelpers
import SpeedTest
import Storage

/// Drives CWMP sessions: authenticates, decodes, runs the session state machine and turns its effects into
/// store writes. Everything here is I/O glue; the protocol rules are in ACSCore.
public final class CWMPService: Sendable {
    let store: CorralStore
    let config: EngineConfig
    let auth: CPEAuthenticator
    let sessions = SessionTable()
    let admission: AdmissionControl
    /// Backoff for repeated failed CPE authentications (per username and per address).
    let authThrottle = CPEAuthThrottle()
    let log: Log
    let provisioning: ProvisioningRunner?
    /// When each device last opened a session (wake-ups wait for it).
    public let sessionOpens = SessionOpenLog()
    /// Repeated authentication notices, logged once per device and reason every 10 minutes.
    let authNotices = NIOLockedValueBox(NoticeAggregator())
    /// Corral's TR-143 servers (set by `serve`): told which devices are about to test, asked for their view of a result.
    public let speedTest = NIOLockedValueBox<SpeedTestService?>(nil)
    /// Per-device credentials for Corral's file server, put into Downloads/Uploads pointed at it.
    public let transfers: TransferCredentials
    /// Where Corral's own transfer URLs start ("http://acs:8080/files/"); set once the operator port is known.
    public let transferPrefixes = NIOLockedValueBox<[String]>([])
    /// Refused first contacts, written out by the server's loop (the Onboarding page).
    public let attempts: OnboardingAttemptRecorder
    /// Sessions, Informs, auth failures, task outcomes (exported at /metrics).
    public let metrics: CorralMetrics
    /// This node's name when several nodes share the database (set by `serve` on PostgreSQL): each session then
    /// holds a lease on its device in the database, so no two nodes run sessions of one device at once.
    public let leaseNode = NIOLockedValueBox<String?>(nil)
    /// How long a lease lasts past a session's last message: twice the idle timeout, renewed when half is left,
    /// so it outlives the session on a live node and frees the device soon after its node died.
    var leaseSeconds: Int64 { Int64(max(2, config.sessionIdleTimeout * 2)) }

    public init(store: CorralStore, config: EngineConfig, log: Log = Log(label: "cwmp"), metrics: CorralMetrics = CorralMetrics()) {
        self.store = store
        self.metrics = metrics
        self.config = config
        self.log = log
        admission = AdmissionControl(targetSeconds: config.sessionTargetSeconds, floor: config.minSessionLimit,
                                     maxRetryAfter: config.retryAfterSeconds)
        let nonces = config.nonceSecret.isEmpty ? NonceSource.random() : NonceSource(secret: config.nonceSecret)
        auth = CPEAuthenticator(nonces: nonces, currentProfiles: { [config] in config.profiles })
        attempts = OnboardingAttemptRecorder(maxBodyBytes: config.maxBodyBytes)
        transfers = TransferCredentials(secret: config.nonceSecret.isEmpty ? randomBytes(32) : config.nonceSecret)
        if config.scripting != nil, let automation = store as? AutomationStore {
            provisioning = ProvisioningRunner(engine: { [config] in config.scripting }, store: automation, interest: config.eventInterest,
                                              log: Log(label: "provision"))
        } else {
            provisioning = nil
        }
    }

    /// A CPE whose TLS handshake failed on the CWMP port (recorded as an onboarding attempt).
    public func tlsHandshakeFailed(address: String, error: String) {
        metrics.authFailed(OnboardingAttempt.Reason.tlsFailure.rawValue)
        attempts.add(OnboardingAttempt(at: Int64(Self.now()), address: address, reason: .tlsFailure, detail: String(error.prefix(300))))
    }

    public var activeSessions: Int { sessions.count }

    public static func now() -> Double { Date().timeIntervalSince1970 }

    public func handle(_ x: CWMPExchange) async -> CWMPReply {
        if let ctx = sessions.find(token: Cookies.session(from: x.cookieHeader), connectionID: x.connectionID) {
            return await continueSession(ctx, x)
        }
        return await startSession(x)
    }

    // MARK: - decoding

    private enum Decoded {
        case message(Envelope?)
        case reply(CWMPReply)
    }

    private func decode(_ body: [UInt8]) -> Decoded {
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return .message(nil) }
        do {
            return .message(try CWMPDecoder.decode(body, from: .cpe, limits: CodecLimits(maxBytes: config.maxBodyBytes)))
        } catch let error as CWMPDecodeError {
            switch error {
            case .unknownMethod(let name, let id, let version):
                // A CPE request we do not implement: a SOAP fault, and the session goes on.
                let fault = CWMPFault(code: 8000, string: "Method not supported: \(name)")
                return .reply(CWMPReply(status: 200, body: CWMPEncoder.encode(Envelope(version: version, header: CWMPHeader(id: id), body: .fault(fault))),
                                        headers: [("Content-Type", "text/xml; charset=\"utf-8\"")]))
            case .invalidArgument(let method, let detail, let id, let version):
                let fault = CWMPFault(code: 8003, string: "Invalid arguments in \(method): \(detail)")
                return .reply(CWMPReply(status: 200, body: CWMPEncoder.encode(Envelope(version: version, header: CWMPHeader(id: id), body: .fault(fault))),
                                        headers: [("Content-Type", "text/xml; charset=\"utf-8\"")]))
            case .tooLarge(let n):
                return .reply(.text(413, "CWMP body of \(n) bytes exceeds the limit of \(config.maxBodyBytes)"))
            default:
                return .reply(.text(400, "Bad SOAP message: \(error)"))
            }
        } catch {
            return .reply(.text(400, "Bad SOAP message: \(error)"))
        }
    }

    private func envelopeReply(_ env: Envelope, extraHeaders: [(String, String)] = []) -> CWMPReply {
        CWMPReply(status: 200, body: CWMPEncoder.encode(env), headers: [("Content-Type", "text/xml; charset=\"utf-8\"")] + extraHeaders)
    }

    // MARK: - new session

    private func startSession(_ x: CWMPExchange) async -> CWMPReply {
        if let retryAfter = admission.check(active: sessions.count, max: config.maxSessions) {
            return .text(503, "Too many sessions, retry later", headers: [("Retry-After", String(retryAfter))])
        }
        let principal: Principal
        var authenticatedDevice: Device?
        let parsed = x.authorization.flatMap(AuthorizationHeader.parse)
        let user = parsed?.username
        let nowS = Int64(Self.now())
        if x.authorization != nil {
            let (wait, announce) = authThrottle.wait(user: user, address: x.remoteAddress, now: nowS)
            if wait > 0 {
                if announce { log.info("CPE auth throttled for \(wait) s: \(LogText.safe(user ?? "?")) from \(x.remoteAddress) (repeated failures)") }
                metrics.authFailed("throttled")
                return .text(503, "Too many failed authentications, retry later", headers: [("Retry-After", String(wait))])
            }
        }
        do {
            switch try auth.authenticate(parsed, uri: x.uri, tls: x.isTLS, store: store) {
            case .ok(let p, let device):
                principal = p
                authenticatedDevice = device
                if let user { authThrottle.succeeded(user: user) }
            case .challenge(let values, let reason, let failure):
                if x.authorization != nil, let kind = failure {
                    // Basic is refused after the password checked out: no guess to slow down (a fleet of Basic-first
                    // CPEs behind one NAT address would otherwise throttle that address).
                    if kind != .basicRefused { authThrottle.failed(user: user, address: x.remoteAddress, now: nowS) }
                    attempts.add(reason: kind, detail: reason, username: user ?? "", address: x.remoteAddress, body: x.body, now: nowS)
                    metrics.authFailed(kind.rawValue)
                    // One line per device and reason every 10 minutes, with the count: a CPE that tries Basic before
                    // Digest does it every session.
                    let subject = "\(user ?? "?")|\(x.remoteAddress)|\(reason.prefix(16))"
                    let (show, suppressed) = authNotices.withLockedValue { $0.note(subject, now: nowS) }
                    if show {
                        log.info("CPE auth failed from \(x.remoteAddress): \(LogText.safe(reason))\(suppressed > 0 ? " (and \(suppressed) more times since the last notice)" : "")")
                    }
                }
                return .text(401, "Authentication required", headers: values.map { ("WWW-Authenticate", $0) })
            }
        } catch {
            log.error("store error during authentication: \(error)")
            return .text(503, "Temporarily unavailable", headers: [("Retry-After", "10")])
        }

        var envelope: Envelope
        let decoded = decode(x.body)
        if case .message(let e) = decoded, !(e.map(CWMPSession.isInform) ?? false), config.profiles.anyNoCookies,
           let ctx = sessionWithoutCookie(principal, x) {
            // A `no_cookies` CPE went on with its session on a new connection, without the cookie.
            sessions.rebind(ctx, connectionID: x.connectionID)
            return await continueSession(ctx, x)
        }
        func refused(_ reason: OnboardingAttempt.Reason, _ detail: String, _ id: DeviceID? = nil, device: Int64? = nil) {
            metrics.authFailed(reason.rawValue)
            attempts.add(OnboardingAttempt(at: nowS, address: x.remoteAddress, oui: String((id?.oui ?? "").prefix(64)),
                                           serial: String((id?.serialNumber ?? "").prefix(64)), productClass: String((id?.productClass ?? "").prefix(64)),
                                           username: String((user ?? "").prefix(128)), reason: reason, detail: String(detail.prefix(300)), deviceID: device))
        }
        switch decoded {
        case .reply(let r):
            if r.status >= 400 { refused(.malformedInform, String(decoding: r.body.prefix(300), as: UTF8.self)) }
            return r
        case .message(nil):
            refused(.malformedInform, "empty first message")
            return .text(400, "A session must start with an Inform")
        case .message(let e?): envelope = e
        }
        guard case .cpeRequest(.inform(var inform)) = envelope.body else {
            refused(.malformedInform, "first message is \(CWMPSession.describe(envelope.body))")
            return .text(400, "A session must start with an Inform, not \(CWMPSession.describe(envelope.body))")
        }
        if let problem = CWMPSession.problem(in: inform) {
            refused(problem.contains("OUI must be") ? .badOUI : .malformedInform, problem, inform.deviceId)
            return .text(400, problem)
        }
        // Some CPEs send the OUI in lower case; the device name and lookups use upper case.
        inform.deviceId.oui = inform.deviceId.oui.uppercased()
        envelope.body = .cpeRequest(.inform(inform))

        do {
            // The record authentication just read, when the Inform is that device's (one read less per session).
            let existing = try authenticatedDevice.flatMap { $0.oui == inform.deviceId.oui && $0.serialNumber == inform.deviceId.serialNumber ? $0 : nil }
                ?? store.device(oui: inform.deviceId.oui, serial: inform.deviceId.serialNumber)
            // Mutual TLS (only when some profile asks for it: this is the hot path of every periodic session).
            if config.profiles.anyRequiresClientCertificate,
               let why = Onboarding.certificateProblem(
                   profile: onboardingProfile(principal: principal, existing: existing, inform: inform,
                                              kind: DataModelKind.detect(parameterNames: inform.parameters.map(\.name))),
                   deviceId: inform.deviceId, certificateNames: x.clientCertificateNames) {
                log.info("refused Inform from \(x.remoteAddress) for \(LogText.safe(inform.deviceId.oui))-\(LogText.safe(inform.deviceId.serialNumber)): \(LogText.safe(why))")
                refused(.clientCertificate, why, inform.deviceId, device: existing?.id)
                return .text(403, "Refused: \(why)")
            }
            // Only read on the path that would otherwise refuse: onboarding credentials, a confirmed device, 1 BOOT.
            // A reset asked for recently (sent, or accepted and waiting) makes that boot the reset.
            var awaitingReset = false
            if case .onboarding = principal, let e = existing, e.credentialsConfirmed, !inform.hasEvent(EventCode.bootstrap), inform.hasEvent(EventCode.boot) {
                awaitingReset = try store.tasks(deviceID: e.id, states: [.waiting, .sent]).contains {
                    $0.kind == .factoryReset && nowS - $0.updatedAt <= TaskPlanner.waitingDeadline(.factoryReset)
                }
            }
            // The re-bootstrap policy applies to a BOOTSTRAP and to a reset announced as a boot alike (quarantine,
            // client certificate): holding the onboarding credentials must not be a way around it.
            let policy = inform.hasEvent(EventCode.bootstrap) || awaitingReset
                ? existing.flatMap { config.profiles.profile(named: $0.profile)?.rebootstrap } ?? .allow : .allow
            var admission = Onboarding.admit(principal, inform: inform, existing: existing, policy: policy,
                                             certificateNames: x.clientCertificateNames, awaitingReset: awaitingReset)
            if awaitingReset, case .onboard = admission {
                // The reset this device was asked for, announced as a boot: from here on it is handled as the
                // BOOTSTRAP it is (re-onboarding, bootstrap provisioning, the task's confirmation).
                log.info("\(existing?.name ?? "") came back from its factory reset with 1 BOOT on onboarding credentials: treated as 0 BOOTSTRAP")
                inform.events.append(EventStruct(EventCode.bootstrap))
                envelope.body = .cpeRequest(.inform(inform))
                admission = Onboarding.admit(principal, inform: inform, existing: existing, policy: policy, certificateNames: x.clientCertificateNames)
            }
            switch admission {
            case .refuse(let why, let kind):
                log.info("refused Inform: \(LogText.safe(why))", ["remote": "\(x.remoteAddress)", "device": "\(LogText.safe(inform.deviceId.oui))-\(LogText.safe(inform.deviceId.serialNumber))"])
                refused(kind, why, inform.deviceId, device: existing?.id)
                return .text(401, "Refused: \(why)", headers: auth.challenge(tls: x.isTLS).map { ("WWW-Authenticate", $0) })
            case .conflict(var device):
                // Two parties hold credentials of this device: flag it (secrets are withheld from every session until an
                // operator resolves it) and refuse the holder of the old ones.
                if !device.credentialConflict {
                    device.credentialConflict = true
                    try await store.apply([.updateDevice(device)])
                }
                log.error("credential conflict on \(device.name): \(x.remoteAddress) used the credentials it had before its last re-bootstrap; secrets withheld until an operator resolves it")
                refused(.credentialConflict, "old credentials used after a re-bootstrap", inform.deviceId, device: device.id)
                return .text(403, "Refused: credential conflict on \(device.name); an operator must resolve it")
            case .hold(var device, let why):
                if device.rebootstrapHold != .awaitingApproval {
                    device.rebootstrapHold = .awaitingApproval
                    try await store.apply([.updateDevice(device)])
                }
                log.info("\(why) (from \(x.remoteAddress))")
                refused(.quarantined, why, inform.deviceId, device: device.id)
                return .text(403, "Refused: \(why)")
            case .known, .onboard:
                break
            }
            return try await open(x, envelope: envelope, inform: inform, principal: principal, admission: admission)
        } catch {
            log.error("session start failed for \(LogText.safe(inform.deviceId.serialNumber)): \(error)")
            return .text(503, "Temporarily unavailable", headers: [("Retry-After", "10")])
        }
    }

    private func sessionWithoutCookie(_ principal: Principal, _ x: CWMPExchange) -> SessionContext? {
        switch principal {
        case .device(let id), .devicePreviousCredentials(let id):
            return sessions.findWithoutCookie(deviceID: id, onboardingUsername: "", nonce: "", address: x.remoteAddress)
        case .onboarding(let profile):
            let user = config.profiles.profile(named: profile)?.onboardingUsername ?? ""
            guard case .digest(let c)? = x.authorization.flatMap(AuthorizationHeader.parse) else { return nil }
            return sessions.findWithoutCookie(deviceID: nil, onboardingUsername: user, nonce: c.nonce, address: x.remoteAddress)
        case .supersededCredentials:
            return nil
        }
    }

    private func open(_ x: CWMPExchange, envelope: Envelope, inform: Inform, principal: Principal, admission: Admission) async throws -> CWMPReply {
        metrics.sessionOpened(inform)
        let now = Self.now()
        let nowS = Int64(now)
        let kind = DataModelKind.detect(parameterNames: inform.parameters.map(\.name))
        var device: Device
        var onboarding: [WorkItem] = []
        var writes: [StoreWrite] = []
        var withholdSecrets = false

        switch admission {
        case .known(let d):
            device = d
            if !device.credentialsConfirmed, case .device = principal {
                // The CPE uses the credentials we gave it: their SPV answer never reached us, or it said status 1
                // (applied later) and this is later.
                log.info("device \(device.name) confirmed its new credentials by authenticating with them")
                device.credentialsConfirmed = true
                device.previousPasswordHA1 = ""
                device.onboardedAt = nowS
            }
        case .onboard(let existing):
            var profile = onboardingProfile(principal: principal, existing: existing, inform: inform, kind: kind)
            if let existing {
                device = existing
                if existing.credentialsConfirmed && inform.hasEvent(EventCode.bootstrap) {
                    // Whatever Corral stored is what the device had before the reset: stale until read again.
                    writes.append(.markParametersStale(deviceID: existing.id))
                    // A re-bootstrap: whoever keeps using the confirmed credentials from now on is a second party.
                    if case .onboarding = principal {
                        device.supersededPasswordHA1 = existing.passwordHA1
                        withholdSecrets = true
                    }
                    if device.rebootstrapHold == .approved { device.rebootstrapHold = .none }
                }
            } else {
                let name = Device.name(oui: inform.deviceId.oui, serial: inform.deviceId.serialNumber)
                // Pre-provisioned (CSV import): the device lands in its organisation with its metadata and profile.
                let pre = try store.preprovision(oui: inform.deviceId.oui, serial: inform.deviceId.serialNumber)
                if let named = pre.flatMap({ config.profiles.profile(named: $0.profile) }) { profile = named }
                var fresh = Device(
                    name: name, oui: inform.deviceId.oui, productClass: inform.deviceId.productClass,
                    serialNumber: inform.deviceId.serialNumber, manufacturer: inform.deviceId.manufacturer,
                    profile: profile.name, dataModel: kind, description: "Onboarded \(Self.timestamp(nowS))",
                    informInterval: profile.informInterval, createdAt: nowS)
                pre?.apply(to: &fresh)
                device = try await store.createDevice(fresh)
                log.info("new device \(name) (id \(device.id), profile \(profile.name))")
            }
            device.profile = profile.name
            let creds = Onboarding.generateCredentials(deviceName: device.name)
            // Keep the last confirmed credentials valid until the CPE confirms the new ones.
            if device.credentialsConfirmed { device.previousPasswordHA1 = device.passwordHA1 }
            device.username = creds.username
            device.passwordHA1 = Digest.ha1(username: creds.username, realm: Onboarding.realm, password: creds.password)
            device.connectionRequestUsername = creds.connectionRequestUsername
            device.connectionRequestPassword = creds.connectionRequestPassword
            device.credentialsConfirmed = false
            device.informInterval = profile.informInterval
            if let kind {
                onboarding = Onboarding.workItems(kind: kind, credentials: creds, informInterval: profile.informInterval, stun: profile.stunEnabled,
                                                      xmpp: profile.xmppEnabled || config.xmppConfigured)
            }
        case .refuse, .conflict, .hold:
            return .text(401, "Refused")
        }

        let before = device.id == 0 || device.lastInform == 0 ? nil : device
        let token = SessionContext.newToken()
        let node = leaseNode.withLockedValue { $0 }
        if let node {
            // First, so a refused lease writes nothing of this Inform: the CPE comes back after Retry-After.
            writes.insert(.takeLease(SessionLease(deviceID: device.id, node: node, token: token, expiresAt: nowS + leaseSeconds), now: nowS), at: 0)
        }
        applyInform(inform, to: &device, kind: kind, remote: x.remoteAddress, now: nowS)
        writes.append(.updateDevice(device))
        writes.append(.parameters(deviceID: device.id, values: inform.parameters, at: nowS))
        writes.append(.inform(deviceID: device.id, InformRecord(at: nowS, events: inform.events.map(\.code),
                                                                 retryCount: Int(inform.retryCount), remote: x.remoteAddress)))
        writes += EngineEvents.inform(inform, deviceID: device.id, before: before, now: nowS)

        // Events that finish waiting tasks, or ask for diagnostics results.
        var diagnostics: [WorkItem] = []
        let quirks = config.profiles.profile(named: device.profile)?.quirks ?? ProfileQuirks()
        for var task in try store.tasks(deviceID: device.id, states: [.waiting, .sent]) {
            if task.state == .sent, task.kind == .factoryReset, inform.hasEvent(EventCode.bootstrap) {
                // The CPE reset before its FactoryResetResponse was stored: this BOOTSTRAP is that reset.
                apply(.done(TaskResult()), to: &task, now: nowS, writes: &writes, device: device)
            } else if task.state == .sent {
                // Sent in a session that died with the server (or its answer was never stored): send it again.
                requeue(&task, now: nowS, immediately: true, writes: &writes)
            } else if let outcome = TaskPlanner.resolveWaiting(task, inform: inform, quirks: quirks) {
                apply(outcome, to: &task, now: nowS, writes: &writes, device: device)
            } else if inform.hasEvent(EventCode.diagnosticsComplete), let object = TaskPlanner.diagnosticsObject(of: task) {
                diagnostics.append(WorkItem(origin: .diagnosticsResult(taskID: task.id), request: .getParameterValues(names: [object])))
            } else if let outcome = TaskPlanner.expireWaiting(task, inform: inform, now: nowS) {
                apply(outcome, to: &task, now: nowS, writes: &writes, device: device)
                writes += Self.timeoutResult(task, now: nowS, state: inform.hasEvent(EventCode.bootstrap) ? "Aborted" : "Timeout")
            }
        }
        do {
            try await store.apply(writes)
        } catch let held as LeaseHeld {
            let wait = min(max(held.expiresAt - nowS, 1), leaseSeconds)
            log.info("Inform of \(device.name) from \(x.remoteAddress) refused for \(wait) s: \(held)")
            metrics.leaseRefused()
            return .text(503, "This device is in a session on another node, retry later", headers: [("Retry-After", String(wait))])
        }

        var machine = CWMPSession()
        // While swapping credentials, hold the CPE's own requests so the swap cannot be delayed behind them.
        let step = machine.receive(envelope, holdRequests: !onboarding.isEmpty)
        machine.enqueue(onboarding + diagnostics)
        guard case .envelope(let response) = step.output else {
            if case .reject(let status, let reason) = step.output { return .text(status, reason) }
            return .text(500, "unexpected session state")
        }
        let ctx = SessionContext(token: token, connectionID: x.connectionID, remoteAddress: x.remoteAddress,
                                 quirks: quirks, machine: machine, device: device, now: now)
        if node != nil { ctx.leaseExpiresAt = nowS + leaseSeconds }
        ctx.withholdSecrets = withholdSecrets || device.credentialConflict
        if case .onboarding(let name) = principal {
            ctx.onboardingUsername = config.profiles.profile(named: name)?.onboardingUsername ?? ""
            if case .digest(let c)? = x.authorization.flatMap(AuthorizationHeader.parse) { ctx.onboardingNonce = c.nonce }
        }
        sessionOpens.record(device.id, at: now)
        log.debug("session opened: \(inform.events.map(\.code).joined(separator: ", "))",
                  ["device": "\(device.name)", "device_id": "\(device.id)", "session": "\(ctx.token.prefix(8))", "remote": "\(x.remoteAddress)"])
        provisioning?.begin(ctx, inform: inform, now: nowS)
        if let previous = sessions.insert(ctx) {
            // One session per device: a new Inform means the CPE gave up on the old one.
            await finish(previous, effects: previous.machine.abandon())
            _ = sessions.markIdle(previous, now: now)
        }
        return envelopeReply(response, extraHeaders: [Cookies.setCookie(ctx.token)])
    }

    /// The profile a (re-)onboarding device is bound to: the most specific match among the profiles that share the
    /// onboarding credentials it used.
    private func onboardingProfile(principal: Principal, existing: Device?, inform: Inform, kind: DataModelKind?) -> DeviceProfile {
        let profiles = config.profiles
        let model = kind.flatMap { k in inform.parameters.first { $0.name == ManagementPaths(k).modelName }?.value } ?? existing?.modelName
        if case .onboarding(let name) = principal, let p = profiles.profile(named: name) {
            return profiles.bestMatch(inform.deviceId, model: model, kind: kind, sameCredentialsAs: p) ?? p
        }
        if let existing, let p = profiles.profile(named: existing.profile) { return p }
        return profiles.bestMatch(inform.deviceId, model: model, kind: kind) ?? profiles.profile(for: kind) ?? DeviceProfile(name: "unprofiled")
    }

    /// Identity and reachability the Inform carries.
    private func applyInform(_ inform: Inform, to device: inout Device, kind: DataModelKind?, remote: String, now: Int64) {
        device.lastInform = now
        device.ipAddress = remote
        if !inform.deviceId.manufacturer.isEmpty { device.manufacturer = inform.deviceId.manufacturer }
        device.productClass = inform.deviceId.productClass
        if let kind { device.dataModel = kind }
        if inform.hasEvent(EventCode.boot) || inform.hasEvent(EventCode.bootstrap) { device.lastBoot = now }
        if let offset = RolloutRules.utcOffsetMinutes(currentTime: inform.currentTime) { device.utcOffsetMinutes = offset }
        guard let kind = kind ?? device.dataModel else { return }
        let p = ManagementPaths(kind)
        for param in inform.parameters {
            switch param.name {
            case p.softwareVersion: device.softwareVersion = Device.displayField(param.value)
            case p.hardwareVersion: device.hardwareVersion = Device.displayField(param.value)
            case p.connectionRequestURL: device.connectionRequestURL = param.value
            case p.modelName: device.modelName = Device.displayField(param.value)
            case p.periodicInformInterval: if let v = Int(param.value), v > 0 { device.informInterval = v }
            default: break
            }
        }
    }

    // MARK: - running session

    private func continueSession(_ ctx: SessionContext, _ x: CWMPExchange) async -> CWMPReply {
        guard sessions.tryMarkBusy(ctx) else {
            return .text(409, "This session is busy with another message or has ended")
        }
        let reply = await process(ctx, x)
        await renewLease(ctx)
        if sessions.markIdle(ctx, now: Self.now()) {
            // Superseded while this message was processed: what it left in flight goes back to the queue.
            await finish(ctx, effects: ctx.machine.abandon())
        }
        return reply
    }

    private func process(_ ctx: SessionContext, _ x: CWMPExchange) async -> CWMPReply {
        let envelope: Envelope?
        switch decode(x.body) {
        case .reply(let r):
            if r.status != 200 {
                sessions.remove(ctx)
                await finish(ctx, effects: ctx.machine.abandon())
            }
            return r
        case .message(let e): envelope = e
        }
        if let envelope, case .cpeRequest(.inform) = envelope.body {
            // A new session on an old cookie or connection.
            sessions.remove(ctx)
            await finish(ctx, effects: ctx.machine.abandon())
            return await startSession(x)
        }

        var step = ctx.machine.receive(envelope)
        while true {
            await applyEffects(step.effects, ctx: ctx)
            guard step.output == .acsTurn else { break }
            // Order: onboarding/diagnostics (queued at open), then profile provisioning, then operator tasks.
            if ctx.machine.queue.isEmpty, let item = await provisioning?.next(ctx) { ctx.machine.enqueue([item]) }
            if ctx.machine.queue.isEmpty { enqueueDueTasks(ctx) }
            // An operator task cancelled (or finished elsewhere) since it was queued here is not sent.
            while let next = ctx.machine.queue.first, case .task(let id) = next.origin, let t = try? store.task(id: id), t.state != .pending {
                ctx.machine.drop { if case .task(let other) = $0.origin { other == id } else { false } }
                if ctx.machine.queue.isEmpty { enqueueDueTasks(ctx) }
            }
            step = ctx.machine.nextRequest()
            if case .envelope(let env) = step.output, case .acsRequest = env.body,
               case .awaitingResponse(let item) = ctx.machine.phase, case .task(let id) = item.origin {
                await markSent(taskID: id)
            }
        }

        switch step.output {
        case .envelope(var env):
            if case .acsRequest(let r) = env.body { env.body = .acsRequest(ctx.quirks.outgoing(r)) }
            return envelopeReply(env)
        case .end:
            sessions.remove(ctx)
            await releaseLease(ctx)
            provisioning?.abandon(ctx)
            admission.completed(duration: Self.now() - ctx.openedAt)
            metrics.sessionEnded(seconds: Self.now() - ctx.openedAt)
            return CWMPReply(status: 204)
        case .reject(let status, let reason):
            sessions.remove(ctx)
            await finish(ctx, effects: ctx.machine.abandon())
            log.info("session of \(ctx.device.name) rejected: \(reason)")
            return .text(status, reason)
        case .acsTurn:
            return .text(500, "unexpected session state")
        }
    }

    private func enqueueDueTasks(_ ctx: SessionContext) {
        let now = Int64(Self.now())
        guard let due = try? store.tasks(deviceID: ctx.device.id, states: [.pending]) else { return }
        // One TR-143 test at a time per device: a second one would abort the first (same object), or both would
        // read the other's results; the next goes out once the running one has its result.
        // (The extra read only when a test is due: this runs several times in every session.)
        func isTest(_ t: DeviceTask) -> Bool { if case .diagnostics = t.kind { true } else { false } }
        var testRunning = due.contains { isTest($0) && ctx.queuedTaskIDs.contains($0.id) }
            || (due.contains(where: isTest) && ((try? store.tasks(deviceID: ctx.device.id, states: [.sent, .waiting])) ?? []).contains(where: isTest))
        let prefixes = transferPrefixes.withLockedValue { $0 }
        // Transfers to and from Corral carry the device's transfer credentials: secrets, withheld like the others.
        let items = due.filter {
            $0.notBefore <= now && !ctx.queuedTaskIDs.contains($0.id)
                && !(ctx.withholdSecrets && (Onboarding.carriesSecret($0.kind) || TransferCredentials.pointsHere(TaskPlanner.request(for: $0), ownPrefixes: prefixes)))
        }.filter { task in
            guard case .diagnostics = task.kind else { return true }
            defer { testRunning = true }
            return !testRunning
        }.map { task -> WorkItem in
            ctx.queuedTaskIDs.insert(task.id)
            if case .diagnostics = task.kind { speedTest.withLockedValue { $0 }?.expect(ctx.device.ipAddress) }
            var request = TaskPlanner.request(for: task)
            if case .upload(var u) = request, u.url.isEmpty, let uploads = prefixes.first(where: { $0.hasSuffix("/uploads/") }) {
                // The task is the one-time permission: the CPE PUTs to a URL naming it, with its transfer credentials.
                u.url = uploads + String(task.id)
                request = .upload(u)
            }
            return WorkItem(origin: .task(task.id), request: transfers.outgoing(request, deviceID: ctx.device.id, generation: ctx.device.passwordHA1,
                                                                             ownPrefixes: prefixes))
        }
        ctx.machine.enqueue(items)
    }

    private func markSent(taskID: Int64) async {
        guard var task = try? store.task(id: taskID), task.state == .pending else { return }
        task.state = .sent
        task.updatedAt = Int64(Self.now())
        try? await store.apply([.updateTask(task)])
    }

    /// Fails diagnostics whose device never reported "8 DIAGNOSTICS COMPLETE" (and may never inform again), with a
    /// result row in state "Timeout". Returns how many.
    @discardableResult
    public func expireDiagnostics(now: Int64 = Int64(CWMPService.now())) async -> Int {
        guard let s = store as? DiagnosticStore, let waiting = try? s.waitingTasks(kindPrefix: "diagnose", updatedBefore: now - 1, limit: 1000) else { return 0 }
        var writes: [StoreWrite] = []
        var n = 0
        for var task in waiting where now - task.updatedAt > TaskPlanner.waitingDeadline(task.kind) {
            // A device in a session now may be reporting this very result: its session decides.
            guard let device = try? store.device(id: task.deviceID), !sessions.hasSession(deviceID: device.id) else { continue }
            let deadline = TaskPlanner.waitingDeadline(task.kind)
            apply(.fault(CWMPFault(code: 8002, string: "no 8 DIAGNOSTICS COMPLETE within \(deadline) s: the test timed out")), to: &task, now: now,
                  writes: &writes, device: device)
            writes += Self.timeoutResult(task, now: now)
            n += 1
        }
        if !writes.isEmpty { try? await store.apply(writes) }
        return n
    }

    /// The stored result of a test the device never reported ("Timeout"), or whose results a factory reset wiped
    /// ("Aborted").
    static func timeoutResult(_ task: DeviceTask, now: Int64, state: String = "Timeout") -> [StoreWrite] {
        guard case .diagnostics(let spec) = task.kind else { return [] }
        let r = DiagnosticResult(test: spec.plan.test, object: spec.plan.object, state: state)
        return [.diagnosticResult(SpeedTestService.record(r, deviceID: task.deviceID, taskID: task.id, at: now))]
    }

    /// Expires idle sessions; their unanswered tasks go back to the queue. Returns how many were dropped.
    @discardableResult
    public func sweep(now: Double = CWMPService.now()) async -> Int {
        let expired = sessions.expire(before: now - config.sessionIdleTimeout)
        for ctx in expired {
            log.info("session of \(ctx.device.name) timed out")
            await finish(ctx, effects: ctx.machine.abandon())
            _ = sessions.markIdle(ctx, now: now)
        }
        return expired.count
    }

    private func finish(_ ctx: SessionContext, effects: [SessionEffect]) async {
        metrics.sessionEnded(seconds: Self.now() - ctx.openedAt)
        await applyEffects(effects, ctx: ctx)
        await releaseLease(ctx)
        provisioning?.abandon(ctx)
    }

    // MARK: - session leases (several nodes)

    /// Keeps the lease ahead of the idle timeout; a write only when less than half of it is left.
    private func renewLease(_ ctx: SessionContext) async {
        guard let expires = ctx.leaseExpiresAt, !ctx.removed else { return }
        let now = Int64(Self.now())
        guard expires - now < leaseSeconds / 2 else { return }
        ctx.leaseExpiresAt = now + leaseSeconds
        do { try await store.apply([.renewLease(deviceID: ctx.device.id, token: ctx.token, expiresAt: now + leaseSeconds)]) } catch {
            log.error("renewing the session lease of \(ctx.device.name): \(error)")
        }
    }

    /// Frees the device for a session on any node (a lost write only delays that until the lease expires).
    private func releaseLease(_ ctx: SessionContext) async {
        guard ctx.leaseExpiresAt != nil else { return }
        ctx.leaseExpiresAt = nil
        do { try await store.apply([.releaseLease(deviceID: ctx.device.id, token: ctx.token)]) } catch {
            log.error("releasing the session lease of \(ctx.device.name): \(error)")
        }
    }

    // MARK: - effects

    private func applyEffects(_ effects: [SessionEffect], ctx: SessionContext) async {
        guard !effects.isEmpty else { return }
        let now = Int64(Self.now())
        var writes: [StoreWrite] = []
        for effect in effects {
            switch effect {
            case .informReceived:
                break   // recorded when the session opened
            case .cpeRequest(let request):
                cpeRequest(request, ctx: ctx, now: now, writes: &writes)
            case .completed(let item, let response):
                completed(item, response, ctx: ctx, now: now, writes: &writes)
            case .faulted(let item, let fault):
                faulted(item, fault, ctx: ctx, now: now, writes: &writes)
            case .unanswered(let item):
                switch item.origin {
                case .task(let id), .diagnosticsResult(let id):
                    // A cut diagnostics read is redone by running the diagnostics again: its event was acknowledged.
                    if var task = try? store.task(id: id), !task.state.isFinal {
                        requeue(&task, now: now, immediately: false, writes: &writes)
                    }
                case .onboardingCredentials, .deviceInfo:
                    break   // redone at the next Inform: the device is still unconfirmed
                case .provisioning:
                    break   // provisioning state is dropped with the session (finish -> abandon) and rerun next Inform
                }
            }
        }
        do { try await store.apply(writes) } catch { log.error("store write failed for \(ctx.device.name): \(error)") }
    }

    /// Back to pending after an attempt without an answer; faulted after the last attempt.
    private func requeue(_ task: inout DeviceTask, now: Int64, immediately: Bool, writes: inout [StoreWrite]) {
        task.attempts += 1
        if task.attempts >= RetryPolicy.maxAttempts {
            task.state = .fault
            task.fault = CWMPFault(code: 8002, string: "no answer from the CPE after \(task.attempts) attempts")
            writes.append(.fault(FaultRecord(deviceID: task.deviceID, taskID: task.id, source: "task", code: 8002,
                                             message: task.fault!.string, at: now)))
            writes += EngineEvents.task(task, now: now)
            metrics.taskFinished(task)
        } else {
            task.state = .pending
            task.notBefore = immediately ? now : now + RetryPolicy.backoff(attempt: task.attempts)
        }
        task.updatedAt = now
        writes.append(.updateTask(task))
    }

    /// An upload the CPE calls done is done only if its file arrived (the PUT may have been refused or lost).
    private func checkedUpload(_ task: DeviceTask, _ outcome: TaskOutcome) -> TaskOutcome {
        guard case .upload = task.kind, case .done = outcome, let ops = store as? OperatorStore, (try? ops.backup(taskID: task.id)) == nil else { return outcome }
        return .fault(CWMPFault(code: 9011, string: "Upload failure: the CPE reported success, but Corral received no file for this task"))
    }

    /// The newest firmware image for this device (its organisation's or an ancestor's, fitting its profile and
    /// model), as a Download from Corral's file server; nil when there is none or the device runs it already.
    private func latestFirmwareDownload(for d: Device) -> TaskKind? {
        guard let ops = store as? OperatorStore, let filesPrefix = transferPrefixes.withLockedValue({ $0.first { $0.hasSuffix("/files/") } }) else { return nil }
        func orgPath(_ id: Int64) -> String? { (try? ops.organisation(id: id))??.path }
        guard let path = orgPath(d.organisationID), let files = try? ops.files(under: "/") else { return nil }
        let image = files.filter { f in
            f.isFirmware && FirmwareRelease.fits(f, profile: d.profile, model: d.modelName) && (orgPath(f.organisationID).map { path.hasPrefix($0) } ?? false)
        }.max { $0.id < $1.id }
        guard let image, image.version != d.softwareVersion else { return nil }
        return .download(url: "\(filesPrefix)\(image.id)/\(image.downloadKey)/\(image.name)", fileType: image.fileType,
                         fileSize: UInt32(clamping: image.size), targetFileName: "")
    }

    private func cpeRequest(_ request: CPERequest, ctx: SessionContext, now: Int64, writes: inout [StoreWrite]) {
        switch request {
        case .requestDownload(let fileType, let args):
            // Recorded; with the profile's `request_download = "latest_firmware"`, a firmware request is answered
            // with a Download of the newest image that fits the device (if it runs another version).
            var data: [String: Any] = ["file_type": fileType]
            for a in args.prefix(16) { data["arg." + a.name] = a.value }
            writes.append(EngineEvents.event("transfer.requested", ctx.device.id, now, data))
            if fileType.hasPrefix("1 "), config.profiles.profile(named: ctx.device.profile)?.requestDownload == .latestFirmware,
               let kind = latestFirmwareDownload(for: ctx.device),
               !((try? store.tasks(deviceID: ctx.device.id, states: [.pending, .sent, .waiting])) ?? []).contains(where: { $0.kind == kind }) {
                let store = self.store, device = ctx.device.id
                Task { _ = try? await store.createTask(DeviceTask(deviceID: device, kind: kind, createdAt: now, updatedAt: now)) }
            }
            return
        case .autonomousTransferComplete(let a):
            writes.append(EngineEvents.event("transfer.autonomous", ctx.device.id, now, [
                "announce_url": a.announceURL, "transfer_url": a.transferURL, "is_download": a.isDownload, "file_type": a.fileType,
                "file_size": Int(a.fileSize), "fault_code": a.fault.code, "fault": a.fault.string]))
            if a.fault.code != 0 {
                writes.append(.fault(FaultRecord(deviceID: ctx.device.id, taskID: nil, source: "transfer", code: a.fault.code,
                                                 message: a.fault.string, detail: "autonomous \(a.isDownload ? "download" : "upload") of \(a.transferURL)", at: now)))
            }
            return
        default:
            break
        }
        guard case .transferComplete(let tc) = request else { return }
        var matched = false
        // Pending too: the DownloadResponse may have been lost and the task re-queued.
        for var task in (try? store.tasks(deviceID: ctx.device.id, states: [.waiting, .sent, .pending])) ?? [] {
            if let outcome = TaskPlanner.resolveTransfer(task, tc) {
                apply(checkedUpload(task, outcome), to: &task, now: now, writes: &writes, device: ctx.device)
                matched = true
            }
        }
        if !matched && tc.fault.code != 0 {
            writes.append(.fault(FaultRecord(deviceID: ctx.device.id, taskID: nil, source: "transfer", code: tc.fault.code,
                                             message: tc.fault.string, detail: "CommandKey \(tc.commandKey)", at: now)))
        }
    }

    private func completed(_ item: WorkItem, _ response: CPEResponse, ctx: SessionContext, now: Int64, writes: inout [StoreWrite]) {
        switch item.origin {
        case .task(let id):
            guard var task = try? store.task(id: id) else { return }
            let outcome = checkedUpload(task, TaskPlanner.outcome(for: task, response: response))
            apply(outcome, to: &task, now: now, writes: &writes, device: ctx.device)
            // The store follows the device: a deleted instance's subtree goes, a re-read object loses what the CPE
            // no longer has (written before the values read, which are stored at the end).
            if task.state == .done {
                switch (task.kind, response) {
                case (.deleteObject(let path), .deleteObject):
                    writes.append(.removeParameters(deviceID: ctx.device.id, prefix: path, keeping: []))
                case (.refresh(let path), .getParameterValues(let values)) where path.hasSuffix("."):
                    writes.append(.removeParameters(deviceID: ctx.device.id, prefix: path, keeping: Set(values.map(\.name))))
                case (.getParameterValues(let names), .getParameterValues(let values)):
                    let got = Set(values.map(\.name))
                    for path in names where path.hasSuffix(".") {
                        writes.append(.removeParameters(deviceID: ctx.device.id, prefix: path, keeping: got))
                    }
                case (.cancelTransfer(let key), .cancelTransfer):
                    // The transfer will never complete: its task is cancelled, not left waiting for a TransferComplete.
                    for var t in (try? store.tasks(deviceID: ctx.device.id, states: [.waiting, .sent])) ?? []
                    where (t.commandKey.isEmpty ? DeviceTask.commandKey(forTaskID: t.id) : t.commandKey) == key && t.id != task.id {
                        t.state = .cancelled
                        t.updatedAt = now
                        writes.append(.updateTask(t))
                    }
                default: break
                }
            }
            if case .setParameterValues(let values) = task.kind, case .setParameterValues = response {
                writes.append(.parameters(deviceID: ctx.device.id, values: values, at: now))
            }
        case .onboardingCredentials:
            // Status 1 = "applied later": the CPE may keep the old credentials until it reboots; it confirms the
            // new ones by authenticating with them.
            // Either way the values are committed on the CPE: ManagementServer.Username and the rest are stored
            // like any value written (secrets stay out of the parameter table).
            if case .setParameterValues(let values, _) = item.request {
                writes.append(.parameters(deviceID: ctx.device.id, values: values.filter { !ManagementPaths.isSecret($0.name) }, at: now))
            }
            guard case .setParameterValues(status: 0) = response else {
                log.info("device \(ctx.device.name) will apply its credentials later (SPV status 1); confirmed when it authenticates with them")
                return
            }
            ctx.device.credentialsConfirmed = true
            ctx.device.previousPasswordHA1 = ""
            ctx.device.onboardedAt = now
            writes.append(.updateDevice(ctx.device))
            writes.append(EngineEvents.onboarded(deviceID: ctx.device.id, now: now))
            log.info("device \(ctx.device.name) onboarded with its own credentials")
        case .deviceInfo:
            if case .getParameterValues(let values) = response, let kind = ctx.device.dataModel {
                let p = ManagementPaths(kind)
                for v in values {
                    switch v.name {
                    case p.manufacturer: if !v.value.isEmpty { ctx.device.manufacturer = Device.displayField(v.value) }
                    case p.modelName: ctx.device.modelName = Device.displayField(v.value)
                    case p.softwareVersion: ctx.device.softwareVersion = Device.displayField(v.value)
                    case p.hardwareVersion: ctx.device.hardwareVersion = Device.displayField(v.value)
                    default: break
                    }
                }
                writes.append(.updateDevice(ctx.device))
                writes.append(.parameters(deviceID: ctx.device.id, values: values, at: now))
            }
        case .provisioning:
            provisioning?.completed(ctx, response)
        case .diagnosticsResult(let taskID):
            if case .getParameterValues(let values) = response {
                writes.append(.parameters(deviceID: ctx.device.id, values: values, at: now))
                if var task = try? store.task(id: taskID), !task.state.isFinal {
                    if case .diagnostics(let spec) = task.kind {
                        // The test ran after the CPE accepted it (the task's last change: waiting).
                        let view = speedTest.withLockedValue { $0 }?.serverView(spec, deviceAddress: ctx.device.ipAddress,
                                                                                sinceMicros: (task.updatedAt - 2) * 1_000_000)
                        let result = DiagnosticResult.compute(test: spec.plan.test, object: spec.plan.object, values: values, server: view)
                        // Another test's "8 DIAGNOSTICS COMPLETE" (two objects running at once): this one still runs.
                        if result.state == "Requested" { return }
                        writes.append(.diagnosticResult(SpeedTestService.record(result, deviceID: ctx.device.id, taskID: task.id, at: now)))
                        if !result.ok {
                            // The CPE ran it and reported an error state: a fault naming it, not "done".
                            apply(.fault(CWMPFault(code: 8002, string: "the test ended in \(result.state.isEmpty ? "no state" : result.state)")),
                                  to: &task, now: now, writes: &writes, device: ctx.device)
                            return
                        }
                    }
                    apply(.done(TaskResult(values: values)), to: &task, now: now, writes: &writes, device: ctx.device)
                }
            }
        }
        if case .task = item.origin, case .getParameterValues(let values) = response {
            writes.append(.parameters(deviceID: ctx.device.id, values: values, at: now))
        }
    }

    private func faulted(_ item: WorkItem, _ fault: CWMPFault, ctx: SessionContext, now: Int64, writes: inout [StoreWrite]) {
        let detail = fault.setParameterValuesFaults.map { "\($0.parameterName): \($0.code) \($0.string)" }.joined(separator: "\n")
        switch item.origin {
        case .task(let id):
            guard var task = try? store.task(id: id) else { return }
            let outcome = TaskPlanner.outcome(for: task, fault: fault)
            // Another way of doing it goes out in this same session.
            if case .replan = outcome { ctx.queuedTaskIDs.remove(id) }
            apply(outcome, to: &task, now: now, writes: &writes, device: ctx.device)
        case .diagnosticsResult(let taskID):
            if var task = try? store.task(id: taskID), !task.state.isFinal {
                apply(.fault(fault), to: &task, now: now, writes: &writes, device: ctx.device)
            }
        case .provisioning:
            provisioning?.faulted(ctx, fault)
        case .deviceInfo where TaskPlanner.lacksParameter(fault) && Self.readNames(item.request) != nil:
            let names = Self.readNames(item.request) ?? []
            if names.count > 1 {
                // One name the model lacks faults the whole read: read each alone, so the others still arrive.
                ctx.machine.enqueue(names.map { WorkItem(origin: .deviceInfo, request: .getParameterValues(names: [$0])) })
            } else if let path = names.first {
                // An optional path this model does not have (no ModelName, say): remembered, not a fault.
                writes.append(.automation(.absentPaths(deviceID: ctx.device.id, softwareVersion: ctx.device.softwareVersion,
                                                       add: [path], remove: [], at: now)))
                log.info("\(ctx.device.name) has no \(path) (9005): remembered as absent for software \(ctx.device.softwareVersion)")
            }
        case .onboardingCredentials, .deviceInfo:
            let source = item.origin == .onboardingCredentials ? "onboarding" : "device-info"
            writes.append(.fault(FaultRecord(deviceID: ctx.device.id, taskID: nil, source: source, code: fault.code,
                                             message: fault.string, detail: detail, at: now)))
            log.info("\(source) fault \(fault.code) on \(ctx.device.name): \(fault.string)")
        }
    }

    static func readNames(_ r: ACSRequest) -> [String]? {
        if case .getParameterValues(let names) = r { return names }
        return nil
    }

    /// Records a task outcome; faults also go to the fault log, against the task.
    private func apply(_ outcome: TaskOutcome, to task: inout DeviceTask, now: Int64, writes: inout [StoreWrite], device: Device) {
        task.updatedAt = now
        switch outcome {
        case .done(let result):
            task.state = .done
            task.result = result
        case .waiting(let result):
            task.state = .waiting
            task.result = result
        case .fault(let fault):
            task.state = .fault
            task.fault = fault
        case .retry(let fault):
            task.attempts += 1
            task.state = .pending
            task.fault = fault
            task.notBefore = now + RetryPolicy.backoff(attempt: task.attempts)
        case .replan(let kind, let fault):
            log.info("task #\(task.id) on \(device.name): \(fault.code) \(fault.string); trying the next path set")
            task.kind = kind
            task.state = .pending
            task.notBefore = now
        }
        if case .fault(let f) = outcome {
            let detail = f.setParameterValuesFaults.map { "\($0.parameterName): \($0.code) \($0.string)" }.joined(separator: "\n")
            writes.append(.fault(FaultRecord(deviceID: device.id, taskID: task.id, source: "task", code: f.code, message: f.string,
                                             detail: detail, at: now)))
        }
        writes.append(.updateTask(task))
        writes += EngineEvents.task(task, now: now)
        metrics.taskFinished(task)
    }

    static func timestamp(_ unix: Int64) -> String {
        CWMPDateTime.format(unixSeconds: unix)
    }
}
