import Foundation
import Logging
public import SuiteStorage

/// The daily credit rollup (`ally_credit_stats`) is derived from the ledger, not written by each
/// movement: a provision or a top-up is only its ledger transfer, so the money path carries no
/// extra statement (measured: the per-movement upsert cost about a tenth of a provision on SQLite).
///
/// - `ally_credit_fold.last_transfer` marks how far the rollup has folded the ledger: every
///   transfer with an id up to it is counted, none above.
/// - Analytics read the rollup *plus* the transfers above the mark, in one snapshot
///   (``creditStats(in:)``), so they are exact whether or not a fold has run.
/// - ``Allies/foldCreditRollup()`` moves the mark: analytics call it when more than
///   ``Allies/foldThreshold`` transfers wait, so a read adds at most about that many.
///
/// On PostgreSQL ids are assigned at insert but commit in any order, so a fold first waits until
/// no transaction is writing transfers and holds new ones back while it runs
/// (``SQLDialect/excludingWriters(to:lockTimeoutMilliseconds:)``): no transfer can commit
/// below the mark afterwards. If that wait times out the fold throws; analytics then skip it and
/// stay exact.
extension Allies {
    /// How many unfolded transfers make an analytics call fold first.
    public static let foldThreshold: Int64 = 1_000

    /// Folds every transfer into or out of a reseller wallet committed since the last fold into
    /// the daily rollup, in one write transaction; returns how many transfer ids it moved past
    /// (0 when the rollup was up to date). Analytics call it themselves; a job may call it too.
    @discardableResult
    public func foldCreditRollup() async throws -> Int64 {
        try await database.write { tx in try Self.foldCreditRollup(in: tx) }
    }

    static func foldCreditRollup(in tx: any Transaction) throws -> Int64 {
        // The mark's row lock makes concurrent folds take turns; the second sees the first's mark.
        guard let folded = try tx.queryInt64("SELECT last_transfer FROM ally_credit_fold WHERE id = 1\(raw: tx.dialect.forUpdate)")
        else { throw StorageError(code: .decoding, message: "the credit rollup's fold mark is missing") }
        for statement in tx.dialect.excludingWriters(to: "wallet_transfers", lockTimeoutMilliseconds: 2_000) {
            try tx.execute(SQL(raw: statement))
        }
        guard let newest = try tx.queryInt64("SELECT max(id) FROM wallet_transfers"), newest > folded else { return 0 }
        try tx.execute("""
            INSERT INTO ally_credit_stats (reseller_id, day, added, spent, provisions)
            SELECT m.reseller_id, m.day, CAST(sum(m.added) AS BIGINT), CAST(sum(m.spent) AS BIGINT), CAST(sum(m.provisions) AS BIGINT)
            FROM \(movements(after: "\(folded)", through: newest, dialect: tx.dialect)) m
            WHERE 1 = 1
            GROUP BY m.reseller_id, m.day
            ON CONFLICT (reseller_id, day) DO UPDATE SET added = ally_credit_stats.added + excluded.added,
                spent = ally_credit_stats.spent + excluded.spent, provisions = ally_credit_stats.provisions + excluded.provisions
            """)
        try tx.execute("UPDATE ally_credit_fold SET last_transfer = \(newest) WHERE id = 1")
        return newest - folded
    }

    /// Folds first when many transfers wait; a fold that cannot run now (PostgreSQL busy past its
    /// lock timeout) is skipped and logged, because ``creditStats(in:)`` is exact either way.
    func foldCreditRollupIfBehind() async {
        do {
            let waiting = try await database.read { tx in
                try tx.queryInt64("""
                    SELECT COALESCE((SELECT max(id) FROM wallet_transfers), 0) - (SELECT last_transfer FROM ally_credit_fold WHERE id = 1)
                    """) ?? 0
            }
            guard waiting > Self.foldThreshold else { return }
            try await foldCreditRollup()
        } catch {
            logger.warning("credit rollup not folded now; analytics read the unfolded transfers instead",
                           metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    /// The rollup's rows and the unfolded transfers in the same shape (`reseller_id`, `day`,
    /// `added`, `spent`, `provisions`): a subquery for `FROM`, exact in the reading snapshot.
    static func creditStats(in tx: any Transaction) -> SQL {
        """
        (SELECT reseller_id, day, added, spent, provisions FROM ally_credit_stats
         UNION ALL
         SELECT reseller_id, day, added, spent, provisions
         FROM \(movements(after: "(SELECT last_transfer FROM ally_credit_fold WHERE id = 1)", through: nil, dialect: tx.dialect)) t)
        """
    }

    /// One row per reseller-wallet side of each transfer in the id range: a credit into a
    /// reseller's wallet is credits added; a debit from it is credits spent and one provision.
    private static func movements(after lower: SQL, through upper: Int64?, dialect: SQLDialect) -> SQL {
        var range: SQL = "id > \(lower)"
        if let upper { range = range + " AND id <= \(upper)" }
        return """
            (SELECT r.id AS reseller_id, \(raw: dialect.utcDay(ofMilliseconds: "m.created_at")) AS day,
                    m.added, m.spent, m.provisions
             FROM (SELECT credit_account AS account_id, created_at, amount AS added, 0 AS spent, 0 AS provisions
                   FROM wallet_transfers WHERE \(range)
                   UNION ALL
                   SELECT debit_account, created_at, 0, amount, 1 FROM wallet_transfers WHERE \(range)) m
             JOIN wallet_accounts a ON a.id = m.account_id
             JOIN ally_resellers r ON r.wallet_refid = a.refid)
            """
    }
}
