import Foundation

/// The library of example and site scripts the API and WebGUI offer: `<dir>/reports/<name>.lua` and
/// `<dir>/campaigns/<name>.lua`. Read from disk on each request (small files, edited by operators); a missing
/// directory is an empty library. Names are file names without `.lua`, limited to [A-Za-z0-9_-] (no paths).
struct ScriptLibrary: Sendable {
    enum Kind: String, Sendable { case reports, campaigns }

    struct Entry: Encodable, Sendable {
        var name: String
        /// The leading `--` comment lines (what the script does, how to call it).
        var description: String
        /// `args.<name>` the script reads, with the default it gives (`args.days or 7`), for report forms.
        var args: [Arg]
        var source: String
    }

    struct Arg: Encodable, Sendable {
        var name: String
        var `default`: String?
    }

    let directory: String
    static let maxBytes = 256 << 10

    func list(_ kind: Kind) -> [Entry] {
        let dir = (directory as NSString).appendingPathComponent(kind.rawValue)
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        return files.filter { $0.hasSuffix(".lua") }.sorted().compactMap { entry(kind, String($0.dropLast(4))) }
    }

    func entry(_ kind: Kind, _ name: String) -> Entry? {
        guard Self.validName(name) else { return nil }
        let path = ((directory as NSString).appendingPathComponent(kind.rawValue) as NSString).appendingPathComponent(name + ".lua")
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: path), (attrs[.size] as? Int ?? 0) <= Self.maxBytes,
              let data = FileManager.default.contents(atPath: path) else { return nil }
        let source = String(decoding: data, as: UTF8.self)
        return Entry(name: name, description: Self.description(source), args: Self.args(source), source: source)
    }

    static func validName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 64 && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    static func description(_ source: String) -> String {
        var lines: [String] = []
        for line in source.split(separator: "\n", omittingEmptySubsequences: false) {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("--") else { break }
            lines.append(t.dropFirst(2).trimmingCharacters(in: .whitespaces))
        }
        return lines.joined(separator: "\n")
    }

    /// `args.name` and `args.name or <default>` in the source, in order of first use.
    static func args(_ source: String) -> [Arg] {
        guard let re = try? NSRegularExpression(pattern: #"args\.([A-Za-z_][A-Za-z0-9_]*)(?:\s+or\s+("[^"\n]*"|'[^'\n]*'|-?[0-9.]+))?"#) else { return [] }
        let ns = source as NSString
        var out: [Arg] = []
        for m in re.matches(in: source, range: NSRange(location: 0, length: ns.length)) {
            let name = ns.substring(with: m.range(at: 1))
            var def: String?
            if m.range(at: 2).location != NSNotFound {
                def = ns.substring(with: m.range(at: 2)).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            }
            if let i = out.firstIndex(where: { $0.name == name }) {
                if out[i].default == nil { out[i].default = def }
            } else {
                out.append(Arg(name: name, default: def))
            }
        }
        return out
    }
}
