import Foundation
public import Logging
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
    /// Query options: `sslmode=disable|prefer|require`, `search_path=schema`, `pool=N` (connections, default 8).
    public convenience init(url: String, logger: Logger = Logger(label: "clientsuite.postgres")) throws {
        let location = try PostgresLocation(url: url)
        self.init(location: location, logger: logger)
    }

    init(location: PostgresLocation, logger: Logger) {
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.user,
            password: location.password, database: location.database, tls: location.tls)
        configuration.options.maximumConnections = location.poolSize
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
                        try tx.run("COMMIT")
                        return value
                    } catch {
                        // The connection goes back to the pool; it must not carry an open transaction.
                        _ = try? tx.run("ROLLBACK")
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
final class PostgresTransaction: Transaction {
    let dialect: SQLDialect = .postgres
    private let connection: PostgresConnection
    private let logger: Logger
    private(set) var commitActions: [@Sendable () -> Void] = []
    /// Statements sent but not yet waited for (``executeDeferred(_:)``), oldest first.
    private var pending: [EventLoopFuture<PostgresQueryResult>] = []

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
        try waitForAll(statements.map(send)).map { try $0.rows.map(Self.row) }
    }

    func executeDeferred(_ sql: SQL) throws {
        pending.append(send(sql))
    }

    @discardableResult
    func run(_ sql: SQL) throws -> PostgresQueryResult {
        try waitForAll([send(sql)])[0]
    }

    /// Waits for every deferred statement, then for `sent` (which the connection answers after
    /// them), and throws the first error among them all — a deferred statement's error, not the
    /// "transaction is aborted" that follows it.
    private func waitForAll(_ sent: [EventLoopFuture<PostgresQueryResult>]) throws -> [PostgresQueryResult] {
        let earlier = pending
        pending = []
        var failure: (any Error)?
        for future in earlier {
            do { _ = try wait(future) } catch { failure = failure ?? error }
        }
        var results: [PostgresQueryResult] = []
        results.reserveCapacity(sent.count)
        for future in sent {
            do { results.append(try wait(future)) } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
        return results
    }

    private func wait(_ future: EventLoopFuture<PostgresQueryResult>) throws -> PostgresQueryResult {
        do {
            // We are on a pool thread, never an event loop, so waiting is allowed.
            return try future.wait()
        } catch let error as PSQLError {
            throw Self.map(error)
        } catch {
            throw StorageError(code: .unavailable, message: "the PostgreSQL server cannot be used",
                               underlying: String(reflecting: error))
        }
    }

    /// Hands the statement to the connection's event loop, which sends it once those before it are answered.
    private func send(_ sql: SQL) -> EventLoopFuture<PostgresQueryResult> {
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
        return connection.query(PostgresQuery(unsafeSQL: text, binds: bindings), logger: logger)
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
        poolSize = Int(options["pool"] ?? "") ?? 8
        guard (1...256).contains(poolSize) else {
            throw StorageError(code: .invalidLocation, message: "pool must be between 1 and 256 connections")
        }
    }
}
