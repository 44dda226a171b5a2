// libFuzzer harness: the Authorization and WWW-Authenticate parsers (Digest, Basic, auth-params) (scripts/fuzz auth).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if case .digest(let c)? = AuthorizationHeader.parse(text) {
        _ = Digest.verify(credentials: c, ha1: "00000000000000000000000000000000", method: "POST")
    }
    _ = AuthParams.parse(text)
    _ = DigestChallenge.parse(text)
    _ = BasicCredentials.parse(text)
    return 0
}
