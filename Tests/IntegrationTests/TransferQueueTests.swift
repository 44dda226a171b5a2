import CWMP
import Testing
@testable import Simulator

/// The virtual CPE's queue of transfers not yet performed (ScheduleDownload, Download with DelaySeconds).
@Suite struct TransferQueueTests {
    func schedule(_ key: String, _ windows: [(UInt32, UInt32)], fileType: String = "1 Firmware Upgrade Image") -> ScheduleDownload {
        ScheduleDownload(commandKey: key, fileType: fileType, url: "http://files/fw-2.0.bin", username: "u", password: "p",
                         fileSize: 1234, targetFileName: "fw.bin",
                         timeWindows: windows.map { TimeWindow(windowStart: $0.0, windowEnd: $0.1) })
    }

    @Test func validatesTimeWindowsLikeACPE() {
        #expect(TransferQueue.validate([TimeWindow(windowStart: 0, windowEnd: 60)]) == nil)
        #expect(TransferQueue.validate([TimeWindow(windowStart: 0, windowEnd: 60), TimeWindow(windowStart: 60, windowEnd: 120)]) == nil)
        let invalid: [[TimeWindow]] = [
            [],
            [TimeWindow(windowStart: 60, windowEnd: 60)],
            [TimeWindow(windowStart: 60, windowEnd: 10)],
            [TimeWindow(windowStart: 0, windowEnd: 60), TimeWindow(windowStart: 30, windowEnd: 120)],
            [TimeWindow(windowStart: 0, windowEnd: 60), TimeWindow(windowStart: 100, windowEnd: 90)],
            [TimeWindow(windowStart: 0, windowEnd: 10), TimeWindow(windowStart: 20, windowEnd: 30), TimeWindow(windowStart: 40, windowEnd: 50)],
        ]
        for windows in invalid { #expect(TransferQueue.validate(windows)?.code == 9003, "\(windows)") }
    }

    @Test func scheduleDownloadStartsAtItsFirstWindow() throws {
        var q = TransferQueue()
        let added = q.add(schedule("k1", [(30, 90), (200, 300)]), now: 1000)
        let e = try #require(added)
        #expect(e.start == 1030 && e.end == 1090 && e.scheduled && e.isDownload)
        #expect(e.download == Download(commandKey: "k1", fileType: "1 Firmware Upgrade Image", url: "http://files/fw-2.0.bin",
                                       username: "u", password: "p", fileSize: 1234, targetFileName: "fw.bin"))
        #expect(q.due(now: 1029).isEmpty)
        #expect(q.due(now: 1030).map(\.commandKey) == ["k1"])
        #expect(q.nextStart == 1030)
    }

    @Test func delayedDownloadIsQueuedWithoutItsDelay() throws {
        var q = TransferQueue()
        let d = Download(commandKey: "d1", fileType: "3 Vendor Configuration File", url: "http://files/cfg", delaySeconds: 5)
        let added = q.add(d, now: 100)
        let e = try #require(added)
        #expect(e.start == 105 && !e.scheduled && e.download.delaySeconds == 0)
        #expect(q.due(now: 104).isEmpty)
        #expect(q.due(now: 105).count == 1)
    }

    @Test func aWindowThatPassedIsStillDue() throws {
        var q = TransferQueue()
        _ = q.add(schedule("late", [(0, 10)]), now: 0)
        #expect(q.due(now: 10_000).map(\.commandKey) == ["late"])
    }

    @Test func dueTransfersComeEarliestFirstAndOnce() throws {
        var q = TransferQueue()
        _ = q.add(schedule("b", [(20, 30)]), now: 0)
        _ = q.add(schedule("a", [(10, 30)]), now: 0)
        _ = q.add(schedule("c", [(50, 60)]), now: 0)
        let a = q.beginNextDue(now: 25)
        let first = try #require(a)
        #expect(first.commandKey == "a" && first.started)
        let b = q.beginNextDue(now: 25)
        let second = try #require(b)
        #expect(second.commandKey == "b")
        let none = q.beginNextDue(now: 25)
        #expect(none == nil)
        #expect(q.list().map(\.state) == [2, 2, 1])
        q.finish(id: first.id)
        q.finish(id: second.id)
        #expect(q.list() == [QueuedTransfer(commandKey: "c", state: 1)])
    }

    @Test func cancelOnlyWhatHasNotStarted() throws {
        var q = TransferQueue()
        _ = q.add(schedule("x", [(10, 20)]), now: 0)
        _ = q.add(schedule("y", [(0, 20)]), now: 0)
        let started = q.beginNextDue(now: 0)
        #expect(started?.commandKey == "y")
        let underWay = q.cancel(commandKey: "y"), unknown = q.cancel(commandKey: "nope")
        #expect(!underWay && !unknown)  // both 9021
        let x = q.cancel(commandKey: "x"), again = q.cancel(commandKey: "x")
        #expect(x && !again)
        #expect(q.list().map(\.commandKey) == ["y"])
    }

    @Test func listsDetailsForGetAllQueuedTransfers() {
        var q = TransferQueue()
        _ = q.add(schedule("k", [(10, 20)], fileType: "3 Vendor Configuration File"), now: 0)
        #expect(q.list() == [QueuedTransfer(commandKey: "k", state: 1)])
        #expect(q.list(detailed: true) == [QueuedTransfer(commandKey: "k", state: 1, isDownload: true,
                                                          fileType: "3 Vendor Configuration File", fileSize: 1234, targetFileName: "fw.bin")])
    }

    @Test func aFullQueueRefusesMore() {
        var q = TransferQueue(capacity: 2)
        let one = q.add(schedule("1", [(10, 20)]), now: 0), two = q.add(schedule("2", [(10, 20)]), now: 0)
        let three = q.add(schedule("3", [(10, 20)]), now: 0)
        #expect(one != nil && two != nil && three == nil)
        q.removeAll()
        #expect(q.isEmpty && q.nextStart == nil)
    }
}
