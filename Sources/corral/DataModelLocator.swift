import DataModel
import Foundation

/// Where the BBF data-model files are when `corral sim` or `corral task` runs outside the repository
/// (`ModelSchemas.locate`: the working directory, beside or above the binary, an installed share directory).
enum DataModelLocator {
    static func candidates() -> [String] {
        ["./datamodels", "datamodels/ beside or above the corral binary", "<prefix>/share/corral/datamodels",
         "/usr/share/corral/datamodels", "/usr/local/share/corral/datamodels"]
    }

    static func find() -> String? { ModelSchemas.locate() }
}
