import CLua

/// A Lua value copied out of a state (tables as snapshots, functions as registry references of that state).
public indirect enum LuaValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case number(Double)
    case string(String)
    case table(LuaTable)
    /// A function anchored in the registry of the state that read it (`luaL_ref`).
    case function(ref: Int32)
    /// Something Swift does not copy (userdata, thread).
    case other(String)

    public var string: String? {
        switch self {
        case .string(let s): s
        case .int(let i): String(i)
        case .number(let d): LuaValue.format(d)
        default: nil
        }
    }
    public var int: Int64? {
        switch self {
        case .int(let i): i
        case .number(let d) where d.rounded() == d && abs(d) < 9e18: Int64(d)
        case .string(let s): Int64(s)
        default: nil
        }
    }
    public var number: Double? {
        switch self {
        case .int(let i): Double(i)
        case .number(let d): d
        case .string(let s): Double(s)
        default: nil
        }
    }
    public var table: LuaTable? { if case .table(let t) = self { t } else { nil } }
    public var isNil: Bool { self == .null }

    public var typeName: String {
        switch self {
        case .null: "nil"
        case .bool: "boolean"
        case .int, .number: "number"
        case .string: "string"
        case .table: "table"
        case .function: "function"
        case .other(let t): t
        }
    }

    static func format(_ d: Double) -> String {
        if d.rounded() == d && abs(d) < 1e15 { return String(Int64(d)) }
        return String(d)
    }
}

/// A table snapshot: the array part (1...n) and the string-keyed fields in traversal order.
public struct LuaTable: Sendable, Equatable {
    public var array: [LuaValue] = []
    public var fields: [String: LuaValue] = [:]
    /// String keys in the order Lua returned them (not source order: Lua tables have none).
    public var keys: [String] = []
    public init() {}
    public subscript(_ key: String) -> LuaValue { fields[key] ?? .null }
    public var isEmpty: Bool { array.isEmpty && fields.isEmpty }
}

/// Reading and pushing values. Never raises: only calls that cannot longjmp (no metamethods: raw access only).
enum LuaStack {
    /// Values read in one conversion, across all nesting levels: a table that holds itself eight times is 8^16
    /// reads deep, and the conversion runs in Swift where no instruction budget or watchdog can stop it.
    final class NodeBudget { var left = 200_000 }

    static func read(_ L: OpaquePointer, _ index: Int32, anchorFunctions: Bool = true, depth: Int = 0) -> LuaValue {
        read(L, index, anchorFunctions: anchorFunctions, depth: depth, budget: NodeBudget())
    }

    static func read(_ L: OpaquePointer, _ index: Int32, anchorFunctions: Bool, depth: Int, budget: NodeBudget) -> LuaValue {
        switch lua_type(L, index) {
        case LUA_TNIL, LUA_TNONE: return .null
        case LUA_TBOOLEAN: return .bool(lua_toboolean(L, index) != 0)
        case LUA_TNUMBER:
            if corral_isinteger(L, index) != 0 { return .int(lua_tointegerx(L, index, nil)) }
            return .number(lua_tonumberx(L, index, nil))
        case LUA_TSTRING: return .string(string(L, index) ?? "")
        case LUA_TTABLE:
            guard depth < 16 else { return .other("table (nested too deep)") }
            return .table(readTable(L, index, anchorFunctions: anchorFunctions, depth: depth, budget: budget))
        case LUA_TFUNCTION:
            guard anchorFunctions else { return .other("function") }
            lua_pushvalue(L, index)
            return .function(ref: luaL_ref(L, corral_registryindex()))
        default:
            return .other(String(cString: lua_typename(L, lua_type(L, index))))
        }
    }

    static func readTable(_ L: OpaquePointer, _ index: Int32, anchorFunctions: Bool, depth: Int, budget: NodeBudget = NodeBudget()) -> LuaTable {
        let t = lua_absindex(L, index)
        var out = LuaTable()
        var numbered: [Int64: LuaValue] = [:]
        lua_pushnil(L)
        var seen = 0
        while lua_next(L, t) != 0 {
            seen += 1
            budget.left -= 1
            if seen > 100_000 || budget.left < 0 { corral_pop(L, 2); break }
            let value = read(L, -1, anchorFunctions: anchorFunctions, depth: depth + 1, budget: budget)
            // Keys are read without lua_tolstring on numbers: converting a key in place breaks lua_next.
            switch lua_type(L, -2) {
            case LUA_TSTRING:
                let k = string(L, -2) ?? ""
                out.fields[k] = value
                out.keys.append(k)
            case LUA_TNUMBER where corral_isinteger(L, -2) != 0:
                numbered[lua_tointegerx(L, -2, nil)] = value
            default: break
            }
            corral_pop(L, 1)
        }
        var i: Int64 = 1
        while let v = numbered[i] { out.array.append(v); i += 1 }
        return out
    }

    /// The string at index, without converting numbers in place.
    static func string(_ L: OpaquePointer, _ index: Int32) -> String? {
        guard lua_type(L, index) == LUA_TSTRING else { return nil }
        var len = 0
        guard let p = corral_tostring(L, index, &len) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: len), as: UTF8.self)
    }

    static func push(_ L: OpaquePointer, _ v: LuaValue) {
        switch v {
        case .null, .other: lua_pushnil(L)
        case .bool(let b): lua_pushboolean(L, b ? 1 : 0)
        case .int(let i): lua_pushinteger(L, i)
        case .number(let d): lua_pushnumber(L, d)
        case .string(let s): pushString(L, s)
        case .function(let ref): lua_rawgeti(L, corral_registryindex(), lua_Integer(ref))
        case .table(let t):
            lua_createtable(L, Int32(t.array.count), Int32(t.fields.count))
            for (i, e) in t.array.enumerated() { push(L, e); lua_rawseti(L, -2, lua_Integer(i + 1)) }
            for k in t.keys { if let e = t.fields[k] { pushString(L, k); push(L, e); lua_rawset(L, -3) } }
        }
    }

    static func pushString(_ L: OpaquePointer, _ s: String) {
        var s = s
        s.withUTF8 { buf in _ = lua_pushlstring(L, buf.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }, buf.count) }
    }

    static func setField(_ L: OpaquePointer, _ key: String, _ v: LuaValue) {
        pushString(L, key)
        push(L, v)
        lua_rawset(L, -3)
    }

    static func typeName(_ L: OpaquePointer, _ index: Int32) -> String {
        String(cString: lua_typename(L, lua_type(L, index)))
    }
}
