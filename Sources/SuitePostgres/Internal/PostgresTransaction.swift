import Foundation
internal import Logging
internal import NIOConcurrencyHelpers
internal import NIOCore
internal import PostgresNIO
import SuiteStorage

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
    /// `host:port`, for error messages.
    private let server: String
    private(set) var commitActions: [@Sendable () -> Void] = []
    /// Statements not yet sent (``executeDeferred(_:)``): they go out ahead of the next batch.
    private var unsent: [PostgresQuery] = []
    /// Whether any statement has reached the connection (so a rollback must be sent).
    private var hasSent = false
    /// Set once the connection broke: nothing more is sent on it, not even `ROLLBACK`.
    private var isLost = false

    init(connection: PostgresConnection, logger: Logger, server: String) {
        self.connection = connection
        self.logger = logger
        self.server = server
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
        unsent.append(try Self.query(sql))
    }

    @discardableResult
    func run(_ sql: SQL) throws -> PostgresQueryResult {
        try batch([try Self.query(sql)])[0]
    }

    /// Commits: the held-back statements and `COMMIT` in one batch. Nothing is sent if the
    /// transaction ran no statement (only its `BEGIN` is held back).
    ///
    /// If the connection is lost once `COMMIT` may have gone out, the transaction may have committed
    /// or not: with `reportingUnknownOutcome` that is ``StorageError/Code/commitOutcomeUnknown``.
    func commit(reportingUnknownOutcome: Bool) throws {
        guard hasSent || unsent.count > 1 else { return }
        do {
            try batch([PostgresQuery(unsafeSQL: "COMMIT")])
        } catch let lost as LostConnection where reportingUnknownOutcome {
            throw StorageError(
                code: .commitOutcomeUnknown,
                message: "the connection to PostgreSQL at \(server) was lost after COMMIT was sent: the write may or may not have been applied; retry it with the same idempotency key",
                underlying: lost.error.underlying)
        }
    }

    /// Rolls back, best effort: held-back statements are dropped, and `ROLLBACK` goes out only if
    /// something reached the server, so the connection returns to the pool outside a transaction.
    func rollback() {
        unsent = []
        guard hasSent, !isLost else { return }
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
        switch reply.wait(on: connection) {
        case .success(let values): outcomes = values
        case .failure(let error): throw mapFailure(error)
        }
        var results: [PostgresQueryResult] = []
        results.reserveCapacity(statements.count)
        let firstAwaited = outcomes.count - statements.count
        for (index, outcome) in outcomes.enumerated() {
            switch outcome {
            case .success(let result): if index >= firstAwaited { results.append(result) }
            case .failure(let error): throw mapFailure(error)
            }
        }
        return results
    }

    /// The driver's form of a statement.
    private static func query(_ sql: SQL) throws -> PostgresQuery {
        let (text, values) = sql.rendered(for: .postgres)
        try SQLValue.requireStorable(values)
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

        /// The batch's outcome. A closed connection fails its pending queries; should a reply still
        /// never come, the wait ends a second after the close is seen rather than holding this
        /// thread (and a `close()` that waits for it) for good.
        func wait(on connection: PostgresConnection) -> Outcome {
            var closedChecks = 0
            while !ready.lock(whenValue: true, timeoutSeconds: 1) {
                if connection.isClosed {
                    closedChecks += 1
                    if closedChecks >= 2 { return .failure(ClosedWithoutReply()) }
                }
            }
            defer { ready.unlock() }
            return outcome!
        }
    }

    /// The connection closed and its queries were never answered.
    private struct ClosedWithoutReply: Error {}

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

    /// A statement's failure: the server's refusal as a ``StorageError``, or ``LostConnection``
    /// when the connection broke (the server then rolls the transaction back).
    private func mapFailure(_ error: any Error) -> any Error {
        if let error = error as? PSQLError, error.code == .server {
            let state = error.serverInfo?[.sqlState] ?? ""
            // Class 08 (connection exception) and 57 (operator intervention: the server shutting
            // down or terminating this backend) end the connection too.
            if !state.hasPrefix("08") && !state.hasPrefix("57") { return Self.map(error) }
        }
        isLost = true
        return LostConnection(error: StorageError(
            code: .unavailable, message: "lost the connection to PostgreSQL at \(server); nothing was committed",
            underlying: String(reflecting: error)))
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
        case "22021", "22P05":  // NUL in text, or `\u0000` in a JSON value
            return StorageError(code: .invalidText, message: "Invalid text: it may not contain the NUL character (U+0000)",
                                underlying: underlying)
        case "42P01":
            return StorageError(code: .invalidLocation, message: "a table is missing: install the modules first (`dock install`)",
                                underlying: underlying)
        default:
            return StorageError(code: .engine, message: "the database rejected the operation", underlying: underlying)
        }
    }
}

/// The connection broke inside a transaction, before any `COMMIT` could have taken effect: the
/// server rolls the transaction back, so running it again is safe. ``PostgresDatabase`` does that
/// once, on a fresh connection, and otherwise reports ``error``.
struct LostConnection: Error {
    var error: StorageError
}
