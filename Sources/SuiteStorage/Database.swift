public import SuiteCore

/// An open transaction. Module operations take one so that a caller can compose several
/// modules' operations atomically:
///
/// ```swift
/// try await database.write { tx in
///     let client = try clients.create(draft, in: tx)
///     try clients.transition(.activate, client.refid, actor: "billing", in: tx)
/// }
/// ```
///
/// Statements run synchronously inside the transaction: on SQLite on the writer connection, on the
/// thread of the caller that leads the group commit (no hop per statement, which is what keeps a
/// write transaction within a few microseconds of the bare engine); on PostgreSQL a dedicated I/O
/// thread that waits for each reply.
/// A transaction must not escape its closure.
public protocol Transaction: AnyObject {
    /// The engine's dialect, for the few fragments that differ.
    var dialect: SQLDialect { get }

    /// Runs a statement that returns no rows; returns the number of rows it changed.
    @discardableResult
    func execute(_ sql: SQL) throws -> Int

    /// Runs a query and returns all its rows. Queries must be bounded (a LIMIT or an aggregate):
    /// the suite never loads an unbounded result.
    func query(_ sql: SQL) throws -> [Row]

    /// Runs an INSERT of one row into a table whose primary key is an engine-filled `id` column
    /// (``SQLDialect/autoIncrementPrimaryKey``) and returns that id. SQLite reads it from the
    /// connection; PostgreSQL appends `RETURNING id`. For an insert that may insert nothing
    /// (`ON CONFLICT … DO NOTHING`), use ``insertReturningIDIfInserted(_:)``.
    func insertReturningID(_ sql: SQL) throws -> Int64

    /// Runs an INSERT of at most one row that may insert none (`ON CONFLICT … DO NOTHING`) into a
    /// table whose primary key is an engine-filled `id` column; returns the new row's id, or nil
    /// when it inserted nothing. SQLite reads both from the connection; other engines append
    /// `RETURNING id`.
    func insertReturningIDIfInserted(_ sql: SQL) throws -> Int64?

    /// Registers work to run once the transaction has committed (e.g. publishing domain events).
    /// Dropped if the transaction rolls back.
    func afterCommit(_ action: @escaping @Sendable () -> Void)

    /// Runs queries that do not depend on one another's results, in order, and returns each one's
    /// rows. PostgreSQL hands them to the driver in one hop and waits once (each hand-off between
    /// threads costs more client CPU there than the driver's work for a statement); SQLite runs
    /// them one by one. If one fails, its
    /// error is thrown and, on PostgreSQL, the later ones do not run (the transaction is aborted).
    func queryPipelined(_ statements: [SQL]) throws -> [[Row]]

    /// Runs a statement whose result the caller does not need. PostgreSQL holds it back and sends it
    /// ahead of the next statement this transaction waits for (or of the commit), in the same hop to
    /// the driver: a failure is thrown there and fails the transaction as usual; if the transaction
    /// throws first, the statement is never sent. SQLite runs it at once. Use it only where no
    /// error of this statement is handled on its own (an audit row, a rollup, ledger entries).
    func executeDeferred(_ sql: SQL) throws
}

extension Transaction {
    /// Appends `RETURNING id`: the default for engines whose RETURNING costs no more than the insert.
    public func insertReturningIDIfInserted(_ sql: SQL) throws -> Int64? {
        try query(sql + " RETURNING id").first?.int64("id")
    }

    /// Runs the statements one by one, in order: the default for engines without pipelining.
    public func queryPipelined(_ statements: [SQL]) throws -> [[Row]] {
        try statements.map { try query($0) }
    }

    /// Runs the statement at once: the default for engines that do not defer.
    public func executeDeferred(_ sql: SQL) throws {
        try execute(sql)
    }

    /// Moves a row with a `version` column to its next version, applying `assignments` (each
    /// ending in ", "), as a compare-and-set on the version that was read: the guard behind every
    /// audited state change. Returns the new version; throws `.conflict` if the row moved meanwhile
    /// (unreachable when the row was read with ``SQLDialect/forUpdate`` inside this transaction).
    public func advanceVersion(of table: String, id: Int64, from version: Int64, setting assignments: SQL,
                               updatedAt: Timestamp) throws -> Int64 {
        let changed = try execute("""
            UPDATE \(raw: table) SET \(assignments)version = \(version + 1), updated_at = \(updatedAt)
            WHERE id = \(id) AND version = \(version)
            """)
        guard changed == 1 else {
            throw StorageError(code: .conflict, message: "the record changed concurrently; try again")
        }
        return version + 1
    }

    /// The first row of a query, or nil.
    public func queryFirst(_ sql: SQL) throws -> Row? { try query(sql).first }

    /// The first column of the first row as an integer (e.g. a `count(*)`), or nil when no row.
    public func queryInt64(_ sql: SQL) throws -> Int64? {
        guard let row = try queryFirst(sql), !row.values.isEmpty else { return nil }
        switch row.values[0] {
        case .null: return nil
        case .int(let value): return value
        case .text(let text): return Int64(text)
        case .double(let value): return Int64(exactly: value)
        case .blob: throw StorageError(code: .decoding, message: "stored data has an unexpected shape (expected integer)")
        }
    }
}

/// A database the suite stores its modules in: SQLite (embedded) or PostgreSQL.
///
/// `write` runs its closure in a serialisable-enough write transaction (SQLite: IMMEDIATE;
/// PostgreSQL: READ COMMITTED with conditional updates and row locks where it matters) and
/// rolls back if it throws. `read` sees one consistent snapshot.
public protocol Database: Sendable {
    /// The engine's dialect, for the few fragments that differ.
    var dialect: SQLDialect { get }

    /// Runs `body` in a write transaction; commits when it returns, rolls back when it throws.
    /// After commit, runs the actions registered with ``Transaction/afterCommit(_:)``.
    ///
    /// `body` may run more than once (PostgreSQL reruns it after a conflict, SQLite when another
    /// write sharing its commit failed), and only its last run counts, so it must keep every
    /// effect inside the transaction or in an after-commit action.
    func write<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) async throws -> T

    /// Runs `body` in a read-only transaction over one consistent snapshot.
    func read<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) async throws -> T

    /// Like ``read(_:)``, for a read that takes microseconds — a point lookup such as licence
    /// verification. An engine may run it on the calling thread instead of handing it to a
    /// connection's own thread: SQLite does (the hop costs more than the lookup); PostgreSQL runs
    /// an ordinary read (it waits on the network). It still sees one snapshot. Never use it for a scan.
    func pointRead<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) async throws -> T

    /// A number that differs from its previous value whenever a write has committed since — in
    /// this process or any other — or nil when the engine cannot tell cheaply. A cache of data
    /// read after a call is current for as long as the call keeps returning the same number.
    /// SQLite answers (`PRAGMA data_version` on a connection that never writes); PostgreSQL and
    /// in-memory SQLite return nil.
    func changeCounter() throws -> Int64?

    /// What a reported commit survives, as read back from the connection that writes (SQLite's
    /// `PRAGMA synchronous` inside a write; PostgreSQL's `fsync` and `synchronous_commit`).
    func commitDurability() async throws -> CommitDurability

    /// Releases connections. The database must not be used afterwards.
    func close() async throws
}

extension Database {
    /// By default the engine cannot tell.
    public func changeCounter() throws -> Int64? { nil }

    /// By default a point read is an ordinary read.
    public func pointRead<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) async throws -> T {
        try await read(body)
    }
}
