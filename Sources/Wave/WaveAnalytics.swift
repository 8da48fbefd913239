import Foundation
public import SuiteCore
public import SuiteStorage

extension Invoices {
    /// Revenue and subscription analytics: `invoices.analytics().daily().revenueTrends(from:to:currency:)`.
    public func analytics() -> WaveAnalytics { WaveAnalytics(database: database) }
}

extension Subscriptions {
    /// Revenue and subscription analytics: `subscriptions.analytics().mrr()`.
    public func analytics() -> WaveAnalytics { WaveAnalytics(database: database) }
}

/// Revenue analytics over payments received (`wave_payments`, joined to invoices for the client),
/// and monthly recurring revenue over live subscriptions. Sums are computed in SQL on both engines
/// from covering indexes (`wave_payments (currency, created_at, amount)`, `wave_invoices (status,
/// created_at, …)`, `wave_subscriptions (status, plan_id)`), so no call reads the tables' rows;
/// buckets a query did not return are filled with zeros. Values are immutable; dates are
/// inclusive UTC days.
///
/// ```swift
/// let trend = try await invoices.analytics().daily().forClient(acme).revenueTrends(from: march1, to: march31, currency: "USD")
/// let mrr = try await invoices.analytics().mrr()   // [MonthlyRecurringRevenue(currency: "USD", amount: 12_400, …)]
/// ```
public struct WaveAnalytics: Sendable {
    /// The database Wave's tables live in.
    public let database: any Database
    /// The trend bucket size (default monthly).
    public private(set) var interval: Interval = .monthly
    /// One client for ``revenueTrends(from:to:currency:)``, ``totals(from:to:)`` and ``mrr()``, or nil for all.
    public private(set) var client: Refid?

    /// The most buckets one trend call may return.
    public static let maximumBuckets = 3_700

    /// Analytics over the Wave tables in `database`, monthly and for all clients.
    public init(database: any Database) { self.database = database }

    /// These analytics with daily trend buckets.
    public func daily() -> WaveAnalytics { interval(.daily) }
    /// These analytics with monthly trend buckets.
    public func monthly() -> WaveAnalytics { interval(.monthly) }
    /// These analytics with yearly trend buckets.
    public func yearly() -> WaveAnalytics { interval(.yearly) }

    /// These analytics with `interval` as the trend bucket size.
    public func interval(_ interval: Interval) -> WaveAnalytics {
        var copy = self
        copy.interval = interval
        return copy
    }

    /// Scopes every figure to one client's invoices and subscriptions.
    public func forClient(_ client: Refid?) -> WaveAnalytics {
        var copy = self
        copy.client = client
        return copy
    }

    // MARK: Revenue

    /// Money received in `currency` per bucket from `start` to `end` inclusive (by payment time,
    /// UTC); every bucket is present, zeros when empty. Throws `.invalidCurrency` or `.validation`
    /// (a reversed range, or more than ``maximumBuckets`` buckets).
    public func revenueTrends(from start: CivilDate, to end: CivilDate, currency: String) async throws -> [RevenueTrendPoint] {
        let currency = try WaveValidation.currency(currency)
        let range = try Self.range(start, end, column: "p.created_at")
        let labels = CivilDate.bucketLabels(from: start, to: end, interval: interval)
        guard labels.count <= Self.maximumBuckets else {
            throw WaveError.invalid("range", "\(labels.count) \(interval) buckets; the limit is \(Self.maximumBuckets)")
        }
        let width = switch interval { case .daily: 10; case .monthly: 7; case .yearly: 4 }
        let scope = clientScope
        let points = try await database.read { tx in
            let bucket = "substr(\(tx.dialect.utcDay(ofMilliseconds: "p.created_at")), 1, \(width))"
            var points: [String: RevenueTrendPoint] = [:]
            for row in try tx.query("""
                SELECT \(raw: bucket) AS bucket, CAST(sum(p.amount) AS BIGINT) AS amount, CAST(count(*) AS BIGINT) AS payments
                FROM wave_payments p\(scope.join) WHERE p.currency = \(currency)\(range)\(scope.condition)
                GROUP BY \(raw: bucket)
                """) {
                let label = try row.string("bucket")
                points[label] = RevenueTrendPoint(bucket: label, amount: try row.int64("amount"), payments: try row.int64("payments"))
            }
            return points
        }
        return labels.map { points[$0] ?? RevenueTrendPoint(bucket: $0, amount: 0, payments: 0) }
    }

    /// Revenue per currency received in the range (all time without one), the number of invoices
    /// paid in it, and the invoices issued in it that are still open, with what they owe per currency.
    public func totals(from start: CivilDate? = nil, to end: CivilDate? = nil) async throws -> RevenueTotals {
        let paidRange = try Self.range(start, end, column: "p.created_at")
        let openRange = try Self.range(start, end, column: "i.created_at")
        let scope = clientScope
        return try await database.read { tx in
            var totals = RevenueTotals(revenue: [:], paidInvoices: 0, openInvoices: 0, outstanding: [:])
            for row in try tx.query("""
                SELECT p.currency, CAST(sum(p.amount) AS BIGINT) AS amount, CAST(count(*) AS BIGINT) AS n
                FROM wave_payments p\(scope.join) WHERE 1 = 1\(paidRange)\(scope.condition) GROUP BY p.currency
                """) {
                totals.revenue[try row.string("currency")] = try row.int64("amount")
                totals.paidInvoices += try row.int64("n")
            }
            for row in try tx.query("""
                SELECT i.currency, CAST(sum(i.total) AS BIGINT) AS amount, CAST(count(*) AS BIGINT) AS n
                FROM wave_invoices i WHERE i.status = 'open'\(openRange)\(scope.condition) GROUP BY i.currency
                """) {
                totals.outstanding[try row.string("currency")] = try row.int64("amount")
                totals.openInvoices += try row.int64("n")
            }
            return totals
        }
    }

    // MARK: Recurring revenue

    /// Monthly recurring revenue per currency: the plan price of every **active and past-due**
    /// subscription, normalised to a month. Past-due subscriptions are still billed every period
    /// (until canceled), so they count — their share is also reported as
    /// ``MonthlyRecurringRevenue/pastDueAmount`` for whoever wants it out. Trialing subscriptions
    /// have paid nothing yet and are excluded; canceled ones are gone. A subscription set to
    /// cancel at its period end counts until it is canceled.
    ///
    /// Normalisation is exact integer arithmetic in twelfths of a month: monthly × 12/12, yearly
    /// × 1/12, weekly × 52/12, daily × 365/12, summed per currency and then divided by 12 once,
    /// rounding half up — so 1,200 yearly + 100 weekly = 100 + 433.33… = 533. Every step is
    /// overflow-checked (`.invalidAmount`).
    public func mrr() async throws -> [MonthlyRecurringRevenue] {
        let client = client
        return try await database.read { tx in
            var scope = SQL(raw: "")
            if let client { scope = " AND client_refid = \(client)" }
            let counts = try tx.query("""
                SELECT status, plan_id, CAST(count(*) AS BIGINT) AS n FROM wave_subscriptions
                WHERE status IN ('active', 'past_due')\(scope) GROUP BY status, plan_id
                """).map { (status: try $0.string("status"), plan: try $0.int64("plan_id"), count: try $0.int64("n")) }
            guard !counts.isEmpty else { return [] }
            var plans: [Int64: (price: Int64, currency: String, interval: BillingInterval)] = [:]
            let ids = Set(counts.map(\.plan)).sorted()
            for row in try tx.query("""
                SELECT id, price, currency, billing_interval FROM wave_plans
                WHERE id IN (\(SQL.joined(ids.map { id -> SQL in "\(id)" }, separator: ", ")))
                """) {
                guard let interval = BillingInterval(rawValue: try row.string("billing_interval")) else {
                    throw StorageError(code: .decoding, message: "stored plan data has an unexpected shape")
                }
                plans[try row.int64("id")] = (try row.int64("price"), try row.string("currency"), interval)
            }
            // Per currency: twelfths of a month, in all and for past-due subscriptions.
            var twelfths: [String: (all: Int64, pastDue: Int64, active: Int64, pastDueCount: Int64)] = [:]
            for entry in counts {
                guard let plan = plans[entry.plan] else { continue }
                let (perSubscription, o1) = plan.price.multipliedReportingOverflow(by: plan.interval.monthlyTwelfths)
                let (amount, o2) = perSubscription.multipliedReportingOverflow(by: entry.count)
                var sums = twelfths[plan.currency] ?? (0, 0, 0, 0)
                let (all, o3) = sums.all.addingReportingOverflow(amount)
                guard !o1, !o2, !o3 else { throw Self.tooLarge }
                sums.all = all
                if entry.status == SubscriptionStatus.pastDue.rawValue {
                    let (pastDue, o4) = sums.pastDue.addingReportingOverflow(amount)
                    guard !o4 else { throw Self.tooLarge }
                    sums.pastDue = pastDue
                    sums.pastDueCount += entry.count
                } else {
                    sums.active += entry.count
                }
                twelfths[plan.currency] = sums
            }
            return try twelfths.keys.sorted().map { currency in
                let sums = twelfths[currency]!
                return MonthlyRecurringRevenue(currency: currency, amount: try Self.months(sums.all),
                                               pastDueAmount: try Self.months(sums.pastDue),
                                               activeSubscriptions: sums.active, pastDueSubscriptions: sums.pastDueCount)
            }
        }
    }

    // MARK: Internals

    private static let tooLarge = WaveError(.invalidAmount, message: "Invalid amount: the recurring revenue is too large")

    /// Twelfths of a month → minor units per month, rounded half up.
    static func months(_ twelfths: Int64) throws -> Int64 {
        let (rounded, overflow) = twelfths.addingReportingOverflow(6)
        guard !overflow else { throw tooLarge }
        return rounded / 12
    }

    private var clientScope: (join: SQL, condition: SQL) {
        guard let client else { return (SQL(raw: ""), SQL(raw: "")) }
        return (" JOIN wave_invoices i ON i.id = p.invoice_id", " AND i.client_refid = \(client)")
    }

    /// `AND column >= start-of-day AND column < day-after-end`, in milliseconds.
    static func range(_ start: CivilDate?, _ end: CivilDate?, column: String) throws -> SQL {
        if let start, let end, start > end { throw WaveError.invalid("range", "the start is after the end") }
        var sql = SQL(raw: "")
        if let start { sql = sql + " AND \(raw: column) >= \(start.dayNumber * 86_400_000)" }
        if let end { sql = sql + " AND \(raw: column) < \((end.dayNumber + 1) * 86_400_000)" }
        return sql
    }
}

/// One bucket of ``WaveAnalytics/revenueTrends(from:to:currency:)``.
public struct RevenueTrendPoint: Hashable, Sendable, Codable {
    /// `2026-03-09`, `2026-03` or `2026`.
    public var bucket: String
    /// Money received, in minor units.
    public var amount: Int64
    /// How many payments.
    public var payments: Int64

    /// A bucket with `amount` (minor units) from `payments` payments.
    public init(bucket: String, amount: Int64, payments: Int64) {
        self.bucket = bucket
        self.amount = amount
        self.payments = payments
    }
}

/// ``WaveAnalytics/totals(from:to:)``.
public struct RevenueTotals: Hashable, Sendable, Codable {
    /// Money received per currency, in minor units.
    public var revenue: [String: Int64]
    /// Invoices paid in the range (one payment each).
    public var paidInvoices: Int64
    /// Invoices issued in the range and still open.
    public var openInvoices: Int64
    /// What those open invoices owe, per currency.
    public var outstanding: [String: Int64]

    /// Totals from their parts; amounts are minor units by currency code.
    public init(revenue: [String: Int64], paidInvoices: Int64, openInvoices: Int64, outstanding: [String: Int64]) {
        self.revenue = revenue
        self.paidInvoices = paidInvoices
        self.openInvoices = openInvoices
        self.outstanding = outstanding
    }
}

/// ``WaveAnalytics/mrr()`` for one currency.
public struct MonthlyRecurringRevenue: Hashable, Sendable, Codable {
    /// An ISO 4217 code such as `USD`.
    public var currency: String
    /// Minor units per month, active and past-due subscriptions together.
    public var amount: Int64
    /// The past-due subscriptions' share of ``amount`` (rounded on its own).
    public var pastDueAmount: Int64
    /// Active subscriptions in the currency (trials are not counted).
    public var activeSubscriptions: Int64
    /// Past-due subscriptions in the currency.
    public var pastDueSubscriptions: Int64

    /// MRR from its parts; amounts are minor units per month.
    public init(currency: String, amount: Int64, pastDueAmount: Int64, activeSubscriptions: Int64, pastDueSubscriptions: Int64) {
        self.currency = currency
        self.amount = amount
        self.pastDueAmount = pastDueAmount
        self.activeSubscriptions = activeSubscriptions
        self.pastDueSubscriptions = pastDueSubscriptions
    }
}
