// Safe libxml2 DOM parsing plus a small read-only element view used by the decoder.
//
// Safety: no DTD loading, no entity substitution, no network; any DOCTYPE stops the parser at once (before the
// internal subset, and so any entity declaration, is read). Element depth is checked while parsing. Errors are
// collected from the parser context instead of being printed to stderr.

import CLibXML2
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum XMLParsing {
    /// libxml2 must be initialised once, from one thread, before concurrent use.
    private static let initialised: Bool = {
        xmlInitParser()
        return true
    }()

    private static let options: Int32 = {
        let flags: [xmlParserOption] = [XML_PARSE_NONET, XML_PARSE_NOERROR, XML_PARSE_NOWARNING, XML_PARSE_NOCDATA]
        return Int32(bitPattern: flags.reduce(UInt32(0)) { $0 | $1.rawValue })
    }()

    /// Per-parse state reachable from the SAX callbacks through ctxt->_private.
    struct State {
        var maxDepth: Int32
        var sawDTD = false
        var tooDeep = false
        var originalStartElementNs: startElementNsSAX2Func?
    }

    /// Parses `bytes` and hands the root element to `body`; the document is freed afterwards.
    static func withDocument<R>(_ bytes: [UInt8], maxDepth: Int, _ body: (XElem) throws -> R) throws -> R {
        _ = initialised
        if bytes.isEmpty { throw CWMPDecodeError.malformed("empty document") }
        if bytes.count > Int(Int32.max) { throw CWMPDecodeError.tooLarge(bytes.count) }
        guard let ctxt = ParserContextPool.shared.take() else { throw CWMPDecodeError.malformed("cannot allocate libxml2 parser") }
        defer { ParserContextPool.shared.give(ctxt) }

        var state = State(maxDepth: Int32(clamping: max(1, maxDepth)))
        let doc: xmlDocPtr? = withUnsafeMutablePointer(to: &state) { statePtr -> xmlDocPtr? in
            ctxt.pointee._private = UnsafeMutableRawPointer(statePtr)
            if let sax = ctxt.pointee.sax {
                // Back to the default SAX2 handlers first: a reused context still has the overrides below.
                xmlSAXVersion(sax, 2)
                statePtr.pointee.originalStartElementNs = sax.pointee.startElementNs
                sax.pointee.internalSubset = { ctx, _, _, _ in
                    guard let ctx else { return }
                    let c = ctx.assumingMemoryBound(to: xmlParserCtxt.self)
                    c.pointee._private?.assumingMemoryBound(to: State.self).pointee.sawDTD = true
                    xmlStopParser(c)
                }
                // Entity declarations can only come from a DTD, which we refuse; make sure nothing resolves
                // external entities even if that ever changes.
                sax.pointee.resolveEntity = { _, _, _ in nil }
                sax.pointee.startElementNs = { ctx, localname, prefix, uri, nbNs, ns, nbAttr, nbDef, attrs in
                    guard let ctx else { return }
                    let c = ctx.assumingMemoryBound(to: xmlParserCtxt.self)
                    guard let st = c.pointee._private?.assumingMemoryBound(to: State.self) else { return }
                    // nameNr counts the open ancestors; this element is pushed after the callback.
                    if c.pointee.nameNr + 1 > st.pointee.maxDepth {
                        st.pointee.tooDeep = true
                        xmlStopParser(c)
                        return
                    }
                    st.pointee.originalStartElementNs?(ctx, localname, prefix, uri, nbNs, ns, nbAttr, nbDef, attrs)
                }
            }
            return bytes.withUnsafeBufferPointer { buf in
                buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) { p in
                    xmlCtxtReadMemory(ctxt, p, Int32(buf.count), nil, nil, options)
                }
            }
        }
        ctxt.pointee._private = nil
        defer { if let doc { xmlFreeDoc(doc) } }

        if state.sawDTD { throw CWMPDecodeError.malformed("DTD not allowed") }
        if state.tooDeep { throw CWMPDecodeError.malformed("element nesting deeper than \(maxDepth)") }
        guard let doc, ctxt.pointee.wellFormed != 0 else { throw CWMPDecodeError.malformed(lastError(ctxt)) }
        if doc.pointee.intSubset != nil || doc.pointee.extSubset != nil { throw CWMPDecodeError.malformed("DTD not allowed") }
        guard let root = xmlDocGetRootElement(doc) else { throw CWMPDecodeError.malformed("no root element") }
        return try body(XElem(root))
    }

    private static func lastError(_ ctxt: xmlParserCtxtPtr) -> String {
        guard let err = xmlCtxtGetLastError(UnsafeMutableRawPointer(ctxt)), let msg = err.pointee.message else {
            return "not well-formed"
        }
        var text = String(cString: msg)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        if err.pointee.line > 0 {
            return "line \(err.pointee.line), column \(err.pointee.int2): \(text)"
        }
        return text
    }
}

/// Reused libxml2 parser contexts: allocating one (with its name dictionary and SAX handler) per message was a
/// large share of a small Inform's parse time. `xmlCtxtReadMemory` resets a context before each parse; a context
/// is dropped instead of reused when its dictionary grew large (names from hostile input must not pile up), and
/// at most `capacity` idle contexts are kept.
final class ParserContextPool: @unchecked Sendable {
    static let shared = ParserContextPool(capacity: 16)
    private let lock = PthreadLock()
    private var idle: [xmlParserCtxtPtr] = []
    private let capacity: Int
    private static let maxDictionaryNames = 4096

    init(capacity: Int) { self.capacity = capacity }

    func take() -> xmlParserCtxtPtr? {
        if let c = lock.withLock({ idle.popLast() }) { return c }
        return xmlNewParserCtxt()
    }

    func give(_ ctxt: xmlParserCtxtPtr) {
        ctxt.pointee._private = nil
        let reusable = ctxt.pointee.dict.map { xmlDictSize($0) <= Self.maxDictionaryNames } ?? false
        let kept = reusable && lock.withLock { () -> Bool in
            guard idle.count < capacity else { return false }
            idle.append(ctxt)
            return true
        }
        if !kept { xmlFreeParserCtxt(ctxt) }
    }
}

/// A pthread mutex (the codec does not import Foundation).
final class PthreadLock: @unchecked Sendable {
    private let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(m, nil) }
    deinit { pthread_mutex_destroy(m); m.deallocate() }
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(m)
        defer { pthread_mutex_unlock(m) }
        return try body()
    }
}

/// A read-only view of an element node; valid only inside `XMLParsing.withDocument`.
struct XElem {
    let node: xmlNodePtr
    init(_ node: xmlNodePtr) { self.node = node }

    /// Local name (without prefix). When a prefix is not bound to any namespace, libxml2 keeps the whole QName
    /// as the node name; the part after the colon is used then, so `cwmp:Inform` with a missing xmlns:cwmp
    /// declaration still reads as Inform.
    var localName: UnsafePointer<xmlChar> {
        let n = node.pointee.name!
        if node.pointee.ns != nil { return n }
        var p = n
        var local = n
        while p.pointee != 0 {
            if p.pointee == 0x3A { local = p + 1 }
            p += 1
        }
        return local
    }

    var name: String { String(cString: localName) }
    /// Namespace URI, nil when unqualified.
    var namespaceURI: String? {
        guard let ns = node.pointee.ns, let href = ns.pointee.href else { return nil }
        return String(cString: href)
    }

    func isNamed(_ local: StaticString) -> Bool {
        xmlStrEqual(localName, local.utf8Start) != 0
    }
    func isNamedCaseInsensitive(_ local: StaticString) -> Bool {
        xmlStrcasecmp(localName, local.utf8Start) == 0
    }
    func isInNamespace(_ uri: StaticString) -> Bool {
        guard let ns = node.pointee.ns, let href = ns.pointee.href else { return false }
        return xmlStrEqual(href, uri.utf8Start) != 0
    }

    var firstChildElement: XElem? { XElem.firstElement(from: node.pointee.children) }
    var nextSiblingElement: XElem? { XElem.firstElement(from: node.pointee.next) }

    private static func firstElement(from start: xmlNodePtr?) -> XElem? {
        var cur = start
        while let n = cur {
            if n.pointee.type == XML_ELEMENT_NODE { return XElem(n) }
            cur = n.pointee.next
        }
        return nil
    }

    /// Element children in document order.
    var childElements: ChildSequence { ChildSequence(first: firstChildElement) }

    struct ChildSequence: Sequence, IteratorProtocol {
        var nextElem: XElem?
        init(first: XElem?) { nextElem = first }
        mutating func next() -> XElem? {
            guard let cur = nextElem else { return nil }
            nextElem = cur.nextSiblingElement
            return cur
        }
    }

    /// First child element with this local name, any namespace.
    func child(_ local: StaticString) -> XElem? {
        var cur = firstChildElement
        while let c = cur {
            if c.isNamed(local) { return c }
            cur = c.nextSiblingElement
        }
        return nil
    }

    func childCaseInsensitive(_ local: StaticString) -> XElem? {
        var cur = firstChildElement
        while let c = cur {
            if c.isNamedCaseInsensitive(local) { return c }
            cur = c.nextSiblingElement
        }
        return nil
    }

    /// Concatenated text of the direct text/CDATA children (nested elements are ignored).
    var text: String {
        var cur = node.pointee.children
        // Fast path: exactly one text node.
        if let only = cur, only.pointee.next == nil {
            if only.pointee.type == XML_TEXT_NODE || only.pointee.type == XML_CDATA_SECTION_NODE,
               let content = only.pointee.content {
                return String(cString: content)
            }
        }
        var out = ""
        while let n = cur {
            if n.pointee.type == XML_TEXT_NODE || n.pointee.type == XML_CDATA_SECTION_NODE, let content = n.pointee.content {
                out += String(cString: content)
            }
            cur = n.pointee.next
        }
        return out
    }

    /// The value of the attribute with this local name whose namespace URI satisfies `nsMatches`
    /// (called with nil for unqualified attributes).
    func attribute(_ local: StaticString, where nsMatches: (UnsafePointer<xmlChar>?) -> Bool) -> String? {
        var attr = node.pointee.properties
        while let a = attr {
            if xmlStrEqual(a.pointee.name, local.utf8Start) != 0, nsMatches(a.pointee.ns?.pointee.href) {
                // Usual case, one text node: read it in place instead of a malloc'd copy (xmlNodeGetContent).
                if let only = a.pointee.children, only.pointee.next == nil, only.pointee.type == XML_TEXT_NODE,
                   let content = only.pointee.content {
                    return String(cString: content)
                }
                guard let value = xmlNodeGetContent(UnsafeMutableRawPointer(a).assumingMemoryBound(to: xmlNode.self)) else {
                    return ""
                }
                defer { corral_xmlFree(value) }
                return String(cString: value)
            }
            attr = a.pointee.next
        }
        return nil
    }

    /// xsi:type (2001 or 1999 XMLSchema-instance, or an unqualified `type` attribute as a last resort).
    var xsiType: String? {
        if let t = attribute("type", where: { href in
            guard let href else { return false }
            return xmlStrEqual(href, Namespace.xsi.utf8Start) != 0 || xmlStrEqual(href, Namespace.xsi1999.utf8Start) != 0
                || xmlStrEqual(href, Namespace.xsi2000.utf8Start) != 0
        }) { return t }
        return attribute("type", where: { $0 == nil })
    }
}
