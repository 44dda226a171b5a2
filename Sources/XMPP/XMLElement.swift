/// One XML element of an XMPP stanza: a small tree, enough for the stanzas Annex K and the client handshake use.
public struct XMLElement: Sendable, Equatable {
    /// The name as written (`stream:features`, `iq`).
    public var name: String
    /// The namespace the element is in (its own or inherited default `xmlns`, or its prefix's).
    public var namespace: String
    /// Attributes as written, `xmlns` declarations included.
    public var attributes: [String: String]
    public var children: [XMLElement]
    /// Character data directly inside the element (entities resolved).
    public var text: String

    public init(name: String, namespace: String = "", attributes: [String: String] = [:], children: [XMLElement] = [], text: String = "") {
        self.name = name; self.namespace = namespace; self.attributes = attributes; self.children = children; self.text = text
    }

    /// The name without its prefix.
    public var localName: Substring {
        guard let colon = name.firstIndex(of: ":") else { return Substring(name) }
        return name[name.index(after: colon)...]
    }

    public subscript(attribute: String) -> String? { attributes[attribute] }

    /// The first child with this local name (and namespace, when given).
    public func child(_ localName: String, namespace ns: String? = nil) -> XMLElement? {
        children.first { $0.localName == localName && (ns == nil || $0.namespace == ns) }
    }

    public func `is`(_ localName: String, _ ns: String) -> Bool { self.localName == localName && namespace == ns }
}

/// Escapes text for element content and attribute values (both quote characters, so either quoting works).
public func xmlEscape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for ch in s.unicodeScalars {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default: out.unicodeScalars.append(ch)
        }
    }
    return out
}
