import CWMP
import Foundation

/// The standard BBF definitions (TR-181, TR-098 from `datamodels/`): whether a parameter is writable, its type,
/// ranges, length and enumerations. The GUI offers edits and input constraints from them, and `set` tasks are
/// checked against them (a device's own GetParameterNames answer is not stored). Loaded on first use; when the
/// files are missing only the XSD type is checked.
public final class ModelSchemas: @unchecked Sendable {
    public let directory: String
    private let lock = NSLock()
    private var loaded: [DataModelKind: ModelTemplate?] = [:]

    public init(directory: String) { self.directory = directory }

    /// The definitions scripts type their writes with: `datamodels/` in the working directory, else beside or above
    /// the running binary (a build tree), else an installed share directory.
    public static let shared = ModelSchemas(directory: locate() ?? "datamodels")

    public static func locate() -> String? {
        candidates().first { FileManager.default.fileExists(atPath: ($0 as NSString).appendingPathComponent("tr-181-2-19-1-cwmp-full.xml")) }
    }

    /// Where `locate` looks, in order.
    public static func candidates() -> [String] {
        var candidates = ["datamodels"]
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        let binary = dir
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent("datamodels").path)
            dir = dir.deletingLastPathComponent()
        }
        candidates += [binary.deletingLastPathComponent().appendingPathComponent("share/corral/datamodels").path,
                       "/usr/share/corral/datamodels", "/usr/local/share/corral/datamodels"]
        return candidates
    }

    public func definition(_ kind: DataModelKind?, _ path: String) -> ParameterDefinition? {
        let k = kind ?? (path.hasPrefix("InternetGatewayDevice.") ? .tr098 : .tr181)
        return template(k)?.definition(of: path)
    }

    private func template(_ kind: DataModelKind) -> ModelTemplate? {
        lock.withLock {
            if let t = loaded[kind] { return t }
            let file = kind == .tr181 ? "tr-181-2-19-1-cwmp-full.xml" : "tr-098-1-8-0-full.xml"
            let t = try? ModelTemplate.loadBBF(path: (directory as NSString).appendingPathComponent(file))
            loaded[kind] = t
            return t
        }
    }

    /// A bound as an integer text (bounds may exceed Int, e.g. unsignedLong's maximum).
    public static func number(_ v: Double) -> String { String(format: "%.0f", v) }

    /// Why `value` is not acceptable for a parameter of this type (and definition), or nil.
    public static func problem(_ value: String, type: XSDType, definition: ParameterDefinition?) -> String? {
        switch type {
        case .int, .long:
            guard let v = Int64(value) else { return "must be a whole number" }
            if type == .int && (v < Int64(Int32.min) || v > Int64(Int32.max)) { return "is out of range for int" }
        case .unsignedInt, .unsignedLong:
            guard let v = UInt64(value) else { return "must be a whole number ≥ 0" }
            if type == .unsignedInt && v > UInt64(UInt32.max) { return "is out of range for unsignedInt" }
        case .boolean:
            guard ["true", "false", "1", "0"].contains(value) else { return "must be true or false" }
        case .dateTime:
            guard value.count >= 19, value.dropFirst(4).first == "-", value.dropFirst(10).first == "T" else { return "must be a dateTime like 2026-01-31T12:00:00Z" }
        default: break
        }
        guard let def = definition, !def.isObject else { return nil }
        if let n = Double(value), [.int, .long, .unsignedInt, .unsignedLong].contains(type), !def.ranges.isEmpty,
           !def.ranges.contains(where: { $0.contains(n) }) {
            return "is outside the allowed range " + def.ranges.map { "\($0.min.map(number) ?? "")…\($0.max.map(number) ?? "")" }.joined(separator: ", ")
        }
        if let max = def.maxLength, value.count > max { return "is longer than \(max) characters" }
        if !def.enumerations.isEmpty, !def.isList, !def.enumerations.contains(value) {
            return "must be one of \(def.enumerations.prefix(20).joined(separator: ", "))"
        }
        return nil
    }
}
