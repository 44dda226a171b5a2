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

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }

    static func response<T: Encodable>(_ value: T, status: Int = 200) -> HTTPResponse {
        do {
            let data = try encoder.encode(value)
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
    static func iso(_ t: Int64) -> String? {
        guard t > 0 else { return nil }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date(timeIntervalSince1970: Double(t)))
    }

    static func parse(_ s: String) -> Int64? {
        if let n = Int64(s) { return n }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s).map { Int64($0.timeIntervalSince1970) }
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970) }
}
