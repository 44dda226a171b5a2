// libFuzzer harness: the incremental XMPP stream parser, fed in two pieces (scripts/fuzz xmpp).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var parser = XMLStreamParser()
    let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    do {
        _ = try parser.feed(bytes[..<cut])
        _ = try parser.feed(bytes[cut...])
    } catch {}
    return 0
}
