/// What the incremental parser found in an XMPP stream.
public enum XMLStreamEvent: Sendable, Equatable {
    /// The `<stream:stream …>` header (attributes only).
    case streamOpened(XMLElement)
    /// A complete first-level element: a stanza, features, SASL or TLS negotiation element.
    case stanza(XMLElement)
    case streamClosed
}

public struct XMLStreamError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

/// Splits an endless XMPP stream into stanzas as bytes arrive (RFC 6120 §11 restricted XML: no comments,
/// processing instructions other than the declaration, DTDs or custom entities, so a small tokenizer suffices).
/// Bounded: a stanza over `maxStanzaBytes`, nesting past `maxDepth` or more than `maxAttributes` is an error, and
/// work is linear in the input.
public struct XMLStreamParser: Sendable {
    public var maxStanzaBytes = 256 << 10
    public var maxDepth = 32
    public var maxAttributes = 64

    private var buffer: [UInt8] = []
    private var pos = 0
    private var streamOpen = false
    /// Open elements of the stanza being read; `scopes[0]` is the stream header's namespace scope.
    private var stack: [XMLElement] = []
    private var scopes: [[String: String]] = [[:]]
    private var stanzaBytes = 0

    public init() {}

    public mutating func feed<S: Sequence>(_ bytes: S) throws -> [XMLStreamEvent] where S.Element == UInt8 {
        buffer.append(contentsOf: bytes)
        var events: [XMLStreamEvent] = []
        defer {
            if pos > 0 { buffer.removeFirst(pos); pos = 0 }
        }
        while pos < buffer.count {
            if buffer[pos] == UInt8(ascii: "<") {
                guard let end = tagEnd(from: pos) else { break }
                if !stack.isEmpty { stanzaBytes += end + 1 - pos }
                try tag(buffer[(pos + 1)..<end], events: &events)
                pos = end + 1
            } else {
                let lt = buffer[pos...].firstIndex(of: UInt8(ascii: "<"))
                let stop = lt ?? buffer.count
                let run = buffer[pos..<stop]
                if stack.isEmpty {
                    // Between stanzas only white space (keep-alives) may appear.
                    guard run.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else {
                        throw XMLStreamError("text outside a stanza")
                    }
                    pos = stop
                } else {
                    guard lt != nil else { break }   // text may continue in the next read
                    stanzaBytes += run.count
                    stack[stack.count - 1].text += try decodeEntities(run)
                    pos = stop
                }
            }
            if stanzaBytes > maxStanzaBytes { throw XMLStreamError("stanza larger than \(maxStanzaBytes) bytes") }
        }
        if !stack.isEmpty, stanzaBytes + (buffer.count - pos) > maxStanzaBytes {
            throw XMLStreamError("stanza larger than \(maxStanzaBytes) bytes")
        }
        if stack.isEmpty, buffer.count - pos > 64 << 10 { throw XMLStreamError("tag larger than 64 KiB") }
        return events
    }

    /// Index of the `>` closing the markup that starts at `start`, or nil when it has not arrived yet.
    private func tagEnd(from start: Int) -> Int? {
        var i = start + 1
        var quote: UInt8 = 0
        while i < buffer.count {
            let c = buffer[i]
            if quote != 0 {
                if c == quote { quote = 0 }
            } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                quote = c
            } else if c == UInt8(ascii: ">") {
                return i
            }
            i += 1
        }
        return nil
    }

    private mutating func tag(_ body: ArraySlice<UInt8>, events: inout [XMLStreamEvent]) throws {
        guard let first = body.first else { throw XMLStreamError("empty tag") }
        switch first {
        case UInt8(ascii: "?"):
            guard !streamOpen, body.last == UInt8(ascii: "?") else { throw XMLStreamError("processing instruction in stream") }
        case UInt8(ascii: "!"):
            throw XMLStreamError("comments, CDATA and DTDs are not allowed in XMPP")
        case UInt8(ascii: "/"):
            let name = String(decoding: body.dropFirst(), as: UTF8.self).trimmingSpaces
            guard var done = stack.popLast() else {
                guard streamOpen, name.hasSuffix("stream") else { throw XMLStreamError("unexpected </\(name)>") }
                events.append(.streamClosed)
                streamOpen = false
                return
            }
            guard done.name == name else { throw XMLStreamError("</\(name)> closes <\(done.name)>") }
            scopes.removeLast()
            done.text = done.children.isEmpty ? done.text : done.text.trimmingSpaces
            finish(done, events: &events)
        default:
            let selfClosing = body.last == UInt8(ascii: "/")
            let (name, attributes) = try parseStart(selfClosing ? body.dropLast() : body)
            var scope = scopes[scopes.count - 1]
            for (k, v) in attributes {
                if k == "xmlns" { scope[""] = v } else if k.hasPrefix("xmlns:") { scope[String(k.dropFirst(6))] = v }
            }
            let prefix = name.firstIndex(of: ":").map { String(name[..<$0]) } ?? ""
            let element = XMLElement(name: name, namespace: scope[prefix] ?? "", attributes: attributes)
            if !streamOpen {
                guard element.localName == "stream", !selfClosing else { throw XMLStreamError("expected <stream:stream>, got <\(name)>") }
                scopes = [scope]
                streamOpen = true
                events.append(.streamOpened(element))
                return
            }
            if stack.isEmpty { stanzaBytes = body.count + 2 }
            guard stack.count < maxDepth else { throw XMLStreamError("elements nested deeper than \(maxDepth)") }
            if selfClosing {
                finish(element, events: &events)
            } else {
                stack.append(element)
                scopes.append(scope)
            }
        }
    }

    private mutating func finish(_ element: XMLElement, events: inout [XMLStreamEvent]) {
        if stack.isEmpty {
            events.append(.stanza(element))
            stanzaBytes = 0
        } else {
            stack[stack.count - 1].children.append(element)
        }
    }

    private func parseStart(_ body: ArraySlice<UInt8>) throws -> (String, [String: String]) {
        var i = body.startIndex
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }
        while i < body.endIndex, !isSpace(body[i]) { i += 1 }
        let name = String(decoding: body[body.startIndex..<i], as: UTF8.self)
        guard !name.isEmpty else { throw XMLStreamError("tag without a name") }
        var attributes: [String: String] = [:]
        while true {
            while i < body.endIndex, isSpace(body[i]) { i += 1 }
            if i == body.endIndex { break }
            let keyStart = i
            while i < body.endIndex, body[i] != UInt8(ascii: "="), !isSpace(body[i]) { i += 1 }
            let key = String(decoding: body[keyStart..<i], as: UTF8.self)
            while i < body.endIndex, isSpace(body[i]) { i += 1 }
            guard i < body.endIndex, body[i] == UInt8(ascii: "=") else { throw XMLStreamError("attribute \(key) of <\(name)> has no value") }
            i += 1
            while i < body.endIndex, isSpace(body[i]) { i += 1 }
            guard i < body.endIndex, body[i] == UInt8(ascii: "\"") || body[i] == UInt8(ascii: "'") else {
                throw XMLStreamError("attribute \(key) of <\(name)> is not quoted")
            }
            let quote = body[i]
            i += 1
            let valueStart = i
            while i < body.endIndex, body[i] != quote { i += 1 }
            guard i < body.endIndex else { throw XMLStreamError("unterminated attribute \(key)") }
            guard attributes.count < maxAttributes else { throw XMLStreamError("more than \(maxAttributes) attributes on <\(name)>") }
            attributes[key] = try decodeEntities(body[valueStart..<i])
            i += 1
        }
        return (name, attributes)
    }

    private func decodeEntities(_ bytes: ArraySlice<UInt8>) throws -> String {
        guard bytes.contains(UInt8(ascii: "&")) else { return String(decoding: bytes, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let c = bytes[i]
            guard c == UInt8(ascii: "&") else { out.append(c); i += 1; continue }
            guard let semi = bytes[i...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else { throw XMLStreamError("unterminated entity") }
            let entity = String(decoding: bytes[(i + 1)..<semi], as: UTF8.self)
            switch entity {
            case "lt": out.append(UInt8(ascii: "<"))
            case "gt": out.append(UInt8(ascii: ">"))
            case "amp": out.append(UInt8(ascii: "&"))
            case "quot": out.append(UInt8(ascii: "\""))
            case "apos": out.append(UInt8(ascii: "'"))
            default:
                let code: UInt32?
                if entity.hasPrefix("#x") { code = UInt32(entity.dropFirst(2), radix: 16) }
                else if entity.hasPrefix("#") { code = UInt32(entity.dropFirst(1)) }
                else { code = nil }
                guard let code, let scalar = Unicode.Scalar(code) else { throw XMLStreamError("unknown entity &\(entity);") }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            }
            i = semi + 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    var trimmingSpaces: String {
        let ws: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }
        return String(self.drop(while: ws).reversed().drop(while: ws).reversed())
    }
}
