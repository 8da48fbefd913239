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
    ])
}
