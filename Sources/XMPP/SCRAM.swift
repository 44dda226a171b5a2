import Crypto
import CryptoExtras
import Foundation

/// The client side of SASL SCRAM-SHA-1 (RFC 5802), without channel binding ("n,,"). Passwords are used as given
/// (SASLprep is the identity for the ASCII passwords Corral generates and operators configure).
public struct SCRAMSHA1Client: Sendable {
    public let username: String
    let password: String
    let clientNonce: String
    private var expectedServerSignature: [UInt8]?
    /// A hostile server could ask for billions of iterations; real servers use 4,096 to a few hundred thousand.
    public static let maxIterations = 1_000_000

    public init(username: String, password: String, clientNonce: String? = nil) {
        self.username = username
        self.password = password
        self.clientNonce = clientNonce ?? Data((0..<18).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }

    var clientFirstBare: String {
        let name = username.replacingOccurrences(of: "=", with: "=3D").replacingOccurrences(of: ",", with: "=2C")
        return "n=\(name),r=\(clientNonce)"
    }

    /// The initial response (sent base64-encoded in `<auth>`).
    public var clientFirst: String { "n,," + clientFirstBare }

    /// Answers the server-first message with the client-final message.
    public mutating func respond(to serverFirst: String) throws -> String {
        let fields = Self.fields(serverFirst)
        guard let nonce = fields["r"], let saltB64 = fields["s"], let salt = Data(base64Encoded: saltB64),
              let iterText = fields["i"], let iterations = Int(iterText) else {
            throw XMPPError.authentication("malformed SCRAM server-first message")
        }
        guard nonce.hasPrefix(clientNonce), nonce.count > clientNonce.count else {
            throw XMPPError.authentication("SCRAM server nonce does not extend the client nonce")
        }
        guard (1...Self.maxIterations).contains(iterations) else {
            throw XMPPError.authentication("SCRAM iteration count \(iterations) outside 1...\(Self.maxIterations)")
        }
        let salted = try KDF.Insecure.PBKDF2.deriveKey(from: Array(password.utf8), salt: salt, using: .insecureSHA1,
                                                       outputByteCount: Insecure.SHA1.byteCount, unsafeUncheckedRounds: iterations)
        let saltedKey = salted
        let clientKey = Self.hmac(saltedKey, "Client Key")
        let storedKey = Array(Insecure.SHA1.hash(data: clientKey))
        let withoutProof = "c=biws,r=\(nonce)"
        let authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof
        let clientSignature = Self.hmac(SymmetricKey(data: storedKey), authMessage)
        let proof = zip(clientKey, clientSignature).map { $0 ^ $1 }
        let serverKey = Self.hmac(saltedKey, "Server Key")
        expectedServerSignature = Self.hmac(SymmetricKey(data: serverKey), authMessage)
        return withoutProof + ",p=" + Data(proof).base64EncodedString()
    }

    /// Checks the server-final message: the server proves it knew the password too.
    public func verify(serverFinal: String) throws {
        let fields = Self.fields(serverFinal)
        if let e = fields["e"] { throw XMPPError.authentication("SCRAM server error: \(e)") }
        guard let expected = expectedServerSignature, let v = fields["v"], let got = Data(base64Encoded: v),
              Array(got) == expected else {
            throw XMPPError.authentication("the server's SCRAM signature is wrong (not the server we share the password with)")
        }
    }

    static func hmac(_ key: SymmetricKey, _ message: String) -> [UInt8] {
        Array(HMAC<Insecure.SHA1>.authenticationCode(for: Array(message.utf8), using: key))
    }

    static func fields(_ message: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in message.split(separator: ",") {
            guard let eq = part.firstIndex(of: "="), part.distance(from: part.startIndex, to: eq) == 1 else { continue }
            out[String(part[..<eq])] = String(part[part.index(after: eq)...])
        }
        return out
    }
}

/// SASL PLAIN (RFC 4616): only ever sent over TLS.
public func saslPlain(username: String, password: String) -> String {
    Data(([0] + Array(username.utf8) + [0] + Array(password.utf8))).base64EncodedString()
}
