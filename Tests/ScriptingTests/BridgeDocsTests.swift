import Foundation
import Testing
@testable import Scripting

struct BridgeDocsTests {
    @Test func luaAPIDocIsCurrent() throws {
        let file = Repo.root + "/docs/lua-api.md"
        let current = try? String(contentsOfFile: file, encoding: .utf8)
        #expect(current == BridgeDocs.markdown(), "docs/lua-api.md is out of date: run `corral lua-docs > docs/lua-api.md`")
    }

    @Test func everyFunctionIsDeclaredOnceWithContexts() {
        let names = Bridge.functions.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(Bridge.functions.allSatisfy { !$0.contexts.isEmpty && !$0.summary.isEmpty })
        let set = Bridge.functions.first { $0.name == "dev:set" }!
        #expect(!set.contexts.contains(.report))
    }
}
