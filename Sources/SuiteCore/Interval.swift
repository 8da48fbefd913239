import Foundation

/// The bucket size of a time series. Buckets are UTC calendar days, months or years.
public enum Interval: String, Sendable, CaseIterable, Codable {
    /// One bucket per UTC day, month or year.
    case daily, monthly, yearly
}

/// A UTC civil date (proleptic Gregorian), convertible to and from a day number since 1970-01-01.
///
/// Pure integer arithmetic (Howard Hinnant's `days_from_civil`), so bucketing gives identical
/// results on every engine and never touches a time-zone database.
public struct CivilDate: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    /// The year, e.g. 2026.
    public var year: Int
    /// The month, 1…12.
    public var month: Int
    /// The day of the month, from 1.
    public var day: Int

    /// A date from its parts, taken as given (unchecked; use ``init(parsing:)`` to validate text).
    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// A date is `"YYYY-MM-DD"` in JSON.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let date = CivilDate(parsing: try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a date like 2026-01-31")
        }
        self = date
    }

    /// Encodes the date as `"YYYY-MM-DD"`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// Parses `YYYY-MM-DD`; returns nil for anything else, including impossible dates like 2023-02-30.
    public init?(parsing text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), d >= 1, d <= CivilDate.daysIn(month: m, year: y)
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// The date `dayNumber` days after 1970-01-01 (negative before it).
    public init(dayNumber: Int64) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        self.init(year: Int(y), month: Int(m), day: Int(d))
    }

    /// The UTC day that `date` falls on.
    public init(_ date: Date) { self.init(dayNumber: Timestamp(date).utcDay) }

    /// Days since 1970-01-01.
    public var dayNumber: Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64(month > 2 ? month - 3 : month + 9)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Midnight UTC at the start of this day.
    public var startOfDay: Date { Date(timeIntervalSince1970: TimeInterval(dayNumber) * 86_400) }

    /// The date as `YYYY-MM-DD`, e.g. `2026-01-31`.
    public var description: String {
        let y = String(year), m = String(month), d = String(day)
        return String(repeating: "0", count: max(0, 4 - y.count)) + y + "-"
            + (m.count == 1 ? "0" : "") + m + "-" + (d.count == 1 ? "0" : "") + d
    }

    /// Whether `lhs` is an earlier day than `rhs`.
    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool { lhs.dayNumber < rhs.dayNumber }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// The label of the bucket this day falls in: `2024-03-09`, `2024-03` or `2024`.
    public func bucketLabel(_ interval: Interval) -> String {
        let text = description
        switch interval {
        case .daily: return text
        case .monthly: return String(text.prefix(7))
        case .yearly: return String(text.prefix(4))
        }
    }

    /// Every bucket label from `start` to `end` inclusive, in order — so that callers can fill
    /// the buckets a query did not return with zero.
    public static func bucketLabels(from start: CivilDate, to end: CivilDate, interval: Interval) -> [String] {
        guard start <= end else { return [] }
        switch interval {
        case .daily:
            return (start.dayNumber...end.dayNumber).map { CivilDate(dayNumber: $0).description }
        case .monthly:
            var labels: [String] = []
            var (y, m) = (start.year, start.month)
            while (y, m) <= (end.year, end.month) {
                labels.append(CivilDate(year: y, month: m, day: 1).bucketLabel(.monthly))
                (y, m) = m == 12 ? (y + 1, 1) : (y, m + 1)
            }
            return labels
        case .yearly:
            return (start.year...end.year).map { CivilDate(year: $0, month: 1, day: 1).bucketLabel(.yearly) }
        }
    }
}

/// One point of a time series: a bucket label and a count.
public struct TrendPoint: Hashable, Sendable, Codable {
    /// The bucket's label: `2026-01-31`, `2026-01` or `2026` (see ``CivilDate/bucketLabel(_:)``).
    public var bucket: String
    /// How many in the bucket.
    public var count: Int64

    /// A point with `count` in `bucket`.
    public init(bucket: String, count: Int64) {
        self.bucket = bucket
        self.count = count
    }
}
