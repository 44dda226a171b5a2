import ACSCore
import Foundation
import Storage

/// The `test(name, spec)` cases of an automation, campaign or report file, for `corral script test`.
public enum ScriptTestCases {
    /// Runs the file's top level once in `context` against `store` (normally empty): its declarations are accepted
    /// and ignored, its `test` calls collected.
    public static func collect(source: String, name: String, context: ScriptContext, store: AutomationStore,
                               registry: ProfileRegistry) throws -> [(String, LuaTable)] {
        let sink = CaseCollector()
        let access = StoreScriptAccess(store: store, registry: registry, now: Int64(Date().timeIntervalSince1970))
        let run = ScriptRun(context: context, name: name, now: access.now, seed: 0)
        run.sink = sink
        run.population = access
        run.devices = access
        let vm = LuaVM()
        vm.lock.lock()
        defer { vm.lock.unlock() }
        let ref = try vm.load(source, name: name)
        defer { vm.release(ref) }
        vm.setGlobal(of: ref, "args", .table(LuaTable()))
        try vm.call(ref, run: run, limits: .profileLoad, results: 0)
        if let e = sink.error { throw ScriptError(.invalid, "\(name): \(e)") }
        return sink.cases
    }
}

/// Collects `test(...)` cases while accepting (and ignoring) the file's other declarations.
final class CaseCollector: DeclarationSink {
    var cases: [(String, LuaTable)] = []
    var error: String?
    func profile(_ def: LuaTable) -> String? { nil }
    func report(_ def: LuaTable) -> String? { nil }
    func emit(_ row: LuaTable) -> String? { nil }
    func campaign(_ def: LuaTable) -> String? { nil }
    func on(_ kind: String, filter: LuaTable?, handler: Int32) -> String? { nil }
    func every(_ interval: String, handler: Int32) -> String? { nil }
    func alert(_ def: LuaTable) -> String? { nil }
    func test(_ name: String, _ spec: LuaTable) -> String? {
        guard cases.count < 200 else { return "more than 200 test cases" }
        guard !cases.contains(where: { $0.0 == name }) else { return "test '\(name)' is declared twice" }
        cases.append((name, spec))
        return nil
    }
}
