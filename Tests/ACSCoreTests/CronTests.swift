import Foundation
import Testing
@testable import ACSCore

/// Unix seconds for a UTC wall-clock time; uses Foundation's calendar so expectations do not share the schedule's own date code.
private func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, _ second: Int = 0) -> Int64 {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let date = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second))!
    return Int64(date.timeIntervalSince1970)
}

/// The next `count` run times after `t`, each strictly after the previous one.
private func runs(_ schedule: CronSchedule, after t: Int64, count: Int) -> [Int64] {
    var out: [Int64] = []
    var t = t
    while out.count < count, let n = schedule.next(after: t) { out.append(n); t = n }
    return out
}

@Suite struct CronTests {
    @Test func everyFiveMinutes() throws {
        let s = try CronSchedule("*/5 * * * *")
        #expect(s.next(after: utc(2025, 1, 1)) == utc(2025, 1, 1, 0, 5))
        #expect(s.next(after: utc(2025, 1, 1, 0, 3, 27)) == utc(2025, 1, 1, 0, 5))
        #expect(s.next(after: utc(2025, 12, 31, 23, 58)) == utc(2026, 1, 1))
        #expect(s.matches(utc(2025, 1, 1, 0, 10, 59)))
        #expect(!s.matches(utc(2025, 1, 1, 0, 11)))
    }

    @Test func dailyAtThree() throws {
        let s = try CronSchedule("0 3 * * *")
        #expect(s.next(after: utc(2025, 1, 1, 2, 59, 59)) == utc(2025, 1, 1, 3))
        #expect(s.next(after: utc(2025, 1, 1, 3, 0, 30)) == utc(2025, 1, 2, 3))
        #expect(runs(s, after: utc(2025, 1, 31, 12), count: 2) == [utc(2025, 2, 1, 3), utc(2025, 2, 2, 3)])
    }

    @Test func nextIsStrictlyAfter() throws {
        let every = try CronSchedule("* * * * *")
        #expect(every.next(after: utc(2025, 1, 1)) == utc(2025, 1, 1, 0, 1))
        #expect(every.next(after: utc(2025, 1, 1, 0, 0, 59)) == utc(2025, 1, 1, 0, 1))
        let s = try CronSchedule("*/5 * * * *")
        #expect(s.next(after: utc(2025, 1, 1, 0, 5)) == utc(2025, 1, 1, 0, 10))
        let daily = try CronSchedule("0 3 * * *")
        #expect(daily.next(after: utc(2025, 1, 1, 3)) == utc(2025, 1, 2, 3))
    }

    @Test func weekdayRanges() throws {
        let s = try CronSchedule("30 8 * * 1-5")
        // 2025-01-03 is a Friday.
        #expect(s.next(after: utc(2025, 1, 3, 9)) == utc(2025, 1, 6, 8, 30))
        #expect(runs(s, after: utc(2025, 1, 3), count: 3) == [utc(2025, 1, 3, 8, 30), utc(2025, 1, 6, 8, 30), utc(2025, 1, 7, 8, 30)])
        #expect(!s.matches(utc(2025, 1, 4, 8, 30)))

        let office = try CronSchedule("*/15 9-17 * * mon-fri")
        #expect(office.matches(utc(2025, 1, 6, 9, 15, 42)))
        #expect(!office.matches(utc(2025, 1, 6, 9, 16)))
        #expect(!office.matches(utc(2025, 1, 4, 9, 15)))
        #expect(!office.matches(utc(2025, 1, 6, 18, 0)))
        #expect(office.next(after: utc(2025, 1, 3, 17, 45)) == utc(2025, 1, 6, 9))
    }

    @Test func namedMonthsAndDays() throws {
        let s = try CronSchedule("0 12 1 jan,JUL *")
        #expect(runs(s, after: utc(2025, 1, 1, 12), count: 2) == [utc(2025, 7, 1, 12), utc(2026, 1, 1, 12)])
        #expect(try CronSchedule("0 0 * * SUN-sat").daysOfWeek == CronSchedule("0 0 * * 0-6").daysOfWeek)
        #expect(try CronSchedule("0 0 1 jan-dec/3 *").months == CronSchedule("0 0 1 1,4,7,10 *").months)
        #expect(try CronSchedule("0 0 * * Fri").next(after: utc(2025, 1, 1)) == utc(2025, 1, 3))
    }

    @Test func sevenIsSunday() throws {
        let s = try CronSchedule("0 0 * * 7")
        #expect(s.next(after: utc(2025, 1, 1)) == utc(2025, 1, 5))
        #expect(s.daysOfWeek == 1)
        #expect(try CronSchedule("0 0 * * sun").daysOfWeek == 1)
        #expect(try CronSchedule("0 0 * * 0").daysOfWeek == 1)
        #expect(try CronSchedule("0 0 * * 5-7").daysOfWeek == 0b110_0001)
    }

    @Test func dayOfMonthOrDayOfWeekWhenBothAreRestricted() throws {
        // Fridays, plus the 13th (a Monday in January 2025).
        let either = try CronSchedule("0 0 13 * 5")
        #expect(runs(either, after: utc(2025, 1, 1), count: 4) == [utc(2025, 1, 3), utc(2025, 1, 10), utc(2025, 1, 13), utc(2025, 1, 17)])
        #expect(try runs(CronSchedule("0 0 * * 5"), after: utc(2025, 1, 1), count: 3) == [utc(2025, 1, 3), utc(2025, 1, 10), utc(2025, 1, 17)])
        #expect(try runs(CronSchedule("0 0 13 * *"), after: utc(2025, 1, 1), count: 2) == [utc(2025, 1, 13), utc(2025, 2, 13)])
        // As in Vixie cron, a field starting with "*" counts as unrestricted, so "*/2" with Friday means odd-dated Fridays.
        #expect(try runs(CronSchedule("0 0 */2 * 5"), after: utc(2025, 1, 1), count: 3) == [utc(2025, 1, 3), utc(2025, 1, 17), utc(2025, 1, 31)])
    }

    @Test func leapDay() throws {
        let s = try CronSchedule("0 0 29 2 *")
        #expect(s.next(after: utc(2025, 3, 1)) == 1_835_395_200)   // 2028-02-29 00:00 UTC
        #expect(s.next(after: utc(2025, 3, 1)) == utc(2028, 2, 29))
        #expect(s.next(after: utc(2028, 2, 29)) == utc(2032, 2, 29))
        #expect(s.next(after: utc(1969, 3, 1)) == utc(1972, 2, 29))
        let lastDays = try CronSchedule("0 0 28-31 2 *")
        #expect(lastDays.next(after: utc(2025, 2, 28)) == utc(2026, 2, 28))
        #expect(lastDays.next(after: utc(2028, 2, 28)) == utc(2028, 2, 29))
    }

    @Test func monthAndYearRollover() throws {
        #expect(try CronSchedule("59 23 31 12 *").next(after: utc(2025, 12, 31, 23, 59)) == utc(2026, 12, 31, 23, 59))
        #expect(try runs(CronSchedule("0 0 31 * *"), after: utc(2025, 1, 31), count: 2) == [utc(2025, 3, 31), utc(2025, 5, 31)])
        #expect(try CronSchedule("0 0 1 * *").next(after: utc(2025, 12, 15)) == utc(2026, 1, 1))
        #expect(try CronSchedule("* * * * *").next(after: utc(2025, 12, 31, 23, 59, 30)) == utc(2026, 1, 1))
        #expect(try CronSchedule("0 0 * * *").next(after: utc(2025, 2, 28, 6)) == utc(2025, 3, 1))
        // 1969-12-31 was a Wednesday: negative times use the same calendar.
        #expect(try CronSchedule("59 23 31 12 3").matches(utc(1969, 12, 31, 23, 59, 1)))
    }

    @Test func impossibleSchedulesHaveNoNextRun() throws {
        #expect(try CronSchedule("0 0 30 2 *").next(after: utc(2025, 1, 1)) == nil)
        #expect(try CronSchedule("0 0 31 4,6,9,11 *").next(after: utc(2025, 1, 1)) == nil)
        #expect(try CronSchedule("* * * * *").next(after: .max) == nil)
        #expect(try CronSchedule("* * * * *").next(after: .min) != nil)
    }

    @Test func macros() throws {
        let t = utc(2025, 6, 1)   // a Sunday
        #expect(try CronSchedule("@yearly").next(after: t) == utc(2026, 1, 1))
        #expect(try CronSchedule("@annually").next(after: t) == utc(2026, 1, 1))
        #expect(try CronSchedule("@monthly").next(after: t) == utc(2025, 7, 1))
        #expect(try CronSchedule("@weekly").next(after: t) == utc(2025, 6, 8))
        #expect(try CronSchedule("@daily").next(after: t) == utc(2025, 6, 2))
        #expect(try CronSchedule("@midnight").next(after: t) == utc(2025, 6, 2))
        #expect(try CronSchedule("@hourly").next(after: t) == utc(2025, 6, 1, 1))
        #expect(try CronSchedule("@daily").text == "@daily")
    }

    @Test func stepsAndLists() throws {
        #expect(try CronSchedule("10-30/10 * * * *").minutes == 1 << 10 | 1 << 20 | 1 << 30)
        #expect(try CronSchedule("5/20 * * * *").minutes == 1 << 5 | 1 << 25 | 1 << 45)
        #expect(try CronSchedule("1,2,40-42 * * * *").minutes == 1 << 1 | 1 << 2 | 1 << 40 | 1 << 41 | 1 << 42)
        #expect(try CronSchedule("0 */6 * * *").hours == 1 << 0 | 1 << 6 | 1 << 12 | 1 << 18)
        // "a/n" on day-of-week stops at Saturday rather than wrapping to 7 = Sunday.
        #expect(try CronSchedule("0 0 * * 1/2").daysOfWeek == 1 << 1 | 1 << 3 | 1 << 5)
    }

    @Test func rejections() {
        #expect(throws: CronError("cron: hour 24 is out of range 0-23")) { try CronSchedule("0 24 * * *") }
        #expect(throws: CronError("cron: minute range 5-3 is reversed")) { try CronSchedule("5-3 * * * *") }
        #expect(throws: CronError("cron: minute step 0 is out of range 1-60")) { try CronSchedule("*/0 * * * *") }
        #expect(throws: CronError("cron: the expression is longer than 200 characters")) {
            try CronSchedule("0 0 * * *" + String(repeating: " ", count: 200))
        }
        let bad = [
            "", "* * * *", "* * * * * *", "60 * * * *", "* * 0 * *", "* * 32 * *", "* * * 0 *", "* * * 13 *",
            "* * * * 8", "1,,2 * * * *", "1, * * * *", ",1 * * * *", "a * * * *", "* * * foo *", "-1 * * * *",
            "+1 * * * *", "1-2-3 * * * *", "*/5/2 * * * *", "*/ * * * *", "1- * * * *", "mon * * * *",
            "* * * * 1/x", "*-5 * * * *", "99999999999999999999 * * * *", "@reboot", "@daily extra", "@",
            "0 0\n* * *", "٣ * * * *",
        ]
        for text in bad {
            #expect(throws: CronError.self, "\(text.debugDescription) should be rejected") { try CronSchedule(text) }
        }
    }

    @Test func errorsNameTheFieldAndWhatIsAllowed() {
        func message(_ text: String) -> String {
            do { _ = try CronSchedule(text); return "" } catch { return (error as? CronError)?.message ?? "" }
        }
        #expect(message("* * * foo *").contains("month"))
        #expect(message("* * * foo *").contains("jan-dec"))
        #expect(message("* * * * 9").contains("day-of-week 9 is out of range 0-7"))
        #expect(message("* * *").contains("5 fields"))
        #expect(message("@often").contains("@hourly"))
    }

    @Test func looksLikeCron() {
        #expect(CronSchedule.looksLikeCron("*/5 * * * *"))
        #expect(CronSchedule.looksLikeCron(" 0 3 * * * "))
        #expect(CronSchedule.looksLikeCron("@daily"))
        #expect(!CronSchedule.looksLikeCron("3600"))
        #expect(!CronSchedule.looksLikeCron("1h"))
        #expect(!CronSchedule.looksLikeCron("* * * *"))
        #expect(!CronSchedule.looksLikeCron("* * * * * *"))
        #expect(!CronSchedule.looksLikeCron(""))
    }
}
