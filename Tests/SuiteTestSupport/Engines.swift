import Foundation
public import SuiteCore
public import SuiteStorage
import SuitePostgres
import SuiteSQLite

/// The engines every storage-touching test runs on. PostgreSQL comes from
/// `CLIENTSUITE_TEST_POSTGRES_URL`, which `scripts/test.sh` sets after starting a throwaway server;
/// without it the PostgreSQL variant fails with a message saying so — it is never skipped.
public enum Engine: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { rawValue }

    /// Both drivers, so a test opens a file or a PostgreSQL URL alike.
    public static let drivers: [any DatabaseDriver] = [.sqlite, .postgres]

    /// The PostgreSQL server tests use, as a URL.
    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["CLIENTSUITE_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The test server's URL with its user, password, host, port or database replaced, and
    /// `options` added to its query: for tests of what a wrong URL does.
    public static func postgresURL(user: String? = nil, password: String? = nil, host: String? = nil, port: Int? = nil,
                                   database: String? = nil, options: [(String, String)] = []) throws -> String {
        guard let url = postgresURL, var components = URLComponents(string: url) else { throw TestSetupError.postgresNotConfigured }
        if let user { components.user = user }
        if let password { components.password = password }
        if let host { components.host = host }
        if let port { components.port = port }
        if let database { components.path = "/" + database }
        return options.reduce(components.string ?? url) { $0.withQueryItem($1.0, $1.1) }
    }

    /// A location string for a fresh, empty database on this engine: a new SQLite file, or a new
    /// PostgreSQL schema (selected through `search_path`). Returned with a clean-up action.
    public func freshLocation() async throws -> (location: String, cleanUp: @Sendable () async -> Void) {
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clientsuite-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let path = directory.appendingPathComponent("test.sqlite").path
            return (path, { try? FileManager.default.removeItem(at: directory) })
        case .postgres:
            guard let url = Self.postgresURL else { throw TestSetupError.postgresNotConfigured }
            let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            let admin = try PostgresDatabase(url: url.withQueryItem("pool", "1").withQueryItem("connect_timeout", "60"))
            try await admin.write { tx in try tx.execute(SQL(raw: "CREATE SCHEMA \(schema)")) }
            try await admin.close()
            // A whole test run opens hundreds of connections at once on a small machine, where making
            // one can take longer than the 5 s default; the fault tests set their own timeouts.
            let location = url.withQueryItem("search_path", schema).withQueryItem("pool", "4").withQueryItem("connect_timeout", "60")
            return (location, {
                guard let admin = try? PostgresDatabase(url: url.withQueryItem("pool", "1").withQueryItem("connect_timeout", "60")) else { return }
                _ = try? await admin.write { tx in try tx.execute(SQL(raw: "DROP SCHEMA \(schema) CASCADE")) }
                try? await admin.close()
            })
        }
    }

    /// Opens a fresh database on this engine — SQLite in memory, PostgreSQL in a new schema, with
    /// `postgresOptions` added to its URL (`pool`, `min`…) — runs `body`, then closes and drops it.
    public func withDatabase<T: Sendable>(
        inMemory: Bool = true,
        postgresOptions: [(name: String, value: String)] = [],
        _ body: @Sendable (any Database) async throws -> T
    ) async throws -> T {
        let database: any Database
        var cleanUp: (@Sendable () async -> Void)?
        if self == .sqlite && inMemory {
            database = try SQLiteDatabase(path: ":memory:")
        } else {
            let fresh = try await freshLocation()
            cleanUp = fresh.cleanUp
            database = self == .sqlite
                ? try SQLiteDatabase(path: fresh.location)
                : try PostgresDatabase(url: postgresOptions.reduce(fresh.location) { $0.withQueryItem($1.name, $1.value) })
        }
        do {
            let result = try await body(database)
            try await database.close()
            await cleanUp?()
            return result
        } catch {
            try? await database.close()
            await cleanUp?()
            throw error
        }
    }
}

public enum TestSetupError: Error, CustomStringConvertible {
    case postgresNotConfigured

    public var description: String {
        "CLIENTSUITE_TEST_POSTGRES_URL is not set: run the tests with scripts/test.sh, which starts a PostgreSQL server"
    }
}

extension String {
    /// Adds or replaces a query item of a URL string.
    public func withQueryItem(_ name: String, _ value: String) -> String {
        guard var components = URLComponents(string: self) else { return self }
        var items = (components.queryItems ?? []).filter { $0.name != name }
        items.append(URLQueryItem(name: name, value: value))
        components.queryItems = items
        return components.string ?? self
    }
}
