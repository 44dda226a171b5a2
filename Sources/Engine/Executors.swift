import Foundation
import NetHTTP

/// Where blocking work runs, so that NIO's event loops only move bytes: CWMP sessions (libxml2 decoding, the session
/// machine, SQLite reads), operator requests (API, pages, exports, file hashing), and Lua (session hooks, campaigns)
/// on a lower-priority pool of its own, so that a runaway script delays scripts, not sessions. Process-wide.
/// Reports run on the API's ScriptWorker thread, password hashing on PasswordWorker's, SQLite writes on the writer's.
public enum Executors {
    static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Threads block on SQLite reads and fsync'd writes' replies, so a few more than cores.
    public static let cwmp = ThreadPoolExecutor(name: "corral-cwmp", threads: max(4, 2 * cores))
    public static let api = ThreadPoolExecutor(name: "corral-api", threads: max(4, 2 * cores))
    /// Niceness 10: the kernel gives these threads about a tenth of the CPU weight of the others when both want it.
    public static let scripts = ThreadPoolExecutor(name: "corral-lua", threads: cores, niceness: 19)
}

/// Carries a value that one session owns across an executor hop (the session is serialised: only one request of a
/// CPE is processed at a time, so nothing else touches it meanwhile).
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
