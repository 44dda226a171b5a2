import ACSCore
import Foundation

public enum ReportFormat: String, Sendable, CaseIterable { case csv, json, table }

/// CSV (RFC 4180), JSON ({"columns": [...], "rows": [{...}]}) or an aligned text table. CSV and JSON stream;
/// the table buffers (it needs the column widths) and is meant for terminals.
public final class ReportWriter: ReportOutput {
    let format: ReportFormat
    let write: (String) -> Void
    private var columns: [String] = []
    private var buffered: [[String]] = []
    private var count = 0
    private var pending = ""

    public init(format: ReportFormat, write: @escaping (String) -> Void) { self.format = format; self.write = write }

    public func begin(title: String?, columns: [String]) {
        self.columns = columns
        switch format {
        case .csv: emit(CSV.line(columns))
        case .json:
            emit("{" + (title.map { "\"title\": \(Self.jsonString($0)), " } ?? "") + "\"columns\": ["
                 + columns.map(Self.jsonString).joined(separator: ", ") + "], \"rows\": [")
        case .table:
            if let title { emit(title + "\n") }
        }
    }

    public func row(_ values: [LuaValue]) {
        switch format {
        // The one CSV writer: values a spreadsheet would run as formulas are defused here too (the CLI's reports).
        case .csv: emit(CSV.line(values.map(Self.text)))
        case .json:
            let fields = zip(columns, values).map { Self.jsonString($0) + ": " + Self.json($1) }
            emit((count == 0 ? "\n" : ",\n") + "{" + fields.joined(separator: ", ") + "}")
        case .table:
            buffered.append(values.map(Self.text))
        }
        count += 1
    }

    public func end() {
        switch format {
        case .csv: break
        case .json: emit("\n]}\n")
        case .table:
            let widths = columns.indices.map { i in min(48, max(columns[i].count, buffered.map { $0[i].count }.max() ?? 0)) }
            func line(_ cells: [String]) -> String {
                zip(cells, widths).map { c, w in
                    let cut = c.count > w ? String(c.prefix(w - 1)) + "…" : c
                    return cut.padding(toLength: w, withPad: " ", startingAt: 0)
                }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) + "\n"
            }
            emit(line(columns))
            emit(line(widths.map { String(repeating: "-", count: $0) }))
            for r in buffered { emit(line(r)) }
            emit("(\(buffered.count) rows)\n")
        }
        flush()
    }

    private func emit(_ s: String) {
        pending += s
        if pending.utf8.count > 64 << 10 { flush() }
    }

    private func flush() {
        if !pending.isEmpty { write(pending); pending = "" }
    }

    static func text(_ v: LuaValue) -> String {
        switch v {
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        default: return v.string ?? v.typeName
        }
    }

    static func json(_ v: LuaValue) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .number(let d): return d.isFinite ? LuaValue.format(d) : "null"
        default: return jsonString(v.string ?? v.typeName)
        }
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
