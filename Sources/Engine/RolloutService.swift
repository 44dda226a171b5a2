import ACSCore
import Foundation
import Storage

/// Starting and steering firmware rollouts; shared by the API and `corral firmware`. The running is
/// `RolloutRunner`'s.
public struct RolloutService: Sendable {
    let store: OperatorStore
    let profiles: ProfileRegistry

    public init(store: OperatorStore, profiles: ProfileRegistry) { self.store = store; self.profiles = profiles }

    public struct Request: Sendable {
        public var version: String
        /// `RolloutTarget` text ("" = every device of the organisation subtree).
        public var target = ""
        public var waves = "100%"
        public var window: String?
        public var timeZone = "UTC"
        public var maxFailureRate = 0.05
        public var concurrency = 50
        public var organisationPath: String
        public var organisationID: Int64
        public var actor: String
        public init(version: String, organisationID: Int64, organisationPath: String, actor: String) {
            self.version = version; self.organisationID = organisationID; self.organisationPath = organisationPath; self.actor = actor
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ d: String) { description = d }
    }

    /// The image of `version` for an organisation: its own or the nearest ancestor's (never a sub-organisation's,
    /// whose admins do not decide for the parent's fleet).
    static func image(version: String, forOrganisationPath path: String, store: OperatorStore) throws -> StoredFile? {
        var best: (depth: Int, file: StoredFile)?
        for f in try store.files(under: "/") where f.isFirmware && f.version == version {
            guard let p = try store.organisation(id: f.organisationID)?.path, path.hasPrefix(p) else { continue }
            if best == nil || p.count > best!.depth || (p.count == best!.depth && f.id > best!.file.id) { best = (p.count, f) }
        }
        return best?.file
    }

    /// At most this many devices in one rollout.
    public static let maxDevices = 1_000_000

    /// Chooses the devices (the target, the image's profile and model; those already on the version are skipped),
    /// splits them into waves and stores the rollout, running.
    public func start(_ r: Request, now: Int64 = Int64(Date().timeIntervalSince1970)) async throws -> (Rollout, RolloutRules.Tally) {
        guard let waves = RolloutRules.parseWaves(r.waves) else {
            throw Failure("waves must be increasing percentages ending at 100, e.g. 10%,50%,100%")
        }
        var window: DailyWindow?
        if let w = r.window, !w.isEmpty {
            guard let parsed = DailyWindow.parse(w) else { throw Failure("window must be HH:MM-HH:MM, e.g. 01:00-05:00") }
            window = parsed
        }
        guard r.timeZone == RolloutRules.deviceTime || TimeZone(identifier: r.timeZone) != nil else {
            throw Failure("unknown time zone \(r.timeZone) (an IANA name such as Europe/Paris, or \"device\" for each device's own clock)")
        }
        guard r.maxFailureRate >= 0, r.maxFailureRate <= 1 else { throw Failure("max failure rate must be between 0 and 1") }
        guard (1...10_000).contains(r.concurrency) else { throw Failure("concurrency must be 1-10000") }
        guard let image = try Self.image(version: r.version, forOrganisationPath: r.organisationPath, store: store) else { throw Failure("no firmware image of version \(r.version) (add one with corral firmware add)") }
        var query: DeviceQuery
        do { query = try RolloutTarget.query(r.target) } catch { throw Failure("\(error)") }
        query.organisationPath = r.organisationPath
        query.limit = 1000
        var chosen: [Device] = []
        var skipped: [Device] = []
        while true {
            let page = try store.devices(query, now: now)
            for d in page.devices where FirmwareRelease.fits(image, profile: d.profile, model: d.modelName) {
                if d.softwareVersion == r.version { skipped.append(d) } else { chosen.append(d) }
            }
            if chosen.count + skipped.count > Self.maxDevices { throw Failure("more than \(Self.maxDevices) devices: narrow the target") }
            guard let next = page.nextCursor else { break }
            query.cursor = next
        }
        guard !chosen.isEmpty || !skipped.isEmpty else {
            throw Failure("no device matches the target\(image.targetProfile.isEmpty && image.targetModel.isEmpty ? "" : " and the image's profile/model")")
        }
        let rollout = Rollout(organisationID: r.organisationID, fileID: image.id, version: r.version, target: r.target, waves: waves,
                              window: window, timeZone: r.timeZone, maxFailureRate: r.maxFailureRate, concurrency: r.concurrency,
                              createdAt: now, createdBy: r.actor)
        return try await store(rollout, chosen: chosen, skipped: skipped, now: now)
    }

    private func store(_ rollout: Rollout, chosen: [Device], skipped: [Device], now: Int64) async throws -> (Rollout, RolloutRules.Tally) {
        var devices = chosen.enumerated().map { i, d in
            RolloutDevice(rolloutID: 0, deviceID: d.id, wave: RolloutRules.wave(position: i, count: chosen.count, waves: rollout.waves),
                          state: .pending, previousVersion: d.softwareVersion)
        }
        devices += skipped.map { RolloutDevice(rolloutID: 0, deviceID: $0.id, wave: 0, state: .skipped, previousVersion: $0.softwareVersion) }
        var r = rollout
        if chosen.isEmpty { r.state = .finished; r.reason = "every device is on \(rollout.version) already" }
        let created = try await store.createRollout(r, devices: devices)
        try await store.apply([EngineEvents.rollout("rollout.started", created, now: now, ["devices": chosen.count, "skipped": skipped.count])])
        var tally = RolloutRules.Tally()
        tally.byState[.pending] = chosen.count
        tally.byState[.skipped] = skipped.count
        return (created, tally)
    }

    /// Pause, resume, cancel. A stopped rollout resumes too (the operator looked at the failures).
    public func control(_ id: Int64, _ action: String, now: Int64 = Int64(Date().timeIntervalSince1970)) async throws -> Rollout {
        guard var r = try store.rollout(id: id) else { throw Failure("no rollout \(id)") }
        let before = r.state
        switch action {
        case "pause":
            guard r.state == .running else { throw Failure("rollout \(id) is \(r.state.rawValue), not running") }
            r.state = .paused
        case "resume":
            guard r.state == .paused || r.state == .stopped else { throw Failure("rollout \(id) is \(r.state.rawValue); only paused or stopped rollouts resume") }
            r.state = .running
            r.reason = ""
            // The failures that stopped it are known: the rate counts again from here.
            if before == .stopped {
                let t = try store.rolloutCounts(rolloutID: id)[r.wave] ?? RolloutRules.Tally()
                r.failedBase = t[.failed]; r.attemptedBase = t.attempted
            }
        case "cancel":
            guard !r.state.isFinal else { throw Failure("rollout \(id) is \(r.state.rawValue) already") }
            r.state = .cancelled
            r.reason = "cancelled"
        default:
            throw Failure("unknown action \(action): pause, resume or cancel")
        }
        r.updatedAt = now
        guard try await store.updateRollout(r, expecting: before) else { throw Failure("rollout \(id) changed meanwhile: try again") }
        if r.state == .cancelled { try await RolloutRunner.windDown(r, store: store, now: now) }
        try await store.apply([EngineEvents.rollout("rollout.\(action == "cancel" ? "cancelled" : action == "pause" ? "paused" : "resumed")", r, now: now)])
        return r
    }

    /// A rollout back to the version the upgraded devices ran before (one previous version; its image must be stored).
    public func rollback(_ id: Int64, actor: String, organisationPath: String, now: Int64 = Int64(Date().timeIntervalSince1970)) async throws -> (Rollout, RolloutRules.Tally) {
        guard let original = try store.rollout(id: id) else { throw Failure("no rollout \(id)") }
        let upgraded = try store.rolloutDevices(rolloutID: id, states: [.upgraded, .sent], maxWave: .max, dueBy: nil, limit: Self.maxDevices)
        guard !upgraded.isEmpty else { throw Failure("rollout \(id) upgraded no device: nothing to roll back") }
        let previous = Set(upgraded.map(\.previousVersion).filter { !$0.isEmpty })
        guard previous.count == 1, let version = previous.first else {
            throw Failure(previous.isEmpty ? "the previous version of these devices is unknown"
                          : "the devices came from several versions (\(previous.sorted().joined(separator: ", "))): start a rollout per version")
        }
        guard let image = try Self.image(version: version, forOrganisationPath: organisationPath, store: store) else {
            throw Failure("no stored image of the previous version \(version): add it with corral firmware add --version \(version)")
        }
        if !original.state.isFinal {
            var o = original
            o.state = .cancelled; o.reason = "rolled back"; o.updatedAt = now
            guard try await store.updateRollout(o, expecting: original.state) else { throw Failure("rollout \(id) changed meanwhile: try again") }
            try await RolloutRunner.windDown(o, store: store, now: now)
        }
        var devices: [Device] = []
        for d in upgraded { if let dev = try store.device(id: d.deviceID) { devices.append(dev) } }
        var r = Rollout(organisationID: original.organisationID, fileID: image.id, version: version, target: "rollback of #\(id)",
                        waves: [100], window: original.window, timeZone: original.timeZone, maxFailureRate: 1, concurrency: original.concurrency,
                        createdAt: now, createdBy: actor)
        r.rollbackOf = id
        return try await store(r, chosen: devices.filter { $0.softwareVersion != version }, skipped: devices.filter { $0.softwareVersion == version }, now: now)
    }
}

/// A rollout's target: `key=value` conditions separated by spaces, all of which must hold ("" = every device):
/// profile, model, software_version, manufacturer, group, tag, location, status (online/offline/never), text.
public enum RolloutTarget {
    public static let keys = ["profile", "model", "software_version", "manufacturer", "group", "tag", "location", "status", "text"]

    public struct Problem: Error, CustomStringConvertible { public let description: String }

    public static func query(_ text: String) throws -> DeviceQuery {
        var q = DeviceQuery()
        for term in text.split(separator: " ").map(String.init) where !term.isEmpty {
            guard let eq = term.firstIndex(of: "="), !term[term.index(after: eq)...].isEmpty else {
                throw Problem(description: "target term '\(term.prefix(60))' is not key=value (keys: \(keys.joined(separator: ", ")))")
            }
            let key = String(term[..<eq]), value = String(term[term.index(after: eq)...])
            switch key {
            case "profile": q.profile = value
            case "model": q.model = value
            case "software_version": q.softwareVersion = value
            case "manufacturer": q.manufacturer = value
            case "group": q.group = value
            case "tag": q.tag = value
            case "location": q.location = value
            case "text": q.text = value
            case "status":
                guard let s = DeviceStatus(rawValue: value) else { throw Problem(description: "status must be online, offline or never") }
                q.status = s
            default:
                throw Problem(description: "unknown target key \(key.prefix(40)) (keys: \(keys.joined(separator: ", ")))")
            }
        }
        return q
    }
}
