import Foundation

/// Where the BBF data-model files are when `corral sim` runs outside the repository: beside the binary, above it
/// (a build tree: .build/debug/corral), or an installed share directory.
enum DataModelLocator {
    static let marker = "tr-181-2-19-1-cwmp-full.xml"

    static func candidates() -> [String] {
        var out = ["datamodels"]
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        var dir = binary
        for _ in 0..<5 {
            out.append(dir.appendingPathComponent("datamodels").path)
            dir = dir.deletingLastPathComponent()
        }
        out.append(binary.deletingLastPathComponent().appendingPathComponent("share/corral/datamodels").path)
        out += ["/usr/share/corral/datamodels", "/usr/local/share/corral/datamodels"]
        return out
    }

    static func find() -> String? {
        candidates().first { FileManager.default.fileExists(atPath: ($0 as NSString).appendingPathComponent(marker)) }
    }
}
