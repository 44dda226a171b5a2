import ACSCore
import CWMP

/// A TR-143 result as an engineer reads it, computed from the values the CPE reported (and the test server's view).
public struct DiagnosticResult: Sendable, Equatable, Codable {
    public struct Connection: Sendable, Equatable, Codable {
        public var index: Int
        public var bytes: Int64?
        public var throughputBps: Double?
        public var tcpRttUs: Int64?
        public var ttfbUs: Int64?
        enum CodingKeys: String, CodingKey { case index, bytes, throughputBps = "throughput_bps", tcpRttUs = "tcp_rtt_us", ttfbUs = "ttfb_us" }
    }
    public struct Interval: Sendable, Equatable, Codable {
        public var index: Int
        public var bytes: Int64?
        public var throughputBps: Double?
        public var startMicros: Int64?
        enum CodingKeys: String, CodingKey { case index, bytes, throughputBps = "throughput_bps", startMicros = "start_us" }
    }
    public struct Packet: Sendable, Equatable, Codable {
        public var iteration: Int
        public var success: Bool
        /// Network round trip: the CPE's send→receive minus the server's turnaround.
        public var rttUs: Int64?
        public var respSN: UInt32?
        enum CodingKeys: String, CodingKey { case iteration, success, rttUs = "rtt_us", respSN = "resp_sn" }
    }
    public struct Hop: Sendable, Equatable, Codable {
        public var index: Int
        public var host: String
        public var address: String
        public var error: Int
        public var rttMs: [Int]
        enum CodingKeys: String, CodingKey { case index, host, address, error, rttMs = "rtt_ms" }
    }
    /// What Corral's own server measured for the same test.
    public struct ServerView: Sendable, Equatable, Codable {
        public var bytes: Int64?
        public var durationUs: Int64?
        public var throughputBps: Double?
        public var connections: Int?
        public var complete: Bool?
        public var packetsReceived: Int?
        public var packetsReplied: Int?
        public var packetsDropped: Int?
        public init(bytes: Int64? = nil, durationUs: Int64? = nil, throughputBps: Double? = nil, connections: Int? = nil,
                    complete: Bool? = nil, packetsReceived: Int? = nil, packetsReplied: Int? = nil, packetsDropped: Int? = nil) {
            self.bytes = bytes; self.durationUs = durationUs; self.throughputBps = throughputBps; self.connections = connections
            self.complete = complete; self.packetsReceived = packetsReceived; self.packetsReplied = packetsReplied; self.packetsDropped = packetsDropped
        }
        enum CodingKeys: String, CodingKey {
            case bytes, durationUs = "duration_us", throughputBps = "throughput_bps", connections, complete
            case packetsReceived = "packets_received", packetsReplied = "packets_replied", packetsDropped = "packets_dropped"
        }
    }

    public var test: DiagnosticTest
    public var object: String
    /// DiagnosticsState as reported ("Complete", "Completed", "Error_…", or "Timeout" when the CPE never reported).
    public var state: String
    public var ok: Bool
    public var throughputBps: Double?
    /// Multi-connection tests: bytes during the period all connections were open, over that period.
    public var fullLoadingThroughputBps: Double?
    public var testBytes: Int64?
    public var totalBytes: Int64?
    public var durationUs: Int64?
    /// TCP handshake (TCPOpenResponseTime − TCPOpenRequestTime).
    public var tcpRttUs: Int64?
    /// Request sent to first data byte (BOMTime − ROMTime).
    public var ttfbUs: Int64?
    public var avgRttUs: Int64?
    public var minRttUs: Int64?
    public var maxRttUs: Int64?
    /// Mean absolute difference between successive packets' round trips.
    public var jitterUs: Double?
    /// Lost packets over packets sent (0…1).
    public var loss: Double?
    public var upstreamLoss: Double?
    public var downstreamLoss: Double?
    public var sent: Int?
    public var received: Int?
    public var connections: [Connection] = []
    public var intervals: [Interval] = []
    public var packets: [Packet] = []
    public var hops: [Hop] = []
    public var server: ServerView?
    /// The CPE's values, relative to the object ("EOMTime", "PerConnectionResult.1.BOMTime").
    public var raw: [String: String] = [:]

    enum CodingKeys: String, CodingKey {
        case test, object, state, ok, throughputBps = "throughput_bps", fullLoadingThroughputBps = "full_loading_throughput_bps"
        case testBytes = "test_bytes", totalBytes = "total_bytes", durationUs = "duration_us", tcpRttUs = "tcp_rtt_us", ttfbUs = "ttfb_us"
        case avgRttUs = "avg_rtt_us", minRttUs = "min_rtt_us", maxRttUs = "max_rtt_us", jitterUs = "jitter_us", loss
        case upstreamLoss = "upstream_loss", downstreamLoss = "downstream_loss", sent, received
        case connections, intervals, packets, hops, server, raw
    }

    public init(test: DiagnosticTest, object: String, state: String) {
        self.test = test; self.object = object; self.state = state
        ok = Self.isComplete(state)
    }

    /// TR-098 and TR-181 before 2.13 say "Completed", later TR-181 "Complete": both are success.
    public static func isComplete(_ state: String) -> Bool { state == "Complete" || state == "Completed" }

    /// The result of a test from the CPE's values under `object` (a GPV of the object).
    public static func compute(test: DiagnosticTest, object: String, values: [ParameterValue], server: ServerView? = nil) -> DiagnosticResult {
        var raw: [String: String] = [:]
        for v in values where v.name.hasPrefix(object) { raw[String(v.name.dropFirst(object.count))] = v.value }
        var r = DiagnosticResult(test: test, object: object, state: raw["DiagnosticsState"] ?? "")
        r.raw = raw
        r.server = server
        guard r.ok else { return r }
        switch test {
        case .download, .upload: r.transfer(raw)
        case .udpecho: r.echo(raw)
        case .ping: r.ping(raw)
        case .traceroute: r.traceroute(raw)
        }
        return r
    }

    mutating func transfer(_ raw: [String: String]) {
        let down = test == .download
        let rom = raw["ROMTime"].flatMap(Self.micros), bom = raw["BOMTime"].flatMap(Self.micros), eom = raw["EOMTime"].flatMap(Self.micros)
        // Upload on TR-098 reports no TestBytesSent: the file length asked for is what was sent.
        testBytes = Self.int(raw[down ? "TestBytesReceived" : "TestBytesSent"]) ?? (down ? nil : Self.int(raw["TestFileLength"]))
        totalBytes = Self.int(raw[down ? "TotalBytesReceived" : "TotalBytesSent"])
        if let bom, let eom, eom > bom {
            durationUs = eom - bom
            if let b = testBytes { throughputBps = Double(b) * 8 / (Double(eom - bom) / 1e6) }
        }
        if let rom, let bom, bom >= rom { ttfbUs = bom - rom }
        if let a = raw["TCPOpenRequestTime"].flatMap(Self.micros), let b = raw["TCPOpenResponseTime"].flatMap(Self.micros), b >= a { tcpRttUs = b - a }
        if let period = Self.int(raw["PeriodOfFullLoading"]), period > 0,
           let b = Self.int(raw[down ? "TestBytesReceivedUnderFullLoading" : "TestBytesSentUnderFullLoading"]) {
            fullLoadingThroughputBps = Double(b) * 8 / (Double(period) / 1e6)
        }
        for i in Self.instances(raw, "PerConnectionResult.") {
            let p = "PerConnectionResult.\(i)."
            var c = Connection(index: i, bytes: Self.int(raw[p + (down ? "TestBytesReceived" : "TestBytesSent")]))
            if let b = raw[p + "BOMTime"].flatMap(Self.micros), let e = raw[p + "EOMTime"].flatMap(Self.micros), e > b, let n = c.bytes {
                c.throughputBps = Double(n) * 8 / (Double(e - b) / 1e6)
            }
            if let a = raw[p + "TCPOpenRequestTime"].flatMap(Self.micros), let b = raw[p + "TCPOpenResponseTime"].flatMap(Self.micros), b >= a { c.tcpRttUs = b - a }
            if let a = raw[p + "ROMTime"].flatMap(Self.micros), let b = raw[p + "BOMTime"].flatMap(Self.micros), b >= a { c.ttfbUs = b - a }
            connections.append(c)
        }
        for i in Self.instances(raw, "IncrementalResult.") {
            let p = "IncrementalResult.\(i)."
            var row = Interval(index: i, bytes: Self.int(raw[p + (down ? "TestBytesReceived" : "TestBytesSent")]), startMicros: raw[p + "StartTime"].flatMap(Self.micros))
            if let s = row.startMicros, let e = raw[p + "EndTime"].flatMap(Self.micros), e > s, let n = row.bytes {
                row.throughputBps = Double(n) * 8 / (Double(e - s) / 1e6)
            }
            intervals.append(row)
        }
    }

    mutating func echo(_ raw: [String: String]) {
        let ok = Self.int(raw["SuccessCount"]).map(Int.init), failed = Self.int(raw["FailureCount"]).map(Int.init)
        var rtts: [Int64] = []
        for i in Self.instances(raw, "IndividualPacketResult.") {
            let p = "IndividualPacketResult.\(i)."
            let success = raw[p + "PacketSuccess"].map { $0 == "true" || $0 == "1" } ?? false
            var row = Packet(iteration: i, success: success, respSN: Self.int(raw[p + "TestRespSN"]).map { UInt32(truncatingIfNeeded: $0) })
            if success, let s = raw[p + "PacketSendTime"].flatMap(Self.micros), let e = raw[p + "PacketReceiveTime"].flatMap(Self.micros), e >= s {
                var turnaround: Int64 = 0
                if let a = Self.int(raw[p + "TestRespRcvTimeStamp"]), let b = Self.int(raw[p + "TestRespReplyTimeStamp"]) {
                    // A free-running 32-bit µs clock: the difference modulo 2^32.
                    turnaround = Int64(UInt32(truncatingIfNeeded: b) &- UInt32(truncatingIfNeeded: a))
                }
                row.rttUs = max(0, (e - s) - turnaround)
                rtts.append(row.rttUs!)
            }
            packets.append(row)
        }
        sent = Self.int(raw["NumberOfRepetitions"]).map(Int.init) ?? (packets.isEmpty ? nil : packets.count)
        received = ok ?? packets.filter(\.success).count
        if !rtts.isEmpty {
            avgRttUs = rtts.reduce(0, +) / Int64(rtts.count)
            minRttUs = rtts.min(); maxRttUs = rtts.max()
        } else {
            avgRttUs = Self.int(raw["AverageResponseTime"]); minRttUs = Self.int(raw["MinimumResponseTime"]); maxRttUs = Self.int(raw["MaximumResponseTime"])
        }
        jitterUs = Self.jitter(packets)
        if let ok, let failed, ok + failed > 0 { loss = Double(failed) / Double(ok + failed) }
        let total = (ok ?? 0) + (failed ?? 0)
        if let s = server, let got = s.packetsReceived, total > 0 {
            // The server counted what arrived: the rest was lost upstream; replies it sent that never came back, downstream.
            upstreamLoss = Double(max(0, total - got)) / Double(total)
            if let replied = s.packetsReplied, replied > 0 { downstreamLoss = Double(max(0, replied - (ok ?? 0))) / Double(replied) }
        } else {
            // Echo Plus: TestRespSN counts the server's replies, so gaps between received replies were lost on the way
            // back and the rest of the losses on the way out (over the span between the first and last reply).
            let got = packets.filter { $0.success && $0.respSN != nil }
            if let first = got.first, let last = got.last, let a = first.respSN, let b = last.respSN, b >= a {
                let span = last.iteration - first.iteration + 1
                let answered = Int(b - a) + 1
                if span > 0 { upstreamLoss = Double(max(0, span - answered)) / Double(span) }
                if answered > 0 { downstreamLoss = Double(max(0, answered - got.count)) / Double(answered) }
            }
        }
    }

    mutating func ping(_ raw: [String: String]) {
        let ok = Self.int(raw["SuccessCount"]).map(Int.init), failed = Self.int(raw["FailureCount"]).map(Int.init)
        received = ok
        if let ok, let failed { sent = ok + failed; if ok + failed > 0 { loss = Double(failed) / Double(ok + failed) } }
        // TR-181 2.x *Detailed values are µs; the plain ones ms (TR-098 too).
        func us(_ name: String) -> Int64? {
            if let d = Self.int(raw[name + "Detailed"]), d > 0 { return d }
            return Self.int(raw[name]).map { $0 * 1000 }
        }
        avgRttUs = us("AverageResponseTime")
        minRttUs = us("MinimumResponseTime") ?? Self.int(raw["MinimumResponseTmie"]).map { $0 * 1000 }   // TR-098's typo
        maxRttUs = us("MaximumResponseTime")
    }

    mutating func traceroute(_ raw: [String: String]) {
        for i in Self.instances(raw, "RouteHops.") {
            let p = "RouteHops.\(i)."
            let times = (raw[p + "RTTimes"] ?? raw[p + "HopRTTimes"] ?? "").split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            hops.append(Hop(index: i, host: raw[p + "Host"] ?? raw[p + "HopHost"] ?? "", address: raw[p + "HostAddress"] ?? raw[p + "HopHostAddress"] ?? "",
                            error: Int(raw[p + "ErrorCode"] ?? raw[p + "HopErrorCode"] ?? "0") ?? 0, rttMs: times))
        }
        avgRttUs = Self.int(raw["ResponseTime"]).map { $0 * 1000 }
        if let last = hops.last, !last.rttMs.isEmpty {
            minRttUs = Int64(last.rttMs.min()!) * 1000; maxRttUs = Int64(last.rttMs.max()!) * 1000
        }
    }

    static func jitter(_ packets: [Packet]) -> Double? {
        var diffs: [Int64] = []
        var previous: Packet?
        for p in packets {
            if let q = previous, q.iteration == p.iteration - 1, let a = q.rttUs, let b = p.rttUs { diffs.append(abs(b - a)) }
            previous = p.success ? p : nil
        }
        return diffs.isEmpty ? nil : Double(diffs.reduce(0, +)) / Double(diffs.count)
    }

    static func int(_ s: String?) -> Int64? { s.flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) } }

    /// Instance numbers of a results table in `raw` ("PerConnectionResult." → [1, 2]), sorted.
    static func instances(_ raw: [String: String], _ table: String) -> [Int] {
        var seen = Set<Int>()
        for k in raw.keys where k.hasPrefix(table) {
            let rest = k.dropFirst(table.count)
            if let dot = rest.firstIndex(of: "."), let n = Int(rest[..<dot]) { seen.insert(n) }
        }
        return seen.sorted()
    }

    /// µs since the epoch of an xsd:dateTime with up to 6 fraction digits; nil for unparsable or unknown
    /// (TR-106's 0001-01-01T00:00:00Z) times.
    public static func micros(_ s: String) -> Int64? {
        guard let secs = CWMPDateTime.parse(s), secs > 0 else { return nil }
        var frac: Int64 = 0
        let b = Array(s.utf8)
        if b.count > 20, b[19] == UInt8(ascii: ".") {
            var digits = 0
            var i = 20
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                if digits < 6 { frac = frac * 10 + Int64(b[i] - 0x30); digits += 1 }
                i += 1
            }
            while digits < 6 { frac *= 10; digits += 1 }
        }
        return secs * 1_000_000 + frac
    }
}
