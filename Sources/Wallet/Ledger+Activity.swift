public import SuiteCore
public import SuiteStorage

/// An account's movements in a range of days (``Ledger/activityByAccount(unit:account:from:to:in:)``).
public struct AccountActivity: Hashable, Sendable, Codable {
    /// The account's refid.
    public var account: Refid
    /// The account's owner, as given to ``Ledger/account(owner:unit:)``.
    public var owner: String
    /// What the movements brought in.
    public var totals: ActivityTotals
    /// The first day in the range with a movement.
    public var firstDay: CivilDate
    /// The last day in the range with a movement.
    public var lastDay: CivilDate
}

/// What moved into and out of accounts: the amounts, and how many debits took them out.
public struct ActivityTotals: Hashable, Sendable, Codable {
    /// The sum of the transfers into the accounts.
    public var credited: Int64
    /// The sum of the transfers out of the accounts.
    public var debited: Int64
    /// How many transfers went out of the accounts.
    public var debits: Int64

    /// Totals from their parts.
    public init(credited: Int64, debited: Int64, debits: Int64) {
        self.credited = credited
        self.debited = debited
        self.debits = debits
    }

    /// Nothing moved.
    public static let zero = ActivityTotals(credited: 0, debited: 0, debits: 0)
}

/// The daily activity rollup (`wallet_activity`) is derived from the transfers, not written by
/// each one: a transfer's hot path carries no extra statement (measured when the rollup lived in
/// Ally: the per-movement upsert cost about a tenth of a provision on SQLite).
///
/// - `wallet_activity_fold.last_transfer` marks how far the rollup has folded the transfers: every
///   transfer with an id up to it is counted, none above.
/// - Readers see the rollup *plus* the transfers above the mark, in one snapshot, so they are
///   exact whether or not a fold has run.
/// - ``Ledger/foldActivity()`` moves the mark. ``Ledger/foldActivityIfBehind()`` does so only
///   when more than ``Ledger/activityFoldThreshold`` transfers wait, so a read adds at most about
///   that many.
///
/// On PostgreSQL ids are assigned at insert but commit in any order, so a fold first waits until
/// no transaction is writing transfers and holds new ones back while it runs
/// (``SQLDialect/excludingWriters(to:lockTimeoutMilliseconds:)``): no transfer can commit below
/// the mark afterwards. If that wait times out the fold throws, and readers stay exact.
///
/// Every account's movements are folded; the readers here answer for user accounts (system
/// accounts are the other side of every movement, read through ``Ledger/systemBalance(_:unit:)``).
extension Ledger {
    /// How many unfolded transfers make ``foldActivityIfBehind()`` fold.
    public static let activityFoldThreshold: Int64 = 1_000

    /// Folds every transfer committed since the last fold into the daily activity rollup, in one
    /// write transaction; returns how many transfer ids it moved past (0 when up to date).
    ///
    /// ```swift
    /// let moved = try await ledger.foldActivity()
    /// ```
    @discardableResult
    public func foldActivity() async throws -> Int64 {
        try await database.write { tx in try Self.foldActivity(in: tx) }
    }

    /// Folds when more than ``activityFoldThreshold`` transfers wait; returns whether it folded.
    /// Readers are exact either way, so a caller may log a failure and read on.
    @discardableResult
    public func foldActivityIfBehind() async throws -> Bool {
        let waiting = try await database.read { tx in
            try tx.queryInt64("""
                SELECT COALESCE((SELECT max(id) FROM wallet_transfers), 0) - (SELECT last_transfer FROM wallet_activity_fold WHERE id = 1)
                """) ?? 0
        }
        guard waiting > Self.activityFoldThreshold else { return false }
        try await foldActivity()
        return true
    }

    static func foldActivity(in tx: any Transaction) throws -> Int64 {
        // The mark's row lock makes concurrent folds take turns; the second sees the first's mark.
        guard let folded = try tx.queryInt64("SELECT last_transfer FROM wallet_activity_fold WHERE id = 1\(raw: tx.dialect.forUpdate)")
        else { throw StorageError(code: .decoding, message: "the activity rollup's fold mark is missing") }
        for statement in tx.dialect.excludingWriters(to: "wallet_transfers", lockTimeoutMilliseconds: 2_000) {
            try tx.execute(SQL(raw: statement))
        }
        guard let newest = try tx.queryInt64("SELECT max(id) FROM wallet_transfers"), newest > folded else { return 0 }
        try tx.execute("""
            INSERT INTO wallet_activity (account_id, day, credited, debited, debits)
            SELECT m.account_id, m.day, CAST(sum(m.credited) AS BIGINT), CAST(sum(m.debited) AS BIGINT), CAST(sum(m.debits) AS BIGINT)
            FROM \(movements(after: "\(folded)", through: newest, dialect: tx.dialect)) m
            WHERE 1 = 1
            GROUP BY m.account_id, m.day
            ON CONFLICT (account_id, day) DO UPDATE SET credited = wallet_activity.credited + excluded.credited,
                debited = wallet_activity.debited + excluded.debited, debits = wallet_activity.debits + excluded.debits
            """)
        try tx.execute("UPDATE wallet_activity_fold SET last_transfer = \(newest) WHERE id = 1")
        return newest - folded
    }

    // MARK: Reading

    /// Each user account of `unit` (or only `account`) with a movement from `start` to `end`
    /// (inclusive UTC days; nil is open), with what moved. Exact in the reading snapshot.
    public func activityByAccount(unit: Unit, account: Refid? = nil, from start: CivilDate? = nil, to end: CivilDate? = nil,
                                  in tx: any Transaction) throws -> [AccountActivity] {
        try tx.query("""
            SELECT a.refid, a.owner, CAST(sum(s.credited) AS BIGINT) AS credited, CAST(sum(s.debited) AS BIGINT) AS debited,
                   CAST(sum(s.debits) AS BIGINT) AS debits, min(s.day) AS first_day, max(s.day) AS last_day
            FROM \(Self.activity(in: tx)) s JOIN wallet_accounts a ON a.id = s.account_id
            WHERE \(Self.scope(unit: unit, account: account, from: start, to: end))
            GROUP BY a.refid, a.owner
            """).map { row in
            AccountActivity(account: try row.refid("refid"), owner: try row.string("owner"),
                            totals: ActivityTotals(credited: try row.int64("credited"), debited: try row.int64("debited"),
                                                   debits: try row.int64("debits")),
                            firstDay: try Self.day(row.string("first_day")), lastDay: try Self.day(row.string("last_day")))
        }
    }

    /// What moved in the user accounts of `unit` (or only `account`) from `start` to `end`, per
    /// bucket of `interval`, keyed by the bucket's label (see ``CivilDate/bucketLabels(from:to:interval:)``);
    /// buckets with no movement are absent. Exact in the reading snapshot.
    public func activityByBucket(unit: Unit, account: Refid? = nil, from start: CivilDate, to end: CivilDate,
                                 interval: Interval, in tx: any Transaction) throws -> [String: ActivityTotals] {
        let width = switch interval { case .daily: 10; case .monthly: 7; case .yearly: 4 }
        var buckets: [String: ActivityTotals] = [:]
        for row in try tx.query("""
            SELECT substr(s.day, 1, \(raw: String(width))) AS bucket, CAST(sum(s.credited) AS BIGINT) AS credited,
                   CAST(sum(s.debited) AS BIGINT) AS debited, CAST(sum(s.debits) AS BIGINT) AS debits
            FROM \(Self.activity(in: tx)) s JOIN wallet_accounts a ON a.id = s.account_id
            WHERE \(Self.scope(unit: unit, account: account, from: start, to: end))
            GROUP BY substr(s.day, 1, \(raw: String(width)))
            """) {
            buckets[try row.string("bucket")] = ActivityTotals(credited: try row.int64("credited"), debited: try row.int64("debited"),
                                                               debits: try row.int64("debits"))
        }
        return buckets
    }

    /// Every user account of `unit` with its balance now, keyed by owner (owners are unique
    /// within a unit).
    public func balancesByOwner(unit: Unit, in tx: any Transaction) throws -> [String: Int64] {
        var balances: [String: Int64] = [:]
        for row in try tx.query("SELECT owner, balance FROM wallet_accounts WHERE unit = \(unit.code) AND is_system = 0") {
            balances[try row.string("owner")] = try row.int64("balance")
        }
        return balances
    }

    // MARK: Internals

    private static func scope(unit: Unit, account: Refid?, from start: CivilDate?, to end: CivilDate?) -> SQL {
        var sql: SQL = "a.unit = \(unit.code) AND a.is_system = 0"
        if let account { sql = sql + " AND a.refid = \(account)" }
        if let start { sql = sql + " AND s.day >= \(start.description)" }
        if let end { sql = sql + " AND s.day <= \(end.description)" }
        return sql
    }

    private static func day(_ text: String) throws -> CivilDate {
        guard let day = CivilDate(parsing: text) else {
            throw StorageError(code: .decoding, message: "an activity day is not a date")
        }
        return day
    }

    /// The rollup's rows and the unfolded transfers in the same shape (`account_id`, `day`,
    /// `credited`, `debited`, `debits`): a subquery for `FROM`, exact in the reading snapshot.
    private static func activity(in tx: any Transaction) -> SQL {
        """
        (SELECT account_id, day, credited, debited, debits FROM wallet_activity
         UNION ALL
         SELECT account_id, day, credited, debited, debits
         FROM \(movements(after: "(SELECT last_transfer FROM wallet_activity_fold WHERE id = 1)", through: nil, dialect: tx.dialect)) t)
        """
    }

    /// One row per side of each transfer in the id range: the credited account's amount in, the
    /// debited account's amount out and one debit.
    private static func movements(after lower: SQL, through upper: Int64?, dialect: SQLDialect) -> SQL {
        var range: SQL = "id > \(lower)"
        if let upper { range = range + " AND id <= \(upper)" }
        return """
            (SELECT m.account_id, \(raw: dialect.utcDay(ofMilliseconds: "m.created_at")) AS day, m.credited, m.debited, m.debits
             FROM (SELECT credit_account AS account_id, created_at, amount AS credited, 0 AS debited, 0 AS debits
                   FROM wallet_transfers WHERE \(range)
                   UNION ALL
                   SELECT debit_account, created_at, 0, amount, 1 FROM wallet_transfers WHERE \(range)) m)
            """
    }
}
