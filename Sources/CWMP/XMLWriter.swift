// A minimal byte-level XML writer for the encoder: element names and attribute names are static, text is
// escaped and stripped of characters XML 1.0 does not allow.

struct XMLWriter {
    private(set) var bytes: [UInt8]

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always)
    mutating func raw(_ s: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// Raw UTF-8 of a String that is known not to need escaping (namespace URIs).
    mutating func rawString(_ s: String) {
        bytes.append(contentsOf: s.utf8)
    }

    /// `<name>`
    @inline(__always)
    mutating func open(_ name: StaticString) {
        bytes.append(0x3C); raw(name); bytes.append(0x3E)
    }

    /// `</name>`
    @inline(__always)
    mutating func close(_ name: StaticString) {
        bytes.append(0x3C); bytes.append(0x2F); raw(name); bytes.append(0x3E)
    }

    /// `<name/>`
    mutating func empty(_ name: StaticString) {
        bytes.append(0x3C); raw(name); bytes.append(0x2F); bytes.append(0x3E)
    }

    /// `<name>escaped text</name>`
    mutating func leaf(_ name: StaticString, _ value: String) {
        open(name); text(value); close(name)
    }

    mutating func leaf<I: FixedWidthInteger>(_ name: StaticString, _ value: I) {
        open(name); integer(value); close(name)
    }

    /// Booleans go out as 0/1, the form every CPE accepts.
    mutating func leaf(_ name: StaticString, _ value: Bool) {
        open(name); bytes.append(value ? 0x31 : 0x30); close(name)
    }

    /// An xsd:dateTime element; an empty value becomes Unknown Time so the message stays schema-valid.
    mutating func dateTime(_ name: StaticString, _ value: String) {
        leaf(name, value.isEmpty ? CWMPDateTime.unknown : value)
    }

    /// `<name soap-enc:arrayType="type[count]">`
    mutating func openArray(_ name: StaticString, type: StaticString, count: Int) {
        bytes.append(0x3C); raw(name); raw(" soap-enc:arrayType=\""); raw(type)
        bytes.append(0x5B); integer(count); raw("]\">")
    }

    mutating func integer<I: FixedWidthInteger>(_ value: I) {
        if value == 0 { bytes.append(0x30); return }
        var magnitude = value.magnitude
        if value < 0 { bytes.append(0x2D) }
        // 20 digits hold any 64-bit magnitude.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 40) { buf in
            var i = buf.count
            while magnitude > 0 {
                i -= 1
                buf[i] = UInt8(truncatingIfNeeded: magnitude % 10) &+ 0x30
                magnitude /= 10
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buf[i...]))
        }
    }

    /// Escaped character data.
    mutating func text(_ s: String) { escaped(s, attribute: false) }

    /// Escaped attribute value (without the quotes).
    mutating func attributeValue(_ s: String) { escaped(s, attribute: true) }

    private mutating func escaped(_ s: String, attribute: Bool) {
        var s = s
        s.withUTF8 { buf in
            // Fast path: nothing to escape or strip.
            var clean = true
            for b in buf where XMLWriter.needsWork(b) { clean = false; break }
            if clean {
                bytes.append(contentsOf: buf)
                return
            }
            var i = 0
            let n = buf.count
            while i < n {
                let b = buf[i]
                switch b {
                case 0x26: raw("&amp;")
                case 0x3C: raw("&lt;")
                case 0x3E: raw("&gt;")
                case 0x22 where attribute: raw("&quot;")
                case 0x0D: raw("&#13;")  // a literal CR would be normalised to LF by the reader
                case 0x09 where attribute: raw("&#9;")
                case 0x0A where attribute: raw("&#10;")
                case 0x09, 0x0A: bytes.append(b)
                case 0x00..<0x20: break  // not allowed in XML 1.0: drop
                case 0xEF where i + 2 < n && buf[i + 1] == 0xBF && (buf[i + 2] == 0xBE || buf[i + 2] == 0xBF):
                    i += 2  // U+FFFE / U+FFFF are not XML characters: drop
                default: bytes.append(b)
                }
                i += 1
            }
        }
    }

    @inline(__always)
    private static func needsWork(_ b: UInt8) -> Bool {
        b < 0x20 || b == 0x26 || b == 0x3C || b == 0x3E || b == 0x22 || b == 0xEF
    }
}
