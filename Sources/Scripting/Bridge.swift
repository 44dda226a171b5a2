import ACSCore
import CLua
import LuaSandbox

/// The type a bridge argument must have.
public enum ArgType: String, Sendable {
    case string, integer, number, boolean, table, function
    /// string, number or boolean: a parameter value.
    case scalar = "string|number|boolean"
    case any

    func accepts(_ t: Int32, isInteger: Bool, isIntegral: Bool) -> Bool {
        switch self {
        case .string: return t == LUA_TSTRING
        case .integer: return t == LUA_TNUMBER && (isInteger || isIntegral)
        case .number: return t == LUA_TNUMBER
        case .boolean: return t == LUA_TBOOLEAN
        case .table: return t == LUA_TTABLE
        case .function: return t == LUA_TFUNCTION
        case .scalar: return t == LUA_TSTRING || t == LUA_TNUMBER || t == LUA_TBOOLEAN
        case .any: return true
        }
    }
}

public struct BridgeArg: Sendable {
    public let name: String
    public let type: ArgType
    public let optional: Bool
    public let doc: String
    public init(_ name: String, _ type: ArgType, optional: Bool = false, _ doc: String) {
        self.name = name; self.type = type; self.optional = optional; self.doc = doc
    }
}

/// What a bridge implementation asks the trampoline to do.
public enum BridgeResult: Sendable {
    /// Return this many values (pushed on the stack).
    case values(Int32)
    case raise(String)
    /// Suspend the calling coroutine (session context only).
    case yield
}

/// The arguments and environment of one bridge call.
struct BridgeCall {
    let L: OpaquePointer
    let run: ScriptRun
    /// Stack index of the first declared argument (2 for methods: 1 is `self`).
    let base: Int32
    /// The device handle of `self`, for dev: methods.
    let handle: Int

    func arg(_ i: Int) -> LuaValue { LuaStack.read(L, base + Int32(i), anchorFunctions: false) }
    func string(_ i: Int) -> String? { LuaStack.string(L, base + Int32(i)) }
    func table(_ i: Int) -> LuaTable? { arg(i).table }
    func isNil(_ i: Int) -> Bool { corral_isnoneornil(L, base + Int32(i)) != 0 }
    func push(_ v: LuaValue) { LuaStack.push(L, v) }
}

/// One Lua function Corral provides. The declaration table (`Bridge.functions`) drives registration, the context
/// check, argument checks and docs/lua-api.md.
public struct BridgeFunction: Sendable {
    /// "devices", "os.time" (field of a library table) or "dev:get" (method of device objects).
    public let name: String
    public let contexts: Set<ScriptContext>
    public let args: [BridgeArg]
    public let returns: String
    public let summary: String
    /// Internal helpers (iterators) are registered but not documented or reachable by name.
    let hidden: Bool
    let impl: @Sendable (BridgeCall) -> BridgeResult

    init(_ name: String, _ contexts: Set<ScriptContext>, args: [BridgeArg] = [], returns: String = "nothing", hidden: Bool = false,
         _ summary: String, _ impl: @escaping @Sendable (BridgeCall) -> BridgeResult) {
        self.name = name; self.contexts = contexts; self.args = args; self.returns = returns; self.summary = summary
        self.hidden = hidden; self.impl = impl
    }

    var isMethod: Bool { name.hasPrefix("dev:") }
    var shortName: String { String(name.split(whereSeparator: { $0 == ":" || $0 == "." }).last ?? "") }
}

/// Device fields a Lua device object carries (`dev.serial`, `dev.software_version` ...).
struct DeviceFields {
    let device: Device
    let now: Int64
}

enum Bridge {
    static let all: Set<ScriptContext> = Set(ScriptContext.allCases)
    static let devContexts: Set<ScriptContext> = [.session, .campaign, .report, .automation]

    static func index(of name: String) -> Int? { functions.firstIndex { $0.name == name } }

    /// Registers every function: globals and library fields into the sandbox base, methods into the device metatable.
    static func install(_ L: OpaquePointer) {
        lua_getfield(L, corral_registryindex(), "corral.base")
        lua_createtable(L, 0, 16)    // device methods
        for (i, f) in functions.enumerated() {
            if f.hidden {
                corral_push_bridge(L, Int32(i))
                lua_setfield(L, corral_registryindex(), "corral.fn." + f.name)
            } else if f.isMethod {
                corral_push_bridge(L, Int32(i))
                lua_setfield(L, -2, f.shortName)
            } else if let dot = f.name.firstIndex(of: ".") {
                let lib = String(f.name[..<dot])
                lua_getfield(L, -2, lib)
                corral_push_bridge(L, Int32(i))
                lua_setfield(L, -2, String(f.name[f.name.index(after: dot)...]))
                corral_pop(L, 1)
            } else {
                corral_push_bridge(L, Int32(i))
                lua_setfield(L, -3, f.name)
            }
        }
        // Device metatable: methods, protected; the handle table maps device objects to Swift handles (weak keys).
        lua_createtable(L, 0, 3)
        corral_insert(L, -2)
        lua_setfield(L, -2, "__index")
        lua_pushboolean(L, 0)
        lua_setfield(L, -2, "__metatable")
        lua_setfield(L, corral_registryindex(), "corral.devmeta")
        corral_newtable(L)
        corral_newtable(L)
        LuaStack.pushString(L, "k")
        lua_setfield(L, -2, "__mode")
        _ = lua_setmetatable(L, -2)
        lua_setfield(L, corral_registryindex(), "corral.devhandles")
        corral_pop(L, 1)
    }

    /// Pushes a device object: a plain table of fields with the device metatable, registered under `handle`.
    static func pushDevice(_ L: OpaquePointer, _ d: DeviceFields, handle: Int) {
        let dev = d.device
        lua_createtable(L, 0, 20)
        LuaStack.setField(L, "id", .int(dev.id))
        LuaStack.setField(L, "name", .string(dev.name))
        LuaStack.setField(L, "serial", .string(dev.serialNumber))
        LuaStack.setField(L, "oui", .string(dev.oui))
        LuaStack.setField(L, "product_class", .string(dev.productClass))
        LuaStack.setField(L, "manufacturer", .string(dev.manufacturer))
        LuaStack.setField(L, "model", .string(dev.modelName))
        LuaStack.setField(L, "software_version", .string(dev.softwareVersion))
        LuaStack.setField(L, "hardware_version", .string(dev.hardwareVersion))
        LuaStack.setField(L, "profile", .string(dev.profile))
        LuaStack.setField(L, "data_model", .string(dev.dataModel?.rawValue ?? ""))
        LuaStack.setField(L, "location", .string(dev.location))
        LuaStack.setField(L, "description", .string(dev.description))
        LuaStack.setField(L, "ip", .string(dev.ipAddress))
        LuaStack.setField(L, "inform_interval", .int(Int64(dev.informInterval)))
        LuaStack.setField(L, "last_inform", .int(dev.lastInform))
        LuaStack.setField(L, "last_boot", .int(dev.lastBoot))
        LuaStack.setField(L, "created_at", .int(dev.createdAt))
        LuaStack.setField(L, "status", .string(dev.status(now: d.now).rawValue))
        var groups = LuaTable()
        groups.array = dev.groups.map { .string($0) }
        LuaStack.setField(L, "groups", .table(groups))
        var tags = LuaTable()
        tags.array = dev.tags.map { .string($0) }
        LuaStack.setField(L, "tags", .table(tags))
        lua_getfield(L, corral_registryindex(), "corral.devmeta")
        _ = lua_setmetatable(L, -2)
        lua_getfield(L, corral_registryindex(), "corral.devhandles")
        lua_pushvalue(L, -2)
        lua_pushinteger(L, lua_Integer(handle))
        lua_rawset(L, -3)
        corral_pop(L, 1)
    }

    /// The handle of the device object at `index`, if it is one.
    static func handle(_ L: OpaquePointer, at index: Int32) -> Int? {
        guard lua_type(L, index) == LUA_TTABLE else { return nil }
        lua_getfield(L, corral_registryindex(), "corral.devhandles")
        lua_pushvalue(L, index)
        lua_rawget(L, -2)
        defer { corral_pop(L, 2) }
        guard lua_type(L, -1) == LUA_TNUMBER else { return nil }
        return Int(lua_tointegerx(L, -1, nil))
    }

    /// Context check, argument checks, then the implementation. Runs in the trampoline's Swift callback.
    static func dispatch(_ L: OpaquePointer, _ fid: Int, run: ScriptRun?) -> Int32 {
        guard fid >= 0, fid < functions.count else { return raise(L, "unknown bridge function") }
        let f = functions[fid]
        guard let run else { return raise(L, "\(f.name) called outside a script run") }
        guard f.contexts.contains(run.context) else { return raise(L, "\(f.name) is not available \(run.context.phrase)") }
        var base: Int32 = 1
        var handle = -1
        if f.isMethod {
            guard let h = Bridge.handle(L, at: 1) else {
                return raise(L, "\(f.name) must be called on a device object (dev:\(f.shortName)(...))")
            }
            handle = h
            base = 2
        }
        for (i, a) in f.args.enumerated() {
            let idx = base + Int32(i)
            let t = lua_type(L, idx)
            if t <= LUA_TNIL {
                if a.optional { continue }
                return raise(L, "bad argument #\(i + 1) '\(a.name)' to '\(f.name)' (\(a.type.rawValue) expected, got no value)")
            }
            let isInt = corral_isinteger(L, idx) != 0
            let integral = t == LUA_TNUMBER && { let d = lua_tonumberx(L, idx, nil); return d.rounded() == d }()
            if !a.type.accepts(t, isInteger: isInt, isIntegral: integral) {
                return raise(L, "bad argument #\(i + 1) '\(a.name)' to '\(f.name)' (\(a.type.rawValue) expected, got \(LuaStack.typeName(L, idx)))")
            }
        }
        switch f.impl(BridgeCall(L: L, run: run, base: base, handle: handle)) {
        case .values(let n): return n
        case .raise(let message): return raise(L, message)
        case .yield:
            guard run.context == .session else { return raise(L, "\(f.name) cannot suspend \(run.context.phrase)") }
            return CORRAL_YIELD
        }
    }

    static func raise(_ L: OpaquePointer, _ message: String) -> Int32 {
        LuaStack.pushString(L, message)
        return CORRAL_RAISE
    }
}

extension LuaVM {
    func dispatch(_ L: OpaquePointer, _ fid: Int) -> Int32 { Bridge.dispatch(L, fid, run: run) }
}
