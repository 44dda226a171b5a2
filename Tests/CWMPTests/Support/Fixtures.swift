import CWMP
import Foundation

/// Locates Tests/Fixtures/bbf from this source file.
enum Fixtures {
    static let bbf: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // CWMPTests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Fixtures/bbf")

    static var catalog: URL { bbf.appendingPathComponent("catalog.xml") }
    static func schema(_ file: String) -> URL { bbf.appendingPathComponent(file) }
    static var examples: URL { bbf.appendingPathComponent("examples") }
    static var captured: URL { examples.appendingPathComponent("captured") }

    static func bytes(_ url: URL) throws -> [UInt8] { Array(try Data(contentsOf: url)) }

    static func capturedFiles() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: captured, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "xml" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }
}

/// Measures wall-clock seconds of `body`.
func elapsed(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Runs `body` and returns the CWMPDecodeError it threw (nil when it did not throw or threw something else).
func decodeError(_ body: () throws -> Envelope) -> CWMPDecodeError? {
    do {
        _ = try body()
        return nil
    } catch let e as CWMPDecodeError {
        return e
    } catch {
        return nil
    }
}

extension Array where Element == UInt8 {
    var utf8String: String { String(decoding: self, as: UTF8.self) }
}
