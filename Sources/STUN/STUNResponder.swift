/// What a Binding Request told the server about a CPE.
public struct BindingObservation: Sendable, Equatable {
    public var source: Endpoint
    public var username: String?
    /// Carries TR-111's CONNECTION-REQUEST-BINDING: this is the binding for UDP connection requests.
    public var connectionRequestBinding: Bool
    /// Carries TR-111's BINDING-CHANGE: the CPE saw its mapped address change.
    public var bindingChange: Bool
    /// MESSAGE-INTEGRITY was checked and matched.
    public var authenticated: Bool
    public var rfc5389: Bool
}

/// Answers Binding Requests. Pure: a datagram and its source in, a datagram (or a reason to drop) out.
public enum STUNResponder {
    public enum Verdict: Sendable, Equatable {
        case reply([UInt8], BindingObservation?)
        case drop(String)
    }

    /// How a username's requests are checked. `nil` from the lookup: no integrity asked (TR-111's default, and what
    /// real CPEs handle best).
    public typealias IntegrityKey = @Sendable (String) -> [UInt8]?

    public static func respond(to bytes: [UInt8], from source: Endpoint, requireIntegrity: Bool = false,
                               key: IntegrityKey = { _ in nil }) -> Verdict {
        let message: STUNMessage
        do { message = try STUNMessage.decode(bytes) } catch { return .drop("malformed: \(error)") }
        guard message.type == STUNMessage.MessageType.bindingRequest.rawValue else {
            // Responses, indications and other methods are never answered: no reflection of anything but requests.
            return .drop(String(format: "not a Binding Request (type 0x%04X)", message.type))
        }
        if message.rfc5389, !message.unknownRequired.isEmpty {
            let unknown = message.unknownRequired.prefix(8).flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
            return .reply(error(message, code: 420, reason: "Unknown Attribute",
                                extra: [.init(type: STUNMessage.AttributeType.unknownAttributes, value: unknown)]), nil)
        }
        var authenticated = false
        if requireIntegrity {
            guard let user = message.username, let k = key(user) else {
                return .reply(error(message, code: 401, reason: "Unauthorized"), nil)
            }
            guard STUNMessage.verifyIntegrity(bytes, message: message, key: k) else {
                return .reply(error(message, code: 431, reason: "Integrity Check Failure"), nil)
            }
            authenticated = true
        }
        // RESPONSE-ADDRESS and CHANGE-REQUEST are ignored: the answer always goes back to the source (no reflection
        // to a third party), from the one address this server has.
        var attrs = [STUNMessage.Attribute(type: STUNMessage.AttributeType.mappedAddress, value: source.mappedAddressValue)]
        if message.rfc5389 {
            attrs.append(.init(type: STUNMessage.AttributeType.xorMappedAddress,
                               value: source.xorMappedAddressValue(transactionID: message.transactionID)))
        }
        let response = STUNMessage(type: STUNMessage.MessageType.bindingResponse.rawValue, rfc5389: message.rfc5389,
                                   transactionID: message.transactionID, attributes: attrs)
        let observation = BindingObservation(source: source, username: message.username,
                                             connectionRequestBinding: message.isConnectionRequestBinding,
                                             bindingChange: message.hasBindingChange, authenticated: authenticated,
                                             rfc5389: message.rfc5389)
        return .reply(response.encode(), observation)
    }

    static func error(_ request: STUNMessage, code: Int, reason: String, extra: [STUNMessage.Attribute] = []) -> [UInt8] {
        var value: [UInt8] = [0, 0, UInt8(code / 100), UInt8(code % 100)] + Array(reason.utf8)
        while value.count % 4 != 0 { value.append(0x20) }
        let m = STUNMessage(type: STUNMessage.MessageType.bindingError.rawValue, rfc5389: request.rfc5389,
                            transactionID: request.transactionID,
                            attributes: [.init(type: STUNMessage.AttributeType.errorCode, value: value)] + extra)
        return m.encode()
    }
}

/// Per-source token buckets, so the STUN port cannot be turned into a reflector for floods. Time is passed in.
public struct SourceRateLimiter: Sendable {
    public let perSecond: Double
    public let burst: Double
    /// Sources tracked at most; past it, idle ones are forgotten (a full bucket is the same as none).
    public let maxSources: Int
    private var buckets: [[UInt8]: (tokens: Double, at: Double)] = [:]

    public init(perSecond: Double, burst: Double, maxSources: Int = 200_000) {
        self.perSecond = perSecond; self.burst = burst; self.maxSources = maxSources
    }

    public var trackedSources: Int { buckets.count }

    /// True when a datagram from `ip` may be answered at time `now` (seconds).
    public mutating func allow(_ ip: [UInt8], now: Double) -> Bool {
        var b = buckets[ip] ?? (burst, now)
        b.tokens = min(burst, b.tokens + (now - b.at) * perSecond)
        b.at = now
        guard b.tokens >= 1 else { buckets[ip] = b; return false }
        b.tokens -= 1
        if buckets.count >= maxSources && buckets[ip] == nil { sweep(now: now) }
        buckets[ip] = b
        return true
    }

    private mutating func sweep(now: Double) {
        let refill = burst / perSecond
        buckets = buckets.filter { now - $0.value.at < refill }
        if buckets.count >= maxSources { buckets.removeAll(keepingCapacity: true) }
    }
}
