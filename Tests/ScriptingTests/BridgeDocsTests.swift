import Foundation
import Testing
@testable import Scripting

struct BridgeDocsTests {
    @Test func luaAPIDocIsCurrent() throws {
        let file = Repo.root + "/docs/lua-api.md"
        let current = try? String(contentsOfFile: file, encoding: .utf8)
        #expect(current == BridgeDocs.markdown(), "docs/lua-api.md is out of date: run `corral lua-docs > docs/lua-api.md`")
    }

    @Test func luaLSStubsAreCurrentAndNameEveryDeviceField() async throws {
        let file = Repo.root + "/docs/corral.d.lua"
        let current = try? String(contentsOfFile: file, encoding: .utf8)
        #expect(current == BridgeStubs.luaLS(), "docs/corral.d.lua is out of date: run `corral lua-docs --stubs --output docs/corral.d.lua`")
        // Valid Lua (compiled, not run).
        let vm = LuaVM()
        vm.release(try vm.load(BridgeStubs.luaLS(), name: "corral.d.lua"))
        // The stub's device fields are the keys of a real device object.
        let (store, registry) = try await BridgeFuzzTests.fleet()
        final class Capture: @unchecked Sendable { var text = "" }
        let out = Capture()
        _ = try ReportRunner.run(source: """
            report { columns = { "keys" } }
            for d in devices({ limit = 1 }) do
              local keys = {}
              for k in pairs(d) do keys[#keys + 1] = k end
              table.sort(keys)
              emit { keys = table.concat(keys, " ") }
            end
            """, name: "keys.lua", store: store, registry: registry, now: BridgeFuzzTests.now, output: ReportWriter(format: .csv) { out.text += $0 })
        #expect(out.text.contains(BridgeStubs.deviceFields.map(\.0).sorted().joined(separator: " ")), "\(out.text)")
    }

    @Test func everyFunctionIsDeclaredOnceWithContexts() {
        let names = Bridge.functions.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(Bridge.functions.allSatisfy { !$0.contexts.isEmpty && !$0.summary.isEmpty })
        let set = Bridge.functions.first { $0.name == "dev:set" }!
        #expect(!set.contexts.contains(.report))
    }
}
