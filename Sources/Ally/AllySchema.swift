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
        // Versions 2 and 3 kept a daily credit rollup here, read from the ledger's tables. The
        // ledger now keeps every account's daily activity itself (Wallet schema version 4), and
        // version 5 drops what these made; a new install skips them, and an upgrade from 1 or 2
        // has nothing to build. Version 3's unique wallet index stays.
        Migration(version: 2, name: "daily credit rollup (superseded by version 5)") { _ in [] },
        Migration(version: 3, name: "credit rollup folded from the ledger (superseded by version 5)") { _ in
            ["CREATE UNIQUE INDEX ally_resellers_wallet ON ally_resellers (wallet_refid)"]
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
        // The credit rollup moved to the ledger, which folds every account's daily activity from
        // its own transfers (Wallet schema version 4); Ally reads it through the ledger's API
        // and no longer reads or locks the ledger's tables. Nothing here is lost: it is derived.
        Migration(version: 5, name: "credit rollup read from the ledger") { _ in
            ["DROP TABLE IF EXISTS ally_credit_stats", "DROP TABLE IF EXISTS ally_credit_fold"]
        },
    ])
}
