import NIOCore
import NIOSSL

/// Why a certificate, key or CA file cannot be used; names the file.
public struct TLSSetupError: Error, CustomStringConvertible {
    public let description: String
}

/// The server side: certificate chain and key from PEM files (optionally a CA for client certificates). New
/// connections take the current context, so `reload()` (SIGHUP) swaps certificates without touching open sessions.
public final class TLSServerIdentity: Sendable {
    public let certificatePath: String
    public let keyPath: String
    public let clientCAPath: String?
    private let current: Locked<NIOSSLContext>

    public init(certificatePath: String, keyPath: String, clientCAPath: String? = nil) throws {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.clientCAPath = clientCAPath
        current = Locked(try Self.load(certificatePath, keyPath, clientCAPath))
    }

    public var context: NIOSSLContext { current.withLock { $0 } }

    /// Re-reads the files; on any error the previous certificate stays in use and the error is thrown.
    public func reload() throws {
        let fresh = try Self.load(certificatePath, keyPath, clientCAPath)
        current.withLock { $0 = fresh }
    }

    static func load(_ certPath: String, _ keyPath: String, _ caPath: String?) throws -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(certPath) } catch {
            throw TLSSetupError(description: "tls_cert \(certPath): cannot read a PEM certificate chain (\(error))")
        }
        guard !chain.isEmpty else { throw TLSSetupError(description: "tls_cert \(certPath): no certificate in the file") }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(file: keyPath, format: .pem) } catch {
            throw TLSSetupError(description: "tls_key \(keyPath): cannot read a PEM private key (\(error))")
        }
        var c = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        c.minimumTLSVersion = .tlsv12
        if let caPath {
            // Optional at the TLS layer: CWMP decides per profile whether a device must present one.
            c.trustRoots = .file(caPath)
            c.certificateVerification = .optionalVerification
            c.sendCANameList = true
        }
        do { return try NIOSSLContext(configuration: c) } catch {
            throw TLSSetupError(description: "tls_cert/tls_key \(certPath), \(keyPath): \(error) (does the key match the certificate?)")
        }
    }
}

/// The client side: which CAs to trust (nil = the system's) and an optional client certificate. Build one and share it:
/// a context loads its trust store once.
public final class TLSClientContext: Sendable {
    public let context: NIOSSLContext

    public init(caPath: String? = nil, clientCertificatePath: String? = nil, clientKeyPath: String? = nil,
                verifyCertificates: Bool = true) throws {
        var c = TLSConfiguration.makeClientConfiguration()
        c.minimumTLSVersion = .tlsv12
        if let caPath { c.trustRoots = .file(caPath) }
        if !verifyCertificates { c.certificateVerification = .none }
        if let clientCertificatePath {
            guard let clientKeyPath else { throw TLSSetupError(description: "a client certificate needs its key") }
            do {
                c.certificateChain = try NIOSSLCertificate.fromPEMFile(clientCertificatePath).map { .certificate($0) }
                c.privateKey = .privateKey(try NIOSSLPrivateKey(file: clientKeyPath, format: .pem))
            } catch {
                throw TLSSetupError(description: "client certificate \(clientCertificatePath) / \(clientKeyPath): \(error)")
            }
        }
        do { context = try NIOSSLContext(configuration: c) } catch {
            throw TLSSetupError(description: "TLS client setup\(caPath.map { " with CA \($0)" } ?? ""): \(error)")
        }
    }

    /// The system's trust store, made on first use (https connection requests without a configured CA).
    public static let system: TLSClientContext? = try? TLSClientContext()

    func handler(host: String) throws -> NIOSSLClientHandler {
        // SNI carries names only; for an address NIOSSL checks the certificate against the peer's IP.
        let isAddress = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
        return try NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : host)
    }
}
