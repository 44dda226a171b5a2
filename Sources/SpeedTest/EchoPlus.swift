/// UDP Echo Plus (TR-143 A.1.4): the first 24 bytes of a datagram are six big-endian 32-bit fields; the server
/// rewrites fields 1–4 and echoes everything else (TestGenSN, TestIterationNumber, padding) unchanged.
public struct EchoPlusHeader: Sendable, Equatable {
    public static let size = 24
    public var testGenSN: UInt32
    public var testRespSN: UInt32
    /// Server arrival time, µs on a free-running 32-bit clock (wraps every ~71.6 min).
    public var testRespRecvTimeStamp: UInt32
    public var testRespReplyTimeStamp: UInt32
    public var testRespReplyFailureCount: UInt32
    public var testIterationNumber: UInt32

    public init(testGenSN: UInt32, testRespSN: UInt32 = 0, testRespRecvTimeStamp: UInt32 = 0, testRespReplyTimeStamp: UInt32 = 0,
                testRespReplyFailureCount: UInt32 = 0, testIterationNumber: UInt32) {
        self.testGenSN = testGenSN; self.testRespSN = testRespSN; self.testRespRecvTimeStamp = testRespRecvTimeStamp
        self.testRespReplyTimeStamp = testRespReplyTimeStamp; self.testRespReplyFailureCount = testRespReplyFailureCount
        self.testIterationNumber = testIterationNumber
    }

    /// nil when the payload is too short to carry the fields (such a datagram gets a plain RFC 862 echo).
    public init?<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        guard bytes.count >= Self.size else { return nil }
        var f = [UInt32](repeating: 0, count: 6)
        var i = bytes.startIndex
        for k in 0..<6 {
            var v: UInt32 = 0
            for _ in 0..<4 { v = v << 8 | UInt32(bytes[i]); i = bytes.index(after: i) }
            f[k] = v
        }
        self.init(testGenSN: f[0], testRespSN: f[1], testRespRecvTimeStamp: f[2], testRespReplyTimeStamp: f[3],
                  testRespReplyFailureCount: f[4], testIterationNumber: f[5])
    }

    public var fields: [UInt32] {
        [testGenSN, testRespSN, testRespRecvTimeStamp, testRespReplyTimeStamp, testRespReplyFailureCount, testIterationNumber]
    }

    /// A client datagram: the header followed by `size - 24` bytes of padding (at least the header).
    public func datagram(size: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(max(size, Self.size))
        for v in fields { out += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        if size > Self.size { out += repeatElement(0, count: size - Self.size) }
        return out
    }
}

/// The server side of Echo Plus: counters since the server was enabled. Pure: the caller supplies the clock.
public struct EchoPlusResponder: Sendable {
    /// Requests answered (the first reply carries 1).
    public private(set) var respondedCount: UInt32 = 0
    /// Valid requests that could not be answered (dropped by the rate limit or a failed send).
    public private(set) var failureCount: UInt32 = 0

    public init() {}

    /// Rewrites bytes 4–19 of `payload` in place for an Echo Plus reply; returns false (payload untouched) for a
    /// datagram too short to be Echo Plus, which is echoed as is (RFC 862).
    public mutating func reply(to payload: inout [UInt8], receivedMicros: UInt32, replyMicros: UInt32) -> Bool {
        guard payload.count >= EchoPlusHeader.size else { return false }
        respondedCount &+= 1
        Self.put(respondedCount, into: &payload, at: 4)
        Self.put(receivedMicros, into: &payload, at: 8)
        Self.put(replyMicros, into: &payload, at: 12)
        Self.put(failureCount, into: &payload, at: 16)
        return true
    }

    /// A valid request that was not answered.
    public mutating func recordFailure() { failureCount &+= 1 }

    public static func put(_ v: UInt32, into b: inout [UInt8], at i: Int) {
        b[i] = UInt8(v >> 24); b[i + 1] = UInt8(v >> 16 & 0xFF); b[i + 2] = UInt8(v >> 8 & 0xFF); b[i + 3] = UInt8(v & 0xFF)
    }
}
