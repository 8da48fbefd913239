import Foundation
public import Logging
import Client
import SuiteCore
public import SuiteStorage
public import SuiteSQLite
import Wallet
import Ally
import Forge
import Wave

/// Opening a database from a location, and installing modules: the suite's wiring.
public enum SuiteDatabase {
    /// The modules this build can install, by name.
    public static let schemas: [String: ModuleSchema] = Dictionary(
        uniqueKeysWithValues: SuiteModule.allCases.map { ($0.rawValue, $0.schema) })

    /// Opens a database with the first of `drivers` that accepts `location`: a SQLite file path
    /// (`:memory:` for a private in-memory database) with the default, or a `postgres://` URL when
    /// the app passes `.postgres` (from SuitePostgres).
    /// - Parameter logger: where a driver logs connection events.
    public static func open(_ location: String, drivers: [any DatabaseDriver] = [.sqlite],
                            logger: Logger = Logger(label: "clientsuite")) throws -> any Database {
        try drivers.open(location, logger: logger)
    }

    /// Installs the named modules (all known modules when empty) with those they need. Idempotent.
    public static func install(_ modules: [String], on database: any Database) async throws -> [InstallReport] {
        let requested = try modules.isEmpty ? SuiteModule.allCases : modules.map { name in
            guard let module = SuiteModule(rawValue: name.lowercased()) else {
                throw StorageError(code: .invalidLocation,
                                   message: "unknown module \"\(name.prefix(40))\" (known: \(schemas.keys.sorted().joined(separator: ", ")))")
            }
            return module
        }
        return try await SchemaInstaller.install(SuiteModule.closure(of: requested).map(\.schema), on: database)
    }

    /// The modules to build over `database`, each installed at its latest version: `modules` with
    /// those they need, or (nil) every module the database has. Throws, naming the `dock install`
    /// to run, when one is missing or behind.
    public static func requireInstalled(_ modules: Set<SuiteModule>?, in database: any Database) async throws -> [SuiteModule] {
        try await database.read { tx in
            let chosen: [SuiteModule]
            if let modules {
                chosen = SuiteModule.closure(of: modules.sorted())
            } else {
                let present = Set((try? tx.query("SELECT DISTINCT module FROM suite_migrations").map { try $0.string("module") }) ?? [])
                chosen = SuiteModule.allCases.filter { present.contains($0.rawValue) }
            }
            for module in chosen { try SchemaInstaller.requireInstalled(module.schema, in: tx) }
            return chosen
        }
    }
}
