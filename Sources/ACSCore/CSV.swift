/// RFC 4180 CSV, both ways, for every CSV Corral writes (API exports, reports in the API and the CLI) and reads
/// (pre-provisioning imports). Pure.
public enum CSV {
    /// One line (with CRLF). Fields that a spreadsheet would run as formulas get a leading quote.
    public static func line(_ fields: [String]) -> String {
        var out = ""
        for (i, f) in fields.enumerated() {
            if i > 0 { out += "," }
            out += quote(f)
        }
        return out + "\r\n"
    }

    public static func quote(_ raw: String) -> String {
        // Most values need nothing: one pass over the bytes decides (a report writes millions of them).
        var plain = true
        for (i, b) in raw.utf8.enumerated() {
            if b == 0x2C || b == 0x22 || b == 0x0A || b == 0x0D || (i == 0 && (b == 0x3D || b == 0x2B || b == 0x40 || b == 0x09 || b == 0x2D)) {
                plain = false
                break
            }
        }
        if plain { return raw }
        var s = raw
        if let first = s.first, "=+@\t\r".contains(first) || (first == "-" && Double(s) == nil) { s = "'" + s }
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let line: Int
        public let message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Rows of fields; quoted fields may hold commas, quotes ("") and newlines. `maxRows` bounds the work.
    public static func parse(_ text: String, maxRows: Int) throws -> [[String]] {
        var rows: [[String]] = []
        var field = ""
        var row: [String] = []
        var quoted = false
        var line = 1
        var it = text.makeIterator()
        var pending: Character? = nil
        func next() -> Character? {
            if let p = pending { pending = nil; return p }
            return it.next()
        }
        while let c = next() {
            if quoted {
                if c == "\"" {
                    if let n = next() {
                        if n == "\"" { field.append("\"") } else { quoted = false; pending = n }
                    } else { quoted = false }
                } else {
                    if c == "\n" || c == "\r\n" { line += 1 }
                    field.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.isEmpty: quoted = true
            case ",": row.append(field); field = ""
            case "\n", "\r\n", "\r":
                row.append(field); field = ""
                if !(row.count == 1 && row[0].isEmpty) { rows.append(row) }
                row = []
                line += 1
                if rows.count > maxRows { throw ParseError(line: line, message: "more than \(maxRows) rows") }
            default: field.append(c)
            }
        }
        if quoted { throw ParseError(line: line, message: "unterminated quoted field") }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        if rows.count > maxRows { throw ParseError(line: line, message: "more than \(maxRows) rows") }
        return rows
    }
}
