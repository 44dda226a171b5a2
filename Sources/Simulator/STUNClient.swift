import CWMP
import Foundation
import NIOCore
import NIOPosix
import STUN

/// A virtual CPE's TR-111 side: one UDP socket that is both its STUN client port and its UDP connection-request
/// port. It keeps its NAT binding alive, reports the mapped address as UDPConnectionRequestAddress (notifying the ACS
/// when it changes) and takes Annex G connection requests exactly as a CPE must.
final class STUNClient: @unchecked Sendable {
    let cpe: VirtualCPE
    let server: Endpoint
    let keepAlive: ClosedRange<Double>
    let onWake: @Sendable (VirtualCPE) -> Void
    let stats: SimulatorStats
    private let lock = NSLock()
    private var channel: Channel?
    private var mapped: Endpoint?
    private var changePending = false
    private var answeredAt: Double = 0
    private var replayGuard = UDPConnectionRequestGuard()
    private var loop: Task<Void, Never>?
    private(set) var localPort = 0

    init(cpe: VirtualCPE, server: Endpoint, keepAlive: ClosedRange<Double>, stats: SimulatorStats, onWake: @escaping @Sendable (VirtualCPE) -> Void) {
        self.cpe = cpe; self.server = server; self.keepAlive = keepAlive; self.stats = stats; self.onWake = onWake
    }

    func start(host: String) async throws {
        let ch = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { [weak self] ch in
                ch.eventLoop.makeCompletedFuture {
                    guard let self else { return }
                    try ch.pipeline.syncOperations.addHandler(Inbound(client: self))
                }
            }
            .bind(host: host, port: 0).get()
        let port = ch.localAddress?.port ?? 0
        lock.withLock { channel = ch; localPort = port }
        loop = Task { [weak self] in await self?.run() }
    }

    func stop() async {
        loop?.cancel()
        _ = await loop?.value
        let ch = lock.withLock { channel }
        try? await ch?.close()
    }

    private func run() async {
        while !Task.isCancelled {
            let sentAt = Date().timeIntervalSince1970
            await sendBindingRequest()
            // No answer within a second: retransmit soon (RFC 3489 retransmits too); else wait a keep-alive period.
            try? await Task.sleep(for: .milliseconds(1000))
            let answered = lock.withLock { answeredAt >= sentAt }
            guard answered else { continue }
            let wait = Double.random(in: keepAlive) - 1
            if wait > 0 { try? await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
        }
    }

    func sendBindingRequest() async {
        guard cpe.stunEnabled, let ch = lock.withLock({ channel }) else { return }
        var attrs = [STUNMessage.Attribute(type: STUNMessage.AttributeType.connectionRequestBinding, value: Array(STUNMessage.tr111Binding.utf8))]
        if lock.withLock({ changePending }) { attrs.append(.init(type: STUNMessage.AttributeType.bindingChange, value: [])) }
        let tid = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let m = STUNMessage(type: STUNMessage.MessageType.bindingRequest.rawValue, rfc5389: false, transactionID: tid, attributes: attrs)
        guard let address = try? SocketAddress(ipAddress: server.host, port: Int(server.port)) else { return }
        try? await ch.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: ch.allocator.buffer(bytes: m.encode())))
    }

    fileprivate func received(_ bytes: [UInt8]) {
        if bytes.count >= 20, bytes[0] == 0x01, bytes[1] == 0x01, let m = try? STUNMessage.decode(bytes) {
            bindingResponse(m)
        } else if let request = try? UDPConnectionRequest.parse(bytes) {
            connectionRequest(request)
        }
    }

    private func bindingResponse(_ m: STUNMessage) {
        let e = m.attribute(STUNMessage.AttributeType.xorMappedAddress).flatMap { Endpoint.fromXorMappedAddress($0.value, transactionID: m.transactionID) }
            ?? m.attribute(STUNMessage.AttributeType.mappedAddress).flatMap { Endpoint.fromMappedAddress($0.value) }
        guard let e else { return }
        let (changed, hadOne, local) = lock.withLock { () -> (Bool, Bool, Int) in
            answeredAt = Date().timeIntervalSince1970
            let before = mapped
            mapped = e
            if before == e { changePending = false }
            return (before != e, before != nil, localPort)
        }
        guard changed else { return }
        if hadOne {
            // TR-111: the next Binding Request carries BINDING-CHANGE; send it now rather than at the next keep-alive.
            lock.withLock { changePending = true }
            Task { await self.sendBindingRequest() }
        }
        let natDetected = !(e.port == UInt16(local) && cpe.localAddress == e.host)
        if cpe.mappedAddressChanged(to: e.description, natDetected: natDetected) { onWake(cpe) }
    }

    private func connectionRequest(_ r: UDPConnectionRequest) {
        let (user, pass) = cpe.connectionRequestCredentials
        let outcome = lock.withLock { replayGuard.check(r, username: user, password: pass) }
        guard outcome == .accept else {
            if outcome != .duplicate { stats.recordConnectionRequest(accepted: false) }
            return
        }
        stats.recordConnectionRequest(accepted: true)
        cpe.addEvent(EventStruct(EventCode.connectionRequest))
        onWake(cpe)
    }

    private final class Inbound: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        weak var client: STUNClient?
        init(client: STUNClient) { self.client = client }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            client?.received(Array(unwrapInboundIn(data).data.readableBytesView))
        }
        func errorCaught(context: ChannelHandlerContext, error: Error) {}
    }
}
