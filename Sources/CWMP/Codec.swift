// Public API of the SOAP codec: CWMPDecoder turns bytes into an `Envelope`, CWMPEncoder does the reverse.
// The implementation lives in XMLDocument.swift (libxml2 parsing), Decoder*.swift and Encoder*.swift.

/// Who sent the bytes being decoded. GetRPCMethods exists in both directions, so the decoder must know.
public enum Peer: Sendable { case cpe, acs }

public struct CodecLimits: Sendable {
    /// Bodies larger than this are refused before parsing.
    public var maxBytes: Int
    /// Maximum element nesting depth (the Envelope is depth 1). Checked while parsing.
    public var maxDepth: Int
    /// Attributes on one element (CWMP uses a handful: namespace declarations, arrayType, xsi:type). Checked before
    /// parsing, in linear time.
    public var maxAttributesPerElement: Int
    /// Elements in one message (a full TR-181 GetParameterValuesResponse of ~20,000 parameters has ~60,000).
    public var maxElements: Int
    /// One text run (a parameter value, a fault string), raw and entity-escaped: TR-181's longest strings are 65,535
    /// characters, so 256 KiB leaves room for escaping while no value can be megabytes.
    public var maxTextBytes: Int
    public init(maxBytes: Int = 4 << 20, maxDepth: Int = 64, maxAttributesPerElement: Int = 64, maxElements: Int = 250_000,
                maxTextBytes: Int = 256 << 10) {
        self.maxBytes = maxBytes; self.maxDepth = maxDepth
        self.maxAttributesPerElement = maxAttributesPerElement; self.maxElements = maxElements
        self.maxTextBytes = maxTextBytes
    }
}

public enum CWMPDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooLarge(Int)
    case malformed(String)
    case notSOAP(String)
    /// A well-formed envelope whose RPC we do not know; `id` lets the caller answer with fault 8000/9000.
    case unknownMethod(name: String, id: String?, version: CWMPVersion)
    case invalidArgument(method: String, detail: String, id: String?, version: CWMPVersion)

    public var description: String {
        switch self {
        case .tooLarge(let n): "message too large (\(n) bytes)"
        case .malformed(let m): "malformed XML: \(m)"
        case .notSOAP(let m): "not a SOAP envelope: \(m)"
        case .unknownMethod(let name, let id, let v): "unknown method \(name) (cwmp:ID \(id ?? "none"), \(v.rawValue))"
        case .invalidArgument(let method, let detail, let id, let v):
            "invalid argument in \(method): \(detail) (cwmp:ID \(id ?? "none"), \(v.rawValue))"
        }
    }

    /// The cwmp:ID of the message, when the envelope was readable far enough to know it.
    public var messageID: String? {
        switch self {
        case .unknownMethod(_, let id, _), .invalidArgument(_, _, let id, _): id
        default: nil
        }
    }

    /// The namespace the peer used, when the envelope was readable far enough to know it.
    public var version: CWMPVersion? {
        switch self {
        case .unknownMethod(_, _, let v), .invalidArgument(_, _, _, let v): v
        default: nil
        }
    }
}

public enum CWMPDecoder {
    /// Decodes one SOAP envelope. Safe to call concurrently from any number of threads.
    public static func decode(_ bytes: [UInt8], from sender: Peer, limits: CodecLimits = CodecLimits()) throws -> Envelope {
        if bytes.count > limits.maxBytes { throw CWMPDecodeError.tooLarge(bytes.count) }
        try XMLPrescan.check(bytes, limits: limits)
        return try XMLParsing.withDocument(bytes, maxDepth: limits.maxDepth) { root in
            try EnvelopeReader.read(root: root, from: sender)
        }
    }

    /// Convenience for callers holding a String.
    public static func decode(_ text: String, from sender: Peer, limits: CodecLimits = CodecLimits()) throws -> Envelope {
        try decode(Array(text.utf8), from: sender, limits: limits)
    }
}

public enum CWMPEncoder {
    /// Serialises an envelope to UTF-8 XML that validates against the cwmp schema of `envelope.version`.
    public static func encode(_ envelope: Envelope) -> [UInt8] {
        var w = XMLWriter(capacity: EnvelopeWriter.estimatedSize(envelope))
        EnvelopeWriter.write(envelope, into: &w)
        return w.bytes
    }
}
