import Foundation

public struct CronError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
    init(_ message: String) { self.message = message }
}

/// A five-field cron schedule (minute hour day-of-month month day-of-week), evaluated in UTC.
public struct CronSchedule: Sendable, Equatable {
    public let text: String

    // One bit per allowed value; bit n set means value n matches.
    let minutes: UInt64       // 0-59
    let hours: UInt64         // 0-23
    let daysOfMonth: UInt64   // 1-31
    let months: UInt64        // 1-12
    let daysOfWeek: UInt64    // 0-6, Sunday = 0 (7 is folded into 0)
    // Vixie cron: a day field whose text starts with "*" does not take part in the OR rule.
    let dayOfMonthIsStar: Bool
    let dayOfWeekIsStar: Bool

    static let maxLength = 200
    /// How far `next(after:)` looks; long enough for any leap day except across 2100 and similar century gaps.
    static let horizonDays: Int64 = 5 * 366

    public init(_ text: String) throws {
        guard text.count <= Self.maxLength else {
            throw CronError("cron: the expression is longer than \(Self.maxLength) characters")
        }
        self.text = text
        var fields = Self.split(text)
        if fields.count == 1, fields[0].hasPrefix("@") {
            guard let expanded = Self.macros[fields[0].lowercased()] else {
                throw CronError("cron: unknown macro \(fields[0].debugDescription); allowed: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly")
            }
            fields = Self.split(expanded)
        }
        guard fields.count == 5 else {
            throw CronError("cron: expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, got \(fields.count) field\(fields.count == 1 ? "" : "s")")
        }
        minutes = try Self.minute.parse(fields[0])
        hours = try Self.hour.parse(fields[1])
        daysOfMonth = try Self.dayOfMonth.parse(fields[2])
        months = try Self.month.parse(fields[3])
        var dow = try Self.dayOfWeek.parse(fields[4])
        if dow & (1 << 7) != 0 { dow = (dow | 1) & ~(1 << 7) }
        daysOfWeek = dow
        dayOfMonthIsStar = fields[2].hasPrefix("*")
        dayOfWeekIsStar = fields[4].hasPrefix("*")
    }

    /// Whether a text looks like a cron expression (5 whitespace-separated fields, or starts with "@").
    public static func looksLikeCron(_ text: String) -> Bool {
        let fields = split(text)
        return fields.count == 5 || fields.first?.hasPrefix("@") == true
    }

    /// t's minute matches (seconds ignored).
    public func matches(_ t: Int64) -> Bool {
        let minute = Self.floorDiv(t, 60)
        let day = Self.floorDiv(minute, 1440)
        let minuteOfDay = Int(minute - day * 1440)
        let (_, month, dayOfMonth) = Self.civil(fromDays: day)
        return has(minutes, minuteOfDay % 60) && has(hours, minuteOfDay / 60)
            && has(months, month) && dayMatches(dayOfMonth, weekday: Self.weekday(day))
    }

    /// The first whole minute strictly after `t` (Unix seconds) that matches; nil when none within 5 years (e.g. "0 0 30 2 *").
    public func next(after t: Int64) -> Int64? {
        let startMinute = Self.floorDiv(t, 60) + 1   // t >= Int64.min / 60 * 60, so no overflow
        var day = Self.floorDiv(startMinute, 1440)
        let minuteOfDay = Int(startMinute - day * 1440)
        var hour = minuteOfDay / 60
        var minute = minuteOfDay % 60
        var (year, month, dayOfMonth) = Self.civil(fromDays: day)
        let lastDay = day + Self.horizonDays

        // Moves to the start of the next day, rolling the month and year over as needed.
        func nextDay() {
            day += 1; dayOfMonth += 1; hour = 0; minute = 0
            if dayOfMonth > Self.daysIn(month, of: year) {
                dayOfMonth = 1; month += 1
                if month > 12 { month = 1; year += 1 }
            }
        }

        while day <= lastDay {
            if !has(months, month) {
                // Jump straight to the first day of the next allowed month.
                if let m = Self.firstBit(months, from: month + 1, through: 12) {
                    month = m
                } else {
                    year += 1
                    month = Self.firstBit(months, from: 1, through: 12)!   // parse guarantees a bit
                }
                dayOfMonth = 1; hour = 0; minute = 0
                day = Self.days(fromYear: year, month: month, day: 1)
                continue
            }
            if !dayMatches(dayOfMonth, weekday: Self.weekday(day)) {
                if dayOfWeekIsStar {
                    // Only day-of-month decides, so jump to its next allowed day in this month.
                    let dim = Self.daysIn(month, of: year)
                    if let d = Self.firstBit(daysOfMonth, from: dayOfMonth + 1, through: dim) {
                        day += Int64(d - dayOfMonth); dayOfMonth = d; hour = 0; minute = 0
                    } else {
                        day += Int64(dim - dayOfMonth); dayOfMonth = dim
                        nextDay()
                    }
                } else {
                    nextDay()
                }
                continue
            }
            guard let h = Self.firstBit(hours, from: hour, through: 23) else { nextDay(); continue }
            if h != hour { hour = h; minute = 0 }
            guard let m = Self.firstBit(minutes, from: minute, through: 59) else {
                hour += 1; minute = 0
                if hour > 23 { nextDay() }
                continue
            }
            let (seconds, overflow) = (day * 1440 + Int64(hour * 60 + m)).multipliedReportingOverflow(by: 60)
            return overflow ? nil : seconds
        }
        return nil
    }

    private func has(_ bits: UInt64, _ value: Int) -> Bool { bits & (1 << UInt64(value)) != 0 }

    private func dayMatches(_ dayOfMonth: Int, weekday: Int) -> Bool {
        let domOK = has(daysOfMonth, dayOfMonth), dowOK = has(daysOfWeek, weekday)
        return dayOfMonthIsStar || dayOfWeekIsStar ? domOK && dowOK : domOK || dowOK
    }

    // MARK: Parsing

    private static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    /// Only spaces and tabs separate fields, so a newline or other control character is rejected as a bad value.
    private static func split(_ text: String) -> [Substring] {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" })
    }

    private struct Field {
        let name: String
        let min: Int
        let max: Int
        /// Upper end for "*" and "a/n"; 6 for day-of-week so "1/2" does not wrap to 7 = Sunday.
        let starMax: Int
        let names: [String]   // names[i] is the value min + i
        var allowed: String { "\(min)-\(max)" + (names.isEmpty ? "" : " or \(names.first!)-\(names.last!)") }

        func parse(_ text: Substring) throws -> UInt64 {
            var bits: UInt64 = 0
            for item in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard !item.isEmpty else { throw CronError("cron: \(name) \(String(text).debugDescription) has an empty list item") }
                bits |= try parseItem(item)
            }
            return bits
        }

        private func parseItem(_ item: Substring) throws -> UInt64 {
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw CronError("cron: \(name) \(String(item).debugDescription) has more than one step") }
            var step = 1
            if parts.count == 2 {
                guard let s = Self.number(parts[1]) else {
                    throw CronError("cron: \(name) step \(String(parts[1]).debugDescription) is not a number")
                }
                let span = max - min + 1
                guard s >= 1, s <= span else { throw CronError("cron: \(name) step \(s) is out of range 1-\(span)") }
                step = s
            }
            let base = parts[0]
            let lo: Int, hi: Int
            if base == "*" {
                (lo, hi) = (min, starMax)
            } else {
                let ends = base.split(separator: "-", omittingEmptySubsequences: false)
                guard ends.count <= 2 else { throw CronError("cron: \(name) \(String(base).debugDescription) is not a value or range") }
                lo = try value(ends[0], in: item)
                if ends.count == 2 {
                    hi = try value(ends[1], in: item)
                    guard lo <= hi else { throw CronError("cron: \(name) range \(lo)-\(hi) is reversed") }
                } else {
                    hi = parts.count == 2 ? Swift.max(lo, starMax) : lo   // "a/n" runs from a to the end
                }
            }
            var bits: UInt64 = 0
            for v in stride(from: lo, through: hi, by: step) { bits |= 1 << UInt64(v) }
            return bits
        }

        private func value(_ text: Substring, in item: Substring) throws -> Int {
            if let n = Self.number(text) {
                guard n >= min, n <= max else { throw CronError("cron: \(name) \(n) is out of range \(min)-\(max)") }
                return n
            }
            if let i = names.firstIndex(of: text.lowercased()) { return min + i }
            if text.isEmpty { throw CronError("cron: \(name) \(String(item).debugDescription) is missing a value; allowed: \(allowed)") }
            if text.allSatisfy({ $0.isASCII && $0.isNumber }) {   // too many digits for Int
                throw CronError("cron: \(name) \(text) is out of range \(min)-\(max)")
            }
            throw CronError("cron: \(name) \(String(text).debugDescription) is not allowed; allowed: \(allowed)")
        }

        /// ASCII digits only: Int("+5") and Int("-5") would otherwise slip through.
        static func number(_ text: Substring) -> Int? {
            guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int(text)
        }
    }

    private static let minute = Field(name: "minute", min: 0, max: 59, starMax: 59, names: [])
    private static let hour = Field(name: "hour", min: 0, max: 23, starMax: 23, names: [])
    private static let dayOfMonth = Field(name: "day-of-month", min: 1, max: 31, starMax: 31, names: [])
    private static let month = Field(name: "month", min: 1, max: 12, starMax: 12,
                                     names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])
    private static let dayOfWeek = Field(name: "day-of-week", min: 0, max: 7, starMax: 6,
                                         names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"])

    // MARK: UTC calendar arithmetic (proleptic Gregorian, days since 1970-01-01)

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// The lowest set bit in from...through, if any.
    private static func firstBit(_ bits: UInt64, from: Int, through: Int) -> Int? {
        guard from <= through else { return nil }
        let shifted = bits >> UInt64(from)
        guard shifted != 0 else { return nil }
        let n = from + shifted.trailingZeroBitCount
        return n <= through ? n : nil
    }

    private static func weekday(_ days: Int64) -> Int {
        let shifted = days + 4   // 1970-01-01 was a Thursday (4)
        return Int(shifted - floorDiv(shifted, 7) * 7)
    }

    private static func isLeap(_ y: Int64) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }

    private static func daysIn(_ month: Int, of year: Int64) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Counting years from March makes the leap day the last day of the year, so month lengths follow a fixed pattern
    // and 400-year eras repeat exactly (146097 days each).
    private static func days(fromYear year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yearOfEra = y - era * 400
        let monthFromMarch = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + Int64(day - 1)
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468   // 719468 days from 0000-03-01 to 1970-01-01
    }

    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719468
        let era = floorDiv(z, 146097)
        let dayOfEra = z - era * 146097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthFromMarch + 2) / 5 + 1)
        let month = Int(monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
