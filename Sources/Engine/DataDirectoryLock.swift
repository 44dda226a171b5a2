import Foundation

/// One `corral serve` per data directory: an exclusive flock on `<data>/serve.lock`, held while the server lives (the
/// kernel drops it when the process dies, so a crash leaves nothing to clean up). The file names the holder's pid.
final class DataDirectoryLock: @unchecked Sendable {
    private var fd: Int32

    init(directory: String) throws {
        let path = (directory as NSString).appendingPathComponent("serve.lock")
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ConfigError("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            fd = -1
            throw ConfigError("another corral serve is using the data directory \(directory)\(holder.isEmpty ? "" : " (pid \(holder))"): one server per data directory")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    func release() {
        guard fd >= 0 else { return }
        close(fd)  // closing the descriptor drops the flock
        fd = -1
    }

    deinit { release() }
}
