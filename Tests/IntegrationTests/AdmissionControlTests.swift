@testable import Engine
import Testing

/// The adaptive session limit (Little's law) and the spread of Retry-After.
struct AdmissionControlTests {
    @Test func fastSessionsOnlyMeetTheMaximum() {
        let a = AdmissionControl(targetSeconds: 5, floor: 4, maxRetryAfter: 60, now: 0)
        #expect(a.check(active: 99, max: 100, now: 0) == nil)
        let r = a.check(active: 100, max: 100, now: 0)
        #expect(r != nil && (1...60).contains(r!))
        for i in 0..<1000 { a.completed(duration: 0.5, now: Double(i) / 100) }
        #expect(a.limit(max: 100_000, now: 10) == 100_000)
    }

    @Test func limitFollowsTheCompletionRate() {
        let a = AdmissionControl(targetSeconds: 5, floor: 4, maxRetryAfter: 60, now: 0)
        // 200 sessions per second for 4 s, each taking 20 s (> 5 s): limit about 200 × 5 = 1000.
        var t = 0.0
        while t < 4 {
            for _ in 0..<50 { a.completed(duration: 20, now: t) }
            t += 0.25
        }
        let limit = a.limit(max: 100_000, now: t)
        #expect(limit > 700 && limit <= 1000)
        #expect(a.check(active: limit - 1, max: 100_000, now: t) == nil)
        let retry = a.check(active: limit + 500, max: 100_000, now: t)
        #expect(retry != nil && retry! <= 60)
        // Never above the configured maximum.
        #expect(a.limit(max: 10, now: t) == 10)
    }

    @Test func refusedCPEsAreBookedIntoSecondsWithRoom() {
        let a = AdmissionControl(targetSeconds: 1, floor: 1, maxRetryAfter: 30, now: 0)
        var t = 0.0
        // 100 completions per second for 4 s.
        while t < 4 {
            for _ in 0..<25 { a.completed(duration: 20, now: t) }
            t += 0.25
        }
        // 1,000 refusals at once: about 200 (twice the completion rate) per coming second, none beyond 30 s.
        let delays = (0..<1000).compactMap { _ in a.check(active: 400, max: 400, now: t) }
        #expect(delays.count == 1000)
        #expect(delays.allSatisfy { (1...30).contains($0) })
        let perSecond = Dictionary(grouping: delays, by: { $0 }).mapValues(\.count)
        #expect(perSecond.values.max()! <= 220)
        #expect(delays.max()! >= 4 && delays.max()! <= 8)
        #expect(perSecond[1]! >= 100)
    }
}
