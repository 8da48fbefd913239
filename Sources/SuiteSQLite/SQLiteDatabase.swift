import Foundation
internal import GRDB
internal import GRDBSQLite
public import Logging
public import SuiteStorage

/// The embedded engine: SQLite through GRDB. A file opens as a WAL `DatabasePool` (concurrent
/// readers, one writer); `:memory:` opens a private in-memory database for tests.
///
/// Every commit is fsynced (`synchronous=FULL`) unless the caller opts into ``Durability/normal``;
/// the setting is read back from the writing connection before the database is handed out.
///
/// ```swift
/// let database = try SQLiteDatabase(path: "dock.sqlite")                       // FULL
/// let scratch = try SQLiteDatabase(location: "scratch.sqlite?synchronous=normal&busy_timeout=5")
/// let count = try await database.read { tx in try tx.queryInt64("SELECT count(*) FROM client_clients") }
/// ```
public final class SQLiteDatabase: SuiteStorage.Database {
    /// How hard a commit waits for the disk.
    public enum Durability: String, Sendable, CaseIterable {
        /// `synchronous=NORMAL` in WAL mode: a commit survives a crash of the process; on power loss
        /// or an operating-system crash the last commits may be rolled back (the file stays consistent).
        case normal
        /// `synchronous=FULL`, the default: every commit is fsynced before it is reported, so it
        /// survives a crash of the process or the operating system, and power loss.
        case full

        /// The setting as `PRAGMA synchronous` takes it: `FULL` or `NORMAL`.
        public var pragmaName: String { self == .full ? "FULL" : "NORMAL" }
        /// The value `PRAGMA synchronous` reports for this setting (2 or 1).
        public var pragmaValue: Int { self == .full ? 2 : 1 }
    }

    /// Always ``SQLDialect/sqlite``.
    public let dialect: SQLDialect = .sqlite
    /// The file path, or `:memory:`.
    public let path: String
    /// The durability in force on the writing connection (read back when the database opened).
    public let durability: Durability
    private let writer: any DatabaseWriter
    /// Runs every write transaction on `writer`, many callers' work per commit when they arrive together.
    private let groupCommit: GroupCommit
    /// Read-only connections that never write, one per core, so their `PRAGMA data_version`
    /// changes on every commit by any other connection (``changeCounter()``). Nil in memory.
    private let watchers: ChangeWatchers?
    /// The connections point reads run on, on the calling thread (see ``PointReaders``). Nil in memory.
    private let pointReaders: PointReaders?

    /// Opens a location string: a file path, or `:memory:`, optionally followed by options, as in
    /// `dock.sqlite?synchronous=normal&busy_timeout=5`:
    /// - `synchronous=full|normal`: the commit durability (default `full`);
    /// - `busy_timeout=S`: seconds a write waits for another process's write lock (default 30).
    public convenience init(location: String) throws {
        let parsed = try SQLiteLocation(location)
        try self.init(path: parsed.path, durability: parsed.durability, busyTimeout: parsed.busyTimeout)
    }

    /// How many pages the WAL holds before the commit that crosses it checkpoints.
    static let checkpointPages = 4000

    /// Opens (creating if needed) the database at `path`, or an in-memory one for `:memory:`.
    /// - Parameters:
    ///   - durability: how hard a commit waits for the disk; ``Durability/full`` unless you opt out.
    ///   - busyTimeout: how long a write waits for another process's write lock before it fails
    ///     with ``StorageError/Code/busy``.
    public init(path: String, durability: Durability = .full, busyTimeout: TimeInterval = 30) throws {
        self.path = path
        self.durability = durability
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.foreignKeysEnabled = true
        do {
            if path == ":memory:" {
                writer = try DatabaseQueue(configuration: configuration)
                watchers = nil
                pointReaders = nil
            } else {
                writer = try DatabasePool(path: path, configuration: configuration)
                // One per core, so concurrent verifications do not queue on one connection.
                watchers = try ChangeWatchers(path: path, count: max(2, ProcessInfo.processInfo.activeProcessorCount),
                                              busyTimeout: busyTimeout)
                pointReaders = PointReaders(path: path, busyTimeout: busyTimeout)
            }
            groupCommit = GroupCommit(writer: writer)
            // GRDB's pool sets `synchronous = NORMAL` on its writer when it enables WAL, after any
            // `prepareDatabase` hook ran, so the setting is made here, on the writer itself, and read
            // back from inside a write: a durability that is not in force is refused, never assumed.
            let inForce = try writer.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = \(durability.pragmaName)")
                // The writer's statement journals stay in memory, in small chunks: on disk (SQLite's
                // default past 64 KiB) they would cost writes; as one 64 KiB block each, allocated
                // and freed by every statement that may change several rows, they made glibc hand
                // memory back to the kernel and fault it in again: up to a third of a provision's
                // time in the writer.
                try db.execute(sql: "PRAGMA temp_store = MEMORY")
                // A checkpoint every 4000 WAL pages (16 MiB at 4 KiB) instead of 1000: the writer
                // pays for them inside a commit, and a longer WAL copies each hot page fewer times.
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.checkpointPages)")
                return try Int.fetchOne(db, sql: "PRAGMA synchronous")
            }
            guard inForce == durability.pragmaValue else {
                throw StorageError(code: .engine, message: "SQLite did not accept synchronous=\(durability.rawValue) at \(path)",
                                   underlying: "PRAGMA synchronous reads \(inForce.map(String.init) ?? "nothing")")
            }
        } catch let error as StorageError {
            throw error
        } catch let error as DatabaseError {
            throw SQLiteTransaction.map(error, path: path, opening: true)
        } catch {
            throw StorageError(code: .unavailable, message: "cannot open the SQLite database at \(path)",
                               underlying: String(describing: error))
        }
    }

    /// The durability the writing connection has in force now, read with `PRAGMA synchronous`
    /// inside a write transaction.
    public func commitDurability() async throws -> CommitDurability {
        let value = try await write { tx in try tx.queryInt64("PRAGMA synchronous") }
        switch value {
        case 2: return CommitDurability(setting: "synchronous=FULL",
                                        guarantee: "every commit is on disk before it is reported (survives power loss)")
        case 3: return CommitDurability(setting: "synchronous=EXTRA",
                                        guarantee: "every commit is on disk before it is reported (survives power loss)")
        case 1: return CommitDurability(setting: "synchronous=NORMAL",
                                        guarantee: "a commit survives a process crash; the last commits may be lost on power loss")
        default: return CommitDurability(setting: "synchronous=OFF",
                                         guarantee: "commits are not flushed: a crash may lose or corrupt data")
        }
    }

    /// Runs `body` in a write transaction on the one writer connection; commits when it
    /// returns, rolls back when it throws, then runs the after-commit actions.
    ///
    /// Writes that arrive together share one commit (group commit): their bodies run one after
    /// another inside one SQLite transaction, and that transaction commits once, so at
    /// `synchronous=FULL` many callers' writes cost one fsync. Each caller still gets what one
    /// transaction each would give it: a body that throws leaves nothing and fails only its caller;
    /// nobody's write is reported before the commit; a failed commit fails everyone in it; the
    /// after-commit actions run after it. A lone write runs on the calling thread.
    ///
    /// `body` must be safe to run twice, as on PostgreSQL: when a body throws after others' work
    /// in the same transaction, the transaction rolls back and runs every body in it again, each
    /// in a savepoint of its own. Only the last run counts: its value, its after-commit actions.
    ///
    /// The body runs on the thread of whichever caller leads, so it must not read task-local
    /// values (read them before the call and capture them), and it must never wait for another
    /// task: it would hold one of the few threads that run tasks, and with them all held, nothing
    /// would run the task it waits for.
    public func write<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) async throws -> T {
        // The unit of work's shared counter reading (if any) must not hide its own commit.
        defer { ChangeCounterReading.current?.forget() }
        let (value, actions) = try await mappingErrors {
            try await groupCommit.write(path: path) { tx in try body(tx) }
        }
        for action in actions { action() }
        return value
    }

    /// How many write transactions committed since the database opened, and how many writes they
    /// held: more writes than commits means concurrent writes shared commits.
    public var groupCommitCounts: (commits: Int, writes: Int) { groupCommit.counts }

    /// How many writes wait for the writer now (for tests that line writes up).
    var queuedWrites: Int { groupCommit.queued }

    /// Runs `body` over one consistent snapshot (a pool reader for a file, so it does not wait for writes).
    public func read<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) async throws -> T {
        try await mappingErrors {
            try await writer.read { [path] db in try body(SQLiteTransaction(db, path: path)) }
        }
    }

    /// Runs the read on the calling thread (one snapshot): for a lookup of a few microseconds,
    /// handing it to a reader's dispatch queue and back costs more than the lookup (measured: 7k →
    /// 14k licence verifications per second on one task). It uses connections of its own, never
    /// the pool's readers, so that it can never wait for an async read (see ``PointReaders``).
    public func pointRead<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) async throws -> T {
        try mappingErrorsSync {
            if let pointReaders { return try pointReaders.read { [path] db in try body(SQLiteTransaction(db, path: path)) } }
            return try writer.read { [path] db in try body(SQLiteTransaction(db, path: path)) }
        }
    }

    /// `PRAGMA data_version` on a connection that never writes: it changes on every commit by any
    /// other connection or process. Nil for `:memory:`. Inside ``SuiteStorage/ChangeCounterReading/sharing(_:)``
    /// it is read once per unit of work (again after the unit of work's own write).
    public func changeCounter() throws -> Int64? {
        guard let watchers else { return nil }
        let read = { try self.mappingErrorsSync { try watchers.current() } }
        guard let shared = ChangeCounterReading.current else { return try read() }
        return try shared.counter(of: ObjectIdentifier(self)) { try read() }
    }

    /// Closes every connection. The database must not be used afterwards.
    public func close() async throws {
        try mappingErrorsSync {
            try watchers?.close()
            try pointReaders?.close()
            try writer.close()
        }
    }

    private func mappingErrors<T>(_ work: () async throws -> T) async throws -> T {
        do { return try await work() } catch let error as DatabaseError { throw SQLiteTransaction.map(error, path: path) }
    }

    private func mappingErrorsSync<T>(_ work: () throws -> T) throws -> T {
        do { return try work() } catch let error as DatabaseError { throw SQLiteTransaction.map(error, path: path) }
    }
}

/// A GRDB connection inside one of GRDB's transactions, seen through the suite's `Transaction`.
final class SQLiteTransaction: Transaction {
    let dialect: SQLDialect = .sqlite
    private let db: GRDB.Database
    /// The file's path, for error messages.
    private let path: String
    private(set) var commitActions: [@Sendable () -> Void] = []

    init(_ db: GRDB.Database, path: String) {
        self.db = db
        self.path = path
    }

    // Statements are prepared and cached by GRDB, then bound, stepped and read through SQLite's C
    // API: GRDB's argument values, execution bookkeeping and row cursor cost more than the
    // statement itself for the short statements the suite runs (a write transaction's bodies run
    // one after another on the writer, so this cost is what limits group commit's throughput).

    func execute(_ sql: SuiteStorage.SQL) throws -> Int {
        let (text, bindings) = sql.rendered(for: .sqlite)
        try SQLValue.requireStorable(bindings)
        return try run(text, bindings) { handle in
            while true {
                switch sqlite3_step(handle) {
                case SQLITE_DONE: return Int(sqlite3_changes(connection))
                case SQLITE_ROW: continue
                default: throw lastError(text)
                }
            }
        }
    }

    func query(_ sql: SuiteStorage.SQL) throws -> [SuiteStorage.Row] {
        let (text, bindings) = sql.rendered(for: .sqlite)
        try SQLValue.requireStorable(bindings)
        return try run(text, bindings) { handle, columns in
            let count = Int32(columns.count)
            var rows: [SuiteStorage.Row] = []
            while true {
                switch sqlite3_step(handle) {
                case SQLITE_DONE: return rows
                case SQLITE_ROW:
                    var values: [SQLValue] = []
                    values.reserveCapacity(columns.count)
                    for index in 0..<count { values.append(Self.value(handle, index)) }
                    rows.append(SuiteStorage.Row(columns: columns, values: values))
                default: throw lastError(text)
                }
            }
        }
    }

    func insertReturningID(_ sql: SuiteStorage.SQL) throws -> Int64 {
        _ = try execute(sql)
        return sqlite3_last_insert_rowid(connection)
    }

    func insertReturningIDIfInserted(_ sql: SuiteStorage.SQL) throws -> Int64? {
        try execute(sql) == 0 ? nil : sqlite3_last_insert_rowid(connection)
    }

    private var connection: OpaquePointer { db.sqliteConnection! }

    /// Prepares (or finds) `text`, binds `bindings`, runs `body` with the statement and its column
    /// names, then resets the statement and drops its bindings; maps errors to the suite's.
    private func run<T>(_ text: String, _ bindings: [SQLValue], _ body: (OpaquePointer, [String]) throws -> T) throws -> T {
        do {
            let statement = try db.cachedStatement(sql: text)
            let handle = statement.sqliteStatement
            defer {
                sqlite3_reset(handle)
                sqlite3_clear_bindings(handle)
            }
            for (offset, value) in bindings.enumerated() {
                let index = Int32(offset + 1)
                let code: Int32
                switch value {
                case .null: code = sqlite3_bind_null(handle, index)
                case .int(let number): code = sqlite3_bind_int64(handle, index, number)
                case .double(let number): code = sqlite3_bind_double(handle, index, number)
                case .text(let text): code = sqlite3_bind_text(handle, index, text, -1, Self.transient)
                case .blob(let bytes) where bytes.isEmpty: code = sqlite3_bind_zeroblob(handle, index, 0)
                case .blob(let bytes):
                    code = bytes.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), Self.transient) }
                }
                guard code == SQLITE_OK else { throw lastError(text) }
            }
            return try body(handle, statement.columnNames)
        } catch let error as DatabaseError {
            throw Self.map(error, path: path)
        }
    }

    private func run<T>(_ text: String, _ bindings: [SQLValue], _ body: (OpaquePointer) throws -> T) throws -> T {
        try run(text, bindings) { handle, _ in try body(handle) }
    }

    /// The connection's last error, as GRDB would have raised it.
    private func lastError(_ text: String) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: sqlite3_extended_errcode(connection)),
                      message: String(cString: sqlite3_errmsg(connection)), sql: text)
    }

    /// Column `index` of the current row.
    private static func value(_ handle: OpaquePointer, _ index: Int32) -> SQLValue {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_NULL: return .null
        case SQLITE_INTEGER: return .int(sqlite3_column_int64(handle, index))
        case SQLITE_FLOAT: return .double(sqlite3_column_double(handle, index))
        case SQLITE_TEXT:
            let bytes = sqlite3_column_text(handle, index)
            let count = Int(sqlite3_column_bytes(handle, index))
            return .text(String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self))
        default:
            let bytes = sqlite3_column_blob(handle, index)
            let count = Int(sqlite3_column_bytes(handle, index))
            return .blob(count == 0 ? [] : [UInt8](UnsafeRawBufferPointer(start: bytes, count: count)))
        }
    }

    /// SQLite copies the bound value before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    func afterCommit(_ action: @escaping @Sendable () -> Void) { commitActions.append(action) }

    /// The suite's error for a SQLite error: a code a caller can act on and a one-line message
    /// that names the file, never SQL. `opening` marks errors raised while the file was opened.
    static func map(_ error: DatabaseError, path: String, opening: Bool = false) -> StorageError {
        let underlying = error.description
        let file = path == ":memory:" ? "the in-memory SQLite database" : "the SQLite database at \(path)"
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
            return StorageError(code: .busy, message: "the database is busy: another connection held \(file) past the busy timeout; try again",
                                underlying: underlying)
        case .SQLITE_READONLY:
            return StorageError(code: .readOnly, message: "\(file) is read-only: check the permissions of the file and its folder",
                                underlying: underlying)
        case .SQLITE_FULL:
            return StorageError(code: .diskFull, message: "the disk holding \(file) is full: the transaction was rolled back",
                                underlying: underlying)
        case .SQLITE_NOTADB:
            return StorageError(code: .unavailable, message: "\(path) is not a SQLite database", underlying: underlying)
        case .SQLITE_CORRUPT:
            return StorageError(code: .unavailable, message: "\(file) is damaged", underlying: underlying)
        case .SQLITE_CANTOPEN:
            return StorageError(code: .unavailable,
                                message: "cannot open \(file): check that its folder exists and that the file and folder are writable",
                                underlying: underlying)
        case .SQLITE_IOERR:
            return StorageError(code: .unavailable, message: "the disk failed while using \(file)", underlying: underlying)
        default:
            if opening {
                return StorageError(code: .unavailable, message: "cannot open \(file)", underlying: underlying)
            }
            return StorageError(code: .engine, message: "the database rejected the operation", underlying: underlying)
        }
    }
}

/// A parsed SQLite location: a path (or `:memory:`) and its options.
struct SQLiteLocation: Sendable {
    var path: String
    var durability: SQLiteDatabase.Durability = .full
    var busyTimeout: TimeInterval = 30

    init(_ location: String) throws {
        guard let question = location.lastIndex(of: "?") else {
            path = location
            return
        }
        path = String(location[..<question])
        for item in location[location.index(after: question)...].split(separator: "&") where !item.isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            let name = parts[0], value = parts.count > 1 ? parts[1] : ""
            switch name {
            case "synchronous":
                guard let durability = SQLiteDatabase.Durability(rawValue: value.lowercased()) else {
                    throw StorageError(code: .invalidLocation, message: "synchronous must be full or normal")
                }
                self.durability = durability
            case "busy_timeout":
                guard let seconds = TimeInterval(value), seconds >= 0, seconds <= 3_600 else {
                    throw StorageError(code: .invalidLocation, message: "busy_timeout must be between 0 and 3600 seconds")
                }
                busyTimeout = seconds
            default:
                throw StorageError(code: .invalidLocation,
                                   message: "unknown SQLite option \"\(name.prefix(40))\" (known: synchronous, busy_timeout)")
            }
        }
        guard !path.isEmpty else {
            throw StorageError(code: .invalidLocation, message: "the database location is empty")
        }
    }
}

/// The SQLite driver: opens any location that is not a URL (`app.sqlite`, `:memory:`,
/// `app.sqlite?synchronous=normal`) with ``SQLiteDatabase/init(location:)``.
public struct SQLiteDriver: DatabaseDriver {
    /// The driver.
    public init() {}
    /// `SQLite`.
    public var engine: String { "SQLite" }
    /// Whether `location` is not a URL (has no `://`).
    public func accepts(_ location: String) -> Bool { !location.contains("://") }
    /// Opens `location` as ``SQLiteDatabase/init(location:)`` does.
    public func open(_ location: String, logger: Logger) throws -> any SuiteStorage.Database { try SQLiteDatabase(location: location) }
}

extension DatabaseDriver where Self == SQLiteDriver {
    /// The SQLite driver.
    public static var sqlite: SQLiteDriver { SQLiteDriver() }
}
