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
    /// The statements prepared on this connection; nil: nothing is prepared.
    private let statements: PreparedStatements?
    /// Names this transaction's `PREPARE`s took, by statement, until the server answers them.
    private var preparing: [String: String] = [:]
    /// Statements not yet sent (``executeDeferred(_:)``): they go out ahead of the next batch.
    private var unsent: [PreparedStatements.Statement] = []
    /// Whether any statement has reached the connection (so a rollback must be sent).
    private var hasSent = false
    /// Set once the connection broke: nothing more is sent on it, not even `ROLLBACK`.
    private var isLost = false

    init(connection: PostgresConnection, logger: Logger, server: String, statements: PreparedStatements?) {
        self.connection = connection
        self.logger = logger
        self.server = server
        self.statements = statements
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
        try batch(statements.map(statement)).map { try $0.rows.map(Self.row) }
    }

    func executeDeferred(_ sql: SQL) throws {
        unsent.append(try statement(sql))
    }

    @discardableResult
    func run(_ sql: SQL) throws -> PostgresQueryResult {
        try batch([try statement(sql)])[0]
    }

    /// Commits: the held-back statements and `COMMIT` in one batch. Nothing is sent if the
    /// transaction ran no statement (only its `BEGIN` is held back).
    ///
    /// If the connection is lost once `COMMIT` may have gone out, the transaction may have committed
    /// or not: with `reportingUnknownOutcome` that is ``StorageError/Code/commitOutcomeUnknown``.
    func commit(reportingUnknownOutcome: Bool) throws {
        guard hasSent || unsent.count > 1 else { return }
        do {
            try batch([.unprepared("COMMIT")])
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
        _ = try? batch([.unprepared("ROLLBACK")])
    }

    /// Sends the held-back statements and then `statements` in one hop to the event loop, waits
    /// once for all of their replies, and throws the first error among them all — a held-back
    /// statement's error, not the "transaction is aborted" that follows it. A statement's first
    /// `PREPARE` goes out just before it; its name is remembered once the server has run it.
    @discardableResult
    private func batch(_ statements: [PreparedStatements.Statement]) throws -> [PostgresQueryResult] {
        let all = unsent + statements
        unsent = []
        hasSent = true
        // Where each statement's own reply will be, and each `PREPARE`'s.
        var queries: [PostgresQuery] = [], replies: [Int] = []
        var preparations: [(index: Int, PreparedStatements.Preparation)] = []
        queries.reserveCapacity(all.count)
        for statement in all {
            if let preparation = statement.preparing {
                preparations.append((queries.count, preparation))
                queries.append(preparation.query)
            }
            replies.append(queries.count)
            queries.append(statement.query)
        }
        let connection = connection, logger = logger
        let reply = Reply()
        connection.eventLoop.execute {
            let futures = queries.map { connection.query($0, logger: logger) }
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
        for (index, preparation) in preparations {
            preparing[preparation.key] = nil
            switch outcomes[index] {
            case .success:
                self.statements?.prepared(preparation)
            case .failure(let error as PSQLError) where error.serverInfo?[.sqlState] == "42P05":
                // The session has the name already, so it has the statement (its name is a hash of
                // it): the transaction runs again and executes it.
                self.statements?.prepared(preparation)
            case .failure:
                break
            }
        }
        for outcome in outcomes {
            if case .failure(let error) = outcome { throw mapFailure(error) }
        }
        return replies.suffix(statements.count).map { index in
            guard case .success(let result) = outcomes[index] else { preconditionFailure("a failure was thrown above") }
            return result
        }
    }

    /// A statement as it goes out: prepared on this connection when it can be.
    private func statement(_ sql: SQL) throws -> PreparedStatements.Statement {
        let (text, values) = sql.rendered(for: .postgres)
        try SQLValue.requireStorable(values)
        guard let statements else { return .unprepared(text, values) }
        return statements.statement(text, values, pending: &preparing)
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
            if let statements, Self.outdatesPreparedStatements(error) {
                // Prepared again, under new names, when the write runs again (a conflict is retried).
                statements.forgetAll()
                return StorageError(code: .conflict, message: "the server's prepared statements were out of date; try again",
                                    underlying: Self.describe(error))
            }
            if statements != nil, state == "42P05" {
                return StorageError(
                    code: .conflict,
                    message: "PostgreSQL already has a prepared statement of this name in this session: behind a pooler that moves sessions between server connections (PgBouncer in transaction mode), set statement_cache=0",
                    underlying: Self.describe(error))
            }
            // Class 08 (connection exception) and 57 (operator intervention: the server shutting
            // down or terminating this backend) end the connection too.
            if !state.hasPrefix("08") && !state.hasPrefix("57") { return Self.map(error) }
        }
        isLost = true
        return LostConnection(error: StorageError(
            code: .unavailable, message: "lost the connection to PostgreSQL at \(server); nothing was committed",
            underlying: (error as? PSQLError).map(Self.describe) ?? String(reflecting: error)))
    }

    /// The driver's account of an error, for logs. PostgresNIO's shows the statement's text with
    /// its bound values hidden; a prepared statement's `EXECUTE` carries its values in its text, so
    /// that text is left out.
    static func describe(_ error: PSQLError) -> String {
        guard let query = error.query, query.sql.hasPrefix("EXECUTE ") else { return String(reflecting: error) }
        var text = "PSQLError(code: \(error.code)"
        if let info = error.serverInfo {
            let fields: [(String, PSQLError.ServerInfo.Field)] = [
                ("sqlState", .sqlState), ("message", .message), ("detail", .detail), ("constraintName", .constraintName),
            ]
            text += ", serverInfo: [" + fields.compactMap { name, field in info[field].map { "\(name): \($0)" } }
                .joined(separator: ", ") + "]"
        }
        let name = query.sql.split(separator: " ", maxSplits: 2).dropFirst().first ?? ""
        return text + ", query: EXECUTE \(name) (values not shown))"
    }

    /// Whether the server refused a prepared statement that no longer exists (dropped by
    /// `DEALLOCATE` or `DISCARD`) or whose result a table change has reshaped.
    private static func outdatesPreparedStatements(_ error: PSQLError) -> Bool {
        switch error.serverInfo?[.sqlState] {
        case "26000": true
        case "0A000": error.serverInfo?[.message]?.contains("cached plan must not change result type") == true
        default: false
        }
    }

    static func map(_ error: PSQLError) -> StorageError {
        let underlying = describe(error)
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
