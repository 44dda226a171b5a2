import CLibXML2
import CWMP
import Foundation

/// Validates whole SOAP envelopes against the BBF cwmp-1-x.xsd files, the way
/// `xmllint --nonet --schema cwmp-1-2.xsd` does (the cwmp schema imports soap-envelope/soap-encoding, which the
/// OASIS catalog maps to the local copies). Schemas are compiled once; libxml2 calls are serialised.
final class SchemaValidator: @unchecked Sendable {
    static let shared = SchemaValidator()

    private let lock = NSLock()
    private var compiled: [String: xmlSchemaPtr] = [:]
    private var loadErrors: [String: [String]] = [:]

    private final class ErrorSink { var messages: [String] = [] }

    private init() {
        xmlInitParser()
        // Process-wide: load the catalog once and never touch the network.
        let rc = xmlLoadCatalog(Fixtures.catalog.path)
        precondition(rc == 0, "cannot load \(Fixtures.catalog.path)")
        xmlSetExternalEntityLoader(xmlNoNetExternalEntityLoader)
    }

    private static let collect: xmlStructuredErrorFunc = { ctx, err in
        guard let ctx, let err else { return }
        let sink = Unmanaged<ErrorSink>.fromOpaque(ctx).takeUnretainedValue()
        var msg = err.pointee.message.map { String(cString: $0) } ?? "unknown error"
        while msg.last?.isWhitespace == true { msg.removeLast() }
        sink.messages.append("line \(err.pointee.line): \(msg)")
    }

    /// Compiles (once) and returns the schema, or the errors that prevented compiling it.
    private func schema(_ file: String) -> Result<xmlSchemaPtr, SchemaError> {
        if let s = compiled[file] { return .success(s) }
        if let errs = loadErrors[file] { return .failure(SchemaError(messages: errs)) }
        let sink = ErrorSink()
        let unmanaged = Unmanaged.passRetained(sink)
        defer { unmanaged.release() }
        guard let pctxt = xmlSchemaNewParserCtxt(Fixtures.schema(file).path) else {
            return .failure(SchemaError(messages: ["cannot create schema parser for \(file)"]))
        }
        defer { xmlSchemaFreeParserCtxt(pctxt) }
        xmlSchemaSetParserStructuredErrors(pctxt, SchemaValidator.collect, unmanaged.toOpaque())
        guard let schema = xmlSchemaParse(pctxt) else {
            loadErrors[file] = sink.messages
            return .failure(SchemaError(messages: sink.messages))
        }
        compiled[file] = schema
        return .success(schema)
    }

    struct SchemaError: Error, CustomStringConvertible {
        var messages: [String]
        var description: String { messages.joined(separator: "\n") }
    }

    /// Returns the validation errors (empty = valid). Parse errors of the document are reported too.
    func validate(_ bytes: [UInt8], schemaFile: String) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        let schema: xmlSchemaPtr
        switch self.schema(schemaFile) {
        case .success(let s): schema = s
        case .failure(let e): return ["schema \(schemaFile) does not compile: \(e)"]
        }
        let sink = ErrorSink()
        let unmanaged = Unmanaged.passRetained(sink)
        defer { unmanaged.release() }

        let opts = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)
        let doc = bytes.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                xmlReadMemory($0, Int32(buf.count), "message.xml", nil, opts)
            }
        }
        guard let doc else { return ["document is not well-formed"] }
        defer { xmlFreeDoc(doc) }
        guard let vctxt = xmlSchemaNewValidCtxt(schema) else { return ["cannot create validation context"] }
        defer { xmlSchemaFreeValidCtxt(vctxt) }
        xmlSchemaSetValidStructuredErrors(vctxt, SchemaValidator.collect, unmanaged.toOpaque())
        let rc = xmlSchemaValidateDoc(vctxt, doc)
        if rc != 0 && sink.messages.isEmpty { return ["validation failed with code \(rc)"] }
        return sink.messages
    }

    /// True when `schemaFile` declares a global element with this name. The SOAP Body and Fault detail are
    /// processContents="lax", so an element the schema does not declare would pass validation unchecked; the
    /// tests use this to make sure every RPC was really validated.
    func declaresGlobalElement(_ name: String, schemaFile: String) -> Bool {
        guard let text = try? String(contentsOf: Fixtures.schema(schemaFile), encoding: .utf8) else { return false }
        // Top-level declarations are indented by exactly two spaces in the BBF files.
        return text.contains("\n  <xs:element name=\"\(name)\">") || text.contains("\n  <xs:element name=\"\(name)\"/>")
            || text.contains("\n  <xs:element name=\"\(name)\" ")
    }
}
