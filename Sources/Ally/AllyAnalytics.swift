import Foundation
import Logging
public import SuiteCore
import SuiteStorage
import Wallet

extension Allies {
    /// Analytics over resellers and their credits: `allies.analytics().monthly().creditTrends(from:to:)`.
    public func analytics() -> AllyAnalytics { AllyAnalytics(allies: self) }

    /// Folds the ledger's activity first when many transfers wait. A fold that cannot run now
    /// (PostgreSQL busy past its lock timeout) is skipped and logged: the ledger's readers are
    /// exact either way.
    func foldCreditActivityIfBehind() async {
        do {
            try await ledger.foldActivityIfBehind()
        } catch {
            logger.warning("ledger activity not folded now; analytics read the unfolded transfers instead",
                           metadata: ["error": "\(String(reflecting: error))"])
        }
    }
}

/// Reseller and credit analytics. Credits come from the ledger's daily activity of the `credits`
/// accounts, which are the reseller wallets (``Ledger/activityByAccount(unit:account:from:to:in:)``,
/// folded from the transfers, see ``Ledger/foldActivity()``); clients acquired come from the Client
/// module's rollup through ``ClientAcquisitions``. Ally reads no other module's table. No call
/// scans the whole ledger or the clients: costs grow with resellers × days of activity, plus at
/// most about ``Ledger/activityFoldThreshold`` unfolded transfers. Values are immutable; dates
/// are inclusive UTC days.
///
/// ```swift
/// let top = try await allies.analytics().topResellers(limit: 5, from: january1, to: january31)
/// let trend = try await allies.analytics().forReseller(ally.refid).daily().creditTrends(from: january1, to: january31)
/// ```
public struct AllyAnalytics: Sendable {
    let allies: Allies
    /// The trend bucket size (default monthly).
    public private(set) var interval: Interval = .monthly
    /// One reseller for ``creditTrends(from:to:)``, or nil for all.
    public private(set) var reseller: Refid?

    /// The most buckets one trend call may return.
    public static let maximumBuckets = 3_700
    /// The largest `limit` of ``topResellers(limit:from:to:by:)``.
    public static let maximumLimit = 500

    /// These analytics with daily trend buckets.
    public func daily() -> AllyAnalytics { interval(.daily) }
    /// These analytics with monthly trend buckets.
    public func monthly() -> AllyAnalytics { interval(.monthly) }
    /// These analytics with yearly trend buckets.
    public func yearly() -> AllyAnalytics { interval(.yearly) }

    /// These analytics with `interval` as the trend bucket size.
    public func interval(_ interval: Interval) -> AllyAnalytics {
        var copy = self
        copy.interval = interval
        return copy
    }

    /// Scopes ``creditTrends(from:to:)`` to one reseller.
    public func forReseller(_ reseller: Refid?) -> AllyAnalytics {
        var copy = self
        copy.reseller = reseller
        return copy
    }

    // MARK: Rankings

    /// The most successful resellers in the range: ordered by clients acquired then credits spent
    /// (or the other way round with `by: .creditsSpent`), then by refid. Only resellers with some
    /// activity in the range appear.
    public func topResellers(limit: Int = 10, from start: CivilDate? = nil, to end: CivilDate? = nil,
                             by order: ResellerRanking.Order = .clientsAcquired) async throws -> [ResellerRanking] {
        guard (1...Self.maximumLimit).contains(limit) else {
            throw AllyError(.validation, message: "Invalid limit: use 1…\(Self.maximumLimit)")
        }
        try Self.checkRange(start, end)
        let acquisitions = allies.acquisitions
        await allies.foldCreditActivityIfBehind()
        return try await allies.database.read { tx in
            var spent: [Refid: (credits: Int64, provisions: Int64)] = [:]
            // A wallet's owner is its reseller's refid (see `Allies.create`).
            for wallet in try allies.ledger.activityByAccount(unit: .credits, from: start, to: end, in: tx) {
                spent[Refid(rawValue: wallet.owner)] = (wallet.totals.debited, wallet.totals.debits)
            }
            let clients = try acquisitions?.clientsAcquired(from: start, to: end, reseller: nil, in: tx) ?? [:]
            var candidates = Set(clients.keys)
            candidates.formUnion(spent.compactMap { $0.value.credits > 0 ? $0.key : nil })
            let ranked = candidates.map { refid in
                (refid: refid, clients: clients[refid] ?? 0, spent: spent[refid]?.credits ?? 0, provisions: spent[refid]?.provisions ?? 0)
            }.sorted { a, b in
                let (ka, kb) = order == .clientsAcquired ? ((a.clients, a.spent), (b.clients, b.spent)) : ((a.spent, a.clients), (b.spent, b.clients))
                return ka != kb ? ka > kb : a.refid.rawValue < b.refid.rawValue
            }
            var result: [ResellerRanking] = []
            for entry in ranked where result.count < limit {
                // Client rollups may name a refid that is not a reseller here (e.g. a reseller kept elsewhere): skip it.
                guard let reseller = try allies.findByRefid(entry.refid, in: tx) else { continue }
                result.append(ResellerRanking(reseller: reseller.refid, company: reseller.company, tier: reseller.tier,
                                              status: reseller.status, clientsAcquired: entry.clients,
                                              creditsSpent: entry.spent, provisions: entry.provisions))
            }
            return result
        }
    }

    // MARK: Snapshots

    /// Resellers per tier right now: how many, active and suspended, their share of all resellers,
    /// their outstanding credits and the tier's discount.
    public func tierSnapshot() async throws -> TierSnapshot {
        let discounts = allies.discounts
        return try await allies.database.read { tx in
            var tiers = Dictionary(uniqueKeysWithValues: ResellerTier.allCases.map {
                ($0, TierSnapshot.Tier(resellers: 0, active: 0, suspended: 0, percentage: 0, outstandingCredits: 0,
                                       discountBasisPoints: discounts.basisPoints(for: $0)))
            })
            // A wallet's owner is its reseller's refid (see `Allies.create`).
            let balances = try allies.ledger.balancesByOwner(unit: .credits, in: tx)
            for row in try tx.query("SELECT refid, tier, status FROM ally_resellers") {
                guard let tier = ResellerTier(rawValue: try row.string("tier")) else { continue }
                tiers[tier]!.resellers += 1
                if try row.string("status") == ResellerStatus.active.rawValue { tiers[tier]!.active += 1 } else { tiers[tier]!.suspended += 1 }
                tiers[tier]!.outstandingCredits = try Self.sum(tiers[tier]!.outstandingCredits, balances[try row.string("refid")] ?? 0)
            }
            let total = tiers.values.reduce(0) { $0 + $1.resellers }
            for tier in ResellerTier.allCases {
                tiers[tier]!.percentage = Self.percentage(tiers[tier]!.resellers, of: total)
            }
            return TierSnapshot(tiers: tiers, totalResellers: total)
        }
    }

    /// The credits resellers hold right now: the sum of every reseller wallet's balance.
    public func totalCreditsDistributed() async throws -> Int64 {
        try await allies.database.read { tx in
            try allies.ledger.balancesByOwner(unit: .credits, in: tx).values.reduce(0, Self.sum)
        }
    }

    /// One reseller's figures: balance, all-time credits added and spent, provisions, clients
    /// acquired, and the first and last day with credit activity.
    public func resellerStats(_ refid: Refid) async throws -> ResellerStats {
        let acquisitions = allies.acquisitions
        await allies.foldCreditActivityIfBehind()
        return try await allies.database.read { tx in
            guard let reseller = try allies.findByRefid(refid, in: tx) else { throw Allies.notFound(refid) }
            let balance = try allies.ledger.account(reseller.wallet, in: tx).balance
            let activity = try allies.ledger.activityByAccount(unit: .credits, account: reseller.wallet, in: tx).first
            let totals = activity?.totals ?? .zero
            let clients = try acquisitions?.clientsAcquired(from: nil, to: nil, reseller: refid, in: tx)[refid] ?? 0
            return ResellerStats(
                reseller: refid, company: reseller.company, tier: reseller.tier, status: reseller.status, balance: balance,
                creditsAdded: totals.credited, creditsSpent: totals.debited, provisions: totals.debits, clientsAcquired: clients,
                firstActivity: activity?.firstDay, lastActivity: activity?.lastDay)
        }
    }

    // MARK: Trends

    /// Credits added and spent, and provisions, per bucket from `start` to `end` inclusive; every
    /// bucket is present (zeros when empty).
    public func creditTrends(from start: CivilDate, to end: CivilDate) async throws -> [CreditTrendPoint] {
        try Self.checkRange(start, end)
        let labels = CivilDate.bucketLabels(from: start, to: end, interval: interval)
        guard labels.count <= Self.maximumBuckets else {
            throw AllyError(.validation, message: "Invalid range: \(labels.count) \(interval) buckets; the limit is \(Self.maximumBuckets)")
        }
        let (reseller, interval) = (reseller, interval)
        await allies.foldCreditActivityIfBehind()
        let buckets = try await allies.database.read { tx in
            var wallet: Refid?
            if let reseller {
                guard let found = try allies.findByRefid(reseller, in: tx) else { throw Allies.notFound(reseller) }
                wallet = found.wallet
            }
            return try allies.ledger.activityByBucket(unit: .credits, account: wallet, from: start, to: end, interval: interval, in: tx)
        }
        return labels.map { label in
            let totals = buckets[label] ?? .zero
            return CreditTrendPoint(bucket: label, added: totals.credited, spent: totals.debited, provisions: totals.debits)
        }
    }

    // MARK: Internals

    static func checkRange(_ start: CivilDate?, _ end: CivilDate?) throws {
        if let start, let end, start > end {
            throw AllyError(.validation, message: "Invalid range: the start is after the end")
        }
    }

    static func sum(_ a: Int64, _ b: Int64) throws -> Int64 {
        let (total, overflow) = a.addingReportingOverflow(b)
        guard !overflow else { throw AllyError(.invalidAmount, message: "Credits overflow: the total is too large to report") }
        return total
    }

    static func percentage(_ part: Int64, of total: Int64) -> Double {
        total == 0 ? 0 : (Double(part) * 10_000 / Double(total)).rounded() / 100
    }
}

/// One row of ``AllyAnalytics/topResellers(limit:from:to:by:)``.
public struct ResellerRanking: Hashable, Sendable, Codable {
    /// What ranks first.
    public enum Order: String, Sendable, CaseIterable {
        /// Clients acquired first, then credits spent.
        case clientsAcquired
        /// Credits spent first, then clients acquired.
        case creditsSpent
    }

    /// The reseller's refid (`RS-…`).
    public var reseller: Refid
    /// The reseller's company name.
    public var company: String
    /// The reseller's tier now.
    public var tier: ResellerTier
    /// The reseller's status now.
    public var status: ResellerStatus
    /// Clients the reseller acquired in the range.
    public var clientsAcquired: Int64
    /// Credits the reseller spent in the range, in whole credits.
    public var creditsSpent: Int64
    /// Debits from the reseller's wallet in the range (one per provision).
    public var provisions: Int64
}

/// Resellers per tier (``AllyAnalytics/tierSnapshot()``).
public struct TierSnapshot: Hashable, Sendable, Codable {
    /// One tier's figures.
    public struct Tier: Hashable, Sendable, Codable {
        /// Resellers in the tier.
        public var resellers: Int64
        /// Of those, the active ones.
        public var active: Int64
        /// Of those, the suspended ones.
        public var suspended: Int64
        /// Share of all resellers, in percent with 2 decimals.
        public var percentage: Double
        /// Credits the tier's resellers hold.
        public var outstandingCredits: Int64
        /// The tier's price discount, in basis points (100 = 1%).
        public var discountBasisPoints: Int64
    }

    /// Every tier is present, with zeros when it has no resellers.
    public var tiers: [ResellerTier: Tier]
    /// Resellers in all tiers.
    public var totalResellers: Int64
}

/// One bucket of ``AllyAnalytics/creditTrends(from:to:)``.
public struct CreditTrendPoint: Hashable, Sendable, Codable {
    /// The bucket's label: `2026-01-31` (daily), `2026-01` (monthly) or `2026` (yearly).
    public var bucket: String
    /// Credits added to reseller wallets in the bucket, in whole credits.
    public var added: Int64
    /// Credits spent from reseller wallets in the bucket, in whole credits.
    public var spent: Int64
    /// Debits from reseller wallets in the bucket (one per provision).
    public var provisions: Int64
}

/// One reseller's figures (``AllyAnalytics/resellerStats(_:)``).
public struct ResellerStats: Hashable, Sendable, Codable {
    /// The reseller's refid (`RS-…`).
    public var reseller: Refid
    /// The reseller's company name.
    public var company: String
    /// The reseller's tier now.
    public var tier: ResellerTier
    /// The reseller's status now.
    public var status: ResellerStatus
    /// The wallet's balance now, in whole credits.
    public var balance: Int64
    /// All credits ever added to the wallet.
    public var creditsAdded: Int64
    /// All credits ever spent from the wallet.
    public var creditsSpent: Int64
    /// Debits from the wallet so far (one per provision).
    public var provisions: Int64
    /// Clients the reseller acquired so far (0 without a ``ClientAcquisitions`` source).
    public var clientsAcquired: Int64
    /// The first day with credit activity; nil if there was none.
    @ExplicitNull public var firstActivity: CivilDate?
    /// The last day with credit activity; nil if there was none.
    @ExplicitNull public var lastActivity: CivilDate?
}
