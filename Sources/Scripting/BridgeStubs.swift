/// LuaLS type stubs (`---@meta`) generated from the bridge declaration table: `corral lua-docs --stubs` writes them,
/// editors with the Lua language server then complete and check Corral's functions. docs/corral.d.lua is kept current
/// by a test.
public enum BridgeStubs {
    /// The fields a device object carries (`Bridge.pushDevice`); a test compares them with a real object's keys.
    static let deviceFields: [(String, String)] = [
        ("id", "integer"), ("name", "string"), ("serial", "string"), ("oui", "string"), ("product_class", "string"),
        ("manufacturer", "string"), ("model", "string"), ("software_version", "string"), ("hardware_version", "string"),
        ("profile", "string"), ("data_model", "string"), ("location", "string"), ("description", "string"), ("ip", "string"),
        ("inform_interval", "integer"), ("last_inform", "integer"), ("last_boot", "integer"), ("created_at", "integer"),
        ("status", "string"), ("groups", "string[]"),
    ]

    public static func luaLS() -> String {
        var out = """
            ---@meta corral
            -- Corral's Lua API for the Lua language server, generated from the bridge table by `corral lua-docs --stubs`;
            -- do not edit. Contexts are in each function's description (docs/lua-api.md has the whole reference).

            ---@class CorralDevice

            """
        for (name, type) in deviceFields { out += "---@field \(name) \(type)\n" }
        out += "local CorralDevice = {}\n\n---@type CorralDevice\ndev = nil\n"
        var tables: Set<String> = []
        for f in Bridge.functions where !f.hidden {
            if let dot = f.name.firstIndex(of: "."), !f.name.hasPrefix("dev:") {
                let table = String(f.name[..<dot])
                if tables.insert(table).inserted { out += "\n\(table) = \(table) or {}\n" }
            }
            out += "\n--- \(f.summary.replacingOccurrences(of: "\n", with: " "))\n"
            out += "--- Contexts: \(BridgeDocs.contexts(f)).\n"
            for a in f.args {
                let name = a.name == "..." ? "..." : a.name + (a.optional ? "?" : "")
                out += "---@param \(name) \(luaType(a.type)) \(a.doc.replacingOccurrences(of: "\n", with: " "))\n"
            }
            if f.returns != "nothing" { out += "---@return any # \(f.returns)\n" }
            let params = f.args.map(\.name).joined(separator: ", ")
            let name = f.name.hasPrefix("dev:") ? "CorralDevice:" + f.name.dropFirst(4) : f.name
            out += "function \(name)(\(params)) end\n"
        }
        return out
    }

    static func luaType(_ t: ArgType) -> String {
        switch t {
        case .string: "string"
        case .integer: "integer"
        case .number: "number"
        case .boolean: "boolean"
        case .table: "table"
        case .function: "function"
        case .scalar: "string|number|boolean"
        case .any: "any"
        }
    }
}
