import Foundation
public import Logging

/// Opens a ``Database`` from a location string: one driver per engine. An app passes the drivers
/// it links (`[.sqlite]`, or `[.sqlite, .postgres]`), so an app on SQLite alone never compiles
/// the PostgreSQL driver.
///
/// ```swift
/// import SuitePostgres
/// let suite = try await ClientSuite.open("postgres://app@db/app", drivers: [.sqlite, .postgres])
/// ```
public protocol DatabaseDriver: Sendable {
    /// The engine, for messages (`SQLite`, `PostgreSQL`).
    var engine: String { get }
    /// Whether `location` is this engine's: a URL with its scheme, or a file path.
    func accepts(_ location: String) -> Bool
    /// Opens `location`. Throws ``StorageError`` (`invalid_location`, `unavailable`…).
    func open(_ location: String, logger: Logger) throws -> any Database
}

extension Array where Element == any DatabaseDriver {
    /// Opens `location` with the first driver that accepts it. A location no driver takes is an
    /// `invalid_location` error that says which locations this app can open.
    public func open(_ location: String, logger: Logger) throws -> any Database {
        let trimmed = location.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else {
            throw StorageError(code: .invalidLocation, message: "the database location is empty")
        }
        if let driver = first(where: { $0.accepts(trimmed) }) { return try driver.open(trimmed, logger: logger) }
        let engines = map(\.engine).joined(separator: ", ")
        if trimmed.hasPrefix("postgres://") || trimmed.hasPrefix("postgresql://") {
            throw StorageError(code: .invalidLocation,
                               message: "this program has no PostgreSQL driver (it opens: \(engines)); link SuitePostgres and pass .postgres in its drivers")
        }
        throw StorageError(code: .invalidLocation,
                           message: "unsupported database URL: use a SQLite file path or a postgres:// URL")
    }
}
