/// A QR code symbol (ISO/IEC 18004) in byte mode, for the TOTP enrolment URI the WebGUI draws as inline SVG.
public struct QRCode: Sendable, Equatable {
    public enum ErrorCorrection: Sendable { case low, medium, quartile, high }
    public enum EncodeError: Error, Equatable { case tooLong(Int) }

    public let version: Int          // 1...40
    public let size: Int             // 17 + 4*version
    public let mask: Int             // 0...7
    private let modules: [Bool]      // row-major, true = dark

    /// Outside the symbol is light (the quiet zone).
    public func isDark(x: Int, y: Int) -> Bool {
        x >= 0 && y >= 0 && x < size && y < size && modules[y * size + x]
    }

    /// Byte mode (UTF-8 bytes), smallest version that fits, mask by the standard penalty rules unless `mask` is given.
    public static func encode(_ bytes: [UInt8], correction: ErrorCorrection = .medium, mask: Int? = nil, minVersion: Int = 1) throws -> QRCode {
        precondition(mask.map { (0...7).contains($0) } ?? true, "QR mask must be 0...7")
        precondition((1...40).contains(minVersion), "QR version must be 1...40")
        let ecl = correction.index
        func capacityBits(_ v: Int) -> Int { 8 * (rawCodewords(v) - Int(ecPerBlock[ecl][v - 1]) * Int(blockCount[ecl][v - 1])) }
        func countBits(_ v: Int) -> Int { v < 10 ? 8 : 16 }
        guard let version = (minVersion...40).first(where: { 4 + countBits($0) + 8 * bytes.count <= capacityBits($0) }) else {
            throw EncodeError.tooLong(bytes.count)
        }

        // Segment header, data, terminator (shortened when the symbol is full), byte alignment, alternating pad bytes.
        var bits: [Bool] = []
        func put(_ value: Int, _ count: Int) {
            for i in stride(from: count - 1, through: 0, by: -1) { bits.append((value >> i) & 1 == 1) }
        }
        let capacity = capacityBits(version)
        put(0b0100, 4)
        put(bytes.count, countBits(version))
        for b in bytes { put(Int(b), 8) }
        put(0, min(4, capacity - bits.count))
        put(0, (8 - bits.count % 8) % 8)
        var data: [UInt8] = stride(from: 0, to: bits.count, by: 8).map { i in
            bits[i..<i + 8].reduce(0) { ($0 << 1) | ($1 ? 1 : 0) }
        }
        for i in 0..<(capacity / 8 - data.count) { data.append(i % 2 == 0 ? 0xEC : 0x11) }

        // Split into blocks (the last `longBlocks` carry one more data codeword), add Reed-Solomon, interleave.
        let blocks = Int(blockCount[ecl][version - 1]), ecLen = Int(ecPerBlock[ecl][version - 1])
        let raw = rawCodewords(version)
        let shortLen = raw / blocks - ecLen, longBlocks = raw % blocks
        let generator = rsGenerator(degree: ecLen)
        var dataBlocks: [[UInt8]] = [], ecBlocks: [[UInt8]] = []
        var offset = 0
        for b in 0..<blocks {
            let len = shortLen + (b >= blocks - longBlocks ? 1 : 0)
            dataBlocks.append(Array(data[offset..<offset + len]))
            ecBlocks.append(rsRemainder(dataBlocks[b], generator))
            offset += len
        }
        var codewords: [UInt8] = []
        for i in 0...shortLen { for block in dataBlocks where i < block.count { codewords.append(block[i]) } }
        for i in 0..<ecLen { for block in ecBlocks { codewords.append(block[i]) } }

        var grid = Grid(version: version)
        grid.place(codewords)
        var best: (grid: Grid, mask: Int, penalty: Int)?
        for m in mask.map({ [$0] }) ?? Array(0..<8) {
            var candidate = grid
            candidate.applyMask(m)
            candidate.drawFormat(ecl: ecl, mask: m)
            // A forced mask needs no score; ties go to the lower mask number.
            let p = mask == nil ? candidate.penalty() : 0
            if best == nil || p < best!.penalty { best = (candidate, m, p) }
        }
        return QRCode(version: version, size: grid.size, mask: best!.mask, modules: best!.grid.dark)
    }

    public static func encode(_ text: String, correction: ErrorCorrection = .medium) throws -> QRCode {
        try encode(Array(text.utf8), correction: correction)
    }

    /// A self-contained SVG (one <path> of unit-high runs of modules, viewBox in modules incl. a 4-module quiet zone,
    /// crispEdges `shape-rendering`), scalable by CSS; `title` goes into <title>, escaped.
    public func svg(title: String = "QR code", pixelsPerModule: Int = 4) -> String {
        let quiet = 4, side = size + 2 * quiet, px = side * pixelsPerModule
        var d = ""
        for y in 0..<size {
            var x = 0
            while x < size {
                guard isDark(x: x, y: y) else { x += 1; continue }
                let start = x
                while isDark(x: x, y: y) { x += 1 }
                d += "M\(start + quiet) \(y + quiet)h\(x - start)v1h-\(x - start)z"
            }
        }
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(side) \(side)\" width=\"\(px)\" height=\"\(px)\" "
            + "shape-rendering=\"crispEdges\" role=\"img\"><title>\(Markup.escape(title))</title>"
            + "<rect width=\"\(side)\" height=\"\(side)\" fill=\"#fff\"/><path fill=\"#000\" d=\"\(d)\"/></svg>"
    }

    // MARK: - Tables (ISO/IEC 18004 table 9), indexed [L, M, Q, H][version - 1]

    private static let ecPerBlock: [[UInt8]] = [
        [7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28, 28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
        [10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28],
        [13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30, 28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
        [17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28, 30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
    ]
    private static let blockCount: [[UInt8]] = [
        [1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8, 8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25],
        [1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49],
        [1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20, 23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68],
        [1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25, 25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81],
    ]

    /// Codewords left for data and ECC: all modules minus finders with separators (3 × 64), format info and the dark
    /// module (31), both timing lines, alignment patterns (less their overlap with timing) and version info.
    static func rawCodewords(_ v: Int) -> Int {
        let size = 17 + 4 * v, n = v == 1 ? 0 : v / 7 + 2
        let alignment = n == 0 ? 0 : 25 * (n * n - 3) - 10 * (n - 2)
        return (size * size - 192 - 31 - 2 * (size - 16) - alignment - (v >= 7 ? 36 : 0)) / 8
    }

    /// Alignment centres: 6, then evenly spaced with an even step back from size - 7 (the first gap takes the slack).
    static func alignmentPositions(_ v: Int) -> [Int] {
        guard v > 1 else { return [] }
        let n = v / 7 + 2, last = 10 + 4 * v
        let step = v == 32 ? 26 : 2 * ((last - 6 + 2 * (n - 1) - 1) / (2 * (n - 1)))  // 32 is the table's exception
        return [6] + (1..<n).map { last - (n - 1 - $0) * step }
    }

    // MARK: - Reed-Solomon over GF(256), polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d)

    static func gfMul(_ a: UInt8, _ b: UInt8) -> UInt8 {
        var a = a, b = b, p: UInt8 = 0
        while b != 0 {
            if b & 1 != 0 { p ^= a }
            a = (a << 1) ^ (a & 0x80 != 0 ? 0x1d : 0)
            b >>= 1
        }
        return p
    }

    /// (x - α^0)(x - α^1)…(x - α^(degree-1)), highest power first (the leading 1 included).
    static func rsGenerator(degree: Int) -> [UInt8] {
        var g: [UInt8] = [1], root: UInt8 = 1
        for _ in 0..<degree {
            var next = g + [0]
            for j in 0..<g.count { next[j + 1] ^= gfMul(g[j], root) }
            g = next
            root = gfMul(root, 2)
        }
        return g
    }

    /// The remainder of data(x)·x^n divided by the generator: the block's n ECC codewords.
    static func rsRemainder(_ data: [UInt8], _ generator: [UInt8]) -> [UInt8] {
        var r = [UInt8](repeating: 0, count: generator.count - 1)
        for d in data {
            let factor = d ^ r[0]
            r.removeFirst()
            r.append(0)
            for j in 0..<r.count { r[j] ^= gfMul(generator[j + 1], factor) }
        }
        return r
    }

    /// The remainder of `value` divided by `generator` over GF(2), for format and version info.
    static func bchRemainder(_ value: Int, _ generator: Int) -> Int {
        func degree(_ x: Int) -> Int { x.bitWidth - x.leadingZeroBitCount - 1 }
        var r = value
        while degree(r) >= degree(generator) { r ^= generator << (degree(r) - degree(generator)) }
        return r
    }
}

extension QRCode.ErrorCorrection {
    var index: Int { switch self { case .low: 0; case .medium: 1; case .quartile: 2; case .high: 3 } }
}

/// The module matrix while it is built; `reserved` marks function patterns, which data and masks skip.
private struct Grid {
    let size: Int
    var dark: [Bool], reserved: [Bool]

    init(version: Int) {
        size = 17 + 4 * version
        dark = Array(repeating: false, count: size * size)
        reserved = dark
        // Timing first: finders and alignment patterns overwrite it where they cross.
        for i in 0..<size { set(6, i, i % 2 == 0); set(i, 6, i % 2 == 0) }
        for (cx, cy) in [(3, 3), (size - 4, 3), (3, size - 4)] {
            for dy in -4...4 { for dx in -4...4 {   // finder plus its light separator ring
                let d = max(abs(dx), abs(dy))
                if (0..<size).contains(cx + dx) && (0..<size).contains(cy + dy) { set(cx + dx, cy + dy, d != 2 && d != 4) }
            } }
        }
        let centres = QRCode.alignmentPositions(version)
        for cx in centres { for cy in centres where !(cx == 6 && cy == 6 || cx == 6 && cy == size - 7 || cx == size - 7 && cy == 6) {
            for dy in -2...2 { for dx in -2...2 { set(cx + dx, cy + dy, max(abs(dx), abs(dy)) != 1) } }
        } }
        drawFormat(ecl: 0, mask: 0)  // reserves the area; the real bits come after masking
        if version >= 7 {
            let bits = version << 12 | QRCode.bchRemainder(version << 12, 0x1f25)
            for i in 0..<18 {
                let bit = (bits >> i) & 1 == 1
                set(size - 11 + i % 3, i / 3, bit)
                set(i / 3, size - 11 + i % 3, bit)
            }
        }
    }

    mutating func set(_ x: Int, _ y: Int, _ isDark: Bool) {
        dark[y * size + x] = isDark
        reserved[y * size + x] = true
    }

    /// Two-module-wide columns from the right, alternately upwards and downwards, skipping the vertical timing line.
    mutating func place(_ codewords: [UInt8]) {
        var bit = 0, right = size - 1, upward = true
        while right >= 1 {
            if right == 6 { right = 5 }
            for k in 0..<size {
                let y = upward ? size - 1 - k : k
                for x in [right, right - 1] where !reserved[y * size + x] {
                    if bit < codewords.count * 8 { dark[y * size + x] = (codewords[bit / 8] >> (7 - bit % 8)) & 1 == 1 }
                    bit += 1   // remainder bits stay light (before masking)
                }
            }
            upward.toggle()
            right -= 2
        }
    }

    mutating func applyMask(_ m: Int) {
        for y in 0..<size { for x in 0..<size where !reserved[y * size + x] {
            let flip = switch m {
            case 0: (x + y) % 2 == 0
            case 1: y % 2 == 0
            case 2: x % 3 == 0
            case 3: (x + y) % 3 == 0
            case 4: (y / 2 + x / 3) % 2 == 0
            case 5: x * y % 2 + x * y % 3 == 0
            case 6: (x * y % 2 + x * y % 3) % 2 == 0
            default: ((x + y) % 2 + x * y % 3) % 2 == 0
            }
            if flip { dark[y * size + x].toggle() }
        } }
    }

    /// 15 bits (2 ECC level bits, 3 mask bits, 10 BCH bits) XOR 0x5412, in two copies; bit 0 is the least significant.
    mutating func drawFormat(ecl: Int, mask: Int) {
        let data = [1, 0, 3, 2][ecl] << 3 | mask   // L = 01, M = 00, Q = 11, H = 10
        let bits = (data << 10 | QRCode.bchRemainder(data << 10, 0x537)) ^ 0x5412
        func bit(_ i: Int) -> Bool { (bits >> i) & 1 == 1 }
        for i in 0..<6 { set(8, i, bit(i)) }
        set(8, 7, bit(6)); set(8, 8, bit(7)); set(7, 8, bit(8))
        for i in 9..<15 { set(14 - i, 8, bit(i)) }
        for i in 0..<8 { set(size - 1 - i, 8, bit(i)) }
        for i in 8..<15 { set(8, size - 15 + i, bit(i)) }
        set(8, size - 8, true)   // the dark module
    }

    /// ISO/IEC 18004 penalty, evaluated on the whole symbol including format and version info.
    func penalty() -> Int {
        var total = 0
        for i in 0..<size {
            total += Grid.linePenalty((0..<size).map { dark[i * size + $0] })
            total += Grid.linePenalty((0..<size).map { dark[$0 * size + i] })
        }
        for y in 0..<size - 1 { for x in 0..<size - 1 {   // rule 2: 2×2 blocks of one colour
            let c = dark[y * size + x]
            if dark[y * size + x + 1] == c && dark[(y + 1) * size + x] == c && dark[(y + 1) * size + x + 1] == c { total += 3 }
        } }
        let darkCount = dark.reduce(0) { $0 + ($1 ? 1 : 0) }   // rule 4: 10 per full 5 % away from half dark
        return total + 10 * (abs(20 * darkCount - 10 * dark.count) / dark.count)
    }

    /// Rule 1 (runs of 5 or more: 3 + the excess) and rule 3 (1:1:3:1:1 with 4 light on either side, 40 each;
    /// outside the symbol counts as light, as the quiet zone is).
    static func linePenalty(_ line: [Bool]) -> Int {
        var p = 0, run = 1
        for i in 1...line.count {
            if i < line.count && line[i] == line[i - 1] { run += 1 } else { if run >= 5 { p += run - 2 }; run = 1 }
        }
        func light(_ r: Range<Int>) -> Bool { r.allSatisfy { !line.indices.contains($0) || !line[$0] } }
        for j in 0...(line.count - 7) where line[j] && !line[j + 1] && line[j + 2] && line[j + 3] && line[j + 4] && !line[j + 5] && line[j + 6] {
            if light(j - 4..<j) { p += 40 }
            if light(j + 7..<j + 11) { p += 40 }
        }
        return p
    }
}
