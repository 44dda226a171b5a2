import Foundation
import NIOCore

/// The access link a virtual CPE's diagnostics traffic goes through: a rate and a round-trip latency added on top of
/// the real network (`--link-mbps`, `--link-latency-ms`). Only TR-143 test traffic is shaped, not CWMP.
public struct LinkProfile: Sendable, Equatable, CustomStringConvertible {
    /// Megabits per second; nil = unshaped.
    public var mbps: Double?
    /// Added once per round trip (connect, request → first byte, echo request → reply).
    public var latencyMs: Double

    public static let unshaped = LinkProfile(mbps: nil, latencyMs: 0)

    public init(mbps: Double?, latencyMs: Double) {
        self.mbps = mbps; self.latencyMs = latencyMs
    }

    public var bytesPerSecond: Double? { mbps.map { $0 * 125_000 } }
    public var latency: Duration { .microseconds(Int64(latencyMs * 1000)) }

    public var description: String {
        (mbps.map { String(format: "%.1f Mbit/s", $0) } ?? "unshaped") + (latencyMs > 0 ? String(format: ", +%.0f ms RTT", latencyMs) : "")
    }

    /// The device's value in `range`: fixed by its serial (FNV-1a), so every run and every simulator instance gives a
    /// device the same link, and devices differ. `salt` decorrelates rate and latency. Rounded (0.1 Mbit/s, 1 ms)
    /// so that tests can compare.
    public static func pick(_ range: ClosedRange<Double>, serial: String, salt: String, step: Double) -> Double {
        guard range.upperBound > range.lowerBound else { return range.lowerBound }
        let h = (salt + serial).utf8.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
        let f = Double(h % 1_000_003) / 1_000_003
        let v = range.lowerBound + f * (range.upperBound - range.lowerBound)
        return min(range.upperBound, max(range.lowerBound, (v / step).rounded() * step))
    }

    public static func forDevice(serial: String, mbps: ClosedRange<Double>?, latencyMs: ClosedRange<Double>?) -> LinkProfile {
        LinkProfile(mbps: mbps.map { pick($0, serial: serial, salt: "rate:", step: 0.1) },
                    latencyMs: latencyMs.map { pick($0, serial: serial, salt: "latency:", step: 1) } ?? 0)
    }
}

/// A token bucket shared by the connections of one test: each connection asks for the bytes it just read (or is
/// about to write) and waits the returned delay before the next read (write). The balance may go negative (a read
/// delivers what the kernel had), which the delay pays back, so the average rate is exact.
final class LinkPacer: @unchecked Sendable {
    let bytesPerSecond: Double?
    private let lock = NSLock()
    private var balance: Double
    private var last = NIODeadline.now()
    private let burst: Double

    init(_ link: LinkProfile) {
        bytesPerSecond = link.bytesPerSecond
        burst = max(Double(Self.chunkSize(link)), (link.bytesPerSecond ?? 0) * 0.02)
        balance = burst
    }

    /// Bytes per read (receive buffer) and per write: about 10 ms of the link, 1.5–64 KiB.
    static func chunkSize(_ link: LinkProfile) -> Int {
        guard let r = link.bytesPerSecond else { return 65_536 }
        return min(65_536, max(1_460, Int(r / 100)))
    }

    /// Takes `bytes` from the bucket; returns how long to wait before moving more.
    func reserve(_ bytes: Int) -> TimeAmount {
        guard let rate = bytesPerSecond, bytes > 0 else { return .zero }
        return lock.withLock {
            let now = NIODeadline.now()
            let elapsed = Double((now - last).nanoseconds) / 1e9
            last = now
            balance = min(burst, balance + elapsed * rate) - Double(bytes)
            return balance >= 0 ? .zero : .nanoseconds(Int64(-balance / rate * 1e9))
        }
    }
}
