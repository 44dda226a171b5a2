// libFuzzer harness: the STUN codec and the responder that answers the Internet (scripts/fuzz stun).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let source = Endpoint(ip: [192, 0, 2, 1], port: 3478)
    _ = STUNResponder.respond(to: bytes, from: source)
    _ = STUNResponder.respond(to: bytes, from: source, requireIntegrity: true, key: { _ in Array("key".utf8) })
    return 0
}
