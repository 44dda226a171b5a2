import Foundation
import Storage

/// Several nodes on one database run the same profiles and automation files: each node's directories follow the
/// newest accepted version of every file in `script_versions`, whichever node accepted it (an upload through its
/// API, a SIGHUP or a file edited on it).
enum ScriptSync {
    /// A stored name is used as a file name only when it is one ("acme.lua"): never a path.
    static func isFileName(_ name: String) -> Bool {
        name.hasSuffix(".lua") && name.count > 4 && name.count <= 128 && !name.hasPrefix(".") && !name.contains("/") && !name.contains("\0")
    }

    /// Writes into `directory` every file whose newest stored version differs from it, and removes those whose newest
    /// version is a removal (empty text). Returns the names it changed and what it could not do.
    static func apply(_ latest: [String: ScriptVersion], to directory: String) -> (changed: [String], problems: [String]) {
        var changed: [String] = [], problems: [String] = []
        for (name, version) in latest.sorted(by: { $0.key < $1.key }) {
            guard isFileName(name) else { problems.append("\(name): not a file name, skipped"); continue }
            let path = (directory as NSString).appendingPathComponent(name)
            let current = try? String(contentsOfFile: path, encoding: .utf8)
            do {
                if version.text.isEmpty {
                    guard current != nil else { continue }
                    try FileManager.default.removeItem(atPath: path)
                } else {
                    guard current != version.text else { continue }
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                    try version.text.write(toFile: path, atomically: true, encoding: .utf8)
                }
                changed.append(name)
            } catch {
                problems.append("\(path): \(error)")
            }
        }
        return (changed, problems)
    }
}
