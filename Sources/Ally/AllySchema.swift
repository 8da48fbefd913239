public import SuiteStorage

extension Allies {
    /// The Ally module's tables (the ledger's are installed with them by ``Allies/install(on:)``).
    public static let schema = ModuleSchema(module: "ally", migrations: [
        Migration(version: 1, name: "resellers and audit trail") { dialect in
            [
                """
                CREATE TABLE ally_resellers (
                    id \(raw: dialect.autoIncrementPrimaryKey),
                    refid TEXT NOT NULL UNIQUE,
                    user_id TEXT NOT NULL UNIQUE,
                    company TEXT NOT NULL,
                    tier TEXT NOT NULL CHECK (tier IN ('standard', 'gold', 'platinum')),
                    status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
                    metadata TEXT NOT NULL,
                    wallet_refid TEXT NOT NULL,
                    version BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE ally_audit (
                    reseller_id BIGINT NOT NULL REFERENCES ally_resellers (id),
                    version BIGINT NOT NULL,
                    event TEXT NOT NULL,
                    from_status TEXT,
                    to_status TEXT,
                    actor TEXT NOT NULL,
                    reason TEXT,
                    at BIGINT NOT NULL,
                    PRIMARY KEY (reseller_id, version)
                )\(raw: dialect.withoutRowID)
                """,
            ]
        },
        // Credits added and spent per reseller and UTC day, so analytics never scan the ledger.
        // Backfilled from the ledger on upgrade.
        Migration(version: 2, name: "daily credit rollup") { dialect in
            let day = dialect.utcDay(ofMilliseconds: "t.created_at")
            return [
                """
                CREATE TABLE ally_credit_stats (
                    reseller_id BIGINT NOT NULL REFERENCES ally_resellers (id),
                    day TEXT NOT NULL,
                    added BIGINT NOT NULL,
                    spent BIGINT NOT NULL,
                    provisions BIGINT NOT NULL,
                    PRIMARY KEY (reseller_id, day)
                )\(raw: dialect.withoutRowID)
                """,
                "CREATE INDEX ally_credit_stats_day ON ally_credit_stats (day)",
                """
                INSERT INTO ally_credit_stats (reseller_id, day, added, spent, provisions)
                SELECT r.id, \(raw: day),
                       CAST(sum(CASE WHEN t.credit_account = a.id THEN t.amount ELSE 0 END) AS BIGINT),
                       CAST(sum(CASE WHEN t.debit_account = a.id THEN t.amount ELSE 0 END) AS BIGINT),
                       CAST(sum(CASE WHEN t.debit_account = a.id THEN 1 ELSE 0 END) AS BIGINT)
                FROM ally_resellers r
                JOIN wallet_accounts a ON a.refid = r.wallet_refid
                JOIN wallet_transfers t ON t.debit_account = a.id OR t.credit_account = a.id
                GROUP BY r.id, \(raw: day)
                """,
            ]
        },
        // The rollup is no longer written by each movement: it is folded from the ledger (see
        // `Allies.foldCreditRollup()`), and analytics add the transfers not folded yet. Every
        // transfer so far is in it — version 2 kept it in each movement's own transaction.
        Migration(version: 3, name: "credit rollup folded from the ledger") { _ in
            [
                "CREATE UNIQUE INDEX ally_resellers_wallet ON ally_resellers (wallet_refid)",
                """
                CREATE TABLE ally_credit_fold (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    last_transfer BIGINT NOT NULL
                )
                """,
                "INSERT INTO ally_credit_fold (id, last_transfer) SELECT 1, COALESCE(max(id), 0) FROM wallet_transfers",
            ]
        },
        // A suspended reseller's wallet is frozen in the ledger (Wallet schema version 3), which
        // refuses the debit; before, Ally passed the ledger a condition on this module's table.
        // Resellers suspended before this version get their wallet frozen here, once.
        Migration(version: 4, name: "suspended resellers' wallets frozen") { _ in
            [
                """
                UPDATE wallet_accounts SET frozen = 1
                WHERE refid IN (SELECT wallet_refid FROM ally_resellers WHERE status = 'suspended')
                """,
            ]
        },
    ])
}
