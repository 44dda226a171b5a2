import Testing
@testable import Scripting

/// The sandbox against escape attempts, runaway code and memory bombs, and the quality of its error messages.
struct SandboxTests {
    let vm = LuaVM()

    func run(_ source: String, name: String = "test.lua", context: ScriptContext = .report,
             limits: ScriptLimits = ScriptLimits(instructions: 5_000_000, memoryBytes: 8 << 20)) throws -> LuaValue {
        let r = ScriptRun(context: context, name: name, now: 1_700_000_000, seed: 42)
        return try vm.run(source, name: name, run: r, limits: limits).first ?? .null
    }

    func failure(_ source: String, name: String = "test.lua", context: ScriptContext = .report,
                 limits: ScriptLimits = ScriptLimits(instructions: 5_000_000, memoryBytes: 8 << 20)) -> ScriptError? {
        do { _ = try run(source, name: name, context: context, limits: limits); return nil }
        catch let e as ScriptError { return e }
        catch { return ScriptError(.invalid, "\(error)") }
    }

    @Test func dangerousGlobalsAreAbsent() throws {
        for name in ["io", "require", "dofile", "loadfile", "load", "loadstring", "debug", "package", "collectgarbage",
                     "coroutine", "rawset", "module", "_G"] {
            #expect(try run("return \(name) == nil") == .bool(true), "\(name) is reachable")
        }
        for expr in ["os.execute", "os.exit", "os.getenv", "os.remove", "os.rename", "os.tmpname", "os.setlocale",
                     "string.dump", "(\"\").dump", "math.randomseed"] {
            #expect(try run("return \(expr) == nil") == .bool(true), "\(expr) is reachable")
        }
        #expect(try run("return getmetatable('') == false") == .bool(true))
        #expect(try run("return type(string.format) == 'function' and type(table.concat) == 'function' and math.pi > 3") == .bool(true))
    }

    @Test func libraryTablesAreReadOnlyAndEnvironmentsFresh() throws {
        let e = failure("string.upper = function() return 'pwned' end")
        #expect(e?.message.contains("read-only") == true, "\(String(describing: e))")
        #expect(failure("setmetatable(string, {})") != nil)
        _ = try run("leak = 'from the first script'")
        #expect(try run("return leak") == .null)
        #expect(try run("return ('abc'):upper()") == .string("ABC"))
    }

    @Test func binaryChunksAreRefused() {
        let e = failure("\u{1B}Lua\u{54}\u{00}")
        #expect(e?.kind == .syntax)
        #expect(e?.message.contains("binary") == true, "\(String(describing: e))")
    }

    @Test func runawayLoopIsStoppedWithItsPosition() throws {
        let e = failure("local n = 0\nwhile true do\n  n = n + 1\nend", name: "spin.lua", limits: ScriptLimits(instructions: 1_000_000, memoryBytes: 8 << 20))
        #expect(e?.kind == .instructionLimit)
        #expect(e?.message.hasPrefix("spin.lua:") == true, "\(String(describing: e))")
        // pcall cannot swallow the limit and carry on.
        let swallowed = failure("while true do pcall(function() while true do end end) end", limits: ScriptLimits(instructions: 1_000_000, memoryBytes: 8 << 20))
        #expect(swallowed?.kind == .instructionLimit)
        // The state is still usable.
        #expect(try run("return 1 + 1") == .int(2))
    }

    @Test func memoryBombsHitTheCap() throws {
        let before = vm.memoryUsed
        let e = failure("local t = {}\nfor i = 1, 1e9 do t[i] = ('x'):rep(100) .. i end", limits: ScriptLimits(instructions: 1_000_000_000, memoryBytes: 4 << 20))
        #expect(e?.kind == .memoryLimit, "\(String(describing: e))")
        let rep = failure("return ('x'):rep(1e9)")
        #expect(rep?.kind == .memoryLimit, "\(String(describing: rep))")
        #expect(failure("local s = 'x' for i = 1, 64 do s = s .. s end")?.kind == .memoryLimit)
        vm.collectGarbage()
        #expect(vm.memoryUsed < before + (1 << 20))
        #expect(try run("return #('ab'):rep(3)") == .int(6))
        // An empty string repeated a huge number of times would spin in C, out of the instruction count's reach.
        #expect(try run("return ('').rep('', 1e15)") == .string(""))
    }

    @Test func errorsCarryScriptNameAndLine() {
        #expect(failure("local a = 1\n\nerror('boom')", name: "r.lua")?.message == "r.lua:3: boom")
        #expect(failure("local t = nil\nreturn t.x", name: "r.lua")?.message.hasPrefix("r.lua:2: attempt to index") == true)
        #expect(failure("x = = 1", name: "bad.lua")?.message.hasPrefix("bad.lua:1:") == true)
        // Bridge errors point at the calling line, with the function's name.
        #expect(failure("\nprofile { name = 'x' }", name: "r.lua")?.message == "r.lua:2: profile is not available in a report")
        #expect(failure("return os.date('%Q')", name: "r.lua")?.message == "r.lua:1: os.date: invalid conversion in format '%Q'")
        #expect(failure("return os.date(5)", name: "r.lua")?.message == "r.lua:1: bad argument #1 'format' to 'os.date' (string expected, got number)")
    }

    @Test func clockAndRandomAreDeterministicPerRun() throws {
        #expect(try run("return os.time()") == .int(1_700_000_000))
        #expect(try run("return os.date('!%Y-%m-%d')") == .string("2023-11-14"))
        #expect(try run("return os.time{year=2024, month=1, day=1, hour=0}") == .int(1_704_067_200))
        let a = try run("return math.random(1, 1000000) .. ',' .. math.random(6)")
        let b = try run("return math.random(1, 1000000) .. ',' .. math.random(6)")
        #expect(a == b)
    }
}
