import Foundation
internal import GRDB
public import SuiteStorage

/// The embedded engine: SQLite through GRDB. A file opens as a WAL `DatabasePool` (concurrent
/// readers, one writer); `:memory:` opens a private in-memory database for tests.
///
/// ```swift
/// let database = try SQLiteDatabase(path: "dock.sqlite")
/// let count = try await database.read { tx in try tx.queryInt64("SELECT count(*) FROM client_clients") }
/// ```
public final class SQLiteDatabase: SuiteStorage.Database {
    /// How hard a commit waits for the disk.
    public enum Durability: Sendable {
        /// `synchronous=NORMAL` in WAL mode: a commit survives a process crash; the last commits
        /// may be lost on power loss. SQLite's recommended WAL setting and GRDB's default.
        case normal
        /// `synchronous=FULL`: every commit is fsynced.
        case full
    }

    public let dialect: SQLDialect = .sqlite
    /// The file path, or `:memory:`.
    public let path: String
    private let writer: any DatabaseWriter
    /// Read-only connections that never write, one per core, so their `PRAGMA data_version`
    /// changes on every commit by any other connection (``changeCounter()``). Nil in memory.
    private let watchers: ChangeWatchers?

    /// Opens (creating if needed) the database at `path`, or an in-memory one for `:memory:`.
    /// - Parameter busyTimeout: how long a write waits for another process's write lock.
    public init(path: String, durability: Durability = .normal, busyTimeout: TimeInterval = 30) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.foreignKeysEnabled = true
        if durability == .full {
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        }
        do {
            if path == ":memory:" {
                writer = try DatabaseQueue(configuration: configuration)
                watchers = nil
            } else {
                writer = try DatabasePool(path: path, configuration: configuration)
                // One per core, so concurrent verifications do not queue on one connection.
                watchers = try ChangeWatchers(path: path, count: max(2, ProcessInfo.processInfo.activeProcessorCount),
                                              busyTimeout: busyTimeout)
            }
        } catch {
            throw StorageError(code: .unavailable, message: "cannot open the SQLite database at \(path)",
                               underlying: String(describing: error))
        }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) async throws -> T {
        let (value, actions) = try await mappingErrors {
            try await writer.write { db in
                let tx = SQLiteTransaction(db)
                let value = try body(tx)
                return (value, tx.commitActions)
            }
        }
        for action in actions { action() }
        return value
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) async throws -> T {
        try await mappingErrors {
            try await writer.read { db in try body(SQLiteTransaction(db)) }
        }
    }

    /// Runs the read on the calling thread with GRDB's synchronous `read` (one snapshot): for a
    /// lookup of a few microseconds, handing it to a reader's dispatch queue and back costs more
    /// than the lookup (measured: 7k → 14k licence verifications per second on one task).
    public func pointRead<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) async throws -> T {
        try mappingErrorsSync { try writer.read { db in try body(SQLiteTransaction(db)) } }
    }

    public func changeCounter() throws -> Int64? {
        guard let watchers else { return nil }
        return try mappingErrorsSync { try watchers.current() }
    }

    public func close() async throws {
        try mappingErrorsSync {
            try watchers?.close()
            try writer.close()
        }
    }

    private func mappingErrors<T>(_ work: () async throws -> T) async throws -> T {
        do { return try await work() } catch let error as DatabaseError { throw SQLiteTransaction.map(error) }
    }

    private func mappingErrorsSync<T>(_ work: () throws -> T) throws -> T {
        do { return try work() } catch let error as DatabaseError { throw SQLiteTransaction.map(error) }
    }
}

/// A GRDB connection inside one of GRDB's transactions, seen through the suite's `Transaction`.
final class SQLiteTransaction: Transaction {
    let dialect: SQLDialect = .sqlite
    private let db: GRDB.Database
    private(set) var commitActions: [@Sendable () -> Void] = []

    init(_ db: GRDB.Database) { self.db = db }

    func execute(_ sql: SuiteStorage.SQL) throws -> Int {
        let (text, bindings) = sql.rendered(for: .sqlite)
        do {
            // `execute(arguments:)` binds temporarily, without copying strings and blobs.
            try db.cachedStatement(sql: text).execute(arguments: Self.arguments(bindings))
            return db.changesCount
        } catch let error as DatabaseError {
            throw Self.map(error)
        }
    }

    func query(_ sql: SuiteStorage.SQL) throws -> [SuiteStorage.Row] {
        let (text, bindings) = sql.rendered(for: .sqlite)
        do {
            let statement = try db.cachedStatement(sql: text)
            let columns = statement.columnNames
            var rows: [SuiteStorage.Row] = []
            let cursor = try GRDB.Row.fetchCursor(statement, arguments: Self.arguments(bindings))
            while let row = try cursor.next() {
                var values: [SQLValue] = []
                values.reserveCapacity(columns.count)
                for index in 0..<columns.count {
                    let value: DatabaseValue = row[index]
                    switch value.storage {
                    case .null: values.append(.null)
                    case .int64(let number): values.append(.int(number))
                    case .double(let number): values.append(.double(number))
                    case .string(let text): values.append(.text(text))
                    case .blob(let data): values.append(.blob([UInt8](data)))
                    }
                }
                rows.append(SuiteStorage.Row(columns: columns, values: values))
            }
            return rows
        } catch let error as DatabaseError {
            throw Self.map(error)
        }
    }

    func insertReturningID(_ sql: SuiteStorage.SQL) throws -> Int64 {
        _ = try execute(sql)
        return db.lastInsertedRowID
    }

    func afterCommit(_ action: @escaping @Sendable () -> Void) { commitActions.append(action) }

    /// The bindings as GRDB values. (GRDB's existential initialiser: its generic one maps through
    /// a key path that cannot be specialised from here, which profiling showed to cost more.)
    static func arguments(_ bindings: [SQLValue]) -> StatementArguments {
        StatementArguments(bindings.map { value -> (any DatabaseValueConvertible)? in
            switch value {
            case .null: nil
            case .int(let number): number
            case .double(let number): number
            case .text(let text): text
            case .blob(let bytes): Data(bytes)
            }
        })
    }

    static func map(_ error: DatabaseError) -> StorageError {
        let underlying = error.description
        switch error.extendedResultCode {
        case .SQLITE_CONSTRAINT_UNIQUE, .SQLITE_CONSTRAINT_PRIMARYKEY:
            // "UNIQUE constraint failed: client_clients.email_normalized"
            let constraint = error.message.flatMap { $0.split(separator: ":", maxSplits: 1).last }
                .map { $0.trimmingCharacters(in: .whitespaces) }
            return StorageError(code: .uniqueViolation, message: "a record with the same unique value already exists",
                                constraint: constraint, underlying: underlying)
        default:
            break
        }
        switch error.resultCode {
        case .SQLITE_CONSTRAINT:
            return StorageError(code: .constraintViolation, message: "the data violates a database constraint",
                                constraint: error.message, underlying: underlying)
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return StorageError(code: .conflict, message: "the database is busy; try again", underlying: underlying)
        case .SQLITE_CANTOPEN, .SQLITE_NOTADB, .SQLITE_CORRUPT, .SQLITE_READONLY, .SQLITE_IOERR, .SQLITE_FULL:
            return StorageError(code: .unavailable, message: "the SQLite database cannot be used", underlying: underlying)
        default:
            return StorageError(code: .engine, message: "the database rejected the operation", underlying: underlying)
        }
    }
}
