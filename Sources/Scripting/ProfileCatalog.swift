import ACSCore
import Foundation

/// The profiles `serve` runs, replaceable while it serves (a reload after a file change, SIGHUP or an upload): every
/// reader takes the current snapshot when it needs one, so a session that started keeps the scripts it started with
/// and the next one gets the new ones.
public final class ProfileCatalog: @unchecked Sendable {
    public struct Snapshot: Sendable {
        public let library: ProfileLibrary
        /// Session VMs with the library's hooks; nil where nothing runs scripts (some tests).
        public let engine: ScriptEngine?
        public var registry: ProfileRegistry { library.registry }
    }

    private let lock = NSLock()
    private var snapshot: Snapshot

    public init(library: ProfileLibrary, engine: ScriptEngine?) { snapshot = Snapshot(library: library, engine: engine) }

    public var current: Snapshot { lock.withLock { snapshot } }
    public var registry: ProfileRegistry { current.library.registry }

    public func replace(library: ProfileLibrary, engine: ScriptEngine?) {
        lock.withLock { snapshot = Snapshot(library: library, engine: engine) }
    }
}
