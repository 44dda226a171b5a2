// API of the data-model library. STUB: replaced by the real implementation.
import CWMP

public enum DataModelKind: String, Sendable, Codable {
    case tr181, tr098
    public var root: String { self == .tr181 ? "Device." : "InternetGatewayDevice." }
    /// From the parameter names an Inform carries.
    public static func detect(parameterNames: [String]) -> DataModelKind? {
        if parameterNames.contains(where: { $0.hasPrefix("InternetGatewayDevice.") }) { return .tr098 }
        if parameterNames.contains(where: { $0.hasPrefix("Device.") }) { return .tr181 }
        return nil
    }
}

/// An immutable parameter tree with defaults, shared by many simulated devices.
public final class ModelTemplate: Sendable {
    public let root: String
    public init(root: String) { self.root = root }
}

/// One device's live data model: a shared template plus this device's changes.
public struct VirtualDataModel: Sendable {
    public let template: ModelTemplate
    public init(template: ModelTemplate) { self.template = template }
}
