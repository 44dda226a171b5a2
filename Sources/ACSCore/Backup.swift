/// A file a CPE uploaded to Corral (Upload RPC): a configuration backup or a log.
public struct Backup: Sendable, Equatable {
    public var id: Int64 = 0
    public var deviceID: Int64
    public var taskID: Int64
    /// "1 Vendor Configuration File", "2 Vendor Log File" (or "3 …"/"4 …" with an instance, TR-069 A.4.1.5).
    public var fileType: String
    public var size: Int64
    public var sha256: String
    public var createdAt: Int64

    public init(deviceID: Int64, taskID: Int64, fileType: String, size: Int64, sha256: String, createdAt: Int64) {
        self.deviceID = deviceID; self.taskID = taskID; self.fileType = fileType; self.size = size; self.sha256 = sha256; self.createdAt = createdAt
    }

    public static let configType = "1 Vendor Configuration File"
    public static let logType = "2 Vendor Log File"
    /// The FileType of a Download that restores a configuration.
    public static let restoreType = "3 Vendor Configuration File"
    /// Files kept per device; older ones go when a new one arrives.
    public static let keepPerDevice = 50
    /// Largest file a CPE may upload.
    public static let maxBytes = 32 << 20

    public var isConfiguration: Bool { fileType.hasPrefix("1 ") || fileType.hasPrefix("3 ") }

    /// "config" / "log" as people and the API say it; a TR-069 FileType passes through.
    public static func fileType(_ name: String) -> String? {
        switch name {
        case "config", "configuration": configType
        case "log": logType
        default: name.first?.isNumber == true && name.count <= 64 ? name : nil
        }
    }
}
