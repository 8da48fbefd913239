public import SuiteStorage

extension Clients {
    /// The Client module's tables and their versions. Installed by `dock install client` or
    /// ``Clients/install(on:)``.
    public static let schema = ModuleSchema(module: "client", migrations: [
        Migration(version: 1, name: "clients, audit trail, daily rollup") { dialect in
            [
                """
                CREATE TABLE client_clients (
                    id \(raw: dialect.autoIncrementPrimaryKey),
                    refid TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    email TEXT NOT NULL,
                    email_normalized TEXT NOT NULL,
                    phone TEXT,
                    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'suspended', 'inactive')),
                    owner_refid TEXT,
                    user_id TEXT,
                    metadata TEXT NOT NULL,
                    secret_metadata \(raw: dialect.blobType),
                    version BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                "CREATE UNIQUE INDEX client_clients_email_normalized ON client_clients (email_normalized)",
                // Optional columns get partial indexes: a client without a user or reseller costs no index write.
                "CREATE UNIQUE INDEX client_clients_user_id ON client_clients (user_id) WHERE user_id IS NOT NULL",
                "CREATE INDEX client_clients_status ON client_clients (status, id)",
                "CREATE INDEX client_clients_owner ON client_clients (owner_refid, id) WHERE owner_refid IS NOT NULL",
                // One entry per version of a client: `version` orders the trail and is the
                // compare-and-set guard of every change, so the key needs no extra index.
                """
                CREATE TABLE client_audit (
                    client_id BIGINT NOT NULL REFERENCES client_clients (id),
                    version BIGINT NOT NULL,
                    event TEXT NOT NULL,
                    from_status TEXT,
                    to_status TEXT,
                    actor TEXT NOT NULL,
                    reason TEXT,
                    at BIGINT NOT NULL,
                    PRIMARY KEY (client_id, version)
                )\(raw: dialect.withoutRowID)
                """,
                // Signup counts per UTC day, scope and current status, maintained in the same
                // transaction as every create and transition, so analytics never scan clients.
                // scope: '*' = all clients, '' = standalone, otherwise the reseller's refid.
                """
                CREATE TABLE client_daily_stats (
                    day TEXT NOT NULL,
                    scope TEXT NOT NULL,
                    status TEXT NOT NULL,
                    clients BIGINT NOT NULL,
                    PRIMARY KEY (scope, day, status)
                )\(raw: dialect.withoutRowID)
                """,
            ]
        },
    ])
}
