/// docs/lua-api.md, generated from the bridge declaration table (`corral lua-docs` writes it; a test keeps it current).
public enum BridgeDocs {
    public static func markdown() -> String {
        var out = """
        # Corral Lua API

        Generated from the bridge declaration table (`Sources/Scripting/BridgeTable.swift`) by `corral lua-docs`;
        do not edit by hand. Each function lists the contexts it may be called in; calling it elsewhere fails with
        a clear error (e.g. "dev:set is not available in a report").

        Contexts: **profile-load** (a profile file runs once when Corral starts), **session** (profile hooks, inside
        a CWMP session, as coroutines that may suspend), **campaign** (campaign files and their `apply`, no CPE
        connected: actions become tasks), **report** (read-only queries over the population).

        The sandbox: `assert error ipairs next pairs pcall select tonumber tostring type xpcall rawequal rawget rawlen
        getmetatable setmetatable` and the `string` (no `dump`), `table`, `math`, `utf8` libraries (read-only);
        no `io`, `os.execute`, `require`, `load`, `dofile`, `debug`, `coroutine`, `collectgarbage`. Text chunks only.
        Each file gets a fresh environment; a profile's globals are frozen once it has loaded. Every run has an
        instruction budget and a memory cap.

        | function | contexts | returns |
        | --- | --- | --- |

        """
        let visible = Bridge.functions.filter { !$0.hidden }
        for f in visible {
            out += "| [`\(signature(f))`](#\(anchor(f))) | \(contexts(f)) | \(f.returns) |\n"
        }
        for f in visible {
            out += "\n## \(f.name)\n\n`\(signature(f))`\n\n\(f.summary)\n\nContexts: \(contexts(f)).\n"
            if !f.args.isEmpty {
                out += "\n| argument | type | |\n| --- | --- | --- |\n"
                for a in f.args {
                    out += "| `\(a.name)`\(a.optional ? " (optional)" : "") | \(a.type.rawValue) | \(a.doc.replacingOccurrences(of: "|", with: "\\|")) |\n"
                }
            }
            out += "\nReturns: \(f.returns).\n"
        }
        return out
    }

    static func signature(_ f: BridgeFunction) -> String {
        let args = f.args.map { $0.optional && $0.name != "..." ? "[\($0.name)]" : $0.name }.joined(separator: ", ")
        return "\(f.name)(\(args))"
    }

    static func contexts(_ f: BridgeFunction) -> String {
        ScriptContext.allCases.filter { f.contexts.contains($0) }.map(\.rawValue).joined(separator: ", ")
    }

    static func anchor(_ f: BridgeFunction) -> String {
        String(f.name.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" })
    }
}
