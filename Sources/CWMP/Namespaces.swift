// Namespace URIs used on the wire, and the mapping from a cwmp namespace URI to CWMPVersion.

import CLibXML2

enum Namespace {
    static let soapEnvelope: StaticString = "http://schemas.xmlsoap.org/soap/envelope/"
    static let soapEncoding: StaticString = "http://schemas.xmlsoap.org/soap/encoding/"
    static let xsd: StaticString = "http://www.w3.org/2001/XMLSchema"
    static let xsi: StaticString = "http://www.w3.org/2001/XMLSchema-instance"
    static let xsi1999: StaticString = "http://www.w3.org/1999/XMLSchema-instance"
    static let xsi2000: StaticString = "http://www.w3.org/2000/10/XMLSchema-instance"
}

extension CWMPVersion {
    /// The version for a namespace URI, when it is one of the cwmp URIs we know.
    init?(namespaceURI: UnsafePointer<xmlChar>?) {
        guard let uri = namespaceURI else { return nil }
        // Fast reject: all cwmp URIs share this prefix.
        let prefix: StaticString = "urn:dslforum-org:cwmp-1-"
        guard xmlStrncmp(uri, prefix.utf8Start, Int32(prefix.utf8CodeUnitCount)) == 0 else { return nil }
        self.init(rawValue: String(cString: uri))
    }

    /// The version of an element's namespace, when it is a cwmp namespace.
    init?(of element: XElem) {
        self.init(namespaceURI: element.node.pointee.ns?.pointee.href)
    }
}
