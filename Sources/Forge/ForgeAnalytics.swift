import Foundation
public import SuiteCore
import SuiteStorage

extension Licences {
    /// Licence analytics: `licences.analytics().forReseller(ally).monthly().mintingTrends(from:to:)`.
    public func analytics() -> ForgeAnalytics { ForgeAnalytics(licences: self) }
}

/// Licence analytics, computed in SQL on both engines through the licence indexes (created,
/// activated, status + expiry, client, reseller), so a call reads only the licences in its range.
/// Values are immutable; dates are inclusive UTC days; empty buckets are 0. Status figures are
/// decided at the moment of the call: an active licence past its term counts as expired.
///
/// ```swift
/// let stats = try await licences.analytics().mintingStats(from: january1, to: january31)
/// let forecast = try await licences.analytics().forReseller(ally).expirationForecast(days: 30)
/// ```
public struct ForgeAnalytics: Sendable {
    let licences: Licences
    /// The trend bucket size (default monthly).
    public private(set) var interval: Interval = .monthly
    /// The client scope, or nil for all clients.
    public private(set) var client: Refid?
    /// The reseller scope, or nil for all resellers.
    public private(set) var reseller: Refid?

    /// The most buckets one trend call may return.
    public static let maximumBuckets = 3_700

    /// These analytics with daily trend buckets.
    public func daily() -> ForgeAnalytics { interval(.daily) }
    /// These analytics with monthly trend buckets.
    public func monthly() -> ForgeAnalytics { interval(.monthly) }
    /// These analytics with yearly trend buckets.
    public func yearly() -> ForgeAnalytics { interval(.yearly) }
    /// These analytics with `interval` as the trend bucket size.
    public func interval(_ interval: Interval) -> ForgeAnalytics { with { $0.interval = interval } }
    /// Only the licences of one client.
    public func forClient(_ client: Refid?) -> ForgeAnalytics { with { $0.client = client } }
    /// Only the licences of one reseller's clients.
    public func forReseller(_ reseller: Refid?) -> ForgeAnalytics { with { $0.reseller = reseller } }

    /// Licences minted in the range: the total and the count per status now.
    public func mintingStats(from start: CivilDate? = nil, to end: CivilDate? = nil) async throws -> MintingStats {
        let range = try Self.range(start, end, column: "created_at")
        let scope = scope
        let now = Timestamp(licences.clock.now())
        return try await licences.database.read { tx in
            var counts = Dictionary(uniqueKeysWithValues: LicenceStatus.allCases.map { ($0, Int64(0)) })
            for row in try tx.query("""
                SELECT effective, CAST(count(*) AS BIGINT) AS n FROM (
                    SELECT CASE WHEN status = 'active' AND expires_at <= \(now) THEN 'expired' ELSE status END AS effective
                    FROM forge_licences WHERE 1 = 1\(scope)\(range)
                ) AS licences GROUP BY effective
                """) {
                if let status = LicenceStatus(rawValue: try row.string("effective")) { counts[status, default: 0] += try row.int64("n") }
            }
            return MintingStats(counts: counts)
        }
    }

    /// Active licences whose term ends in each of the next `days` UTC days (today first).
    public func expirationForecast(days: Int) async throws -> [TrendPoint] {
        guard (1...Self.maximumBuckets).contains(days) else { throw ForgeError.invalid("days", "use 1…\(Self.maximumBuckets)") }
        let now = Timestamp(licences.clock.now())
        let today = CivilDate(dayNumber: now.utcDay)
        let last = CivilDate(dayNumber: today.dayNumber + Int64(days) - 1)
        let horizon = Timestamp(milliseconds: (last.dayNumber + 1) * 86_400_000)
        let scope = scope
        let counts = try await licences.database.read { tx in
            var counts: [String: Int64] = [:]
            for row in try tx.query("""
                SELECT \(raw: tx.dialect.utcDay(ofMilliseconds: "expires_at")) AS day, CAST(count(*) AS BIGINT) AS n
                FROM forge_licences
                WHERE status = 'active' AND expires_at > \(now) AND expires_at < \(horizon)\(scope)
                GROUP BY \(raw: tx.dialect.utcDay(ofMilliseconds: "expires_at"))
                """) {
                counts[try row.string("day")] = try row.int64("n")
            }
            return counts
        }
        return CivilDate.bucketLabels(from: today, to: last, interval: .daily).map { TrendPoint(bucket: $0, count: counts[$0] ?? 0) }
    }

    /// Products by licences minted in the range (and how many of those were activated), most first.
    public func productPopularity(from start: CivilDate? = nil, to end: CivilDate? = nil) async throws -> [ProductPopularity] {
        let range = try Self.range(start, end, column: "created_at")
        let scope = scope
        return try await licences.database.read { tx in
            try tx.query("""
                SELECT product, CAST(count(*) AS BIGINT) AS minted, CAST(count(activated_at) AS BIGINT) AS activated
                FROM forge_licences WHERE 1 = 1\(scope)\(range)
                GROUP BY product ORDER BY count(*) DESC, product LIMIT 1000
                """).map { row in
                ProductPopularity(product: try row.string("product"), minted: try row.int64("minted"),
                                  activated: try row.int64("activated"))
            }
        }
    }

    /// Licences minted per bucket from `start` to `end`.
    public func mintingTrends(from start: CivilDate, to end: CivilDate) async throws -> [TrendPoint] {
        try await trend(column: "created_at", from: start, to: end)
    }

    /// Licences activated per bucket from `start` to `end`.
    public func activationTrends(from start: CivilDate, to end: CivilDate) async throws -> [TrendPoint] {
        try await trend(column: "activated_at", from: start, to: end)
    }

    // MARK: Internals

    private func trend(column: String, from start: CivilDate, to end: CivilDate) async throws -> [TrendPoint] {
        let range = try Self.range(start, end, column: column)
        let labels = CivilDate.bucketLabels(from: start, to: end, interval: interval)
        guard labels.count <= Self.maximumBuckets else {
            throw ForgeError.invalid("range", "\(labels.count) \(interval) buckets; the limit is \(Self.maximumBuckets)")
        }
        let width = switch interval { case .daily: 10; case .monthly: 7; case .yearly: 4 }
        let scope = scope
        let counts = try await licences.database.read { tx in
            let bucket = "substr(\(tx.dialect.utcDay(ofMilliseconds: column)), 1, \(width))"
            var counts: [String: Int64] = [:]
            for row in try tx.query("""
                SELECT \(raw: bucket) AS bucket, CAST(count(*) AS BIGINT) AS n
                FROM forge_licences WHERE \(raw: column) IS NOT NULL\(scope)\(range) GROUP BY \(raw: bucket)
                """) {
                counts[try row.string("bucket")] = try row.int64("n")
            }
            return counts
        }
        return labels.map { TrendPoint(bucket: $0, count: counts[$0] ?? 0) }
    }

    private var scope: SQL {
        var sql = SQL(raw: "")
        if let client { sql = sql + " AND client_refid = \(client)" }
        if let reseller { sql = sql + " AND reseller_refid = \(reseller)" }
        return sql
    }

    static func range(_ start: CivilDate?, _ end: CivilDate?, column: String) throws -> SQL {
        if let start, let end, start > end { throw ForgeError.invalid("range", "the start is after the end") }
        var sql = SQL(raw: "")
        if let start { sql = sql + " AND \(raw: column) >= \(start.dayNumber * 86_400_000)" }
        if let end { sql = sql + " AND \(raw: column) < \((end.dayNumber + 1) * 86_400_000)" }
        return sql
    }

    private func with(_ change: (inout ForgeAnalytics) -> Void) -> ForgeAnalytics {
        var copy = self
        change(&copy)
        return copy
    }
}

/// Licences minted in a range, by status now.
public typealias MintingStats = StatusCounts<LicenceStatus>

/// One product's licences (``ForgeAnalytics/productPopularity(from:to:)``).
public struct ProductPopularity: Hashable, Sendable, Codable {
    /// The product code.
    public var product: String
    /// Licences of the product minted in the range.
    public var minted: Int64
    /// Of those, the ones that have been activated.
    public var activated: Int64
}
