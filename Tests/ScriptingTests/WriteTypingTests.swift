import Foundation
import Testing
import CWMP
import DataModel
@testable import Scripting

/// What a script's write is sent as: the CPE's reported type, else the BBF data model's, else the Lua type; a value
/// its type cannot hold is the script's error (dry runs show it), not a CPE fault.
@Suite struct WriteTypingTests {
    static let schemas = ModelSchemas(directory: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("datamodels").path)

    @Test func neverReadParametersAreTypedFromTheDataModel() throws {
        let enable = try #require(Self.schemas.definition(.tr181, "Device.Time.Enable"))
        let r = LuaConvert.parameter("Device.Time.Enable", .string("true"), explicitType: nil, storedType: nil, schema: enable)
        #expect(try r.get() == ParameterValue(name: "Device.Time.Enable", value: "true", type: .boolean))
        let interval = try #require(Self.schemas.definition(.tr181, "Device.ManagementServer.PeriodicInformInterval"))
        #expect(try LuaConvert.parameter("x", .int(600), explicitType: nil, storedType: nil, schema: interval).get().type == .unsignedInt)
        // The CPE's own word wins over the model's.
        #expect(try LuaConvert.parameter("x", .string("5"), explicitType: nil, storedType: .string, schema: interval).get().type == .string)
        // Without either, the Lua type.
        #expect(try LuaConvert.parameter("x", .string("5"), explicitType: nil, storedType: nil).get().type == .string)
    }

    @Test func valuesTheirTypeCannotHoldAreScriptErrors() throws {
        let enable = try #require(Self.schemas.definition(.tr181, "Device.Time.Enable"))
        guard case .failure(let e) = LuaConvert.parameter("Device.Time.Enable", .string("maybe"), explicitType: nil, storedType: nil, schema: enable) else {
            Issue.record("'maybe' accepted as a boolean"); return
        }
        #expect(e.message.contains("must be true or false"))
        guard case .failure = LuaConvert.parameter("x", .string("abc"), explicitType: nil, storedType: .unsignedInt) else {
            Issue.record("'abc' accepted as unsignedInt"); return
        }
        // Ranges stay the CPE's call: it knows its own limits (and reports 9007).
        let channel = try #require(Self.schemas.definition(.tr181, "Device.WiFi.Radio.1.Channel"))
        #expect(try LuaConvert.parameter("c", .int(300), explicitType: nil, storedType: nil, schema: channel).get().value == "300")
    }
}
