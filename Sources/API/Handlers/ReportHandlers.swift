import ACSCore
import Engine
import Foundation
import NetHTTP
import Scripting
import Storage

/// Reports over the API: the library's reports for every viewer, ad-hoc scripts for admins. A report sees only
/// the caller's organisation subtree, runs on the script worker with the report limits, and answers JSON
/// (at most `maxJSONRows` rows) or CSV (at most `maxCSVRows`; the answer is built in memory).
enum ReportHandlers {
    static let maxJSONRows = 10_000
    static let maxCSVRows = 100_000

    struct Library: Encodable { var reports: [ScriptLibrary.Entry] }

    static func library(_ ctx: RequestContext) async throws -> HTTPResponse {
        JSON.response(Library(reports: ScriptLibrary(directory: ctx.api.config.scriptsDirectory).list(.reports)))
    }

    /// An argument value: text or a number (or a boolean) in JSON; the script gets numbers as numbers.
    struct ArgValue: Decodable {
        var text: String
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { text = s }
            else if let i = try? c.decode(Int64.self) { text = String(i) }
            else if let d = try? c.decode(Double.self) { text = String(d) }
            else if let b = try? c.decode(Bool.self) { text = b ? "true" : "false" }
            else { throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath, debugDescription: "a string or a number")) }
        }
    }

    struct RunBody: Decodable {
        var name: String?
        var script: String?
        var library: String?
        var args: [String: ArgValue]?
        var format: String?
    }

    /// Collects rows for the answer, keeping at most `cap` (the script still runs to its end: counts stay true).
    /// CSV goes through the API's writer, which defuses values a spreadsheet would run as formulas (device-supplied
    /// text such as an SSID reaches these files).
    final class Collector: ReportOutput {
        let cap: Int
        let csv: Bool
        var columns: [String] = []
        var rows: [[Any]] = []
        var csvText = ""
        var count = 0

        init(cap: Int, csv: Bool) { self.cap = cap; self.csv = csv }

        func begin(title: String?, columns: [String]) {
            self.columns = columns
            if csv { csvText = CSV.line(columns) }
        }

        func row(_ values: [LuaValue]) {
            count += 1
            guard count <= cap else { return }
            if csv { csvText += CSV.line(values.map(Self.text)) } else { rows.append(values.map(Self.json)) }
        }

        func end() {}

        static func text(_ v: LuaValue) -> String {
            switch v {
            case .null: return ""
            case .bool(let b): return b ? "true" : "false"
            default: return v.string ?? v.typeName
            }
        }

        static func json(_ v: LuaValue) -> Any {
            switch v {
            case .null: return NSNull()
            case .bool(let b): return b
            case .int(let i): return i
            case .number(let d): return d.isFinite ? d : NSNull()
            case .string(let s): return s
            default: return v.string ?? v.typeName
            }
        }
    }

    struct Outcome: @unchecked Sendable {
        var body: [UInt8]
        var rows: Int
        var truncated: Bool
    }

    static func run(_ ctx: RequestContext) async throws -> HTTPResponse {
        let b = try ctx.body(RunBody.self)
        let format = b.format ?? "json"
        guard format == "json" || format == "csv" else { throw APIError.invalid("format must be json or csv") }
        if b.script != nil { try ctx.require(.admin, "an ad-hoc report script") }
        let (source, name) = try CampaignHandlers.source(ctx, CampaignHandlers.ScriptBody(name: b.name, script: b.script, library: b.library), kind: .reports)
        let args = b.args ?? [:]
        guard args.count <= 50, args.keys.allSatisfy({ ScriptLibrary.validName($0) }), args.values.allSatisfy({ $0.text.count <= 1000 }) else {
            throw APIError.invalid("args: at most 50, names of letters, digits, - and _, values up to 1000 characters")
        }
        ctx.touching("report", b.library ?? "ad-hoc", organisation: ctx.me.organisation.id)
        var note: [String: String] = ["script_name": name, "format": format]
        for (k, v) in args { note["arg." + k] = v.text }
        if b.script != nil { note["script"] = String(source.prefix(4000)) }
        ctx.audit.after = JSON.text(note)

        let store = ctx.store, registry = ctx.api.config.profiles, scope = ctx.me.organisation.path
        let argText = args.mapValues(\.text)
        let csv = format == "csv"
        let outcome: Outcome
        do {
            outcome = try await ctx.api.scripts.run {
                let out = Collector(cap: csv ? maxCSVRows : maxJSONRows, csv: csv)
                _ = try ReportRunner.run(source: source, name: name, store: store, registry: registry, args: argText, now: Time.now,
                                         output: out, limits: .report, scope: scope)
                let truncated = out.count > out.cap
                if csv { return Outcome(body: Array(out.csvText.utf8), rows: out.count, truncated: truncated) }
                let doc: [String: Any] = ["columns": out.columns, "rows": out.rows, "truncated": truncated, "row_count": out.count]
                return Outcome(body: Array(try JSONSerialization.data(withJSONObject: doc, options: [.withoutEscapingSlashes])), rows: out.count,
                               truncated: truncated)
            }
        } catch { throw CampaignHandlers.scriptProblem(error) }
        var headers: HTTPFields = ["Content-Type": csv ? "text/csv; charset=utf-8" : "application/json",
                                   "X-Report-Rows": String(outcome.rows), "X-Report-Truncated": outcome.truncated ? "true" : "false"]
        if csv {
            let file = (b.library ?? "report").filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
            headers.set("Content-Disposition", "attachment; filename=\"\(file.isEmpty ? "report" : file).csv\"")
        }
        return HTTPResponse(status: 200, headers: headers, body: outcome.body)
    }
}
