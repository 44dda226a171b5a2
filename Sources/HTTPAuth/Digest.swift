// API of HTTP authentication. STUB: replaced by the real implementation.
public enum MD5 {
    public static func hash(_ bytes: [UInt8]) -> [UInt8] { fatalError("stub") }
    public static func hex(_ string: String) -> String { fatalError("stub") }
}
