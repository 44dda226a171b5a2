import Foundation
import NIOConcurrencyHelpers
import Storage

/// Wake-ups on a node that shares the database with others: the woken device's session may open on any node. This
/// node's own sessions are seen in memory at once; the others' through the store (the device's Inform carrying
/// 6 CONNECTION REQUEST), read at most every `storeInterval` per device.
public final class ClusterSessionWatch: SessionWatch, @unchecked Sendable {
    let local: SessionOpenLog
    let store: StoreSessionWatch
    let storeInterval: Double
    private let lastRead = NIOLockedValueBox<[Int64: Double]>([:])

    public init(local: SessionOpenLog, store: CorralStore, storeInterval: Double = 0.05) {
        self.local = local
        self.store = StoreSessionWatch(store: store)
        self.storeInterval = storeInterval
    }

    public var pollInterval: Duration { local.pollInterval }

    public func sessionOpened(deviceID: Int64, since: Double) -> Bool {
        if local.sessionOpened(deviceID: deviceID, since: since) { return true }
        let now = Date().timeIntervalSince1970
        let due = lastRead.withLockedValue { last -> Bool in
            if let t = last[deviceID], now - t < storeInterval { return false }
            if last.count > 100_000 { last.removeAll() }
            last[deviceID] = now
            return true
        }
        return due && store.sessionOpened(deviceID: deviceID, since: since)
    }
}
