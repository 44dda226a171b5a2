/// SHA-256 (FIPS 180-4). Streaming state so PBKDF2 can reuse the keyed HMAC pads.
public struct SHA256: Sendable {
    static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]
    static let initial: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]

    var h: [UInt32] = SHA256.initial
    var buffer: [UInt8] = []
    var length: UInt64 = 0

    public init() { buffer.reserveCapacity(64) }

    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var s = SHA256()
        s.update(bytes)
        return s.finish()
    }

    public static func hex(_ string: String) -> String { HTTPAuth.hex(hash(Array(string.utf8))) }

    public mutating func update(_ bytes: [UInt8]) {
        length &+= UInt64(bytes.count)
        var i = 0
        if !buffer.isEmpty {
            let take = min(64 - buffer.count, bytes.count)
            buffer += bytes[0..<take]
            i = take
            if buffer.count == 64 { Self.compress(&h, buffer, 0); buffer.removeAll(keepingCapacity: true) }
        }
        while bytes.count - i >= 64 { Self.compress(&h, bytes, i); i += 64 }
        if i < bytes.count { buffer += bytes[i...] }
    }

    public mutating func finish() -> [UInt8] {
        let bits = length &* 8
        var tail = buffer
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        for i in (0..<8).reversed() { tail.append(UInt8(truncatingIfNeeded: bits >> (UInt64(i) * 8))) }
        var off = 0
        while off < tail.count { Self.compress(&h, tail, off); off += 64 }
        return Self.bytes(h)
    }

    static func bytes(_ words: [UInt32]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(words.count * 4)
        for v in words { for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> UInt32(24 - 8 * i))) } }
        return out
    }

    @inline(__always) static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 &- n)) }

    /// One 64-byte block at `offset` into the state.
    static func compress(_ h: inout [UInt32], _ block: [UInt8], _ offset: Int) {
        var w = [UInt32](repeating: 0, count: 64)
        block.withUnsafeBufferPointer { b in
            for t in 0..<16 {
                let o = offset + t * 4
                w[t] = UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
            }
        }
        compress(&h, words: &w)
    }

    /// Compression on a message schedule whose first 16 words are filled in.
    static func compress(_ h: inout [UInt32], words w: inout [UInt32]) {
        w.withUnsafeMutableBufferPointer { w in
            k.withUnsafeBufferPointer { k in
                for t in 16..<64 {
                    let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
                    let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
                    w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
                }
                var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7]
                for t in 0..<64 {
                    let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                    let ch = (e & f) ^ (~e & g)
                    let t1 = hh &+ s1 &+ ch &+ k[t] &+ w[t]
                    let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                    let maj = (a & b) ^ (a & c) ^ (b & c)
                    let t2 = s0 &+ maj
                    hh = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
                }
                h[0] = h[0] &+ a; h[1] = h[1] &+ b; h[2] = h[2] &+ c; h[3] = h[3] &+ d
                h[4] = h[4] &+ e; h[5] = h[5] &+ f; h[6] = h[6] &+ g; h[7] = h[7] &+ hh
            }
        }
    }
}

extension HMAC {
    /// HMAC-SHA256 (RFC 2104 / RFC 4231).
    public static func sha256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var k = key.count > 64 ? SHA256.hash(key) : key
        k += [UInt8](repeating: 0, count: 64 - k.count)
        let inner = SHA256.hash(k.map { $0 ^ 0x36 } + message)
        return SHA256.hash(k.map { $0 ^ 0x5c } + inner)
    }
}

/// PBKDF2 (RFC 8018) with HMAC-SHA256. The keyed pads are compressed once; each iteration then costs exactly two
/// compressions of a fixed-layout block, which is what makes a high iteration count affordable.
public enum PBKDF2 {
    public static func sha256(password: [UInt8], salt: [UInt8], iterations: Int, length: Int = 32) -> [UInt8] {
        precondition(iterations >= 1 && length >= 1)
        var key = password.count > 64 ? SHA256.hash(password) : password
        key += [UInt8](repeating: 0, count: 64 - key.count)
        var innerState = SHA256.initial, outerState = SHA256.initial
        SHA256.compress(&innerState, key.map { $0 ^ 0x36 }, 0)
        SHA256.compress(&outerState, key.map { $0 ^ 0x5c }, 0)

        // HMAC of a 32-byte message given the pad states: one block each, padded for 64 + 32 bytes.
        var w = [UInt32](repeating: 0, count: 64)
        func hmac32(_ msg: [UInt32]) -> [UInt32] {
            var s = innerState
            for i in 0..<8 { w[i] = msg[i] }
            w[8] = 0x8000_0000
            for i in 9..<15 { w[i] = 0 }
            w[15] = (64 + 32) * 8
            SHA256.compress(&s, words: &w)
            var o = outerState
            for i in 0..<8 { w[i] = s[i] }
            w[8] = 0x8000_0000
            for i in 9..<15 { w[i] = 0 }
            w[15] = (64 + 32) * 8
            SHA256.compress(&o, words: &w)
            return o
        }

        var out: [UInt8] = []
        var block: UInt32 = 1
        while out.count < length {
            // U1 = HMAC(P, S || INT(i)) goes through the general path (the salt has any length).
            let index: [UInt8] = [UInt8(truncatingIfNeeded: block >> 24), UInt8(truncatingIfNeeded: block >> 16),
                                  UInt8(truncatingIfNeeded: block >> 8), UInt8(truncatingIfNeeded: block)]
            let first = HMAC.sha256(key: password, message: salt + index)
            var u = [UInt32](repeating: 0, count: 8)
            for i in 0..<8 {
                let b0 = UInt32(first[i * 4]) << 24, b1 = UInt32(first[i * 4 + 1]) << 16
                u[i] = b0 | b1 | UInt32(first[i * 4 + 2]) << 8 | UInt32(first[i * 4 + 3])
            }
            var t = u
            if iterations > 1 {
                for _ in 2...iterations {
                    u = hmac32(u)
                    for i in 0..<8 { t[i] ^= u[i] }
                }
            }
            out += SHA256.bytes(t)
            block += 1
        }
        return Array(out.prefix(length))
    }
}
