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
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                "CREATE UNIQUE INDEX client_clients_email_normalized ON client_clients (email_normalized)",
                "CREATE UNIQUE INDEX client_clients_user_id ON client_clients (user_id)",
                "CREATE INDEX client_clients_status ON client_clients (status, id)",
                "CREATE INDEX client_clients_owner ON client_clients (owner_refid, id)",
                """
                CREATE TABLE client_audit (
                    id \(raw: dialect.autoIncrementPrimaryKey),
                    client_id BIGINT NOT NULL REFERENCES client_clients (id),
                    event TEXT NOT NULL,
                    from_status TEXT,
                    to_status TEXT,
                    actor TEXT NOT NULL,
                    reason TEXT,
                    at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX client_audit_client ON client_audit (client_id, id)",
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
                )
                """,
            ]
        },
    ])
}
