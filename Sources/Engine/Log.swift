import Foundation

/// Minimal leveled logger to stderr. `CORRAL_LOG=debug|info|error|off` sets the level.
public struct Log: Sendable {
    public enum Level: Int, Sendable { case debug, info, error, off }
    public let label: String
    public let level: Level

    public init(label: String, level: Level? = nil) {
        self.label = label
        self.level = level ?? Log.levelFromEnvironment()
    }

    static func levelFromEnvironment() -> Level {
        switch ProcessInfo.processInfo.environment["CORRAL_LOG"]?.lowercased() {
        case "debug": .debug
        case "error": .error
        case "off", "none": .off
        default: .info
        }
    }

    public func debug(_ m: @autoclosure () -> String) { write(.debug, m) }
    public func info(_ m: @autoclosure () -> String) { write(.info, m) }
    public func error(_ m: @autoclosure () -> String) { write(.error, m) }

    private func write(_ l: Level, _ m: () -> String) {
        guard l.rawValue >= level.rawValue, level != .off else { return }
        let tag = l == .error ? "error" : l == .info ? "info" : "debug"
        FileHandle.standardError.write(Data("[\(label)] \(tag): \(m())\n".utf8))
    }
}
