/// A linear pass over the raw bytes before libxml2 sees them. libxml2 checks each start tag's attributes against one
/// another (quadratic: 100,000 attributes on one element took 81.7 s), so attribute and element counts are bounded
/// here, where counting costs one look at each byte. Comments, CDATA and processing instructions are skipped; a quote
/// character only matters inside a tag. One text run (a value) is bounded too, so no single CPE-supplied string can be
/// megabytes long (a 4 MiB Manufacturer once made every dashboard 25 MB).
enum XMLPrescan {
    static func check(_ bytes: [UInt8], limits: CodecLimits) throws {
        var elements = 0
        var i = 0
        var textStart = 0
        let n = bytes.count
        return try bytes.withUnsafeBufferPointer { b in
            while i < n {
                guard b[i] == UInt8(ascii: "<") else { i += 1; continue }
                if i - textStart > limits.maxTextBytes {
                    throw CWMPDecodeError.malformed("a value longer than \(limits.maxTextBytes) bytes")
                }
                let next = i + 1 < n ? b[i + 1] : 0
                if next == UInt8(ascii: "!") || next == UInt8(ascii: "?") {
                    // Comment, CDATA, DOCTYPE or processing instruction: skip to its end marker.
                    let cdata = hasPrefix(b, i, "<![CDATA[")
                    let end: [UInt8] = hasPrefix(b, i, "<!--") ? Array("-->".utf8) : cdata ? Array("]]>".utf8)
                        : next == UInt8(ascii: "?") ? Array("?>".utf8) : Array(">".utf8)
                    let start = i
                    i = find(b, end, from: i + 2).map { $0 + end.count } ?? n
                    if cdata {
                        if i - start > limits.maxTextBytes { throw CWMPDecodeError.malformed("a value longer than \(limits.maxTextBytes) bytes") }
                    } else {
                        textStart = i
                    }
                    continue
                }
                if next == UInt8(ascii: "/") {   // an end tag
                    i = find(b, [UInt8(ascii: ">")], from: i + 2).map { $0 + 1 } ?? n
                    textStart = i
                    continue
                }
                elements += 1
                if elements > limits.maxElements {
                    throw CWMPDecodeError.malformed("more than \(limits.maxElements) elements")
                }
                // A start tag: count `=` outside quoted values up to its `>`.
                var attributes = 0
                var quote: UInt8 = 0
                i += 1
                while i < n {
                    let c = b[i]
                    if quote != 0 {
                        if c == quote { quote = 0 }
                    } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                        quote = c
                    } else if c == UInt8(ascii: "=") {
                        attributes += 1
                        if attributes > limits.maxAttributesPerElement {
                            throw CWMPDecodeError.malformed("an element with more than \(limits.maxAttributesPerElement) attributes")
                        }
                    } else if c == UInt8(ascii: ">") {
                        break
                    }
                    i += 1
                }
                i += 1
                textStart = i
            }
            if n - textStart > limits.maxTextBytes { throw CWMPDecodeError.malformed("a value longer than \(limits.maxTextBytes) bytes") }
        }
    }

    private static func hasPrefix(_ b: UnsafeBufferPointer<UInt8>, _ at: Int, _ prefix: StaticString) -> Bool {
        let p = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        guard at + p.count <= b.count else { return false }
        for k in 0..<p.count where b[at + k] != p[k] { return false }
        return true
    }

    private static func find(_ b: UnsafeBufferPointer<UInt8>, _ needle: [UInt8], from start: Int) -> Int? {
        var i = start
        while i + needle.count <= b.count {
            if b[i] == needle[0] {
                var k = 1
                while k < needle.count && b[i + k] == needle[k] { k += 1 }
                if k == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}
