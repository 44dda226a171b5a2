/// HTML text that is safe to send: interpolated `String`s (and numbers) are escaped, interpolated `Markup` is
/// inserted as is. Every page is built from these, so forgetting to escape takes an explicit `raw:`.
public struct Markup: Sendable, Equatable, ExpressibleByStringInterpolation, CustomStringConvertible {
    public private(set) var html: String

    public init(stringLiteral value: String) { html = value }
    public init(stringInterpolation: Interpolation) { html = stringInterpolation.html }
    public init(raw: String) { html = raw }
    public static let empty = Markup(raw: "")
    public var description: String { html }

    public struct Interpolation: StringInterpolationProtocol {
        var html = ""
        public init(literalCapacity: Int, interpolationCount: Int) { html.reserveCapacity(literalCapacity + interpolationCount * 16) }
        public mutating func appendLiteral(_ literal: String) { html += literal }
        public mutating func appendInterpolation(_ text: String) { html += Markup.escape(text) }
        public mutating func appendInterpolation(_ text: Substring) { html += Markup.escape(String(text)) }
        public mutating func appendInterpolation<N: BinaryInteger>(_ n: N) { html += String(n) }
        public mutating func appendInterpolation(_ m: Markup) { html += m.html }
        public mutating func appendInterpolation(_ ms: [Markup]) { for m in ms { html += m.html } }
        public mutating func appendInterpolation(_ m: Markup?) { if let m { html += m.html } }
        /// Already-escaped HTML (used only for constants such as the stylesheet).
        public mutating func appendInterpolation(raw: String) { html += raw }
    }

    public static func + (a: Markup, b: Markup) -> Markup { Markup(raw: a.html + b.html) }

    /// Escapes text for element content and double-quoted attribute values.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters other than tab/newline never reach the page.
                if c.value < 0x20 && c != "\n" && c != "\t" { out += "\u{FFFD}" } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }

    /// `when ? m : empty`.
    public static func when(_ condition: Bool, _ m: @autoclosure () -> Markup) -> Markup { condition ? m() : .empty }
}

extension Array where Element == Markup {
    public func joined(_ separator: Markup = .empty) -> Markup {
        Markup(raw: map(\.html).joined(separator: separator.html))
    }
}

/// Percent-encoding for query-string values inside links.
public enum URLText {
    public static func component(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out += "%" + String(b, radix: 16, uppercase: true).leftPad(2)
            }
        }
        return out
    }

    /// "a=1&b=x%20y" from pairs, skipping empty values.
    public static func query(_ pairs: [(String, String)]) -> String {
        pairs.filter { !$0.1.isEmpty }.map { component($0.0) + "=" + component($0.1) }.joined(separator: "&")
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
