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
    ])
}
