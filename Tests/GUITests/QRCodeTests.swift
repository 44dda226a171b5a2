import Foundation
import Testing
@testable import GUI

/// The matrices come from an independent encoder, python-qrcode, via Tests/Fixtures/qr/make-fixtures.py.
/// The "-auto" fixtures carry the mask the standard penalty picks (see the script for why not python-qrcode's pick).
@Suite struct QRCodeTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/qr")
    static let forcedMask = ["v1-H-mask5", "v2-Q-mask2", "v7-H-mask7", "v27-H-mask3"]
    static let automaticMask = ["v1-L-auto", "v5-M-auto-otpauth", "v10-Q-auto", "v21-L-auto", "v40-L-auto"]

    struct Fixture {
        var version: Int, correction: QRCode.ErrorCorrection, mask: Int, payload: [UInt8], rows: [String]
    }

    /// Line 1 "version ecc mask", line 2 the payload in hex, then the rows as 1/0 without quiet zone.
    static func load(_ name: String) throws -> Fixture {
        let text = try String(contentsOfFile: fixtures.appendingPathComponent(name + ".txt").path, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        let head = lines[0].split(separator: " ").map(String.init)
        let levels: [String: QRCode.ErrorCorrection] = ["L": .low, "M": .medium, "Q": .quartile, "H": .high]
        let hex = Array(lines[1].utf8)
        let payload = stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
        return Fixture(version: Int(head[0])!, correction: levels[head[1]]!, mask: Int(head[2])!, payload: payload, rows: Array(lines[2...]))
    }

    func expectSame(_ code: QRCode, _ f: Fixture) {
        #expect(code.version == f.version)
        #expect(code.size == 17 + 4 * f.version)
        #expect(code.mask == f.mask)
        #expect(f.rows.count == code.size && f.rows.allSatisfy { $0.count == code.size })
        var wrong = 0
        for (y, row) in f.rows.enumerated() {
            for (x, c) in row.enumerated() where code.isDark(x: x, y: y) != (c == "1") { wrong += 1 }
        }
        #expect(wrong == 0, "\(wrong) modules differ")
    }

    @Test(arguments: QRCodeTests.forcedMask + QRCodeTests.automaticMask)
    func matchesPythonQRCodeWithTheMaskGiven(name: String) throws {
        let f = try Self.load(name)
        expectSame(try QRCode.encode(f.payload, correction: f.correction, mask: f.mask), f)
    }

    @Test(arguments: QRCodeTests.automaticMask)
    func choosesTheMaskByTheStandardPenalty(name: String) throws {
        let f = try Self.load(name)
        expectSame(try QRCode.encode(f.payload, correction: f.correction), f)
    }

    @Test func totpURIFromAString() throws {
        let code = try QRCode.encode("otpauth://totp/Corral:alice@example.net?secret=JBSWY3DPEHPK3PXP&issuer=Corral")
        expectSame(code, try Self.load("v5-M-auto-otpauth"))
    }

    @Test func versionLimits() throws {
        #expect(try QRCode.encode([UInt8](repeating: 0x41, count: 2953), correction: .low).version == 40)
        #expect(throws: QRCode.EncodeError.tooLong(2954)) { try QRCode.encode([UInt8](repeating: 0x41, count: 2954), correction: .low) }
        #expect(throws: QRCode.EncodeError.tooLong(1274)) { try QRCode.encode([UInt8](repeating: 0x41, count: 1274), correction: .high) }
        let small = try QRCode.encode([0x41], minVersion: 7)
        #expect(small.version == 7 && small.size == 45)
    }

    /// Known answers from ISO/IEC 18004: the Annex I example's ECC codewords (1-M), format info for L with mask 0,
    /// version information for version 7.
    @Test func knownAnswers() {
        let data: [UInt8] = [0x10, 0x20, 0x0C, 0x56, 0x61, 0x80, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11]
        #expect(QRCode.rsRemainder(data, QRCode.rsGenerator(degree: 10)) == [0xA5, 0x24, 0xD4, 0xC1, 0xED, 0x36, 0xC7, 0x87, 0x2C, 0x55])
        #expect((0b01000 << 10 | QRCode.bchRemainder(0b01000 << 10, 0x537)) ^ 0x5412 == 0b111011111000100)
        #expect(7 << 12 | QRCode.bchRemainder(7 << 12, 0x1f25) == 0b000111110010010100)
        #expect(QRCode.alignmentPositions(32) == [6, 34, 60, 86, 112, 138])
        #expect(QRCode.rawCodewords(1) == 26 && QRCode.rawCodewords(7) == 196 && QRCode.rawCodewords(40) == 3706)
    }

    @Test func svgIsSelfContainedWithQuietZoneAndEscapedTitle() throws {
        let code = try QRCode.encode("otpauth://totp/Corral:bob")
        let svg = code.svg(title: "Tom & \"Jerry\" <'x'>", pixelsPerModule: 5)
        let side = code.size + 8
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.hasSuffix("</svg>"))
        #expect(svg.contains("viewBox=\"0 0 \(side) \(side)\""))
        #expect(svg.contains("width=\"\(side * 5)\" height=\"\(side * 5)\""))
        #expect(svg.contains("shape-rendering=\"crispEdges\""))
        #expect(svg.contains("<title>Tom &amp; &quot;Jerry&quot; &lt;&#39;x&#39;&gt;</title>"))
        #expect(svg.components(separatedBy: "<path").count == 2)

        // The path paints exactly the dark modules, shifted by the quiet zone: "M x y h n v1 h-n z" per run.
        let d = svg.components(separatedBy: " d=\"")[1].components(separatedBy: "\"")[0]
        var painted = Set<[Int]>()
        for run in d.split(separator: "z") {
            let n = run.split(whereSeparator: { "Mhv ".contains($0) }).compactMap { Int($0) }
            for x in n[0]..<n[0] + n[2] { painted.insert([x - 4, n[1] - 4]) }
        }
        let dark = Set((0..<code.size).flatMap { y in (0..<code.size).filter { code.isDark(x: $0, y: y) }.map { [$0, y] } })
        #expect(painted == dark)
    }
}
