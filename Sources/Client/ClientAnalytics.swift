public import SuiteCore
import SuiteStorage

/// Analytics over clients, computed in SQL from a daily rollup maintained in the same
/// transaction as every create and status change — so no call scans the clients table and the
/// cost does not grow with the number of clients. Values are immutable: `.monthly()` and
/// `.forReseller(_:)` return new values, so callers never share state.
///
/// Dates are UTC calendar days, inclusive at both ends; buckets with no signups are filled with 0.
///
/// ```swift
/// let trend = try await clients.analytics().forReseller(ally).daily().signupTrends(
///     from: CivilDate(year: 2026, month: 1, day: 1), to: CivilDate(year: 2026, month: 1, day: 31))
/// ```
public struct ClientAnalytics: Sendable {
    let database: any Database
    /// The trend bucket size (default monthly).
    public private(set) var interval: Interval = .monthly
    /// The reseller scope, or nil for all clients.
    public private(set) var reseller: Refid?
    /// Set by a ``ResellerPortfolio``: figures for any other scope are refused.
    var portfolioReseller: Refid?

    /// The most buckets one trend call may return.
    public static let maximumBuckets = 3_700

    /// These analytics with daily trend buckets.
    public func daily() -> ClientAnalytics { interval(.daily) }
    /// These analytics with monthly trend buckets.
    public func monthly() -> ClientAnalytics { interval(.monthly) }
    /// These analytics with yearly trend buckets.
    public func yearly() -> ClientAnalytics { interval(.yearly) }

    /// These analytics with `interval` as the trend bucket size.
    public func interval(_ interval: Interval) -> ClientAnalytics {
        var copy = self
        copy.interval = interval
        return copy
    }

    /// Scopes every figure to the clients of one reseller.
    public func forReseller(_ reseller: Refid?) -> ClientAnalytics {
        var copy = self
        copy.reseller = reseller
        return copy
    }

    /// Client counts by current status, among clients created in the range (all time when nil).
    public func statusBreakdown(from start: CivilDate? = nil, to end: CivilDate? = nil) async throws -> StatusBreakdown {
        let range = try dayRange(start, end)
        let scope = try scopeKey()
        return try await database.read { tx in
            var counts = Dictionary(uniqueKeysWithValues: ClientStatus.allCases.map { ($0, Int64(0)) })
            for row in try tx.query("""
                SELECT status, CAST(sum(clients) AS BIGINT) AS n FROM client_daily_stats
                WHERE scope = \(scope)\(range) GROUP BY status
                """) {
                if let status = ClientStatus(rawValue: try row.string("status")) { counts[status] = try row.int64("n") }
            }
            return StatusBreakdown(counts: counts)
        }
    }

    /// New clients in the range, and in the period of equal length just before it.
    public func growth(from start: CivilDate, to end: CivilDate) async throws -> Growth {
        let range = try dayRange(start, end)
        let length = end.dayNumber - start.dayNumber + 1
        let previous = try dayRange(CivilDate(dayNumber: start.dayNumber - length), CivilDate(dayNumber: start.dayNumber - 1))
        let scope = try scopeKey()
        return try await database.read { tx in
            let current = try tx.queryInt64("SELECT CAST(sum(clients) AS BIGINT) FROM client_daily_stats WHERE scope = \(scope)\(range)") ?? 0
            let before = try tx.queryInt64("SELECT CAST(sum(clients) AS BIGINT) FROM client_daily_stats WHERE scope = \(scope)\(previous)") ?? 0
            return Growth(newClients: current, previousPeriod: before)
        }
    }

    /// Standalone versus resold clients, with percentages of the total (2 decimals).
    public func segmentation(from start: CivilDate? = nil, to end: CivilDate? = nil) async throws -> Segmentation {
        let range = try dayRange(start, end)
        let scope = try scopeKey()
        let scoped = reseller != nil
        return try await database.read { tx in
            let total = try tx.queryInt64("SELECT CAST(sum(clients) AS BIGINT) FROM client_daily_stats WHERE scope = \(scope)\(range)") ?? 0
            let standalone = scoped ? 0
                : try tx.queryInt64("SELECT CAST(sum(clients) AS BIGINT) FROM client_daily_stats WHERE scope = ''\(range)") ?? 0
            return Segmentation(standaloneCount: standalone, resoldCount: total - standalone)
        }
    }

    /// Signups per bucket from `start` to `end` inclusive, every bucket present (0 when empty).
    public func signupTrends(from start: CivilDate, to end: CivilDate) async throws -> [TrendPoint] {
        let range = try dayRange(start, end)
        let labels = CivilDate.bucketLabels(from: start, to: end, interval: interval)
        guard labels.count <= Self.maximumBuckets else {
            throw ClientError(.invalidQuery, field: "range",
                              message: "Invalid range: \(labels.count) \(interval) buckets; the limit is \(Self.maximumBuckets)")
        }
        let width = switch interval { case .daily: 10; case .monthly: 7; case .yearly: 4 }
        let scope = try scopeKey()
        let counts = try await database.read { tx in
            var counts: [String: Int64] = [:]
            for row in try tx.query("""
                SELECT substr(day, 1, \(raw: String(width))) AS bucket, CAST(sum(clients) AS BIGINT) AS n
                FROM client_daily_stats WHERE scope = \(scope)\(range)
                GROUP BY substr(day, 1, \(raw: String(width)))
                """) {
                counts[try row.string("bucket")] = try row.int64("n")
            }
            return counts
        }
        return labels.map { TrendPoint(bucket: $0, count: counts[$0] ?? 0) }
    }

    private func scopeKey() throws -> String {
        if let portfolioReseller, reseller != portfolioReseller {
            throw ClientError(.invalidQuery, field: "reseller",
                              message: "Invalid scope: a reseller's portfolio reports on that reseller's clients only")
        }
        return reseller?.rawValue ?? "*"
    }

    private func dayRange(_ start: CivilDate?, _ end: CivilDate?) throws -> SQL {
        if let start, let end, start > end {
            throw ClientError(.invalidQuery, field: "range", message: "Invalid range: the start is after the end")
        }
        var sql = SQL(raw: "")
        if let start { sql = sql + " AND day >= \(start.description)" }
        if let end { sql = sql + " AND day <= \(end.description)" }
        return sql
    }
}

/// Client counts by status.
public typealias StatusBreakdown = StatusCounts<ClientStatus>

/// New clients in a period and the period before it.
public struct Growth: Hashable, Sendable, Codable {
    /// Clients created in the range.
    public var newClients: Int64
    /// Clients created in the period of equal length just before it.
    public var previousPeriod: Int64
    /// Percentage change from the previous period (2 decimals); nil when the previous period had none.
    @ExplicitNull public var changePercentage: Double?

    init(newClients: Int64, previousPeriod: Int64) {
        self.newClients = newClients
        self.previousPeriod = previousPeriod
        changePercentage = previousPeriod == 0
            ? nil : ((Double(newClients - previousPeriod) / Double(previousPeriod)) * 10_000).rounded() / 100
    }
}

/// Standalone versus resold clients.
public struct Segmentation: Hashable, Sendable, Codable {
    /// One side of the split.
    public struct Segment: Hashable, Sendable, Codable {
        /// How many clients.
        public var count: Int64
        /// Share of the total in percent, rounded to 2 decimals (0 when there are no clients).
        public var percentage: Double
    }

    /// Clients without a reseller.
    public var standalone: Segment
    /// Clients managed by a reseller.
    public var resold: Segment

    init(standaloneCount: Int64, resoldCount: Int64) {
        let total = standaloneCount + resoldCount
        func share(_ count: Int64) -> Double { total == 0 ? 0 : (Double(count) * 10_000 / Double(total)).rounded() / 100 }
        standalone = Segment(count: standaloneCount, percentage: share(standaloneCount))
        resold = Segment(count: resoldCount, percentage: share(resoldCount))
    }
}
