import Foundation
import NetHTTP

/// JSON on the wire: snake_case keys, times as RFC 3339 strings (see `Time`).
enum JSON {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// For types whose CodingKeys are already snake_case (converting every key costs more than encoding it).
    static let plainEncoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }

    static func response<T: Encodable>(_ value: T, status: Int = 200, keysAsIs: Bool = false) -> HTTPResponse {
        do {
            let data = try (keysAsIs ? plainEncoder : encoder).encode(value)
            return HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: Array(data))
        } catch {
            return APIError(500, "internal", "Internal error", "could not encode the response").response
        }
    }

    /// Largest JSON request body; file uploads have their own limit.
    static let maxBodyBytes = 1 << 20

    static func decode<T: Decodable>(_ type: T.Type, from request: HTTPRequest) throws -> T {
        let ct = request.headers.first("Content-Type")?.lowercased() ?? ""
        guard ct.hasPrefix("application/json") else {
            throw APIError.unsupportedMediaType("send the body as application/json")
        }
        guard request.body.count <= maxBodyBytes else { throw APIError.tooLarge("JSON bodies are limited to \(maxBodyBytes) bytes") }
        do {
            return try decoder().decode(T.self, from: Data(request.body))
        } catch let DecodingError.keyNotFound(key, _) {
            throw APIError.invalid("missing field \(snake(key.stringValue))")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw APIError.invalid("wrong type at \(path(ctx.codingPath)): \(ctx.debugDescription)")
        } catch let DecodingError.valueNotFound(_, ctx) {
            throw APIError.invalid("null not allowed at \(path(ctx.codingPath))")
        } catch let DecodingError.dataCorrupted(ctx) {
            throw APIError.invalid(ctx.codingPath.isEmpty ? "the body is not valid JSON" : "invalid value at \(path(ctx.codingPath)): \(ctx.debugDescription)")
        } catch {
            throw APIError.invalid("the body is not valid JSON")
        }
    }

    static func path(_ keys: [CodingKey]) -> String {
        keys.isEmpty ? "the top level" : keys.map { $0.intValue.map(String.init) ?? snake($0.stringValue) }.joined(separator: ".")
    }

    static func snake(_ s: String) -> String {
        var out = ""
        for c in s {
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
        return out
    }

    /// A JSON text of an Encodable, for audit before/after columns.
    static func text<T: Encodable>(_ value: T) -> String {
        (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}

/// Unix seconds <-> RFC 3339 (UTC). 0 means "never" and is encoded as null.
enum Time {
    /// Formatted by hand: an ISO8601DateFormatter per value cost ~0.1 ms on Linux and dominated device lists.
    static func iso(_ t: Int64) -> String? {
        guard t > 0 else { return nil }
        let days = t / 86400, secs = t % 86400
        // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(m))-\(two(d))T\(two(secs / 3600)):\(two(secs / 60 % 60)):\(two(secs % 60))Z"
    }

    static func parse(_ s: String) -> Int64? {
        if let n = Int64(s) { return n }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s).map { Int64($0.timeIntervalSince1970) }
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970) }
}
