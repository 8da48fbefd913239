import Foundation
public import Logging
import Client
import SuiteCore
public import SuiteStorage
import SuitePostgres
import SuiteSQLite
import Wallet
import Ally
import Forge
import Wave

/// Opening a database from a location, and installing modules: the suite's wiring.
public enum SuiteDatabase {
    /// The modules this build can install, by name.
    public static let schemas: [String: ModuleSchema] = [
        "client": Clients.schema, "wallet": Ledger.schema, "ally": Allies.schema, "forge": Licences.schema,
        "wave": WaveModule.schema, "workflow": Workflows.schema,
    ]

    /// Modules that must be installed before another (Ally keeps its credits, and Wave its client
    /// wallets, in the Wallet ledger).
    public static let dependencies: [String: [String]] = [
        "ally": ["wallet"], "wave": ["wallet"], "workflow": ["client", "wallet", "ally", "forge", "wave"],
    ]

    /// Opens a database: a `postgres://` (or `postgresql://`) URL, or a SQLite file path
    /// (`:memory:` for a private in-memory database).
    /// - Parameter logger: where the PostgreSQL driver logs connection events.
    public static func open(_ location: String, logger: Logger = Logger(label: "clientsuite")) throws -> any Database {
        let trimmed = location.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else {
            throw StorageError(code: .invalidLocation, message: "the database location is empty")
        }
        if trimmed.hasPrefix("postgres://") || trimmed.hasPrefix("postgresql://") {
            return try PostgresDatabase(url: trimmed, logger: logger)
        }
        if trimmed.contains("://") {
            throw StorageError(code: .invalidLocation,
                               message: "unsupported database URL: use a SQLite file path or a postgres:// URL")
        }
        return try SQLiteDatabase(location: trimmed)
    }

    /// Installs the named modules (all known modules when empty). Idempotent.
    public static func install(_ modules: [String], on database: any Database) async throws -> [InstallReport] {
        let requested = modules.isEmpty ? schemas.keys.sorted() : modules.map { $0.lowercased() }
        var names: [String] = []
        for name in requested {
            for needed in (dependencies[name] ?? []) + [name] where !names.contains(needed) { names.append(needed) }
        }
        let chosen = try names.map { name in
            guard let schema = schemas[name] else {
                throw StorageError(code: .invalidLocation,
                                   message: "unknown module \"\(name.prefix(40))\" (known: \(schemas.keys.sorted().joined(separator: ", ")))")
            }
            return schema
        }
        return try await SchemaInstaller.install(chosen, on: database)
    }

    /// Whether `module` is installed, without writing anything (false for a database never installed).
    public static func isInstalled(_ module: String, in database: any Database) async -> Bool {
        let version = try? await database.read { tx in
            try tx.queryInt64("SELECT CAST(max(version) AS BIGINT) FROM suite_migrations WHERE module = \(module)")
        }
        return (version ?? nil) != nil
    }
}
