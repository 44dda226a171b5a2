import CWMP

/// The transfers a virtual CPE accepted and has not performed yet: ScheduleDownloads waiting for their time window and
/// Downloads with a DelaySeconds. Pure (no clock, no I/O): callers pass the Unix time. A transfer leaves the queue
/// when it is cancelled or finished (finished ones are reported by TransferComplete, not listed).
public struct TransferQueue: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        /// Tells entries with the same command key apart.
        public let id: Int
        public var commandKey: String { download.commandKey }
        /// What to perform (a ScheduleDownload as the equivalent Download, DelaySeconds 0).
        public var download: Download
        /// Unix time from which it may start.
        public var start: Double
        /// Unix time its (first) window ends; `start` for a delayed Download, which has no window.
        public var end: Double
        /// Always true today: delayed Uploads are not queued (they are performed right after the session).
        public var isDownload: Bool
        /// From ScheduleDownload: its completion is announced with "M ScheduleDownload" rather than "M Download".
        public var scheduled: Bool
        /// Under way (State 2); it can no longer be cancelled.
        public var started = false
    }

    /// Transfers a CPE keeps at most (more: 9004 Resources exceeded).
    public static let capacity = 16

    public private(set) var entries: [Entry] = []
    private var nextID = 1
    public let capacity: Int

    public init(capacity: Int = TransferQueue.capacity) { self.capacity = capacity }

    public var isEmpty: Bool { entries.isEmpty }

    /// TR-069 A.4.1.8 time windows: one or two; each ends after it starts; the second starts no earlier than the first
    /// ends (they must not overlap and are listed in increasing order). nil when valid, else 9003.
    public static func validate(_ windows: [TimeWindow]) -> CWMPFault? {
        func invalid(_ why: String) -> CWMPFault { CWMPFault(code: 9003, string: "Invalid arguments: \(why)") }
        guard (1...2).contains(windows.count) else { return invalid("TimeWindowList must hold 1 or 2 windows, got \(windows.count)") }
        for (i, w) in windows.enumerated() where w.windowEnd <= w.windowStart {
            return invalid("window \(i + 1) ends (\(w.windowEnd)) before or when it starts (\(w.windowStart))")
        }
        if windows.count == 2, windows[1].windowStart < windows[0].windowEnd {
            return invalid("window 2 starts (\(windows[1].windowStart)) before window 1 ends (\(windows[0].windowEnd))")
        }
        return nil
    }

    /// The Download a ScheduleDownload performs: same URL, credentials, file type, size and target file name.
    public static func download(for s: ScheduleDownload) -> Download {
        Download(commandKey: s.commandKey, fileType: s.fileType, url: s.url, username: s.username, password: s.password,
                 fileSize: s.fileSize, targetFileName: s.targetFileName)
    }

    /// Queues a ScheduleDownload received at `now` (its windows validated by `validate`): it may start at the first
    /// window's start. nil when the queue is full.
    public mutating func add(_ s: ScheduleDownload, now: Double) -> Entry? {
        let first = s.timeWindows.first ?? TimeWindow(windowStart: 0, windowEnd: 0)
        return add(Self.download(for: s), start: now + Double(first.windowStart), end: now + Double(first.windowEnd), scheduled: true)
    }

    /// Queues a Download received at `now`, to start after its DelaySeconds. nil when the queue is full.
    public mutating func add(_ d: Download, now: Double) -> Entry? {
        let start = now + Double(d.delaySeconds)
        var d = d
        d.delaySeconds = 0
        return add(d, start: start, end: start, scheduled: false)
    }

    private mutating func add(_ d: Download, start: Double, end: Double, scheduled: Bool) -> Entry? {
        guard entries.count < capacity else { return nil }
        let e = Entry(id: nextID, download: d, start: start, end: end, isDownload: true, scheduled: scheduled)
        nextID += 1
        entries.append(e)
        return e
    }

    /// CancelTransfer: removes the transfers with that command key that have not started. False (9021 for the CPE)
    /// when there is none: the key is unknown, or its transfer is under way or over.
    public mutating func cancel(commandKey: String) -> Bool {
        let before = entries.count
        entries.removeAll { $0.commandKey == commandKey && !$0.started }
        return entries.count < before
    }

    /// The transfers that may start at `now` and have not, earliest first. One whose window has passed is due too:
    /// the simulator performs it late rather than dropping it (a CPE would try its second window, or fail it).
    public func due(now: Double) -> [Entry] {
        entries.filter { !$0.started && $0.start <= now }.sorted { ($0.start, $0.id) < ($1.start, $1.id) }
    }

    /// The earliest start of a transfer not yet started.
    public var nextStart: Double? { entries.filter { !$0.started }.map(\.start).min() }

    /// Marks a transfer under way (State 2). False when it is no longer queued or already started.
    public mutating func begin(id: Int) -> Bool {
        guard let i = entries.firstIndex(where: { $0.id == id && !$0.started }) else { return false }
        entries[i].started = true
        return true
    }

    /// Takes the earliest due transfer and marks it under way, or nil when none is due.
    public mutating func beginNextDue(now: Double) -> Entry? {
        guard var e = due(now: now).first, begin(id: e.id) else { return nil }
        e.started = true
        return e
    }

    /// A transfer is over (whatever its outcome): it leaves the queue.
    public mutating func finish(id: Int) { entries.removeAll { $0.id == id } }

    public mutating func removeAll() { entries.removeAll() }

    /// GetQueuedTransfers (command key and State 1 = not yet started, 2 = in progress) or, with `detailed`,
    /// GetAllQueuedTransfers (also IsDownload, FileType, FileSize, TargetFileName), in the order received.
    public func list(detailed: Bool = false) -> [QueuedTransfer] {
        entries.map { e in
            detailed ? QueuedTransfer(commandKey: e.commandKey, state: e.started ? 2 : 1, isDownload: e.isDownload,
                                      fileType: e.download.fileType, fileSize: e.download.fileSize,
                                      targetFileName: e.download.targetFileName)
                     : QueuedTransfer(commandKey: e.commandKey, state: e.started ? 2 : 1)
        }
    }
}
