import Testing
@testable import ACSCore

@Suite struct AlertTransitionsTests {
    func open(_ id: Int64, _ state: AlertState, since: Int64) -> AlertRecord {
        AlertRecord(name: "r", deviceID: id, severity: .major, state: state, since: since)
    }

    @Test func pendingThenRaisedThenCleared() {
        // New holders: pending with a hold, raised at once without.
        #expect(AlertTransitions.plan(holding: [3, 1], open: [], hold: 60, now: 100) == [.pending(deviceID: 1, since: 100), .pending(deviceID: 3, since: 100)])
        #expect(AlertTransitions.plan(holding: [1], open: [], hold: 0, now: 100) == [.raise(deviceID: 1, since: 100)])
        // Still holding: raised once the hold has passed, from when it started.
        #expect(AlertTransitions.plan(holding: [1], open: [open(1, .pending, since: 100)], hold: 60, now: 159).isEmpty)
        #expect(AlertTransitions.plan(holding: [1], open: [open(1, .pending, since: 100)], hold: 60, now: 160) == [.raise(deviceID: 1, since: 100)])
        // Active and still holding: nothing; stopped holding: cleared (pending or active alike).
        #expect(AlertTransitions.plan(holding: [1], open: [open(1, .active, since: 100)], hold: 60, now: 500).isEmpty)
        #expect(AlertTransitions.plan(holding: [], open: [open(1, .active, since: 100), open(2, .pending, since: 400)], hold: 60, now: 500)
                == [.clear(deviceID: 1), .clear(deviceID: 2)])
    }

    @Test func namesAndSeverities() {
        #expect(AlertRecord.validName("lte.rssi-weak_2"))
        #expect(!AlertRecord.validName("") && !AlertRecord.validName("a b") && !AlertRecord.validName(String(repeating: "a", count: 65)))
        #expect(AlertSeverity.allCases.sorted() == [.critical, .major, .minor, .warning])
    }
}
