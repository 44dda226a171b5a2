// API of the SOAP codec. STUB: replaced by the real libxml2 implementation.

/// Who sent the bytes being decoded. GetRPCMethods exists in both directions, so the decoder must know.
public enum Peer: Sendable { case cpe, acs }

public struct CodecLimits: Sendable {
    public var maxBytes: Int
    public var maxDepth: Int
    public init(maxBytes: Int = 4 << 20, maxDepth: Int = 64) { self.maxBytes = maxBytes; self.maxDepth = maxDepth }
}

public enum CWMPDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooLarge(Int)
    case malformed(String)
    case notSOAP(String)
    /// A well-formed envelope whose RPC we do not know; `id` lets the caller answer with fault 8000/9000.
    case unknownMethod(name: String, id: String?, version: CWMPVersion)
    case invalidArgument(method: String, detail: String, id: String?, version: CWMPVersion)
    public var description: String { "\(self)" }
}

public enum CWMPDecoder {
    public static func decode(_ bytes: [UInt8], from sender: Peer, limits: CodecLimits = CodecLimits()) throws -> Envelope {
        fatalError("CWMPDecoder not implemented yet")
    }
}

public enum CWMPEncoder {
    public static func encode(_ envelope: Envelope) -> [UInt8] {
        fatalError("CWMPEncoder not implemented yet")
    }
}
