import NIOSSL
import X509

/// The names in a client certificate that the TLS layer has verified against `client_ca`: its subject's common
/// name and its DNS subject alternative names (what CPE certificates carry their serial or OUI-serial in).
public struct PeerCertificate: Sendable, Equatable {
    public var commonName: String?
    public var dnsNames: [String]

    public init(commonName: String?, dnsNames: [String]) { self.commonName = commonName; self.dnsNames = dnsNames }

    /// Every name the certificate vouches for.
    public var names: [String] { (commonName.map { [$0] } ?? []) + dnsNames }

    /// nil when the certificate cannot be parsed (NIOSSL already validated it; this only reads names).
    init?(_ certificate: NIOSSLCertificate) {
        guard let der = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: der) else { return nil }
        var cn: String?
        for rdn in parsed.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName { cn = String(describing: attribute.value) }
        }
        var dns: [String] = []
        if let sans = try? parsed.extensions.subjectAlternativeNames {
            for name in sans { if case .dnsName(let n) = name { dns.append(n) } }
        }
        self.init(commonName: cn, dnsNames: dns)
    }
}
