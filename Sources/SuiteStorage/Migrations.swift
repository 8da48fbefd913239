public import SuiteCore

/// One versioned step of a module's schema.
public struct Migration: Sendable {
    /// The schema version this step brings the module to.
    public var version: Int
    /// A short description of the step, e.g. `daily credit rollup`.
    public var name: String
    /// The statements, rendered for the engine at hand.
    public var statements: @Sendable (SQLDialect) -> [SQL]

    /// A step to `version`, whose `statements` are rendered for each engine's dialect.
    public init(version: Int, name: String, statements: @escaping @Sendable (SQLDialect) -> [SQL]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}

/// A module's schema: its name and its migrations in version order. Each module owns one.
public struct ModuleSchema: Sendable {
    /// The module's name, as `suite_migrations` records it (e.g. `client`).
    public var module: String
    /// The module's migrations, in version order.
    public var migrations: [Migration]

    /// A schema for `module` made of `migrations`.
    public init(module: String, migrations: [Migration]) {
        self.module = module
        self.migrations = migrations
    }

    /// The newest version this code knows.
    public var latestVersion: Int { migrations.map(\.version).max() ?? 0 }
}

/// A module's installed state as recorded in `suite_migrations`.
public struct InstalledModule: Hashable, Sendable, Codable {
    /// The module's name.
    public var module: String
    /// The newest version applied.
    public var version: Int
    /// When that version was applied.
    public var installedAt: Timestamp

    /// A record of `module` at `version`.
    public init(module: String, version: Int, installedAt: Timestamp) {
        self.module = module
        self.version = version
        self.installedAt = installedAt
    }
}

/// What one installation did for a module.
public struct InstallReport: Hashable, Sendable {
    /// The module's name.
    public var module: String
    /// Versions applied by this call, in order; empty when the module was already up to date.
    public var appliedVersions: [Int]
    /// The module's version after the call.
    public var version: Int
}

/// Installs module schemas. Idempotent: applies only the migrations a database lacks, each
/// module in one transaction, and records every applied version in `suite_migrations`.
/// Concurrent installers are serialised (a PostgreSQL advisory lock; SQLite's write lock).
public enum SchemaInstaller {
    /// Installs `schemas` in order, each in its own transaction, and reports what each one applied.
    public static func install(
        _ schemas: [ModuleSchema],
        on database: any Database,
        clock: any WallClock = SystemWallClock()
    ) async throws -> [InstallReport] {
        var reports: [InstallReport] = []
        for schema in schemas {
            let report = try await database.write { tx in try install(schema, in: tx, at: Timestamp(clock.now())) }
            reports.append(report)
        }
        return reports
    }

    /// Installs one schema inside an open transaction.
    public static func install(_ schema: ModuleSchema, in tx: any Transaction, at now: Timestamp) throws -> InstallReport {
        if let lock = tx.dialect.installLock { _ = try tx.query(SQL(raw: lock)) }
        try createLedger(in: tx)
        let applied = Set(try tx.query("SELECT version FROM suite_migrations WHERE module = \(schema.module)")
            .map { Int(try $0.int64("version")) })
        var appliedNow: [Int] = []
        for migration in schema.migrations.sorted(by: { $0.version < $1.version }) where !applied.contains(migration.version) {
            for statement in migration.statements(tx.dialect) { try tx.execute(statement) }
            try tx.execute("""
                INSERT INTO suite_migrations (module, version, name, applied_at)
                VALUES (\(schema.module), \(migration.version), \(migration.name), \(now))
                """)
            appliedNow.append(migration.version)
        }
        return InstallReport(module: schema.module, appliedVersions: appliedNow,
                             version: max(applied.max() ?? 0, appliedNow.max() ?? 0))
    }

    /// The modules installed in `database` and their versions; empty for a new database.
    public static func installedModules(on database: any Database) async throws -> [InstalledModule] {
        try await database.write { tx in
            try createLedger(in: tx)
            return try tx.query("""
                SELECT module, CAST(max(version) AS BIGINT) AS version, CAST(max(applied_at) AS BIGINT) AS installed_at
                FROM suite_migrations GROUP BY module ORDER BY module
                """).map {
                InstalledModule(module: try $0.string("module"), version: Int(try $0.int64("version")),
                                installedAt: try $0.timestamp("installed_at"))
            }
        }
    }

    /// Throws unless `schema` is installed at its latest version — so a module refuses to run
    /// against a database that was never installed, with a message that says what to do.
    public static func requireInstalled(_ schema: ModuleSchema, in tx: any Transaction) throws {
        let version = try? tx.queryInt64("SELECT CAST(max(version) AS BIGINT) FROM suite_migrations WHERE module = \(schema.module)")
        guard let version, version >= Int64(schema.latestVersion) else {
            throw StorageError(code: .invalidLocation,
                               message: "the \(schema.module) module is not installed in this database (run `dock install \(schema.module)`)")
        }
    }

    static func createLedger(in tx: any Transaction) throws {
        try tx.execute("""
            CREATE TABLE IF NOT EXISTS suite_migrations (
                module TEXT NOT NULL,
                version INTEGER NOT NULL,
                name TEXT NOT NULL,
                applied_at BIGINT NOT NULL,
                PRIMARY KEY (module, version)
            )
            """)
    }
}
