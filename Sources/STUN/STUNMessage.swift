import HTTPAuth

/// A STUN message (RFC 3489 "classic" or RFC 5389), as TR-111 CPEs send it. Pure: bytes in, values out.
public struct STUNMessage: Sendable, Equatable {
    public static let magicCookie: UInt32 = 0x2112_A442
    public static let headerSize = 20
    /// TR-111 Part 2: the value of CONNECTION-REQUEST-BINDING.
    public static let tr111Binding = "dslforum.org/TR-111 "

    public enum MessageType: UInt16, Sendable {
        case bindingRequest = 0x0001
        case bindingResponse = 0x0101
        case bindingError = 0x0111
    }

    public enum AttributeType {
        public static let mappedAddress: UInt16 = 0x0001
        public static let responseAddress: UInt16 = 0x0002
        public static let changeRequest: UInt16 = 0x0003
        public static let sourceAddress: UInt16 = 0x0004
        public static let changedAddress: UInt16 = 0x0005
        public static let username: UInt16 = 0x0006
        public static let password: UInt16 = 0x0007
        public static let messageIntegrity: UInt16 = 0x0008
        public static let errorCode: UInt16 = 0x0009
        public static let unknownAttributes: UInt16 = 0x000A
        public static let reflectedFrom: UInt16 = 0x000B
        public static let realm: UInt16 = 0x0014
        public static let nonce: UInt16 = 0x0015
        public static let xorMappedAddress: UInt16 = 0x0020
        public static let software: UInt16 = 0x8022
        public static let fingerprint: UInt16 = 0x8028
        public static let connectionRequestBinding: UInt16 = 0xC001
        public static let bindingChange: UInt16 = 0xC002
        /// Comprehension-required attributes this codec understands (RFC 3489 ones included: classic clients send
        /// CHANGE-REQUEST with no flags set).
        static let understood: Set<UInt16> = [mappedAddress, responseAddress, changeRequest, sourceAddress, changedAddress,
                                              username, password, messageIntegrity, errorCode, unknownAttributes,
                                              reflectedFrom, realm, nonce, xorMappedAddress]
    }

    public struct Attribute: Sendable, Equatable {
        public var type: UInt16
        public var value: [UInt8]
        /// Offset of the attribute's header in the message it was decoded from (for MESSAGE-INTEGRITY).
        public var offset: Int = 0
        public init(type: UInt16, value: [UInt8], offset: Int = 0) { self.type = type; self.value = value; self.offset = offset }
    }

    public var type: UInt16
    /// RFC 5389 message (it carried the magic cookie); classic RFC 3489 otherwise.
    public var rfc5389: Bool
    /// 12 bytes (RFC 5389) or 16 bytes (RFC 3489, the cookie's place included).
    public var transactionID: [UInt8]
    public var attributes: [Attribute]

    public init(type: UInt16, rfc5389: Bool, transactionID: [UInt8], attributes: [Attribute] = []) {
        self.type = type; self.rfc5389 = rfc5389; self.transactionID = transactionID; self.attributes = attributes
    }

    public func attribute(_ type: UInt16) -> Attribute? { attributes.first { $0.type == type } }

    public var username: String? { attribute(AttributeType.username).map { String(decoding: $0.value, as: UTF8.self) } }
    /// TR-111: the binding is the one for UDP connection requests (value compared after trimming white space).
    public var isConnectionRequestBinding: Bool {
        guard let a = attribute(AttributeType.connectionRequestBinding) else { return false }
        return String(decoding: a.value, as: UTF8.self).trimmingSpaces == Self.tr111Binding.trimmingSpaces
    }
    public var hasBindingChange: Bool { attribute(AttributeType.bindingChange) != nil }
    /// Comprehension-required attribute types (0x0000-0x7FFF) this codec does not know.
    public var unknownRequired: [UInt16] {
        attributes.map(\.type).filter { $0 < 0x8000 && !AttributeType.understood.contains($0) }
    }

    // MARK: decoding

    public enum DecodeError: Error, Equatable, CustomStringConvertible {
        case tooShort(Int)
        case notSTUN
        case lengthMismatch(header: Int, actual: Int)
        case attributePastEnd(type: UInt16)
        case tooManyAttributes
        public var description: String {
            switch self {
            case .tooShort(let n): "\(n) bytes is shorter than a STUN header"
            case .notSTUN: "first two bits are not zero"
            case .lengthMismatch(let h, let a): "header says \(h) bytes of attributes, datagram has \(a)"
            case .attributePastEnd(let t): String(format: "attribute 0x%04X runs past the end", t)
            case .tooManyAttributes: "more attributes than a binding request needs"
            }
        }
    }

    /// Attributes a single message may carry; more is an attack or garbage.
    public static let maxAttributes = 32

    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> STUNMessage {
        guard bytes.count >= headerSize else { throw .tooShort(bytes.count) }
        guard bytes[0] & 0xC0 == 0 else { throw .notSTUN }
        let type = be16(bytes, 0)
        let length = Int(be16(bytes, 2))
        guard length == bytes.count - headerSize else { throw .lengthMismatch(header: length, actual: bytes.count - headerSize) }
        let cookie = be32(bytes, 4)
        let rfc5389 = cookie == magicCookie
        let tid = Array(bytes[(rfc5389 ? 8 : 4)..<20])
        var attributes: [Attribute] = []
        var i = headerSize
        while i < bytes.count {
            guard bytes.count - i >= 4 else { throw .attributePastEnd(type: 0) }
            let t = be16(bytes, i)
            let l = Int(be16(bytes, i + 2))
            guard i + 4 + l <= bytes.count else { throw .attributePastEnd(type: t) }
            guard attributes.count < maxAttributes else { throw .tooManyAttributes }
            attributes.append(Attribute(type: t, value: Array(bytes[(i + 4)..<(i + 4 + l)]), offset: i))
            // Values are padded to 4 bytes (RFC 5389; RFC 3489 attributes are multiples of 4 already). A classic
            // sender that did not pad its last attribute is tolerated.
            i += 4 + min((l + 3) & ~3, bytes.count - i - 4)
        }
        return STUNMessage(type: type, rfc5389: rfc5389, transactionID: tid, attributes: attributes)
    }

    // MARK: encoding

    public func encode() -> [UInt8] {
        var out = header(bodyLength: 0)
        for a in attributes { Self.append(a, to: &out) }
        Self.put16(&out, 2, UInt16(out.count - Self.headerSize))
        return out
    }

    /// Encodes with MESSAGE-INTEGRITY (HMAC-SHA1 keyed with `key`) as the last attribute (RFC 5389 15.4: the length
    /// field counts the integrity attribute while the HMAC covers everything before it).
    public func encode(integrityKey key: [UInt8]) -> [UInt8] {
        var out = encode()
        Self.put16(&out, 2, UInt16(out.count - Self.headerSize + 24))
        let mac = HMAC.sha1(key: key, message: out)
        Self.append(Attribute(type: AttributeType.messageIntegrity, value: mac), to: &out)
        return out
    }

    private func header(bodyLength: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.headerSize + 64)
        out += [UInt8(type >> 8), UInt8(type & 0xFF), UInt8(bodyLength >> 8), UInt8(bodyLength & 0xFF)]
        if rfc5389 { out += [0x21, 0x12, 0xA4, 0x42] }
        out += transactionID
        return out
    }

    static func append(_ a: Attribute, to out: inout [UInt8]) {
        out += [UInt8(a.type >> 8), UInt8(a.type & 0xFF), UInt8(a.value.count >> 8), UInt8(a.value.count & 0xFF)]
        out += a.value
        let pad = (4 - a.value.count % 4) % 4
        if pad > 0 { out += [UInt8](repeating: 0, count: pad) }
    }

    // MARK: integrity

    /// Checks MESSAGE-INTEGRITY in `raw` (the bytes this message was decoded from). Accepts RFC 5389's form and
    /// RFC 3489's (text up to the attribute, zero-padded to a multiple of 64, length field as sent), since CPEs
    /// implement either.
    public static func verifyIntegrity(_ raw: [UInt8], message: STUNMessage, key: [UInt8]) -> Bool {
        guard let mi = message.attribute(AttributeType.messageIntegrity), mi.value.count == 20 else { return false }
        var text = Array(raw[0..<mi.offset])
        var modern = text
        put16(&modern, 2, UInt16(mi.offset + 24 - headerSize))
        if constantTimeEqual(HMAC.sha1(key: key, message: modern), mi.value) { return true }
        if text.count % 64 != 0 { text += [UInt8](repeating: 0, count: 64 - text.count % 64) }
        return constantTimeEqual(HMAC.sha1(key: key, message: text), mi.value)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var d: UInt8 = 0
        for i in a.indices { d |= a[i] ^ b[i] }
        return d == 0
    }

    // MARK: byte helpers

    static func be16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }
    static func be32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }
    static func put16(_ b: inout [UInt8], _ i: Int, _ v: UInt16) { b[i] = UInt8(v >> 8); b[i + 1] = UInt8(v & 0xFF) }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
