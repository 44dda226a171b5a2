import ACSCore
import CWMP
import Testing
@testable import Scripting

struct CampaignScriptTests {
    @Test func wavesSplitTheTarget() {
        #expect((0..<8).map { CampaignScript.wave(of: $0, waves: [2, 3]) } == [0, 0, 1, 1, 1, 2, 2, 2])
        #expect(CampaignScript.wave(of: 5, waves: []) == 0)
    }

    @Test func setsMergeIntoOneTaskAndActionsKeepTheirOrder() {
        let a = ParameterValue(name: "A", value: "1"), b = ParameterValue(name: "B", value: "2"), a2 = ParameterValue(name: "A", value: "3")
        #expect(CampaignScript.tasks(for: [.set(a), .set(b), .set(a2), .perform(.reboot)]) == [.setParameterValues([b, a2]), .reboot])
        #expect(CampaignScript.tasks(for: []) == [])
    }

    @Test func definitionsAreChecked() {
        func problem(_ t: LuaTable) -> String? {
            if case .failure(let e) = CampaignScript.parse(t, file: "c.lua") { return e.message }
            return nil
        }
        var t = LuaTable()
        t.fields = ["name": .string("x")]
        t.keys = ["name"]
        #expect(problem(t) == "c.lua: campaign needs apply = function(dev) ... end")
        t.fields["apply"] = .function(ref: 1); t.keys.append("apply")
        #expect(problem(t) == nil)
        t.fields["stop_if"] = .table({ var s = LuaTable(); s.fields = ["failure_rate": .number(5)]; s.keys = ["failure_rate"]; return s }()); t.keys.append("stop_if")
        #expect(problem(t) == "c.lua: stop_if.failure_rate is a fraction between 0 and 1")
    }
}
