// libFuzzer harness: the CWMP decoder, as the CWMP port and the simulator meet it (scripts/fuzz cwmp).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? CWMPDecoder.decode(bytes, from: .cpe)
    _ = try? CWMPDecoder.decode(bytes, from: .acs)
    return 0
}
