import ACSCore
import CWMP
import DataModel
import Foundation
import Storage

/// How the launch checklist wakes devices: the server's (or the CLI's) `Waker`, or HTTP connection requests alone.
public protocol DeviceWaking: Sendable {
    /// The methods the device can be woken by now, in the order they are tried.
    func methods(for device: Device) -> [WakeMethod]
    /// Wakes the device by these methods (nil: the ones it has, in its profile's order).
    func wake(_ device: Device, order: [WakeMethod]?) async -> WakeAttempt
}

extension Waker: DeviceWaking {
    public func methods(for device: Device) -> [WakeMethod] {
        facts(for: device).methods(order: profiles.profile(named: device.profile)?.wakeOrder ?? WakeMethod.defaultOrder, available: availableMethods)
    }
}

/// HTTP connection requests only (an API without a server's Waker).
public struct HTTPConnectionRequests: DeviceWaking {
    let profiles: @Sendable () -> ProfileRegistry
    public init(profiles: @escaping @Sendable () -> ProfileRegistry) { self.profiles = profiles }

    public func methods(for device: Device) -> [WakeMethod] { device.connectionRequestURL.isEmpty ? [] : [.http] }

    public func wake(_ device: Device, order: [WakeMethod]?) async -> WakeAttempt {
        let t0 = Date().timeIntervalSince1970
        var outcome = "woke"
        if device.connectionRequestURL.isEmpty {
            outcome = "\(device.name) has not reported a ConnectionRequestURL yet"
        } else {
            do {
                try await ConnectionRequester.send(to: device, allowedNetworks: profiles().profile(named: device.profile)?.connectionRequestNetworks ?? [])
            } catch {
                outcome = "\(error)"
            }
        }
        let ms = Int((Date().timeIntervalSince1970 - t0) * 1000)
        return WakeAttempt(deviceID: device.id, at: Int64(t0), tried: [WakeTry(method: .http, outcome: outcome, millis: ms)],
                           woke: outcome == "woke" ? .http : nil, millis: ms)
    }
}

/// Runs the launch checklist (`LaunchChecklist`) against a live device: queues tasks, wakes it, waits (every wait
/// bounded), compares, and saves the report with a `validate.done` event. The API and the CLI both use it.
public struct ValidationRunner: Sendable {
    public struct Options: Sendable {
        public var includeFactoryReset: Bool
        /// The configuration change; nil: the WiFi SSID, set to a random name and restored.
        public var setting: LaunchSetting?
        /// How long each step may wait for the device.
        public var stepTimeout: Duration
        /// How long the reboot and the factory reset may take (until the device is back).
        public var rebootTimeout: Duration
        public var createdBy: String

        public init(includeFactoryReset: Bool = false, setting: LaunchSetting? = nil, stepTimeout: Duration = .seconds(60),
                    rebootTimeout: Duration = .seconds(180), createdBy: String = "") {
            self.includeFactoryReset = includeFactoryReset; self.setting = setting; self.stepTimeout = stepTimeout
            self.rebootTimeout = rebootTimeout; self.createdBy = createdBy
        }
    }

    let store: ValidationStore
    let waking: DeviceWaking
    let profiles: @Sendable () -> ProfileRegistry
    /// Pause between two connection-request methods, so that the session the first one opened is over.
    public var methodPause: Duration = .seconds(1)
    /// A wake-up that failed is tried once more after this (a CPE busy with its previous session may turn it away).
    public var wakeRetryPause: Duration = .seconds(2)
    /// The longest wait for the session a connection request should open.
    public var sessionTimeout: Duration = .seconds(30)
    let poll: Duration = .milliseconds(20)
    let clock = ContinuousClock()

    public init(store: ValidationStore, waking: DeviceWaking, profiles: @escaping @Sendable () -> ProfileRegistry) {
        self.store = store; self.waking = waking; self.profiles = profiles
    }

    /// Runs every check (`progress` hears each as it ends), saves the report and records `validate.done`. Failures of
    /// the device are checks that fail; only a store that cannot save the report throws.
    public func run(_ device: Device, options: Options, progress: (LaunchCheck) -> Void = { _ in }) async throws -> LaunchValidation {
        let started = Date().timeIntervalSince1970
        var checks: [LaunchCheck] = []
        let profile = profiles().profile(named: device.profile)

        var t = clock.now
        let owner = try? store.device(username: device.username)
        var c = LaunchChecklist.onboarded(device, owner: owner, onboardingUsername: profile?.onboardingUsername)
        c.durationMs = ms(since: t)
        Self.record(c, in: &checks, progress)

        t = clock.now
        c = LaunchChecklist.inventory(device, profileKnown: profile != nil, now: Int64(started))
        c.durationMs = ms(since: t)
        Self.record(c, in: &checks, progress)

        t = clock.now
        let (reach, reachable) = await reachability(device, timeout: options.stepTimeout)
        c = reach
        c.durationMs = ms(since: t)
        Self.record(c, in: &checks, progress)

        if reachable {
            Self.record(await reads(device, profile: profile, timeout: options.stepTimeout), in: &checks, progress)
            Self.record(await change(device, profile: profile, setting: options.setting, timeout: options.stepTimeout), in: &checks, progress)
            Self.record(await reboot(device, profile: profile, timeout: options.rebootTimeout), in: &checks, progress)
            if options.includeFactoryReset {
                Self.record(await factoryReset(device, timeout: options.rebootTimeout), in: &checks, progress)
            }
        } else {
            for name in LaunchChecklist.deviceChecks(includeFactoryReset: options.includeFactoryReset) {
                Self.record(.fail(name, LaunchChecklist.notReachable), in: &checks, progress)
            }
        }

        let finished = Date().timeIntervalSince1970
        let report = LaunchValidation(deviceID: device.id, organisationID: device.organisationID, startedAt: Int64(started),
                                      finishedAt: Int64(finished.rounded(.up)), checks: checks, createdBy: options.createdBy)
        let saved = try await store.createValidation(report)
        try await store.apply([EngineEvents.validate(saved, now: Int64(finished))])
        return saved
    }

    static func record(_ c: LaunchCheck, in checks: inout [LaunchCheck], _ progress: (LaunchCheck) -> Void) {
        checks.append(c)
        progress(c)
    }

    func ms(since t: ContinuousClock.Instant) -> Int { Self.ms(clock.now - t) }

    static func ms(_ d: Duration) -> Int {
        let c = d.components
        return Int(c.seconds) * 1000 + Int(c.attoseconds / 1_000_000_000_000_000)
    }

    static func seconds(_ d: Duration) -> String {
        let s = Double(ms(d)) / 1000
        return s == s.rounded() ? "\(Int(s)) s" : String(format: "%.1f s", s)
    }

    // MARK: reachability

    /// Each method the device has, one after the other: the request, then the session it opens (its Inform with
    /// 6 CONNECTION REQUEST stored). Also says whether any method reached the device.
    func reachability(_ device: Device, timeout: Duration) async -> (LaunchCheck, Bool) {
        let methods = waking.methods(for: device)
        guard !methods.isEmpty else {
            // Nothing to try; the wake-up says why (no ConnectionRequestURL or UDP address reported yet).
            let a = await waking.wake(device, order: nil)
            let why = a.tried.map(\.outcome).joined(separator: "; ")
            return (LaunchChecklist.reachability([], noMethod: why.isEmpty ? nil : why), false)
        }
        var probes: [WakeProbe] = []
        for (i, m) in methods.enumerated() {
            if i > 0 { try? await Task.sleep(for: methodPause) }
            let t0 = clock.now
            let since = Int64(Date().timeIntervalSince1970)
            let before = connectionRequestSessions(device.id, since: since)
            let a = await waking.wake(device, order: [m])
            let tried = a.tried.last ?? WakeTry(method: m, outcome: "not tried", millis: 0)
            var probe = WakeProbe(method: m, outcome: tried.outcome, millis: tried.millis)
            if a.woke != nil {
                let deadline = t0 + min(timeout, sessionTimeout)
                while clock.now < deadline {
                    if connectionRequestSessions(device.id, since: since) > before {
                        probe.sessionMillis = ms(since: t0)
                        break
                    }
                    try? await Task.sleep(for: poll)
                }
                if probe.sessionMillis == nil {
                    probe.outcome = "the CPE took the request but opened no session within \(Self.seconds(min(timeout, sessionTimeout)))"
                }
            }
            probes.append(probe)
        }
        return (LaunchChecklist.reachability(probes), probes.contains(where: \.reached))
    }

    /// Informs with 6 CONNECTION REQUEST stored at or after `since` (Unix seconds).
    func connectionRequestSessions(_ deviceID: Int64, since: Int64) -> Int {
        ((try? store.informs(deviceID: deviceID, limit: 50)) ?? []).filter { $0.at >= since && $0.events.contains(EventCode.connectionRequest) }.count
    }

    // MARK: tasks

    enum Performed {
        /// The tasks as they stand when done, failed, or when the time ran out.
        case finished([DeviceTask])
        case notWoken(String)
        case error(String)
    }

    /// Queues the tasks (sent in this order in one session), wakes the device and waits for them, `timeout` in all.
    /// Tasks still pending or sent then are cancelled: nothing of a validation runs later by surprise (see `cancelUnfinished`).
    func perform(_ kinds: [TaskKind], on device: Device, timeout: Duration) async -> Performed {
        let service = TaskService(store: store)
        var queued: [DeviceTask] = []
        do {
            for k in kinds { queued.append(try await service.queue(k, on: device)) }
        } catch {
            await cancelUnfinished(queued)
            return .error("could not queue the task: \(error)")
        }
        var attempt = await waking.wake(device, order: nil)
        if attempt.woke == nil, allPending(queued) {
            try? await Task.sleep(for: wakeRetryPause)
            if allPending(queued) { attempt = await waking.wake(device, order: nil) }
        }
        if attempt.woke == nil, allPending(queued) {
            await cancelUnfinished(queued)
            return .notWoken(WakeFailure(attempt: attempt, device: device.name).description)
        }
        let deadline = clock.now + timeout
        var out: [DeviceTask] = []
        for t in queued {
            let left = deadline - clock.now
            var latest: DeviceTask? = nil
            if left > .zero { latest = try? await service.wait(for: t.id, timeout: left) }
            out.append(latest ?? (try? store.task(id: t.id)) ?? t)
        }
        await cancelUnfinished(out)
        return .finished(out)
    }

    func allPending(_ tasks: [DeviceTask]) -> Bool {
        tasks.allSatisfy { t in (try? store.task(id: t.id))?.state == .pending }
    }

    /// Cancels the tasks still pending (not sent) or sent (no answer yet). A sent one would otherwise be sent again at
    /// the device's next Inform (CWMPService re-queues `.sent` tasks then, and after a session that ended without its
    /// answer); a cancelled one is neither re-queued nor picked (only `.pending` tasks are sent). If the CPE still
    /// answers it in the session it went out in, the task records that answer. `.waiting` tasks were taken by the CPE
    /// and are never sent again: they stay, to record what the device does.
    func cancelUnfinished(_ tasks: [DeviceTask]) async {
        var writes: [StoreWrite] = []
        for t in tasks {
            guard var fresh = try? store.task(id: t.id), fresh.state == .pending || fresh.state == .sent else { continue }
            fresh.state = .cancelled
            fresh.updatedAt = Int64(Date().timeIntervalSince1970)
            writes.append(.updateTask(fresh))
        }
        if !writes.isEmpty { try? await store.apply(writes) }
    }

    /// Why a task did not finish well, or nil when it is done.
    static func problem(_ t: DeviceTask, _ timeout: Duration) -> String? {
        switch t.state {
        case .done: return nil
        case .fault: return t.fault.map(LaunchChecklist.faultText) ?? "fault"
        case .cancelled: return "cancelled"
        case .waiting: return "accepted, but not confirmed within \(seconds(timeout))"
        case .sent: return "sent, but no answer within \(seconds(timeout))"
        case .pending:
            // Back to pending after a transient fault (retried later), or never sent.
            if let f = t.fault { return "\(LaunchChecklist.faultText(f)), to be retried; not done within \(seconds(timeout))" }
            return "not sent within \(seconds(timeout)) (the device opened no session)"
        }
    }

    static func describe(_ p: Performed, task i: Int = 0, _ timeout: Duration) -> String {
        switch p {
        case .notWoken(let why): return "connection request failed: \(why)"
        case .error(let why): return why
        case .finished(let tasks):
            guard i < tasks.count else { return "no task" }
            return problem(tasks[i], timeout) ?? "no value returned"
        }
    }

    // MARK: reads

    /// The identity and every alias of the device's profile, in one read; when it fails, each path alone, to say which.
    func reads(_ device: Device, profile: DeviceProfile?, timeout: Duration) async -> LaunchCheck {
        let t0 = clock.now
        let name = LaunchChecklist.reads
        let root = device.dataModel?.root ?? "Device."
        let (aliases, skipped) = LaunchChecklist.aliasPaths(profile, kind: device.dataModel)
        var paths = LaunchChecklist.identityPaths(root: root)
        for a in aliases where !paths.contains(a.path) { paths.append(a.path) }
        let outcome = await perform([.getParameterValues(paths)], on: device, timeout: timeout)
        guard case .finished(let tasks) = outcome, let t = tasks.first else {
            return .fail(name, Self.describe(outcome, timeout), ms: ms(since: t0))
        }
        if t.state == .done {
            let values = Dictionary((t.result?.values ?? []).map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
            if let p = LaunchChecklist.identityProblem(values, device: device, root: root) { return .fail(name, p, ms: ms(since: t0)) }
            var evidence = "identity: " + LaunchChecklist.identityText(values, root: root)
            if aliases.isEmpty {
                evidence += "; profile \(device.profile.isEmpty ? "(none)" : device.profile) has no aliases to read"
            } else {
                evidence += "; \(aliases.count) aliases read (\(aliases.map(\.alias).joined(separator: ", ")))"
            }
            if !skipped.isEmpty { evidence += "; not on the CPE (virtual or another data model): \(skipped.joined(separator: ", "))" }
            return .pass(name, evidence, ms: ms(since: t0))
        }
        let whole = Self.problem(t, timeout) ?? "failed"
        // One bad path faults the whole read: read each alone (one session) to name it.
        guard t.state == .fault, paths.count > 1 else { return .fail(name, "reading \(paths.count) parameters: \(whole)", ms: ms(since: t0)) }
        let aliasOf = Dictionary(aliases.map { ($0.path, $0.alias) }, uniquingKeysWith: { a, _ in a })
        let each = await perform(paths.map { .getParameterValues([$0]) }, on: device, timeout: timeout)
        guard case .finished(let singles) = each else {
            return .fail(name, "reading \(paths.count) parameters: \(whole)", ms: ms(since: t0))
        }
        let bad = zip(paths, singles).compactMap { path, single -> String? in
            guard let why = Self.problem(single, timeout) else { return nil }
            return (aliasOf[path].map { "alias \($0) (\(path))" } ?? path) + ": " + why
        }
        let evidence = bad.isEmpty ? "reading \(paths.count) parameters at once: \(whole) (each alone was read)" : bad.joined(separator: "; ")
        return .fail(name, evidence, ms: ms(since: t0))
    }

    // MARK: configuration change

    /// A path, or an alias of the profile turned into its path; nil when it is neither.
    static func resolve(_ name: String, profile: DeviceProfile?, kind: DataModelKind?) -> String? {
        if name.hasPrefix("Device.") || name.hasPrefix("InternetGatewayDevice.") { return name }
        guard let profile, profile.aliases[name] != nil else { return nil }
        return profile.path(for: name, kind: kind)
    }

    /// Read the value, set a new one and read it back, then restore the original and read that back.
    func change(_ device: Device, profile: DeviceProfile?, setting: LaunchSetting?, timeout: Duration) async -> LaunchCheck {
        let t0 = clock.now
        let name = LaunchChecklist.change
        let path: String
        if let s = setting {
            guard let p = Self.resolve(s.path, profile: profile, kind: device.dataModel), !p.hasSuffix(".") else {
                return .fail(name, "\(s.path) is neither a parameter path nor an alias of profile \(device.profile.isEmpty ? "(none)" : device.profile)")
            }
            path = p
        } else {
            path = LaunchChecklist.defaultChangePath(profile: profile, kind: device.dataModel)
        }
        guard !ManagementPaths.isSecret(path) else {
            return .fail(name, "\(path) is a secret: it reads back empty, so a change cannot be verified (pick another parameter)")
        }

        // 1. The value now.
        let read = await perform([.getParameterValues([path])], on: device, timeout: timeout)
        guard case .finished(let r) = read, r.first?.state == .done, let original = r.first?.result?.values.first(where: { $0.name == path }) else {
            return .fail(name, "reading \(path): \(Self.describe(read, timeout))", ms: ms(since: t0))
        }
        let wanted = setting?.value ?? LaunchChecklist.changeValue()
        let type = setting?.type ?? original.type
        let was = LaunchChecklist.quoted(path, original.value), new = LaunchChecklist.quoted(path, wanted)

        // 2. Set it and read it back (one session: the read follows the set).
        let set = await perform([.setParameterValues([ParameterValue(name: path, value: wanted, type: type)]), .getParameterValues([path])],
                                on: device, timeout: timeout)
        guard case .finished(let s) = set, s.count == 2 else {
            return .fail(name, "setting \(path) = \(new): \(Self.describe(set, timeout))", ms: ms(since: t0))
        }
        if s[0].state == .fault {
            // SetParameterValues is all or nothing: a refused one changed nothing, and there is nothing to restore.
            return .fail(name, "the CPE did not take \(path) = \(new): \(Self.problem(s[0], timeout) ?? "")", ms: ms(since: t0))
        }
        var problems: [String] = []
        var status = ""
        if s[0].state != .done {
            // Not refused, not confirmed: the CPE may have applied it (sent without an answer yet, or in a session
            // that ended without one), so the original is restored all the same.
            problems.append("the set was not confirmed: \(Self.problem(s[0], timeout) ?? s[0].state.rawValue)")
        } else {
            let back = s[1].result?.values.first { $0.name == path }?.value
            if let why = Self.problem(s[1], timeout) {
                problems.append("set accepted, but reading it back: \(why)")
            } else if let back, !LaunchChecklist.same(back, wanted, type: type) {
                problems.append("set accepted, but it reads back \(LaunchChecklist.quoted(path, back))")
            }
            status = s[0].result?.status == 1 ? " (status 1: the CPE applies it after a reboot)" : ""
        }

        // 3. Restore the original and read it back.
        var restored = "nothing to restore (it was \(new) already)"
        var restoreFailed = false
        if !LaunchChecklist.same(original.value, wanted, type: type) {
            let undo = await perform([.setParameterValues([ParameterValue(name: path, value: original.value, type: original.type)]),
                                      .getParameterValues([path])], on: device, timeout: timeout)
            if case .finished(let u) = undo, u.count == 2, u[0].state == .done, u[1].state == .done,
               let again = u[1].result?.values.first(where: { $0.name == path })?.value, LaunchChecklist.same(again, original.value, type: original.type) {
                restored = "restored \(was) and read it back"
            } else {
                var why = Self.describe(undo, timeout)
                if case .finished(let u) = undo, u.count == 2 {
                    if u[0].state != .done { why = Self.problem(u[0], timeout) ?? why }
                    else if let w = Self.problem(u[1], timeout) { why = "reading it back: " + w }
                    else { why = "it reads back " + LaunchChecklist.quoted(path, u[1].result?.values.first { $0.name == path }?.value ?? "") }
                }
                restored = "restoring \(was) failed: \(why)"
                restoreFailed = true
            }
        }
        if problems.isEmpty && !restoreFailed {
            return .pass(name, "\(path): \(was) → \(new) set\(status) and read back; \(restored)", ms: ms(since: t0))
        }
        // What became of the original is said either way: restored, or why not.
        return .fail(name, "\(path): \(was) → \(new)\(status): " + (problems + [restored]).joined(separator: "; "), ms: ms(since: t0))
    }

    // MARK: reboot and factory reset

    /// The device reboots and comes back with M Reboot (a profile with `reboot_without_commandkey` may come back
    /// without it).
    func reboot(_ device: Device, profile: DeviceProfile?, timeout: Duration) async -> LaunchCheck {
        let t0 = clock.now
        let name = LaunchChecklist.reboot
        let since = Int64(Date().timeIntervalSince1970)
        let outcome = await perform([.reboot], on: device, timeout: timeout)
        guard case .finished(let ts) = outcome, ts.first?.state == .done else {
            if case .finished(let ts) = outcome, ts.first?.state == .waiting {
                return .fail(name, "the CPE accepted the Reboot but did not come back within \(Self.seconds(timeout))", ms: ms(since: t0))
            }
            return .fail(name, Self.describe(outcome, timeout), ms: ms(since: t0))
        }
        let took = ms(since: t0)
        let back = ((try? store.informs(deviceID: device.id, limit: 20)) ?? []).filter { $0.at >= since }.reversed()
        if back.contains(where: { $0.events.contains(EventCode.mReboot) }) {
            return .pass(name, "rebooted; back with M Reboot after \(LaunchChecklist.seconds(took))", ms: took)
        }
        let events = back.first { $0.events.contains(EventCode.boot) }?.events ?? back.first?.events ?? []
        let seen = events.isEmpty ? "no boot event" : events.joined(separator: ", ")
        if profile?.quirks.rebootWithoutCommandKey == true {
            return .pass(name, "rebooted; back after \(LaunchChecklist.seconds(took)) with \(seen) (profile quirk reboot_without_commandkey: no M Reboot expected)", ms: took)
        }
        return .fail(name, "rebooted and back after \(LaunchChecklist.seconds(took)), but with \(seen), not M Reboot", ms: took)
    }

    /// The device resets, comes back with 0 BOOTSTRAP and onboards again as the same ID, keeping the operator's
    /// groups, location and description.
    func factoryReset(_ device: Device, timeout: Duration) async -> LaunchCheck {
        let t0 = clock.now
        let name = LaunchChecklist.factoryReset
        let before = (try? store.device(id: device.id)) ?? device
        let outcome = await perform([.factoryReset], on: device, timeout: timeout)
        guard case .finished(let ts) = outcome, ts.first?.state == .done else {
            var why = Self.describe(outcome, timeout)
            if case .finished(let ts) = outcome, ts.first?.state == .waiting {
                why = "the CPE accepted the FactoryReset but did not come back with 0 BOOTSTRAP within \(Self.seconds(timeout))"
            }
            if (try? store.device(id: device.id))?.rebootstrapHold == .awaitingApproval {
                why += " (its re-bootstrap awaits an operator's approval: profile rebootstrap = \"quarantine\")"
            }
            return .fail(name, why, ms: ms(since: t0))
        }
        let bootstrap = ms(since: t0)
        var after: Device?
        let deadline = t0 + timeout
        while clock.now < deadline {
            if let d = try? store.device(id: device.id), d.credentialsConfirmed {
                after = d
                break
            }
            try? await Task.sleep(for: poll)
        }
        guard let after else {
            let gone = (try? store.device(id: device.id)) == nil
            return .fail(name, "back with 0 BOOTSTRAP after \(LaunchChecklist.seconds(bootstrap)), but "
                         + (gone ? "device \(device.id) is gone" : "its new credentials were not confirmed within \(Self.seconds(timeout))"), ms: ms(since: t0))
        }
        let onboarded = ms(since: t0)
        var problems: [String] = []
        if let holder = try? store.device(oui: device.oui, serial: device.serialNumber), holder.id != device.id {
            problems.append("its OUI and serial now belong to device \(holder.id)")
        }
        if after.groups != before.groups { problems.append("groups were [\(before.groups.joined(separator: ", "))], now [\(after.groups.joined(separator: ", "))]") }
        if after.location != before.location { problems.append("location was \"\(before.location)\", now \"\(after.location)\"") }
        if after.description != before.description { problems.append("description was \"\(before.description.prefix(60))\", now \"\(after.description.prefix(60))\"") }
        let head = "back with 0 BOOTSTRAP after \(LaunchChecklist.seconds(bootstrap)), re-onboarded as ID \(after.id) (new credentials confirmed after \(LaunchChecklist.seconds(onboarded)))"
        if !problems.isEmpty { return .fail(name, head + ", but " + problems.joined(separator: "; "), ms: onboarded) }
        let kept = "kept groups [\(after.groups.joined(separator: ", "))], location \"\(after.location)\", description \"\(after.description.prefix(60))\""
        return .pass(name, head + "; " + kept, ms: onboarded)
    }
}
