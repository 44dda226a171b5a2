import Testing
@testable import HTTPAuth

@Suite struct SHA256Tests {
    // FIPS 180-4 examples (via NIST CSRC "SHA256.pdf").
    @Test func fipsVectors() {
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(hex(SHA256.hash([UInt8](repeating: 0x61, count: 1_000_000)))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func streamingMatchesOneShot() {
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var s = SHA256()
        for chunk in stride(from: 0, to: data.count, by: 37) { s.update(Array(data[chunk..<min(chunk + 37, data.count)])) }
        #expect(s.finish() == SHA256.hash(data))
    }

    // RFC 4231 test cases 1, 2 and 6 (key longer than the block).
    @Test func hmacRFC4231() {
        #expect(hex(HMAC.sha256(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8)))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(hex(HMAC.sha256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(hex(HMAC.sha256(key: [UInt8](repeating: 0xaa, count: 131),
                                message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    // RFC 6070-style vectors for PBKDF2-HMAC-SHA256 (as published in RFC 7914 §11 and widely reproduced).
    @Test func pbkdf2Vectors() {
        #expect(hex(PBKDF2.sha256(password: Array("password".utf8), salt: Array("salt".utf8), iterations: 1))
                == "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b")
        #expect(hex(PBKDF2.sha256(password: Array("password".utf8), salt: Array("salt".utf8), iterations: 2))
                == "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43")
        #expect(hex(PBKDF2.sha256(password: Array("password".utf8), salt: Array("salt".utf8), iterations: 4096))
                == "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a")
        #expect(hex(PBKDF2.sha256(password: Array("passwordPASSWORDpassword".utf8),
                                  salt: Array("saltSALTsaltSALTsaltSALTsaltSALTsalt".utf8), iterations: 4096, length: 40))
                == "348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1c635518c7dac47e9")
        // RFC 7914 §11: P="passwd", S="salt", c=1, dkLen=64.
        #expect(hex(PBKDF2.sha256(password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1, length: 64))
                == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
    }
}

@Suite struct PasswordHashTests {
    @Test func roundTripAndSalting() {
        let a = PasswordHash.make(password: "correct horse", iterations: 1000)
        let b = PasswordHash.make(password: "correct horse", iterations: 1000)
        #expect(a != b)   // per-user random salt
        #expect(a.hasPrefix("pbkdf2-sha256$1000$"))
        #expect(!a.contains("correct"))
        #expect(PasswordHash.verify(password: "correct horse", against: a))
        #expect(!PasswordHash.verify(password: "correct horsE", against: a))
        #expect(!PasswordHash.verify(password: "", against: "garbage"))
        #expect(!PasswordHash.verify(password: "x", against: "pbkdf2-sha256$0$00$00"))
    }

    @Test func defaultIterationCountIsOWASPs() {
        #expect(PasswordHash.defaultIterations >= 600_000)
        #expect(PasswordHash.make(password: "p", iterations: 2).split(separator: "$").count == 4)
    }

    @Test func olderHashesVerifyAndAskToBeRehashed() {
        // A hash at the cost Corral used before (150k); the RFC vectors above show swift-crypto derives the same bytes
        // the hand-written PBKDF2 did, so stored hashes keep verifying.
        let before = PasswordHash.make(password: "correct horse", iterations: 150_000)
        #expect(PasswordHash.verify(password: "correct horse", against: before))
        #expect(PasswordHash.iterations(of: before) == 150_000)
        #expect(PasswordHash.needsRehash(before))
        #expect(!PasswordHash.needsRehash(PasswordHash.make(password: "x", iterations: PasswordHash.defaultIterations)))
        #expect(PasswordHash.needsRehash("not ours"))
    }
}
