public import SuiteStorage

/// The HTTP module's own tables (`http_…`): API keys and the answers kept for Idempotency-Key.
/// `dock serve` and `dock apikey` install them; an app that mounts the routes itself calls
/// ``install(on:)`` once.
public enum HTTPTables {
    /// The tables and their migrations.
    public static let schema = ModuleSchema(module: "http", migrations: [
        Migration(version: 1, name: "api keys") { dialect in
            [
                """
                CREATE TABLE http_api_keys (
                    id \(raw: dialect.autoIncrementPrimaryKey),
                    refid TEXT NOT NULL UNIQUE,
                    digest TEXT NOT NULL UNIQUE,
                    role TEXT NOT NULL CHECK (role IN ('admin', 'reseller', 'verify')),
                    reseller TEXT,
                    name TEXT NOT NULL,
                    hint TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    revoked_at BIGINT,
                    CHECK ((role = 'reseller') = (reseller IS NOT NULL))
                )
                """,
            ]
        },
        // One row per (API key, Idempotency-Key): the request's fingerprint and, once it has
        // finished, its status and body, replayed for a retry. `claim` tells the request that
        // inserted the row from one that found it; `status` is null while it runs.
        Migration(version: 2, name: "idempotent requests") { _ in
            [
                """
                CREATE TABLE http_idempotency (
                    owner TEXT NOT NULL,
                    idempotency_key TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    claim TEXT NOT NULL,
                    status INTEGER,
                    content_type TEXT,
                    body TEXT,
                    created_at BIGINT NOT NULL,
                    PRIMARY KEY (owner, idempotency_key)
                )
                """,
                "CREATE INDEX http_idempotency_created ON http_idempotency (created_at)",
            ]
        },
    ])

    /// Installs (or upgrades) the tables. Idempotent.
    @discardableResult
    public static func install(on database: any Database) async throws -> InstallReport {
        try await SchemaInstaller.install([schema], on: database)[0]
    }
}
