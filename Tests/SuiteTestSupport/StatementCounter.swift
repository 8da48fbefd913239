import Synchronization
public import SuiteCore
public import SuiteStorage

/// A real database that counts the statements its transactions send, to measure what an
/// operation costs in round trips of work (a pipelined batch counts each statement in it;
/// BEGIN and COMMIT are not counted). Everything else is the inner database's.
public final class StatementCountingDatabase: Database {
    public let inner: any Database
    private let counted = Mutex<Int>(0)
    private let texts = Mutex<[String]>([])

    /// The statements sent since the last ``reset()``, each cut to 400 characters.
    public var sent: [String] { texts.withLock { $0 } }

    public init(_ inner: any Database) { self.inner = inner }

    /// Statements sent since the last ``reset()``.
    public var statements: Int { counted.withLock { $0 } }
    public func reset() {
        counted.withLock { $0 = 0 }
        texts.withLock { $0 = [] }
    }

    public var dialect: SQLDialect { inner.dialect }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) async throws -> T {
        try await inner.write { tx in try body(CountingTransaction(tx, database: self)) }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) async throws -> T {
        try await inner.read { tx in try body(CountingTransaction(tx, database: self)) }
    }

    public func pointRead<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) async throws -> T {
        try await inner.pointRead { tx in try body(CountingTransaction(tx, database: self)) }
    }

    public func changeCounter() throws -> Int64? { try inner.changeCounter() }
    public func commitDurability() async throws -> CommitDurability { try await inner.commitDurability() }
    public func close() async throws { try await inner.close() }

    fileprivate func add(_ statements: [SQL]) {
        counted.withLock { $0 += statements.count }
        texts.withLock { $0 += statements.map { String(String(describing: $0).prefix(400)) } }
    }
}

private final class CountingTransaction: Transaction {
    let inner: any Transaction
    let database: StatementCountingDatabase

    init(_ inner: any Transaction, database: StatementCountingDatabase) {
        self.inner = inner
        self.database = database
    }

    var dialect: SQLDialect { inner.dialect }

    func execute(_ sql: SQL) throws -> Int {
        database.add([sql])
        return try inner.execute(sql)
    }

    func query(_ sql: SQL) throws -> [Row] {
        database.add([sql])
        return try inner.query(sql)
    }

    func insertReturningID(_ sql: SQL) throws -> Int64 {
        database.add([sql])
        return try inner.insertReturningID(sql)
    }

    func insertReturningIDIfInserted(_ sql: SQL) throws -> Int64? {
        database.add([sql])
        return try inner.insertReturningIDIfInserted(sql)
    }

    func afterCommit(_ action: @escaping @Sendable () -> Void) { inner.afterCommit(action) }

    func queryPipelined(_ statements: [SQL]) throws -> [[Row]] {
        database.add(statements)
        return try inner.queryPipelined(statements)
    }

    func executeDeferred(_ sql: SQL) throws {
        database.add([sql])
        try inner.executeDeferred(sql)
    }
}
