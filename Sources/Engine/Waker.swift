import ACSCore
import CWMP
import Foundation
import STUN
import Storage
import XMPP

/// Tells whether a device opened a session since a moment: in `serve` from the session table, in the CLI from the
/// store.
public protocol SessionWatch: Sendable {
    func sessionOpened(deviceID: Int64, since: Double) -> Bool
    /// How often a waiting wake-up asks (a memory lookup can be asked often, a store read less so).
    var pollInterval: Duration { get }
}

/// The last session start per device, kept by the CWMP service (in memory, for wake-ups in this process).
public final class SessionOpenLog: SessionWatch, @unchecked Sendable {
    private let lock = NSLock()
    private var opened: [Int64: Double] = [:]
    public init() {}
    func record(_ deviceID: Int64, at: Double) {
        lock.withLock {
            if opened.count > 2_000_000 { opened.removeAll() }
            opened[deviceID] = at
        }
    }
    public func sessionOpened(deviceID: Int64, since: Double) -> Bool { lock.withLock { (opened[deviceID] ?? 0) >= since } }
    public var pollInterval: Duration { .milliseconds(2) }
}

/// For a process without the CWMP service (the CLI): an Inform carrying 6 CONNECTION REQUEST stored since then.
public struct StoreSessionWatch: SessionWatch {
    let store: CorralStore
    public init(store: CorralStore) { self.store = store }
    public var pollInterval: Duration { .milliseconds(20) }
    public func sessionOpened(deviceID: Int64, since: Double) -> Bool {
        guard let last = try? store.informs(deviceID: deviceID, limit: 1).first else { return false }
        return Double(last.at) >= since.rounded(.down) && last.events.contains(EventCode.connectionRequest)
    }
}

/// How UDP connection requests leave: from the running STUN server's socket, or (CLI) a socket sharing its port.
public enum UDPRoute: Sendable {
    case server(STUNServer)
    case sharedPort(Int)
}

/// Wakes a device by the best method it has, in its profile's order, falling back when one gives no session.
public struct Waker: Sendable {
    let store: CorralStore
    let udp: UDPRoute?
    /// Corral's XMPP session (nil: no XMPP configured).
    let xmpp: XMPPService?
    let watch: SessionWatch
    /// Read at each wake-up: profiles reload while serving.
    let currentProfiles: @Sendable () -> ProfileRegistry
    var profiles: ProfileRegistry { currentProfiles() }
    public let log: WakeLog
    /// How long a UDP connection request (which has no answer) may take to bring a session before the next method.
    public var udpTimeout: Double = 3
    /// How long a device that accepted an XMPP connection request may take to open its session.
    public var xmppSessionTimeout: Double = 3
    /// Counts and times each method tried (the server's metrics; nil in the CLI).
    public var metrics: CorralMetrics?

    public init(store: CorralStore, udp: UDPRoute?, xmpp: XMPPService? = nil, watch: SessionWatch,
                profiles: @escaping @Sendable () -> ProfileRegistry, log: WakeLog = WakeLog()) {
        self.store = store; self.udp = udp; self.xmpp = xmpp; self.watch = watch; self.currentProfiles = profiles; self.log = log
    }

    public init(store: CorralStore, udp: UDPRoute?, xmpp: XMPPService? = nil, watch: SessionWatch, profiles: ProfileRegistry,
                log: WakeLog = WakeLog()) {
        self.init(store: store, udp: udp, xmpp: xmpp, watch: watch, profiles: { profiles }, log: log)
    }

    public var availableMethods: Set<WakeMethod> {
        var m: Set<WakeMethod> = [.http]
        if udp != nil { m.insert(.udp) }
        if xmpp != nil { m.insert(.xmpp) }
        return m
    }

    public func facts(for device: Device) -> ReachabilityFacts {
        let root = device.dataModel == .tr098 ? "InternetGatewayDevice." : "Device."
        let values = ((try? store.parameters(deviceID: device.id, prefix: root + "ManagementServer.")) ?? [])
            .reduce(into: [String: String]()) { $0[$1.path] = $1.value }
        return ReachabilityFacts.from(values: values, root: root, connectionRequestURL: device.connectionRequestURL)
    }

    /// Tries the device's methods in order; returns what happened (also kept in `log`).
    public func wake(_ device: Device, order forced: [WakeMethod]? = nil) async -> WakeAttempt {
        let facts = facts(for: device)
        let order = forced ?? profiles.profile(named: device.profile)?.wakeOrder ?? WakeMethod.defaultOrder
        let start = Date().timeIntervalSince1970
        var attempt = WakeAttempt(deviceID: device.id, at: Int64(start), tried: [], woke: nil, millis: 0)
        let methods = facts.methods(order: order, available: availableMethods)
        if methods.isEmpty {
            attempt.tried.append(WakeTry(method: .http, outcome: "\(device.name) has not reported a ConnectionRequestURL or UDP address yet", millis: 0))
        }
        for m in methods {
            let t0 = Date().timeIntervalSince1970
            let outcome = await attemptOne(m, device: device, facts: facts, since: t0)
            let ms = Int((Date().timeIntervalSince1970 - t0) * 1000)
            attempt.tried.append(WakeTry(method: m, outcome: outcome, millis: ms))
            metrics?.connectionRequest(attempt.tried[attempt.tried.count - 1])
            if outcome == "woke" {
                attempt.woke = m
                break
            }
        }
        attempt.millis = Int((Date().timeIntervalSince1970 - start) * 1000)
        log.record(attempt)
        return attempt
    }

    /// `wake`, throwing when nothing woke the device (for callers that report an error).
    public func wakeOrThrow(_ device: Device) async throws -> WakeAttempt {
        let a = await wake(device)
        guard a.woke != nil else { throw WakeFailure(attempt: a, device: device.name) }
        return a
    }

    private func attemptOne(_ m: WakeMethod, device: Device, facts: ReachabilityFacts, since: Double) async -> String {
        switch m {
        case .http:
            do {
                try await ConnectionRequester.send(to: device, allowedNetworks: profiles.profile(named: device.profile)?.connectionRequestNetworks ?? [])
                return "woke"
            } catch {
                return "\(error)"
            }
        case .udp:
            var address = facts.udpAddress
            // A CPE whose NAT mapping just changed reports the new one in a VALUE CHANGE Inform: if that arrives while
            // we wait, the request went to the old mapping, so it is sent once more to the new one.
            for round in 0..<2 {
                if let outcome = await sendUDP(to: address, device: device) { return outcome }
                let deadline = Date().timeIntervalSince1970 + udpTimeout
                while Date().timeIntervalSince1970 < deadline {
                    if watch.sessionOpened(deviceID: device.id, since: since) { return "woke" }
                    try? await Task.sleep(for: watch.pollInterval)
                }
                let now = self.facts(for: device).udpAddress
                guard round == 0, !now.isEmpty, now != address else { break }
                address = now
            }
            return "no session within \(String(format: "%g", udpTimeout)) s"
        case .xmpp:
            guard let xmpp else { return "XMPP is not configured" }
            let outcome = await xmpp.connectionRequest(to: facts.jabberID, username: device.connectionRequestUsername,
                                                       password: device.connectionRequestPassword)
            guard outcome == .accepted else { return "\(facts.jabberID): \(outcome)" }
            // The device accepted; it counts as woken once its session opens.
            let deadline = Date().timeIntervalSince1970 + xmppSessionTimeout
            while Date().timeIntervalSince1970 < deadline {
                if watch.sessionOpened(deviceID: device.id, since: since) { return "woke" }
                try? await Task.sleep(for: watch.pollInterval)
            }
            return "\(facts.jabberID) accepted, but no session within \(String(format: "%g", xmppSessionTimeout)) s"
        }
    }
}

extension Waker {
    /// Sends one UDP connection request; nil when sent, else why not.
    func sendUDP(to address: String, device: Device) async -> String? {
        guard let target = Endpoint(address) else { return "UDPConnectionRequestAddress '\(address)' is not ip:port" }
        // Annex G receivers drop a request whose ts is not newer than the last one they took. The last one they took
        // is at most the second of the last Inform it caused, so one past that is always accepted (also when another
        // process, e.g. `corral task --now`, sent the last one within this second).
        let lastCR = (try? store.informs(deviceID: device.id, limit: 5))?.first { $0.events.contains(EventCode.connectionRequest) }
        let floor = lastCR.map { UInt64(max(0, $0.at)) + 1 } ?? 0
        do {
            switch udp {
            case .server(let s)?:
                try await s.sendConnectionRequest(to: target, deviceID: device.id, username: device.connectionRequestUsername,
                                                  password: device.connectionRequestPassword, notBefore: floor)
            case .sharedPort(let p)?:
                try await STUNSender.sendConnectionRequest(fromPort: p, to: target, username: device.connectionRequestUsername,
                                                           password: device.connectionRequestPassword, notBefore: floor)
            case nil:
                return "no STUN socket"
            }
        } catch {
            return "send to \(target) failed: \(error)"
        }
        return nil
    }
}

public struct WakeFailure: Error, CustomStringConvertible {
    public let attempt: WakeAttempt
    public let device: String
    public var description: String {
        attempt.tried.count == 1 ? attempt.tried[0].outcome : "\(device) could not be woken: " + attempt.summary
    }
}

/// The last wake-up of each device and counters per method (shown on the device, in the API and in /metrics).
public final class WakeLog: @unchecked Sendable {
    private let lock = NSLock()
    private var last: [Int64: WakeAttempt] = [:]
    private var woken: [WakeMethod: Int] = [:]
    private var failed = 0
    public init() {}
    func record(_ a: WakeAttempt) {
        lock.withLock {
            if last.count > 1_000_000 { last.removeAll() }
            last[a.deviceID] = a
            if let m = a.woke { woken[m, default: 0] += 1 } else { failed += 1 }
        }
    }
    public func last(deviceID: Int64) -> WakeAttempt? { lock.withLock { last[deviceID] } }
    public var counts: (woken: [WakeMethod: Int], failed: Int) { lock.withLock { (woken, failed) } }
}
