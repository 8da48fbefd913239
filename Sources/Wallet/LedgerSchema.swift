public import SuiteStorage

extension Ledger {
    /// The Wallet module's tables. Installed by `dock install wallet` or ``Ledger/install(on:)``.
    public static let schema = ModuleSchema(module: "wallet", migrations: [
        Migration(version: 1, name: "accounts, transfers, entries") { dialect in
            [
                """
                CREATE TABLE wallet_accounts (
                    id \(raw: dialect.autoIncrementPrimaryKey),
                    refid TEXT NOT NULL UNIQUE,
                    owner TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    balance BIGINT NOT NULL,
                    is_system INTEGER NOT NULL,
                    created_at BIGINT NOT NULL,
                    UNIQUE (owner, unit),
                    CHECK (is_system = 1 OR balance >= 0)
                )
                """,
                """
                CREATE TABLE wallet_transfers (
                    id \(raw: dialect.autoIncrementPrimaryKey),
                    refid TEXT NOT NULL UNIQUE,
                    idempotency_key TEXT,
                    fingerprint TEXT NOT NULL,
                    debit_account BIGINT NOT NULL REFERENCES wallet_accounts (id),
                    credit_account BIGINT NOT NULL REFERENCES wallet_accounts (id),
                    amount BIGINT NOT NULL CHECK (amount > 0),
                    description TEXT NOT NULL,
                    metadata TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                "CREATE UNIQUE INDEX wallet_transfers_idempotency_key ON wallet_transfers (idempotency_key) WHERE idempotency_key IS NOT NULL",
                """
                CREATE TABLE wallet_entries (
                    account_id BIGINT NOT NULL REFERENCES wallet_accounts (id),
                    transfer_id BIGINT NOT NULL REFERENCES wallet_transfers (id),
                    amount BIGINT NOT NULL,
                    balance_after BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    PRIMARY KEY (account_id, transfer_id)
                )\(raw: dialect.withoutRowID)
                """,
            ]
        },
        Migration(version: 2, name: "holds") { dialect in
            [
                // The CHECK is a last line of defence: the conditional UPDATEs already keep
                // 0 ≤ held ≤ balance, and system accounts never hold.
                """
                ALTER TABLE wallet_accounts ADD COLUMN held BIGINT NOT NULL DEFAULT 0
                    CHECK (held = 0 OR (held > 0 AND held <= balance AND is_system = 0))
                """,
                """
                CREATE TABLE wallet_holds (
                    id \(raw: dialect.autoIncrementPrimaryKey),
                    refid TEXT NOT NULL UNIQUE,
                    account_id BIGINT NOT NULL REFERENCES wallet_accounts (id),
                    amount BIGINT NOT NULL CHECK (amount > 0),
                    status TEXT NOT NULL CHECK (status IN ('pending', 'captured', 'voided', 'expired')),
                    description TEXT NOT NULL,
                    metadata TEXT NOT NULL,
                    idempotency_key TEXT,
                    fingerprint TEXT NOT NULL,
                    expires_at BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    created_by TEXT NOT NULL,
                    resolved_at BIGINT,
                    resolved_by TEXT,
                    resolution_reason TEXT,
                    captured_amount BIGINT,
                    capture_transfer_id BIGINT REFERENCES wallet_transfers (id),
                    CHECK ((status = 'pending') = (resolved_at IS NULL AND resolved_by IS NULL)),
                    CHECK ((status = 'captured') = (captured_amount IS NOT NULL)),
                    CHECK (capture_transfer_id IS NULL OR status = 'captured'),
                    CHECK (captured_amount IS NULL OR (captured_amount > 0 AND captured_amount <= amount))
                )
                """,
                "CREATE UNIQUE INDEX wallet_holds_idempotency_key ON wallet_holds (idempotency_key) WHERE idempotency_key IS NOT NULL",
                // Only pending holds, soonest expiry first: the sweep reads its batch from the front,
                // and the index stays as small as the number of open holds. (Queries must spell
                // `status = 'pending'` literally, not as a parameter, for SQLite to use it.)
                "CREATE INDEX wallet_holds_pending_expiry ON wallet_holds (expires_at, id) WHERE status = 'pending'",
                // For reconcile (held = sum of the account's pending holds) without scanning every hold.
                "CREATE INDEX wallet_holds_account ON wallet_holds (account_id, status)",
                """
                CREATE TABLE wallet_hold_audit (
                    hold_id BIGINT NOT NULL REFERENCES wallet_holds (id),
                    version BIGINT NOT NULL,
                    event TEXT NOT NULL CHECK (event IN ('reserve', 'capture', 'void', 'expire')),
                    from_status TEXT,
                    to_status TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    reason TEXT,
                    at BIGINT NOT NULL,
                    PRIMARY KEY (hold_id, version)
                )\(raw: dialect.withoutRowID)
                """,
            ]
        },
        // An account's standing: a frozen account is never debited (the debit's own UPDATE checks
        // it) and takes no new hold. Ally freezes a reseller's wallet when it suspends the reseller.
        Migration(version: 3, name: "frozen accounts") { dialect in
            [
                "ALTER TABLE wallet_accounts ADD COLUMN frozen INTEGER NOT NULL DEFAULT 0 CHECK (frozen IN (0, 1))",
                """
                CREATE TABLE wallet_account_audit (
                    account_id BIGINT NOT NULL REFERENCES wallet_accounts (id),
                    version BIGINT NOT NULL,
                    event TEXT NOT NULL CHECK (event IN ('freeze', 'unfreeze')),
                    from_status TEXT,
                    to_status TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    reason TEXT,
                    at BIGINT NOT NULL,
                    PRIMARY KEY (account_id, version)
                )\(raw: dialect.withoutRowID)
                """,
            ]
        },
        // Each account's movements per UTC day, folded from the transfers after they commit (see
        // `Ledger.foldActivity()`); readers add the transfers above the mark. Ally's reseller
        // analytics read it instead of reading this module's tables themselves. Every transfer
        // so far is folded here, once.
        Migration(version: 4, name: "daily activity folded from the transfers") { dialect in
            let day = dialect.utcDay(ofMilliseconds: "m.created_at")
            return [
                """
                CREATE TABLE wallet_activity (
                    account_id BIGINT NOT NULL REFERENCES wallet_accounts (id),
                    day TEXT NOT NULL,
                    credited BIGINT NOT NULL,
                    debited BIGINT NOT NULL,
                    debits BIGINT NOT NULL,
                    PRIMARY KEY (account_id, day)
                )\(raw: dialect.withoutRowID)
                """,
                "CREATE INDEX wallet_activity_day ON wallet_activity (day)",
                """
                CREATE TABLE wallet_activity_fold (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    last_transfer BIGINT NOT NULL
                )
                """,
                """
                INSERT INTO wallet_activity (account_id, day, credited, debited, debits)
                SELECT m.account_id, \(raw: day), CAST(sum(m.credited) AS BIGINT), CAST(sum(m.debited) AS BIGINT),
                       CAST(sum(m.debits) AS BIGINT)
                FROM (SELECT credit_account AS account_id, created_at, amount AS credited, 0 AS debited, 0 AS debits
                      FROM wallet_transfers
                      UNION ALL
                      SELECT debit_account, created_at, 0, amount, 1 FROM wallet_transfers) m
                GROUP BY m.account_id, \(raw: day)
                """,
                "INSERT INTO wallet_activity_fold (id, last_transfer) SELECT 1, COALESCE(max(id), 0) FROM wallet_transfers",
            ]
        },
    ])
}
