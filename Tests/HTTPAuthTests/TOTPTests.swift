import Testing
@testable import HTTPAuth

@Suite struct TOTPTests {
    /// RFC 6238 Appendix B, SHA-1 rows (8 digits), and RFC 4226 Appendix D (6 digits).
    @Test func rfcVectors() {
        let secret = Array("12345678901234567890".utf8)
        for (time, code) in [(59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"), (1234567890, "89005924"),
                             (2000000000, "69279037"), (20000000000, "65353130")] as [(Int64, String)] {
            #expect(TOTP.code(secret: secret, step: TOTP.step(at: time), digits: 8) == code, "\(time)")
        }
        let hotp = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]
        for (i, code) in hotp.enumerated() { #expect(TOTP.code(secret: secret, step: Int64(i)) == code) }
    }

    @Test func codesWorkOnceWithinOneStepOfDrift() {
        let secret = Array("12345678901234567890".utf8)
        let now: Int64 = 1_800_000_015
        let current = TOTP.code(secret: secret, step: TOTP.step(at: now))
        let step = TOTP.verify(current, secret: secret, now: now, after: 0)
        #expect(step == TOTP.step(at: now))
        #expect(TOTP.verify(current, secret: secret, now: now, after: step!) == nil, "a replay")
        let previous = TOTP.code(secret: secret, step: TOTP.step(at: now) - 1)
        #expect(TOTP.verify(previous, secret: secret, now: now, after: 0) != nil)
        let old = TOTP.code(secret: secret, step: TOTP.step(at: now) - 3)
        #expect(TOTP.verify(old, secret: secret, now: now, after: 0) == nil)
        #expect(TOTP.verify("12345", secret: secret, now: now, after: 0) == nil)
        #expect(TOTP.verify("١٢٣٤٥٦", secret: secret, now: now, after: 0) == nil)
        #expect(TOTP.verify(String(current.prefix(3)) + " " + String(current.suffix(3)), secret: secret, now: now, after: 0) != nil)
    }

    @Test func base32AndURI() {
        // RFC 4648 §10.
        for (plain, coded) in [("", ""), ("f", "MY"), ("fo", "MZXQ"), ("foo", "MZXW6"), ("foob", "MZXW6YQ"), ("fooba", "MZXW6YTB"), ("foobar", "MZXW6YTBOI")] {
            #expect(Base32.encode(Array(plain.utf8)) == coded)
            #expect(Base32.decode(coded.lowercased()) == Array(plain.utf8))
        }
        #expect(Base32.decode("MZXW6YQ=") == Array("foob".utf8))
        #expect(Base32.decode("MZ1") == nil)
        let uri = TOTP.uri(secret: Array("foobar".utf8), account: "ana maria@example.net", issuer: "Corral ACS")
        #expect(uri == "otpauth://totp/Corral%20ACS:ana%20maria@example.net?secret=MZXW6YTBOI&issuer=Corral%20ACS&algorithm=SHA1&digits=6&period=30")
    }
}
