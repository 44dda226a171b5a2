import Foundation

/// Runs a command to completion and returns its exit status and output (stdout and stderr, through a temporary
/// file). posix_spawn + waitpid rather than Foundation's Process: Process.waitUntilExit was seen to miss the exit of a
/// command that left a daemon behind (scripts/xmpp-lab starts prosody, pg_ctl a PostgreSQL server) and hang the
/// suite; a file, unlike a pipe, never waits for a daemon that inherited it.
public func runCommand(_ args: [String], env: [String: String] = [:]) throws -> (status: Int32, output: String) {
    let log = NSTemporaryDirectory() + "corral-cmd-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: log) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let environment = ProcessInfo.processInfo.environment.merging(env) { $1 }.map { "\($0.key)=\($0.value)" }
    func cStrings(_ s: [String]) -> [UnsafeMutablePointer<CChar>?] { s.map { strdup($0) } + [nil] }
    let argv = cStrings(args), envp = cStrings(environment)
    defer { (argv + envp).forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, args[0], &actions, nil, argv, envp)
    guard rc == 0 else { throw SpawnError(description: "cannot run \(args[0]): \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    // WIFEXITED / WEXITSTATUS are macros: exit code in bits 8-15 when the low 7 bits are 0.
    let exited = status & 0x7f == 0
    return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), output)
}

public struct SpawnError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Free loopback TCP ports for servers the tests start.
public enum Ports {
    /// One the kernel picks (in its ephemeral range).
    public static func free() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw SpawnError(description: "no free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// One below Linux's ephemeral range (32768-60999), for a server a test restarts on the same port: a port the
    /// kernel handed out as ephemeral can be taken by an outgoing connection between stop and restart.
    public static func restartable() throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 20_000..<32_000)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            if rc == 0 { return port }
        }
        throw SpawnError(description: "no free port in 20000-32000")
    }
}
