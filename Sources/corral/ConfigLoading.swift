import Engine
import Foundation

enum ConfigLoading {
    /// Defaults, then the config file, then the environment, then command-line options (applied by the caller).
    static func load(_ options: StoreOptions) throws -> CorralConfig {
        var config = CorralConfig()
        let env = ProcessInfo.processInfo.environment
        if let data = options.data ?? env["CORRAL_DATA"] { config.dataDirectory = data }
        if let file = options.config {
            try config.merge(file: file, required: true)
        } else {
            try config.merge(file: (config.dataDirectory as NSString).appendingPathComponent("corral.json"), required: false)
        }
        try config.merge(environment: env)
        if let data = options.data { config.dataDirectory = data }
        if let url = options.database { config.databaseURL = url }
        return config
    }
}
