import HTTPAuth
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// File work off the event loops: opens, writes and deletes run on NIO's blocking pool.
enum FileWork {
    static let io = NonBlockingFileIO(threadPool: .singleton)

    static func remove(_ path: String, loop: EventLoop) {
        _ = NIOThreadPool.singleton.runIfActive(eventLoop: loop) { _ = unlink(path) }
    }

    /// ENOSPC / EDQUOT: the disk (or the user's quota) is full.
    static func isDiskFull(_ error: Error) -> Bool {
        guard let e = error as? IOError else { return false }
        return e.errnoCode == ENOSPC || e.errnoCode == EDQUOT
    }
}

/// A request body written to a file as it arrives, hashed on the way. Confined to its connection's event loop
/// (hence unchecked Sendable: every callback runs there); one write is in flight at a time (chained), and `pending`
/// lets the connection stop reading while the disk is behind.
final class BodySpool: @unchecked Sendable {
    let path: String
    private let loop: EventLoop
    private var handle: NIOFileHandle?
    private var tail: EventLoopFuture<Void>
    private var hasher = SHA256()
    private(set) var size: Int64 = 0
    /// Bytes received but not yet on disk.
    private(set) var pending = 0
    /// The first failed open or write: the upload is refused as soon as it is seen, not at its end.
    private(set) var error: Error?
    private var closed = false

    init(directory: String, loop: EventLoop) {
        var g = SystemRandomNumberGenerator()
        let name = (0..<2).map { _ in String(g.next() as UInt64, radix: 16) }.joined()
        path = (directory.hasSuffix("/") ? directory : directory + "/") + "spool-\(name).part"
        self.loop = loop
        tail = loop.makeSucceededVoidFuture()
        tail = FileWork.io.openFile(_deprecatedPath: path, mode: .write, flags: .posix(flags: O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600),
                                    eventLoop: loop)
            .map { [self] h in
                if closed { try? h.close() } else { handle = h }
            }
        tail.whenFailure { [self] e in if error == nil { error = e } }
    }

    /// Queues a chunk; `written` runs on the loop once it is on disk (or failed: see `error`).
    func append(_ chunk: ByteBuffer, written: @escaping @Sendable () -> Void) {
        chunk.withUnsafeReadableBytes { hasher.update(Array($0)) }
        let n = chunk.readableBytes
        size += Int64(n)
        pending += n
        let loop = self.loop
        tail = tail.flatMap { [self] in
            guard let handle else { return loop.makeFailedFuture(ChannelError.ioOnClosedChannel) }
            return FileWork.io.write(fileHandle: handle, buffer: chunk, eventLoop: loop)
        }
        tail.whenComplete { [self] r in
            pending -= n
            if case .failure(let e) = r, error == nil { error = e }
            written()
        }
    }

    /// Every byte on disk and the file closed: the body, or the first write error.
    func finish() -> EventLoopFuture<SpooledBody> {
        tail.flatMapThrowing { [self] in
            closed = true
            try handle?.close()
            handle = nil
            return SpooledBody(path: path, size: size, sha256: hasher.finish())
        }
    }

    /// Abandoned (connection lost, limit passed, write failed): closed and removed once the last write is done.
    func discard() {
        tail.whenComplete { [self] _ in
            closed = true
            try? handle?.close()
            handle = nil
            FileWork.remove(path, loop: loop)
        }
    }
}

/// Sends a `FileBody` on a connection: regions of 128 KiB by sendfile over plain TCP, 64 KiB chunks read on the
/// blocking pool over TLS (which must encrypt every byte), each after the previous one is written.
enum FileSender {
    /// Small enough that a slow CPE (≥ 4.4 KB/s) shows progress within the 30 s stall timeout.
    static let regionBytes: Int64 = 128 << 10
    static let tlsChunk = 64 << 10

    static func part(_ io: IOData) -> NIOAny { NIOAny(HTTPServerResponsePart.body(io)) }

    /// Opens the file and checks it holds the range before anything is written: `start` then writes the head (nil
    /// here: the file is missing or shorter, and the caller answers with an error instead). `progress` runs after each
    /// piece (a stall timer re-arms on it); `done(true)` once all of it went out. All on the context's loop.
    static func send(_ file: FileBody, tls: Bool, context: ChannelHandlerContext,
                     start: @escaping @Sendable (Bool) -> Void,
                     progress: @escaping @Sendable () -> Void, done: @escaping @Sendable (Bool) -> Void) {
        let loop = context.eventLoop
        let bound = NIOLoopBound(context, eventLoop: loop)
        let allocator = context.channel.allocator
        let opened = FileWork.io.openFile(_deprecatedPath: file.path, mode: .read, eventLoop: loop).flatMapThrowing { h -> NIOFileHandle in
            // The range must be there now: a short file would end the body early on a connection kept alive.
            let size = try h.withUnsafeFileDescriptor { fd -> Int64 in
                var st = stat()
                guard fstat(fd, &st) == 0 else { throw IOError(errnoCode: errno, reason: "fstat") }
                return Int64(st.st_size)
            }
            guard file.offset >= 0, file.length >= 0, file.offset + file.length <= size else {
                try? h.close()
                throw IOError(errnoCode: EINVAL, reason: "file shorter than the range")
            }
            return h
        }
        opened.whenFailure { _ in start(false) }
        opened.whenSuccess { handle in
            start(true)
            let end = file.offset + file.length
            @Sendable func finish(_ ok: Bool) {
                try? handle.close()
                done(ok)
            }
            if tls {
                FileWork.io.readChunked(fileHandle: handle, fromOffset: file.offset, byteCount: Int(file.length), chunkSize: tlsChunk,
                                        allocator: allocator, eventLoop: loop) { chunk in
                    let w = bound.value.writeAndFlush(part(.byteBuffer(chunk)))
                    w.whenSuccess { progress() }
                    return w
                }.whenComplete { r in
                    if case .success = r { finish(true) } else { finish(false) }
                }
                return
            }
            @Sendable func region(from: Int64) {
                guard from < end else { finish(true); return }
                let to = min(from + regionBytes, end)
                let r = FileRegion(fileHandle: handle, readerIndex: Int(from), endIndex: Int(to))
                bound.value.writeAndFlush(part(.fileRegion(r))).whenComplete { result in
                    switch result {
                    case .success:
                        progress()
                        // Through the loop, not recursion: a fast socket would otherwise grow the stack per region.
                        loop.execute { region(from: to) }
                    case .failure:
                        finish(false)
                    }
                }
            }
            region(from: file.offset)
        }
    }
}
