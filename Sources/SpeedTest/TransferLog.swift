import Foundation
import NIOConcurrencyHelpers

/// What the HTTP test server saw of one transfer: the server's view, to check a CPE's report against.
public struct TransferRecord: Sendable, Equatable, Codable {
    public enum Direction: String, Sendable, Codable { case download, upload }
    public var direction: Direction
    /// The test's tag (`?tag=` of a download, the upload's name); "" when the request had none.
    public var tag: String
    public var client: String
    public var bytes: Int64
    /// Wall clock, µs since the epoch: first body byte written (download) or read (upload).
    public var startMicros: Int64
    public var durationMicros: Int64
    /// False when the connection ended before the last byte (or a time-based stream was cut by the client).
    public var complete: Bool

    public var throughputBps: Double? {
        durationMicros > 0 ? Double(bytes) * 8 / (Double(durationMicros) / 1e6) : nil
    }
}

/// The last transfers the test server handled, newest last; bounded so a busy server cannot grow it.
public final class TransferLog: Sendable {
    private let state = NIOLockedValueBox<[TransferRecord]>([])
    public let capacity: Int
    public init(capacity: Int = 20_000) { self.capacity = capacity }

    public func append(_ r: TransferRecord) {
        state.withLockedValue {
            if $0.count >= capacity { $0.removeFirst($0.count / 4) }
            $0.append(r)
        }
    }

    public func records(tag: String) -> [TransferRecord] {
        guard !tag.isEmpty else { return [] }
        return state.withLockedValue { $0.filter { $0.tag == tag } }
    }

    public var count: Int { state.withLockedValue { $0.count } }
}

/// Totals for /metrics and the bench.
public final class SpeedTestStats: Sendable {
    private let box = NIOLockedValueBox<[String: Int64]>([:])
    public init() {}
    public func add(_ key: String, _ n: Int64 = 1) { box.withLockedValue { $0[key, default: 0] += n } }
    public subscript(_ key: String) -> Int64 { box.withLockedValue { $0[key] ?? 0 } }
    public var snapshot: [String: Int64] { box.withLockedValue { $0 } }
}

enum Clock {
    static func wallMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }
    static func monotonicMicros() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
    }
}
