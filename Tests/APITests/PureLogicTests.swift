import Testing
@testable import API
import Storage

@Suite struct PureLogicTests {
    @Test func csvRoundTripAndFormulaGuard() throws {
        let line = CSV.line(["plain", "with,comma", "say \"hi\"", "multi\nline", "=SUM(A1)", "-12", "-x"])
        #expect(line == "plain,\"with,comma\",\"say \"\"hi\"\"\",\"multi\nline\",'=SUM(A1),-12,'-x\r\n")
        let rows = try CSV.parse("a,b\r\n\"1,2\",\"x\"\"y\"\n\n3,\n", maxRows: 10)
        #expect(rows == [["a", "b"], ["1,2", "x\"y"], ["3", ""]])
        #expect(throws: CSV.ParseError.self) { try CSV.parse("a\n\"open", maxRows: 10) }
        #expect(throws: CSV.ParseError.self) { try CSV.parse("a\nb\nc\n", maxRows: 2) }
    }

    @Test func loginThrottleBacksOffAndForgets() {
        var t = LoginThrottle()
        for i in 0..<5 {
            #expect(t.wait("u", now: 100 + Int64(i)) == 0)
            t.failed("u", now: 100 + Int64(i))
        }
        #expect(t.wait("u", now: 105) == 14)        // 15 s after the 5th failure at 104
        t.failed("u", now: 120)
        #expect(t.wait("u", now: 120) == 30)        // doubles
        #expect(t.wait("other", now: 120) == 0)
        #expect(t.wait("u", now: 120 + 3600) == 0)  // the window passed
        t.succeeded("u")
        #expect(t.wait("u", now: 121) == 0)
    }

    @Test func parameterConditions() throws {
        let c = try DeviceHandlers.parameterCondition("Device.DeviceInfo.UpTime>=3600")
        #expect(c.paths == ["Device.DeviceInfo.UpTime"] && c.op == .ge && c.value == "3600")
        let e = try DeviceHandlers.parameterCondition("Device.WiFi.SSID.1.SSID=a=b")
        #expect(e.op == .eq && e.value == "a=b")
        #expect(try DeviceHandlers.parameterCondition("Device.X!=1").op == .ne)
        #expect(try DeviceHandlers.parameterCondition("Device.X~guest").op == .contains)
        #expect(throws: APIError.self) { try DeviceHandlers.parameterCondition("Device.X<abc") }
        #expect(throws: APIError.self) { try DeviceHandlers.parameterCondition("no operator") }
        #expect(throws: APIError.self) { try DeviceHandlers.parameterCondition("bad path!=1") }
    }
}
