import NIOCore
import NIOHTTP1

/// A response body written while it is produced (Server-Sent Events). It has no Content-Length (chunked), and the
/// connection closes when `produce` returns. The handler runs no timer meanwhile: the producer decides how long.
public struct StreamBody: Sendable {
    public let produce: @Sendable (StreamWriter) async -> Void
    public init(_ produce: @escaping @Sendable (StreamWriter) async -> Void) { self.produce = produce }
}

/// Writes a streamed body's chunks. A client that does not read holds the writer back (each write waits until the
/// socket took the bytes) for at most `stallTimeout`; then the connection is closed and writes answer false.
public final class StreamWriter: Sendable {
    let channel: Channel
    let stallTimeout: TimeAmount

    init(channel: Channel, stallTimeout: TimeAmount) {
        self.channel = channel
        self.stallTimeout = stallTimeout
    }

    /// False once the client is gone (or was dropped for not reading): stop producing then.
    public var isOpen: Bool { channel.isActive }

    /// Sends one chunk; false when the connection is closed.
    @discardableResult
    public func write(_ bytes: [UInt8]) async -> Bool {
        guard channel.isActive else { return false }
        let promise = channel.eventLoop.makePromise(of: Void.self)
        let channel = self.channel
        let part = HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: bytes)))
        channel.writeAndFlush(part, promise: promise)
        let stall = channel.eventLoop.scheduleTask(in: stallTimeout) { channel.close(promise: nil) }
        defer { stall.cancel() }
        do {
            try await promise.futureResult.get()
            return true
        } catch {
            return false
        }
    }

    /// A future that completes when the connection closes (a producer waiting for news can wake on it).
    public var closed: EventLoopFuture<Void> { channel.closeFuture }
}
