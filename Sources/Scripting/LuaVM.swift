import CLua
import Foundation
import LuaSandbox

/// One sandboxed Lua state: safe libraries, the bridge, limits. Not thread-safe: callers hold `lock` (or own the
/// VM outright) while they load or run anything. Errors raised by Lua stay in C frames (see Sources/LuaSandbox).
public final class LuaVM: @unchecked Sendable {
    let L: OpaquePointer
    public let lock = NSLock()
    /// The run the bridge serves while a script executes.
    var run: ScriptRun?

    public init() {
        L = corral_newstate(nil) { L, host, fid in
            guard let L, let host else { return CORRAL_RAISE }
            return Unmanaged<LuaVM>.fromOpaque(host).takeUnretainedValue().dispatch(L, Int(fid))
        }
        corral_set_host(L, Unmanaged.passUnretained(self).toOpaque())
        corral_sandbox_begin(L)
        Bridge.install(L)
        corral_sandbox_seal(L)
        corral_gc_generational(L)
    }

    deinit { corral_close(L) }

    public var memoryUsed: Int { corral_memory_used(L) }

    // MARK: loading

    /// Compiles a text chunk with a fresh environment and returns the function, anchored in the registry.
    /// `name` appears in error messages ("weak-signal.lua:3: ...").
    public func load(_ source: String, name: String) throws -> Int32 {
        let status = source.utf8CString.withUnsafeBufferPointer { buf in
            corral_load_text(L, buf.baseAddress, buf.count - 1, "=" + name)
        }
        guard status == LUA_OK else {
            let message = errorMessage(-1)
            corral_pop(L, 1)
            throw ScriptError(.syntax, message)
        }
        corral_push_env(L)
        _ = corral_set_env(L, -2)
        return luaL_ref(L, corral_registryindex())
    }

    /// The environment (globals table) of a loaded chunk.
    func withEnvironment(of ref: Int32, _ body: (Int32) -> Void) {
        lua_rawgeti(L, corral_registryindex(), lua_Integer(ref))
        _ = lua_getupvalue(L, -1, 1)
        body(lua_absindex(L, -1))
        corral_pop(L, 2)
    }

    public func release(_ ref: Int32) { luaL_unref(L, corral_registryindex(), ref) }

    // MARK: running

    /// Calls an anchored function on the main thread, protected, under `run`'s context and limits.
    @discardableResult
    public func call(_ ref: Int32, args: [LuaValue] = [], run: ScriptRun, limits: ScriptLimits, results: Int32 = 1) throws -> [LuaValue] {
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        lua_rawgeti(L, corral_registryindex(), lua_Integer(ref))
        for a in args { LuaStack.push(L, a) }
        return try callTop(nargs: Int32(args.count), run: run, limits: limits, results: results)
    }

    /// Calls a function with a device object as the first argument.
    func callWithDevice(_ ref: Int32, device: DeviceFields, handle: Int, extra: [LuaValue], run: ScriptRun, limits: ScriptLimits) throws {
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        lua_rawgeti(L, corral_registryindex(), lua_Integer(ref))
        Bridge.pushDevice(L, device, handle: handle)
        for a in extra { LuaStack.push(L, a) }
        _ = try callTop(nargs: Int32(1 + extra.count), run: run, limits: limits, results: 0)
    }

    private func callTop(nargs: Int32, run: ScriptRun, limits: ScriptLimits, results: Int32) throws -> [LuaValue] {
        let base = lua_gettop(L) - nargs   // the function's slot
        self.run = run
        corral_begin_run_wall(L, L, limits.instructions, limits.memoryBytes, limits.wallMilliseconds)
        let status = corral_pcall(L, nargs, results)
        corral_end_run(L)
        self.run = nil
        guard status == LUA_OK else {
            let e = failure(status, name: run.name, limits: limits)
            throw e
        }
        var out: [LuaValue] = []
        if results > 0 {
            for i in 0..<results { out.append(LuaStack.read(L, base + i)) }
        }
        return out
    }

    /// Loads and runs a chunk once (reports, campaign files, tests).
    @discardableResult
    public func run(_ source: String, name: String, run: ScriptRun, limits: ScriptLimits) throws -> [LuaValue] {
        let ref = try load(source, name: name)
        defer { release(ref) }
        return try call(ref, run: run, limits: limits)
    }

    // MARK: coroutines (session scripts)

    /// A coroutine anchored in the registry, ready to run `function(dev, ...)`.
    public struct Coroutine: @unchecked Sendable {
        let ref: Int32
        let thread: OpaquePointer
        /// Instructions left for this script in this session.
        var budget: Int64
    }

    public enum Resumed: Equatable {
        /// Ended; its first return value (nil when none).
        case finished(LuaValue)
        case suspended
        case failed(ScriptError)
    }

    func makeCoroutine(_ function: Int32, device: DeviceFields, handle: Int, extra: [LuaValue], budget: Int64) -> Coroutine {
        let thread = lua_newthread(L)!
        let ref = luaL_ref(L, corral_registryindex())
        lua_rawgeti(thread, corral_registryindex(), lua_Integer(function))
        Bridge.pushDevice(thread, device, handle: handle)
        for a in extra { LuaStack.push(thread, a) }
        return Coroutine(ref: ref, thread: thread, budget: budget)
    }

    /// Runs the coroutine until it finishes, fails or suspends in a bridge call. `values` become that call's results.
    func resume(_ co: inout Coroutine, values: [LuaValue], first: Bool, run: ScriptRun, memoryBytes: Int,
                wallMilliseconds: Int64 = ScriptLimits.session.wallMilliseconds) -> Resumed {
        let T = co.thread
        let nargs: Int32
        if first {
            nargs = lua_gettop(T) - 1
        } else {
            for v in values { LuaStack.push(T, v) }
            nargs = Int32(values.count)
        }
        self.run = run
        corral_begin_run_wall(L, T, co.budget, memoryBytes, wallMilliseconds)
        var nresults: Int32 = 0
        let status = lua_resume(T, L, nargs, &nresults)
        co.budget = max(0, corral_budget_left(L))
        corral_end_run(L)
        self.run = nil
        switch status {
        case LUA_OK:
            // Only a scalar is converted (virtual parameters): a returned table is not walked after the run's limits end.
            let first = lua_gettop(T) - nresults + 1
            let type = nresults > 0 ? lua_type(T, first) : LUA_TNIL
            let result: LuaValue = [LUA_TBOOLEAN, LUA_TNUMBER, LUA_TSTRING].contains(type) ? LuaStack.read(T, first, anchorFunctions: false)
                : type == LUA_TNIL ? .null : .other(String(cString: lua_typename(T, type)))
            lua_settop(T, 0)
            return .finished(result)
        case LUA_YIELD:
            lua_settop(T, 0)
            return .suspended
        default:
            let e = failure(status, name: run.name, limits: ScriptLimits(instructions: co.budget, memoryBytes: memoryBytes, wallMilliseconds: wallMilliseconds), on: T)
            lua_settop(T, 0)
            return .failed(e)
        }
    }

    func releaseCoroutine(_ co: Coroutine) { luaL_unref(L, corral_registryindex(), co.ref) }

    /// Returns memory to the allocator between runs (a pooled state should not keep a report's garbage).
    public func collectGarbage() { corral_gc_collect(L) }

    // MARK: errors

    private func failure(_ status: Int32, name: String, limits: ScriptLimits, on T: OpaquePointer? = nil) -> ScriptError {
        let S = T ?? L
        let message = errorMessage(-1, on: S)
        // The first limit that stopped the run names the error (a later one can follow while the stack unwinds).
        let whereText = String(cString: corral_limit_where(L))
        let at = whereText.isEmpty ? name : whereText
        switch corral_limit_hit(L) {
        case CORRAL_LIMIT_INSTRUCTIONS: return ScriptError(.instructionLimit, message)
        case CORRAL_LIMIT_TIME: return ScriptError(.timeLimit, "\(at): wall-clock limit of \(limits.wallMilliseconds) ms exceeded")
        case CORRAL_LIMIT_MEMORY: return ScriptError(.memoryLimit, "\(at): memory limit of \(limits.memoryBytes >> 20) MiB exceeded")
        default:
            if status == LUA_ERRMEM { return ScriptError(.memoryLimit, "\(name): memory limit of \(limits.memoryBytes >> 20) MiB exceeded") }
            return ScriptError(.runtime, message)
        }
    }

    private func errorMessage(_ index: Int32, on S: OpaquePointer? = nil) -> String {
        let S = S ?? L
        switch lua_type(S, index) {
        case LUA_TSTRING: return LuaStack.string(S, index) ?? "error"
        case LUA_TNUMBER: return LuaStack.read(S, index).string ?? "error"
        default: return "(error object is a \(LuaStack.typeName(S, index)) value)"
        }
    }
}
