public import SuiteStorage

extension Licences {
    /// The Forge module's tables. Installed by `dock install forge` or ``Licences/install(on:)``.
    public static let schema = ModuleSchema(module: "forge", migrations: [
        Migration(version: 1, name: "licences and audit trail") { dialect in
            [
                // The key is never stored: only its SHA-256 digest (for lookups) and its last group.
                """
                CREATE TABLE forge_licences (
                    id \(raw: dialect.autoIncrementPrimaryKey),
                    refid TEXT NOT NULL UNIQUE,
                    key_digest TEXT NOT NULL UNIQUE,
                    key_hint TEXT NOT NULL,
                    product TEXT NOT NULL,
                    client_refid TEXT,
                    reseller_refid TEXT,
                    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'expired', 'revoked')),
                    duration_days INTEGER,
                    metadata TEXT NOT NULL,
                    version BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    activated_at BIGINT,
                    expires_at BIGINT,
                    revoked_at BIGINT,
                    updated_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX forge_licences_client ON forge_licences (client_refid, id) WHERE client_refid IS NOT NULL",
                "CREATE INDEX forge_licences_reseller ON forge_licences (reseller_refid, created_at) WHERE reseller_refid IS NOT NULL",
                "CREATE INDEX forge_licences_status_expiry ON forge_licences (status, expires_at)",
                "CREATE INDEX forge_licences_created ON forge_licences (created_at)",
                "CREATE INDEX forge_licences_activated ON forge_licences (activated_at) WHERE activated_at IS NOT NULL",
                """
                CREATE TABLE forge_audit (
                    licence_id BIGINT NOT NULL REFERENCES forge_licences (id),
                    version BIGINT NOT NULL,
                    event TEXT NOT NULL,
                    from_status TEXT,
                    to_status TEXT,
                    actor TEXT NOT NULL,
                    reason TEXT,
                    detail TEXT,
                    at BIGINT NOT NULL,
                    PRIMARY KEY (licence_id, version)
                )\(raw: dialect.withoutRowID)
                """,
            ]
        },
    ])
}
