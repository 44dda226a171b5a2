// Parser for HTTP authentication headers (RFC 7235 syntax, lenient):
//   challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//   auth-param = token BWS "=" BWS ( token / quoted-string )
// Several challenges may share one header, separated by commas.

public struct AuthChallenge: Sendable, Equatable {
    /// Scheme as written (compare case-insensitively).
    public var scheme: String
    /// Parameters with lower-cased names; quoted values unescaped.
    public var params: [String: String]
    /// token68 form (e.g. the base64 of Basic credentials), if present.
    public var token68: String?

    public init(scheme: String, params: [String: String] = [:], token68: String? = nil) {
        self.scheme = scheme
        self.params = params
        self.token68 = token68
    }
}

public enum AuthParams {
    private static func isTokenChar(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(c)
        }
    }

    private static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0d || c == 0x0a }

    private static func isToken68Char(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "-._~+/=".utf8.contains(c)
        }
    }

    /// Parses every challenge (or the single credentials) in a header value.
    public static func parse(_ header: String) -> [AuthChallenge] {
        let s = Array(header.utf8)
        var i = 0
        var result: [AuthChallenge] = []

        func skipSpace() { while i < s.count, isSpace(s[i]) { i += 1 } }
        func skipSpaceAndCommas() { while i < s.count, isSpace(s[i]) || s[i] == UInt8(ascii: ",") { i += 1 } }
        func readToken() -> String? {
            let start = i
            while i < s.count, isTokenChar(s[i]) { i += 1 }
            return i > start ? String(decoding: s[start..<i], as: UTF8.self) : nil
        }
        func readQuoted() -> String {
            // s[i] == '"'
            i += 1
            var out: [UInt8] = []
            while i < s.count {
                let c = s[i]
                if c == UInt8(ascii: "\\"), i + 1 < s.count {
                    out.append(s[i + 1]); i += 2; continue
                }
                if c == UInt8(ascii: "\"") { i += 1; break }
                out.append(c); i += 1
            }
            return String(decoding: out, as: UTF8.self)
        }
        func readValue() -> String {
            skipSpace()
            if i < s.count, s[i] == UInt8(ascii: "\"") { return readQuoted() }
            // Unquoted: be lenient and take everything up to a comma or whitespace.
            let start = i
            while i < s.count, s[i] != UInt8(ascii: ","), !isSpace(s[i]) { i += 1 }
            return String(decoding: s[start..<i], as: UTF8.self)
        }
        /// Looks ahead: is the text at `i` "token BWS =" but not a token68 ending in '=' ?
        func atParam() -> Bool {
            var j = i
            while j < s.count, isTokenChar(s[j]) { j += 1 }
            guard j > i else { return false }
            while j < s.count, isSpace(s[j]) { j += 1 }
            guard j < s.count, s[j] == UInt8(ascii: "=") else { return false }
            // "abc==" or "abc=" followed by end/comma is token68 padding, not a parameter.
            var k = j
            while k < s.count, s[k] == UInt8(ascii: "=") { k += 1 }
            if k - j > 1 { return false }
            var m = k
            while m < s.count, isSpace(s[m]) { m += 1 }
            if m >= s.count || s[m] == UInt8(ascii: ",") {
                // "name=" with an empty value: treat as a parameter only if the token is not token68-ish.
                return false
            }
            return true
        }

        skipSpaceAndCommas()
        while i < s.count {
            guard let scheme = readToken() else {
                // Garbage: skip one byte and try again.
                i += 1
                skipSpaceAndCommas()
                continue
            }
            var challenge = AuthChallenge(scheme: scheme)
            skipSpace()
            // token68?
            if i < s.count, !atParam(), s[i] != UInt8(ascii: ",") {
                let start = i
                while i < s.count, isToken68Char(s[i]) { i += 1 }
                if i > start { challenge.token68 = String(decoding: s[start..<i], as: UTF8.self) }
                skipSpace()
            }
            // Parameters until the next scheme (a token not followed by '=').
            while true {
                skipSpaceAndCommas()
                guard i < s.count else { break }
                if !atParam() {
                    // Either the next scheme, or a parameter with an empty value ("name=" at the end).
                    let save = i
                    if let name = readToken() {
                        skipSpace()
                        if i < s.count, s[i] == UInt8(ascii: "=") {
                            i += 1
                            challenge.params[name.lowercased()] = readValue()
                            continue
                        }
                    }
                    i = save
                    break
                }
                guard let name = readToken() else { break }
                skipSpace()
                i += 1 // '='
                challenge.params[name.lowercased()] = readValue()
            }
            result.append(challenge)
        }
        return result
    }

    /// Quotes a value as an HTTP quoted-string.
    public static func quote(_ value: String) -> String {
        // Byte-wise: '"' and '\\' are ASCII and never part of a multi-byte UTF-8 sequence.
        var out: [UInt8] = [0x22]
        out.reserveCapacity(value.utf8.count + 2)
        for b in value.utf8 {
            if b == 0x22 || b == 0x5C { out.append(0x5C) }
            out.append(b)
        }
        out.append(0x22)
        return String(decoding: out, as: UTF8.self)
    }
}
