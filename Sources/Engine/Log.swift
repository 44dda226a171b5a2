import Foundation
import Logging

/// Corral's logger: a swift-log `Logger` per subsystem (its label), with structured metadata (device, session, task,
/// remote address). `CORRAL_LOG` sets the level, for all subsystems and per subsystem: `info`, `debug`,
/// `info,cwmp=debug,webhook=error`, `off`. The output format (text or JSON lines on stderr) is chosen once per
/// process by `Log.bootstrap`; without it swift-log's default handler writes text.
public struct Log: Sendable {
    public enum Level: Int, Sendable { case debug, info, error, off }
    public let label: String
    public let level: Level
    public let logger: Logger

    public init(label: String, level: Level? = nil) {
        self.label = label
        let chosen = level ?? Log.levelFromEnvironment(label: label)
        self.level = chosen
        var l = Logger(label: label)
        l.logLevel = switch chosen {
        case .debug: .debug
        case .info: .info
        case .error: .error
        case .off: .critical
        }
        logger = l
    }

    /// The level `CORRAL_LOG` gives this subsystem.
    static func levelFromEnvironment(label: String) -> Level {
        levels(ProcessInfo.processInfo.environment["CORRAL_LOG"] ?? "", label: label)
    }

    /// `spec`: a default level and `label=level` overrides, separated by commas.
    static func levels(_ spec: String, label: String) -> Level {
        var chosen = Level.info
        for part in spec.lowercased().split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2 {
                if kv[0] == label.lowercased(), let l = parse(kv[1]) { return l }
            } else if let l = parse(kv[0]) {
                chosen = l
            }
        }
        return chosen
    }

    static func parse(_ s: String) -> Level? {
        switch s {
        case "debug", "trace": .debug
        case "info", "notice": .info
        case "error", "warning", "critical": .error
        case "off", "none": .off
        default: nil
        }
    }

    // Message and metadata are built only when the level lets the line through (debug lines sit on the session path).
    public func debug(_ m: @autoclosure () -> String, _ metadata: @autoclosure () -> Logger.Metadata? = nil) { write(.debug, m, metadata) }
    public func info(_ m: @autoclosure () -> String, _ metadata: @autoclosure () -> Logger.Metadata? = nil) { write(.info, m, metadata) }
    public func error(_ m: @autoclosure () -> String, _ metadata: @autoclosure () -> Logger.Metadata? = nil) { write(.error, m, metadata) }

    private func write(_ l: Level, _ m: () -> String, _ metadata: () -> Logger.Metadata?) {
        guard l.rawValue >= level.rawValue, level != .off else { return }
        let swiftLevel: Logger.Level = l == .error ? .error : l == .info ? .info : .debug
        logger.log(level: swiftLevel, "\(m())", metadata: metadata())
    }

    public enum Format: String, Sendable, CaseIterable { case text, json }

    /// Installs Corral's handler for the whole process (once; later calls are ignored by swift-log's rules, so only
    /// the command's entry point calls it).
    public static func bootstrap(format: Format) {
        LoggingSystem.bootstrap { label in CorralLogHandler(label: label, format: format) }
    }
}

/// Writes one line per message on stderr: `[label] level: message key=value …` or a JSON object with `time`,
/// `level`, `label`, `message` and the metadata as fields.
public struct CorralLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let format: Log.Format

    public init(label: String, format: Log.Format) { self.label = label; self.format = format }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let line = Self.render(format: format, label: label, level: event.level, message: "\(event.message)", metadata: all, at: Date())
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func tag(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "debug"
        case .info, .notice: "info"
        case .warning: "warning"
        case .error, .critical: "error"
        }
    }

    /// One line; pure (tests check both formats).
    public static func render(format: Log.Format, label: String, level: Logger.Level, message: String, metadata: Logger.Metadata, at: Date) -> String {
        switch format {
        case .text:
            let fields = metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            return "[\(label)] \(tag(level)): \(message)\(fields.isEmpty ? "" : " " + fields)"
        case .json:
            var object: [String: Any] = [:]
            for (k, v) in metadata { object[k] = "\(v)" }
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            object["time"] = f.string(from: at)
            object["level"] = tag(level)
            object["label"] = label
            object["message"] = message
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
            return String(decoding: data, as: UTF8.self)
        }
    }
}
