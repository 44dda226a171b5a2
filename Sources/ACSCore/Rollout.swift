import Foundation

/// A persisted firmware rollout (issue 14): one image to the devices of a target, in waves, inside a daily window,
/// stopping itself when too many fail. The rules live here as pure functions; `RolloutRunner` applies them.
public struct Rollout: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable {
        case running, paused
        /// Stopped by itself (failure rate); `reason` says why. Resumable.
        case stopped
        case cancelled, finished
        public var isFinal: Bool { self == .cancelled || self == .finished }
    }

    public var id: Int64 = 0
    public var organisationID: Int64
    public var fileID: Int64
    public var version: String
    /// The filter the devices were chosen by (`RolloutTarget`), as given; "rollback of #N" for a rollback.
    public var target: String
    /// Cumulative percentages of the devices, the last 100 ("10,50,100").
    public var waves: [Int]
    public var window: DailyWindow?
    /// IANA zone of the window ("UTC", "Europe/Paris").
    public var timeZone: String
    public var maxFailureRate: Double
    /// Devices downloading at once.
    public var concurrency: Int
    public var state: State = .running
    /// The wave being sent (0-based).
    public var wave = 0
    public var reason = ""
    /// The current wave's failed and attempted counts when it was last resumed: the failure rate counts from there
    /// (a stopped rollout that an operator resumes is not stopped again by the same failures).
    public var failedBase = 0
    public var attemptedBase = 0
    public var rollbackOf: Int64?
    public var createdAt: Int64
    public var updatedAt: Int64
    public var createdBy: String

    public init(organisationID: Int64, fileID: Int64, version: String, target: String, waves: [Int], window: DailyWindow?, timeZone: String,
                maxFailureRate: Double, concurrency: Int, createdAt: Int64, createdBy: String) {
        self.organisationID = organisationID; self.fileID = fileID; self.version = version; self.target = target; self.waves = waves
        self.window = window; self.timeZone = timeZone; self.maxFailureRate = maxFailureRate; self.concurrency = concurrency
        self.createdAt = createdAt; self.updatedAt = createdAt; self.createdBy = createdBy
    }
}

/// One device of a rollout.
public struct RolloutDevice: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable {
        /// Waiting for its wave, the window, or its next try (offline devices are retried with backoff).
        case pending
        /// A download task is queued or under way.
        case sent
        /// Informed with the new SoftwareVersion.
        case upgraded
        /// The download faulted, timed out, or the device came back on another version (`reason`).
        case failed
        /// Already on the version when the rollout began.
        case skipped
        case cancelled
    }

    public var rolloutID: Int64
    public var deviceID: Int64
    public var wave: Int
    public var state: State
    public var previousVersion: String
    public var taskID: Int64?
    /// Download tasks queued for it so far.
    public var attempts = 0
    public var nextAt: Int64 = 0
    public var sentAt: Int64 = 0
    public var reason = ""

    public init(rolloutID: Int64, deviceID: Int64, wave: Int, state: State, previousVersion: String) {
        self.rolloutID = rolloutID; self.deviceID = deviceID; self.wave = wave; self.state = state; self.previousVersion = previousVersion
    }
}

/// A daily time window, minutes after midnight; `end` before `start` crosses midnight ("22:00-04:00").
public struct DailyWindow: Sendable, Equatable {
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) { self.start = start; self.end = end }

    /// "01:00-05:00".
    public static func parse(_ text: String) -> DailyWindow? {
        let parts = text.split(separator: "-").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let a = minutes(parts[0]), let b = minutes(parts[1]), a != b else { return nil }
        return DailyWindow(start: a, end: b)
    }

    static func minutes(_ hhmm: String) -> Int? {
        let p = hhmm.split(separator: ":")
        guard p.count == 2, p[0].count <= 2, p[1].count == 2, let h = Int(p[0]), let m = Int(p[1]), (0...24).contains(h), (0..<60).contains(m),
              h * 60 + m <= 24 * 60 else { return nil }
        return h * 60 + m
    }

    public var text: String {
        func f(_ m: Int) -> String { String(format: "%02d:%02d", m / 60, m % 60) }
        return "\(f(start))-\(f(end))"
    }

    public func contains(minuteOfDay m: Int) -> Bool {
        start < end ? (m >= start && m < end) : (m >= start || m < end)
    }

    /// Seconds from `at` until the window (open at `at`) closes, in `zone`.
    public func secondsLeft(at: Int64, zone: TimeZone) -> Int64 {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = zone
        let date = Date(timeIntervalSince1970: TimeInterval(at))
        let c = cal.dateComponents([.hour, .minute, .second], from: date)
        let s = ((c.hour ?? 0) * 60 + (c.minute ?? 0)) * 60 + (c.second ?? 0)
        let endS = end * 60
        return Int64(endS > s ? endS - s : 86_400 - s + endS)
    }

    public static func zone(offsetMinutes: Int?) -> TimeZone {
        TimeZone(secondsFromGMT: (offsetMinutes ?? 0) * 60) ?? TimeZone(identifier: "UTC")!
    }

    /// The window as a device whose clock is `offsetMinutes` from UTC sees it (unknown: UTC).
    public func check(at: Int64, deviceOffsetMinutes offsetMinutes: Int?) -> (open: Bool, opensAt: Int64) {
        check(at: at, zone: Self.zone(offsetMinutes: offsetMinutes))
    }

    /// Whether `at` (Unix time) falls in the window in `zone`, and if not, when it next opens.
    public func check(at: Int64, zone: TimeZone) -> (open: Bool, opensAt: Int64) {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = zone
        let date = Date(timeIntervalSince1970: TimeInterval(at))
        let c = cal.dateComponents([.hour, .minute], from: date)
        let m = (c.hour ?? 0) * 60 + (c.minute ?? 0)
        if contains(minuteOfDay: m) { return (true, at) }
        let midnight = cal.startOfDay(for: date)
        var next = cal.date(byAdding: .minute, value: start, to: midnight) ?? date
        if next <= date { next = cal.date(byAdding: .day, value: 1, to: next) ?? next }
        return (false, Int64(next.timeIntervalSince1970))
    }
}

/// The rules of a rollout.
public enum RolloutRules {
    /// `timezone` value for windows in each device's own time.
    public static let deviceTime = "device"

    /// The UTC offset in an Inform's CurrentTime (xsd:dateTime): "+01:00" → 60, "Z" → 0; nil without one, or for
    /// the "unknown time" value (year 0001) a CPE sends before it has synchronised its clock.
    public static func utcOffsetMinutes(currentTime t: String) -> Int? {
        guard t.count >= 19, !t.hasPrefix("0001-"), let tee = t.firstIndex(of: "T") else { return nil }
        let time = t[t.index(after: tee)...]
        if time.hasSuffix("Z") { return 0 }
        guard let sign = time.lastIndex(where: { $0 == "+" || $0 == "-" }) else { return nil }
        let parts = time[time.index(after: sign)...].split(separator: ":")
        guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0...14).contains(h), (0..<60).contains(m) else { return nil }
        return (time[sign] == "-" ? -1 : 1) * (h * 60 + m)
    }

    /// "10%,50%,100%" or "10,50,100": increasing cumulative percentages ending at 100.
    public static func parseWaves(_ text: String) -> [Int]? {
        let values = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .map { $0.hasSuffix("%") ? String($0.dropLast()) : $0 }.map { Int($0) }
        guard !values.isEmpty, values.count <= 20, values.allSatisfy({ $0 != nil }) else { return nil }
        let w = values.map { $0! }
        guard w.last == 100, w.allSatisfy({ $0 > 0 && $0 <= 100 }), zip(w, w.dropFirst()).allSatisfy({ $0 < $1 }) else { return nil }
        return w
    }

    /// The wave of the device at `position` (0-based) of `count`: the first whose cumulative share reaches past it.
    /// Every wave gets at least its rounded-up share, so a 10% first wave of 5 devices is one device.
    public static func wave(position: Int, count: Int, waves: [Int]) -> Int {
        for (i, p) in waves.enumerated() where position < (count * p + 99) / 100 { return i }
        return waves.count - 1
    }

    /// Seconds before an offline device is tried again after `attempts` tries: 5 min doubling to 6 h.
    public static func backoff(attempts: Int, base: Int64 = 300) -> Int64 {
        min(base << Int64(min(max(attempts - 1, 0), 16)), 6 * 3600)
    }

    /// A queued download the device has not fetched after this long: it is offline; back to pending.
    public static let unreachableAfter: Int64 = 900
    /// After a successful transfer, the device must inform on the new version within this.
    public static let rebootDeadline: Int64 = 3600
    /// Tries after which an unreachable device no longer holds its wave back (it is still retried).
    public static let deferAfterAttempts = 3

    public enum Resolution: Sendable, Equatable {
        case upgraded
        case failed(String)
        /// Not counted: the device never got the download (offline, or the window closed); retried.
        case retry(String)
    }

    /// What became of a sent device, from its download task and what the device reported; nil = still under way.
    public static func resolve(_ d: RolloutDevice, task: DeviceTask?, softwareVersion: String, lastBoot: Int64, version: String,
                               now: Int64, unreachableAfter: Int64 = unreachableAfter) -> Resolution? {
        guard let task else { return .retry("its download task was removed") }
        if softwareVersion == version, [.done, .waiting, .sent].contains(task.state) { return .upgraded }
        switch task.state {
        case .pending:
            return now - d.sentAt >= unreachableAfter ? .retry("offline: did not connect within \(unreachableAfter) s") : nil
        case .sent, .waiting:
            return nil
        case .cancelled:
            return .retry("its download task was cancelled")
        case .fault:
            let f = task.fault
            return .failed("download fault \(f?.code ?? 0) \(f?.string ?? "")".trimmingCharacters(in: .whitespaces))
        case .done:
            // CPEs report TransferComplete in the first session after the reboot that installs the image: a boot
            // just before it (or any later) is that reboot.
            if lastBoot >= d.sentAt && lastBoot + 120 >= task.updatedAt { return .failed("came back on \(softwareVersion.isEmpty ? "an unknown version" : softwareVersion), not \(version)") }
            if now - task.updatedAt > rebootDeadline { return .failed("no boot into \(version) within \(rebootDeadline) s of the transfer") }
            return nil
        }
    }

    public struct Tally: Sendable, Equatable {
        public var byState: [RolloutDevice.State: Int] = [:]
        public init() {}
        public subscript(_ s: RolloutDevice.State) -> Int { byState[s, default: 0] }
        public var attempted: Int { self[.upgraded] + self[.failed] }
        public var failureRate: Double { attempted == 0 ? 0 : Double(self[.failed]) / Double(attempted) }
    }

    /// The current wave's tally since its last resume.
    public static func sinceResume(_ t: Tally, failedBase: Int, attemptedBase: Int) -> Tally {
        var out = t
        let failed = max(0, t[.failed] - failedBase)
        out.byState[.failed] = failed
        out.byState[.upgraded] = max(0, t.attempted - attemptedBase - failed)
        return out
    }

    /// Stop on the failure rate once enough devices have an outcome (at least 10, or the whole wave so far).
    public static func tooManyFailures(_ t: Tally, maxRate: Double, waveComplete: Bool) -> Bool {
        t[.failed] > 0 && (t.attempted >= 10 || waveComplete) && t.failureRate > maxRate
    }
}
