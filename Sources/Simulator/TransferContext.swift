import Foundation
import NIOCore

/// Cumulative test bytes over time for one test, across its connections: per-interval rows and the full-loading
/// figures are read from it afterwards.
final class ByteMeter: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0
    /// (Unix seconds, cumulative bytes), ascending. Additions within 10 ms of the time the last sample was started
    /// update it in place (bounded memory for long tests; the first sample stays the first byte's).
    private var samples: [(t: Double, bytes: Int)] = []
    private var lastStarted = 0.0

    /// Adds bytes; returns true for the test's first bytes.
    @discardableResult
    func add(_ n: Int, at date: Date) -> Bool {
        let t = date.timeIntervalSince1970
        return lock.withLock {
            total += n
            if let last = samples.last, samples.count > 1, t - lastStarted < 0.01 {
                samples[samples.count - 1] = (max(last.t, t), total)
                return false
            }
            samples.append((max(samples.last?.t ?? t, t), total))
            lastStarted = t
            return samples.count == 1
        }
    }

    var bytes: Int { lock.withLock { total } }

    /// Bytes counted up to `date` (linear between samples).
    func bytes(at date: Date) -> Int {
        let t = date.timeIntervalSince1970
        return lock.withLock {
            guard let first = samples.first, t >= first.t else { return 0 }
            var lo = 0, hi = samples.count - 1
            while lo < hi {   // last sample at or before t
                let mid = (lo + hi + 1) / 2
                if samples[mid].t <= t { lo = mid } else { hi = mid - 1 }
            }
            guard lo + 1 < samples.count else { return samples[lo].bytes }
            let a = samples[lo], b = samples[lo + 1]
            guard b.t > a.t else { return a.bytes }
            return a.bytes + Int(Double(b.bytes - a.bytes) * (t - a.t) / (b.t - a.t))
        }
    }
}

/// What the connections of one download/upload test share: the link (pacer, latency), the byte meter, the end of
/// a time-based test and the hard stop.
final class TransferContext: @unchecked Sendable {
    let link: LinkProfile
    let pacer: LinkPacer
    let meter = ByteMeter()
    /// Time-based test: seconds from the first body byte; nil = size-based.
    let duration: Double?
    /// How long a connection may wait for a response head or for more body bytes.
    let idleLimit: TimeAmount

    private let lock = NSLock()
    private var readers: [PacedResponseReader] = []
    private var channels: [Channel] = []
    private var stopAt: Date?
    private var stopped = false
    private var abortedFlag = false

    init(link: LinkProfile, duration: Double?, idleLimit: TimeAmount = .seconds(30)) {
        self.link = link
        pacer = LinkPacer(link)
        self.duration = duration
        self.idleLimit = idleLimit
    }

    /// Test bytes moved (body bytes received or sent). The first ones start a time-based test's clock.
    func bodyBytes(_ n: Int, at date: Date) {
        guard meter.add(n, at: date), let duration else { return }
        let end = date.addingTimeInterval(duration)
        lock.withLock { stopAt = end }
        Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(Int64(max(0, end.timeIntervalSinceNow) * 1000)))
            self?.stopAll()
        }
    }

    /// A time-based test is over (senders stop; readers are stopped by `stopAll`).
    var shouldStop: Bool {
        lock.withLock { stopped || abortedFlag || stopAt.map { Date() >= $0 } ?? false }
    }

    /// The hard cap ended the test.
    var aborted: Bool { lock.withLock { abortedFlag } }

    /// Registers a connection (its reader only for downloads, which `stopAll` ends). False when the test is already
    /// over: the caller closes the channel.
    func register(_ channel: Channel, reader: PacedResponseReader?) -> Bool {
        lock.withLock {
            guard !abortedFlag, !stopped else { return false }
            channels.append(channel)
            if let reader { readers.append(reader) }
            return true
        }
    }

    /// End of a time-based test: downloads stop reading and close.
    func stopAll() {
        let rs = lock.withLock { () -> [PacedResponseReader] in
            stopped = true
            return readers
        }
        for r in rs { r.stop() }
    }

    /// The hard cap: every connection is closed, whatever it was doing.
    func abort() {
        let chs = lock.withLock { () -> [Channel] in
            abortedFlag = true
            return channels
        }
        for c in chs { c.close(promise: nil) }
    }
}
