import Foundation
public import Logging
internal import NIOConcurrencyHelpers
internal import NIOCore
internal import NIOPosix
internal import NIOSSL
internal import PostgresNIO
public import SuiteStorage

/// The scale-out engine: PostgreSQL through PostgresNIO's `PostgresClient` connection pool.
///
/// Module operations are synchronous functions of a `Transaction` (see ``Transaction``), so that
/// on SQLite they run on GRDB's writer thread without a hop per statement. Here each transaction
/// runs on a thread of a dedicated pool — as many threads as pooled connections — which waits
/// for each reply while the event loops and the cooperative pool stay free.
///
/// ```swift
/// let database = try PostgresDatabase(url: "postgres://app@127.0.0.1:5432/app?sslmode=disable")
/// defer { Task { try await database.close() } }
/// ```
public final class PostgresDatabase: SuiteStorage.Database {
    public let dialect: SQLDialect = .postgres
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let threads: NIOThreadPool
    private let logger: Logger
    /// How often a transaction that lost a serialisation or deadlock race is retried.
    private let conflictRetries = 5

    /// Connects to the server named by a `postgres://user:password@host:port/database` URL.
    /// Query options:
    /// - `sslmode=disable|prefer|require`;
    /// - `search_path=schema`;
    /// - `pool=N`: at most N connections (default 8);
    /// - `min=N`: connections opened at once and kept open however long they are idle (default 0:
    ///   opened on demand, closed after 60 s idle);
    /// - `keepalive=S`: an idle connection is checked with `SELECT 1` every S seconds (default 30;
    ///   0 turns it off).
    ///
    /// Every time a connection returns to the pool, PostgresNIO arms a timer for each of the last two,
    /// which costs thread wake-ups: `min` equal to `pool` and `keepalive=0` cut a provision's client
    /// CPU by up to a fifth in docs/benchmarks.md. Keep-alive is worth its cost where a firewall or
    /// NAT drops idle connections.
    public convenience init(url: String, logger: Logger = Logger(label: "clientsuite.postgres")) throws {
        let location = try PostgresLocation(url: url)
        self.init(location: location, logger: logger)
    }

    init(location: PostgresLocation, logger: Logger) {
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.user,
            password: location.password, database: location.database, tls: location.tls)
        configuration.options.maximumConnections = location.poolSize
        configuration.options.minimumConnections = location.minimumConnections
        configuration.options.keepAliveBehavior = location.keepAliveSeconds.map {
            PostgresClient.Configuration.Options.KeepAliveBehavior(frequency: .seconds($0))
        }
        if let schema = location.searchPath {
            configuration.options.additionalStartupParameters = [("search_path", schema)]
        }
        self.logger = logger
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let client = client
        // `immediate` enters run() before init returns, so no lease can come first.
        runner = Task.immediate { await client.run() }
        threads = NIOThreadPool(numberOfThreads: location.poolSize)
        threads.start()
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                let (value, actions) = try await transaction(begin: "BEGIN") { tx in
                    (try body(tx), tx.commitActions)
                }
                for action in actions { action() }
                return value
            } catch let error as StorageError where error.code == .conflict && attempt < conflictRetries {
                attempt += 1
            }
        }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) async throws -> T {
        try await transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { tx in try body(tx) }
    }

    public func close() async throws {
        runner.cancel()
        try await threads.shutdownGracefully()
    }

    private func transaction<T: Sendable>(
        begin: String, _ body: @escaping @Sendable (PostgresTransaction) throws -> T
    ) async throws -> T {
        let threads = threads
        let logger = logger
        do {
            return try await client.withConnection { connection in
                try await threads.runIfActive {
                    let tx = PostgresTransaction(connection: connection, logger: logger)
                    // Sent with the first statement: one wait fewer per transaction.
                    try tx.executeDeferred(SQL(raw: begin))
                    do {
                        let value = try body(tx)
                        try tx.commit()
                        return value
                    } catch {
                        // The connection goes back to the pool; it must not carry an open transaction.
                        tx.rollback()
                        throw error
                    }
                }
            }
        } catch let error as PSQLError {
            throw PostgresTransaction.map(error)
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            throw StorageError(code: .unavailable, message: "the PostgreSQL database has been closed")
        }
        // Any other error is the caller's own (a domain error thrown inside the transaction): it passes through.
    }
}

/// A leased connection inside BEGIN … COMMIT, driven from a pool thread.
///
/// Every wait is one *batch*: the statements held back by ``executeDeferred(_:)`` followed by the
/// ones the caller waits for, handed to the connection's event loop in one hop and waited for once.
/// (Each hop between this thread and the event loop wakes a thread; `EventLoopFuture.wait()` would
/// add a hop per statement, even for a reply that has already come.) The connection answers in
/// order, so a batch's replies come back in order too.
final class PostgresTransaction: Transaction {
    let dialect: SQLDialect = .postgres
    private let connection: PostgresConnection
    private let logger: Logger
    private(set) var commitActions: [@Sendable () -> Void] = []
    /// Statements not yet sent (``executeDeferred(_:)``): they go out ahead of the next batch.
    private var unsent: [PostgresQuery] = []
    /// Whether any statement has reached the connection (so a rollback must be sent).
    private var hasSent = false

    init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    func execute(_ sql: SQL) throws -> Int {
        try run(sql).metadata.rows ?? 0
    }

    func query(_ sql: SQL) throws -> [Row] {
        let result = try run(sql)
        return try result.rows.map(Self.row)
    }

    func insertReturningID(_ sql: SQL) throws -> Int64 {
        guard let row = try query(sql + " RETURNING id").first else {
            throw StorageError(code: .engine, message: "the database returned no id for an insert")
        }
        return try row.int64("id")
    }

    func afterCommit(_ action: @escaping @Sendable () -> Void) { commitActions.append(action) }

    func queryPipelined(_ statements: [SQL]) throws -> [[Row]] {
        try batch(statements.map(Self.query)).map { try $0.rows.map(Self.row) }
    }

    func executeDeferred(_ sql: SQL) throws {
        unsent.append(Self.query(sql))
    }

    @discardableResult
    func run(_ sql: SQL) throws -> PostgresQueryResult {
        try batch([Self.query(sql)])[0]
    }

    /// Commits: the held-back statements and `COMMIT` in one batch. Nothing is sent if the
    /// transaction ran no statement (only its `BEGIN` is held back).
    func commit() throws {
        guard hasSent || unsent.count > 1 else { return }
        try batch([PostgresQuery(unsafeSQL: "COMMIT")])
    }

    /// Rolls back, best effort: held-back statements are dropped, and `ROLLBACK` goes out only if
    /// something reached the server, so the connection returns to the pool outside a transaction.
    func rollback() {
        unsent = []
        guard hasSent else { return }
        _ = try? batch([PostgresQuery(unsafeSQL: "ROLLBACK")])
    }

    /// Sends the held-back statements and then `statements` in one hop to the event loop, waits
    /// once for all of their replies, and throws the first error among them all — a held-back
    /// statement's error, not the "transaction is aborted" that follows it.
    @discardableResult
    private func batch(_ statements: [PostgresQuery]) throws -> [PostgresQueryResult] {
        let all = unsent + statements
        unsent = []
        hasSent = true
        let connection = connection, logger = logger
        let reply = Reply()
        connection.eventLoop.execute {
            let futures = all.map { connection.query($0, logger: logger) }
            EventLoopFuture.whenAllComplete(futures, on: connection.eventLoop).whenComplete { outcome in
                reply.deliver(outcome)
            }
        }
        // We are on a pool thread, never an event loop, so blocking is allowed.
        let outcomes: [Result<PostgresQueryResult, any Error>]
        switch reply.wait() {
        case .success(let values): outcomes = values
        case .failure(let error): throw Self.map(any: error)
        }
        var results: [PostgresQueryResult] = []
        results.reserveCapacity(statements.count)
        let firstAwaited = outcomes.count - statements.count
        for (index, outcome) in outcomes.enumerated() {
            switch outcome {
            case .success(let result): if index >= firstAwaited { results.append(result) }
            case .failure(let error): throw Self.map(any: error)
            }
        }
        return results
    }

    /// The driver's form of a statement.
    private static func query(_ sql: SQL) -> PostgresQuery {
        let (text, values) = sql.rendered(for: .postgres)
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .null: bindings.appendNull()
            case .int(let number): bindings.append(number)
            case .double(let number): bindings.append(number)
            case .text(let string): bindings.append(string)
            case .blob(let bytes): bindings.append(ByteBuffer(bytes: bytes))
            }
        }
        return PostgresQuery(unsafeSQL: text, binds: bindings)
    }

    /// A batch's replies, handed from the event loop to the waiting pool thread.
    private final class Reply: @unchecked Sendable {  // `outcome` is guarded by `ready`
        typealias Outcome = Result<[Result<PostgresQueryResult, any Error>], any Error>
        private let ready = ConditionLock(value: false)
        private var outcome: Outcome?

        func deliver(_ outcome: Outcome) {
            ready.lock()
            self.outcome = outcome
            ready.unlock(withValue: true)
        }

        func wait() -> Outcome {
            ready.lock(whenValue: true)
            defer { ready.unlock() }
            return outcome!
        }
    }

    static func row(_ row: PostgresRow) throws -> Row {
        var columns: [String] = []
        var values: [SQLValue] = []
        for cell in row {
            columns.append(cell.columnName)
            guard cell.bytes != nil else {
                values.append(.null)
                continue
            }
            do {
                switch cell.dataType {
                case .int8, .int4, .int2:
                    values.append(.int(try cell.decode(Int64.self)))
                case .bool:
                    values.append(.int(try cell.decode(Bool.self) ? 1 : 0))
                case .float8, .float4:
                    values.append(.double(try cell.decode(Double.self)))
                case .numeric:
                    let text = try cell.decode(String.self)
                    if let integer = Int64(text) { values.append(.int(integer)) } else { values.append(.double(Double(text) ?? .nan)) }
                case .bytea:
                    let buffer = try cell.decode(ByteBuffer.self)
                    values.append(.blob(Array(buffer.readableBytesView)))
                default:
                    values.append(.text(try cell.decode(String.self)))
                }
            } catch {
                throw StorageError(code: .decoding, message: "stored data has an unexpected shape (column \(cell.columnName))",
                                   underlying: String(reflecting: error))
            }
        }
        return Row(columns: columns, values: values)
    }

    static func map(any error: any Error) -> StorageError {
        if let error = error as? PSQLError { return map(error) }
        return StorageError(code: .unavailable, message: "the PostgreSQL server cannot be used",
                            underlying: String(reflecting: error))
    }

    static func map(_ error: PSQLError) -> StorageError {
        let underlying = String(reflecting: error)
        guard error.code == .server, let state = error.serverInfo?[.sqlState] else {
            return StorageError(code: .unavailable, message: "the PostgreSQL server cannot be used", underlying: underlying)
        }
        let constraint = error.serverInfo?[.constraintName]
        switch state {
        case "23505":
            return StorageError(code: .uniqueViolation, message: "a record with the same unique value already exists",
                                constraint: constraint, underlying: underlying)
        case "23502", "23503", "23514":
            return StorageError(code: .constraintViolation, message: "the data violates a database constraint",
                                constraint: constraint, underlying: underlying)
        case "40001", "40P01":
            return StorageError(code: .conflict, message: "the transaction conflicted with another; try again",
                                underlying: underlying)
        case "42P01":
            return StorageError(code: .invalidLocation, message: "a table is missing: install the modules first (`dock install`)",
                                underlying: underlying)
        default:
            return StorageError(code: .engine, message: "the database rejected the operation", underlying: underlying)
        }
    }
}

/// A parsed `postgres://` URL.
struct PostgresLocation: Sendable {
    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String?
    var tls: PostgresClient.Configuration.TLS
    var searchPath: String?
    var poolSize: Int
    var minimumConnections: Int
    /// Seconds between keep-alive checks of an idle connection; nil: none.
    var keepAliveSeconds: Int64?

    init(url: String) throws {
        guard let components = URLComponents(string: url),
              components.scheme == "postgres" || components.scheme == "postgresql",
              let host = components.host, !host.isEmpty
        else {
            throw StorageError(code: .invalidLocation,
                               message: "not a PostgreSQL URL (expected postgres://user@host:port/database)")
        }
        self.host = host
        port = components.port ?? 5432
        user = components.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        password = components.password.flatMap { $0.removingPercentEncoding }
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        database = path.isEmpty ? nil : path
        let options = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        switch options["sslmode"] ?? "prefer" {
        case "disable": tls = .disable
        case "require", "verify-full", "verify-ca": tls = .require(.makeClientConfiguration())
        default: tls = .prefer(.makeClientConfiguration())
        }
        searchPath = options["search_path"]
        poolSize = Int(options["pool"] ?? "8") ?? 0
        guard (1...256).contains(poolSize) else {
            throw StorageError(code: .invalidLocation, message: "pool must be between 1 and 256 connections")
        }
        minimumConnections = Int(options["min"] ?? "0") ?? -1
        guard (0...poolSize).contains(minimumConnections) else {
            throw StorageError(code: .invalidLocation, message: "min must be between 0 and pool (\(poolSize)) connections")
        }
        let keepAlive = Int64(options["keepalive"] ?? "30") ?? -1
        guard (0...86_400).contains(keepAlive) else {
            throw StorageError(code: .invalidLocation, message: "keepalive must be between 0 (off) and 86400 seconds")
        }
        keepAliveSeconds = keepAlive == 0 ? nil : keepAlive
    }
}
