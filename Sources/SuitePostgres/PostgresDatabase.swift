import Foundation
import Synchronization
public import Logging
internal import NIOConcurrencyHelpers
internal import NIOCore
internal import NIOPosix
internal import NIOSSL
internal import PostgresNIO
public import ServiceLifecycle
public import SuiteStorage

/// The scale-out engine: PostgreSQL through PostgresNIO's `PostgresClient` connection pool.
///
/// Module operations are synchronous functions of a `Transaction` (see ``Transaction``), so that
/// on SQLite they run on the writer connection without a hop per statement. Here each transaction
/// runs on a thread of a dedicated pool — as many threads as pooled connections — which waits
/// for each reply while the event loops and the cooperative pool stay free.
///
/// Failures are fast and say why. A connection that cannot be had within `connect_timeout`
/// (5 s by default) fails with ``StorageError`` `.unavailable`, `.authentication`, `.busy` or
/// `.invalidLocation` and a line that names the server and the cause. After the server restarts,
/// the next operation runs on a fresh connection; a write whose `COMMIT` went out but was never
/// answered fails with `.commitOutcomeUnknown`, never as a plain failure.
///
/// The database is a ServiceLifecycle `Service`. Making one starts nothing. A server puts it in
/// its `ServiceGroup` before the services that use it: ``run()`` runs the connection pool, and at
/// graceful shutdown, once the services after it have stopped, it closes the database. A script
/// or a test that has no group just uses the database: the first operation starts the pool in a
/// task of the database's own, which inherits nothing from the caller, and ``close()`` ends it.
/// A database used before its group starts (to install a schema, say) moves its pool into
/// ``run()`` when the group starts it.
///
/// ```swift
/// let database = try PostgresDatabase(url: "postgres://app@127.0.0.1:5432/app?sslmode=disable")
/// let group = ServiceGroup(services: [database, server], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
public final class PostgresDatabase: SuiteStorage.Database, Service {
    /// Always ``SQLDialect/postgres``.
    public let dialect: SQLDialect = .postgres
    private let location: PostgresLocation
    private let pools: ConnectionPools
    private let diagnosis: ConnectionDiagnosis
    private let threads: NIOThreadPool
    /// The statements prepared on each pooled connection.
    private let statements: ConnectionStatements
    private let logger: Logger
    private let closed = Atomic<Bool>(false)
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
    ///   0 turns it off);
    /// - `connect_timeout=S`: how long getting a connection may take before the operation fails
    ///   (default 5; fractions allowed);
    /// - `statement_cache=N`: statements prepared per connection (default 512): the server then
    ///   parses and plans each once per connection instead of on every run. `0` prepares none; use
    ///   it behind a pooler that moves a session between server connections (PgBouncer in
    ///   transaction mode), where a prepared statement would not follow.
    ///
    /// Every time a connection returns to the pool, PostgresNIO arms a timer for each of the last two,
    /// which costs thread wake-ups: `min` equal to `pool` and `keepalive=0` cut a provision's client
    /// CPU by up to a fifth in docs/benchmarks-history.md. Keep-alive is worth its cost where a firewall or
    /// NAT drops idle connections.
    public convenience init(url: String, logger: Logger = Logger(label: "clientsuite.postgres")) throws {
        let location = try PostgresLocation(url: url)
        self.init(location: location, logger: logger)
    }

    init(location: PostgresLocation, logger: Logger) {
        self.location = location
        self.logger = logger
        pools = ConnectionPools { ConnectionPool(location: location, logger: logger) }
        diagnosis = ConnectionDiagnosis(location: location, logger: logger)
        threads = NIOThreadPool(numberOfThreads: location.poolSize)
        threads.start()
        statements = ConnectionStatements(capacity: location.statementCache)
    }

    /// Runs `body` in a write transaction on a pooled connection; commits when it returns, rolls back
    /// when it throws. A serialisation or deadlock conflict reruns `body` up to five times, and a
    /// connection found dead reruns it once on a fresh one, so `body` must be safe to run again.
    public func write<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) async throws -> T {
        var conflicts = 0
        var reconnected = false
        while true {
            do {
                let (value, actions) = try await transaction(begin: "BEGIN", writes: true) { tx in
                    (try body(tx), tx.commitActions)
                }
                for action in actions { action() }
                return value
            } catch let error as StorageError where error.code == .conflict && conflicts < conflictRetries {
                conflicts += 1
            } catch let lost as LostConnection {
                // Nothing was committed (the server rolls back a transaction whose connection is
                // gone): once, run it again on a fresh connection — a pooled connection can be
                // found dead only by using it, as after a server restart.
                guard !reconnected else { throw lost.error }
                reconnected = true
            }
        }
    }

    /// Runs `body` in a `REPEATABLE READ READ ONLY` transaction: one consistent snapshot. Like a
    /// write, it runs again after a conflict (a prepared statement found out of date) and, once, on
    /// a fresh connection after finding its connection dead.
    public func read<T: Sendable>(_ body: @escaping @Sendable (any Transaction) throws -> T) async throws -> T {
        var conflicts = 0
        var lost: LostConnection?
        while true {
            do {
                return try await transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", writes: false) { tx in
                    try body(tx)
                }
            } catch let error as StorageError where error.code == .conflict && conflicts < conflictRetries {
                conflicts += 1
            } catch let error as LostConnection {
                if let lost { throw lost.error }
                lost = error
            }
        }
    }

    /// PostgreSQL's `fsync` and `synchronous_commit`, read on a pooled connection.
    public func commitDurability() async throws -> CommitDurability {
        let (fsync, commit) = try await read { tx in
            (try tx.queryFirst("SHOW fsync")?.string("fsync") ?? "?",
             try tx.queryFirst("SHOW synchronous_commit")?.string("synchronous_commit") ?? "?")
        }
        let setting = "synchronous_commit=\(commit), fsync=\(fsync)"
        if fsync != "on" {
            return CommitDurability(setting: setting, guarantee: "the server does not flush its log: a server crash may lose or corrupt data")
        }
        if commit == "off" {
            return CommitDurability(setting: setting,
                                    guarantee: "a commit is reported before its log is flushed: a server crash may lose the last commits")
        }
        return CommitDurability(setting: setting, guarantee: "every commit is on disk before it is reported (survives a server crash)")
    }

    /// Runs the connection pool until graceful shutdown (or cancellation), then closes the
    /// database: in a `ServiceGroup`, after the services listed after it have stopped.
    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addImmediateTask { await self.pools.runAsService() }
            try? await gracefulShutdown()
            try await close()
        }
    }

    /// Closes the pools and the transaction threads; every later operation fails with
    /// `.unavailable`. Closing twice is harmless.
    public func close() async throws {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        pools.shutDown()
        try await threads.shutdownGracefully()
    }

    private func transaction<T: Sendable>(
        begin: String, writes: Bool, _ body: @escaping @Sendable (PostgresTransaction) throws -> T
    ) async throws -> T {
        let threads = threads, statements = statements, logger = logger, server = location.server
        do {
            return try await withLease { connection in
                do {
                    return try await Self.run(begin: begin, writes: writes, on: connection, threads: threads,
                                              statements: statements, logger: logger, server: server, body)
                } catch let error where Self.brokeConnection(error) {
                    // Closed and waited for before the lease ends, so the pool has seen the close
                    // (its callback runs first) and never lends this connection again.
                    try? await connection.close()
                    throw error
                }
            }
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            throw Self.closedError
        }
        // Any other error is the caller's own (a domain error thrown inside the transaction) or
        // already a storage error: it passes through.
    }

    /// Whether `error` means the connection it came from is gone.
    private static func brokeConnection(_ error: any Error) -> Bool {
        error is LostConnection || (error as? StorageError)?.code == .commitOutcomeUnknown
    }

    /// Runs one transaction on a thread of the pool, on a leased connection.
    private static func run<T: Sendable>(
        begin: String, writes: Bool, on connection: PostgresConnection, threads: NIOThreadPool,
        statements: ConnectionStatements, logger: Logger, server: String,
        _ body: @escaping @Sendable (PostgresTransaction) throws -> T
    ) async throws -> T {
        try await threads.runIfActive {
            let tx = PostgresTransaction(connection: connection, logger: logger, server: server,
                                         statements: statements.statements(on: connection))
            // Sent with the first statement: one wait fewer per transaction.
            try tx.executeDeferred(SQL(raw: begin))
            do {
                let value = try body(tx)
                try tx.commit(reportingUnknownOutcome: writes)
                return value
            } catch {
                // The connection goes back to the pool; it must not carry an open transaction.
                tx.rollback()
                throw error
            }
        }
    }

    private static let closedError = StorageError(code: .unavailable, message: "the PostgreSQL database has been closed")

    // MARK: - Leasing a connection, fast and with a reason when it cannot be had

    /// Leases a connection and runs `body` on it, within `connect_timeout`.
    ///
    /// A lease that waits longer than its patience (a second, or half the timeout) while the pool has
    /// connections to spare means the pool cannot make one; a direct connection then tells why, and
    /// the lease fails at once with that reason. When the server is fine the lease waits on. A pool
    /// that refuses leases outright (its circuit breaker open after a long outage), or that lent
    /// nothing for the whole timeout although the server answers, is replaced by a fresh one.
    private func withLease<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let timeout = location.connectTimeout
        let deadline = ContinuousClock.now + timeout
        var pool = pools.pool
        var checkpoint = ContinuousClock.now + min(.seconds(1), timeout / 2)
        var serverAnswers: Bool?  // nil until a direct connection was tried
        while true {
            guard !closed.load(ordering: .acquiring) else { throw Self.closedError }
            // A cancelled caller stops here. Its lease fails at once, which must not read as a pool
            // that refuses leases: that would replace a healthy pool, again and again, until the
            // deadline, each new pool opening connections that the cancellation fails.
            try Task.checkCancellation()
            let outcome = try await attempt(on: pool, until: checkpoint, body)
            try Task.checkCancellation()
            let refused: Bool
            switch outcome {
            case .done(let value): return value
            case .waited: refused = false
            case .refused: refused = true
            }
            guard !closed.load(ordering: .acquiring) else { throw Self.closedError }
            if pool !== pools.pool {
                pool = pools.pool  // replaced meanwhile (its waiters were refused): lease from the new one
                continue
            }
            let saturated = pool.lent.load(ordering: .acquiring) >= location.poolSize
            if ContinuousClock.now >= deadline {
                if saturated {
                    throw StorageError(code: .busy, message: "no connection to PostgreSQL at \(location.server) became free within \(ConnectionDiagnosis.seconds(timeout)) (all \(location.poolSize) in use)")
                }
                if serverAnswers == nil, let reason = await diagnosis.run(timeout: .milliseconds(500)) { throw reason }
                _ = pools.replace(pool)  // the server answers, this pool lent nothing: the next call gets a fresh one
                throw StorageError(code: .unavailable, message: "cannot get a connection to PostgreSQL at \(location.server) within \(ConnectionDiagnosis.seconds(timeout))")
            }
            if saturated && !refused {
                checkpoint = deadline  // every connection is busy: waiting is expected
                continue
            }
            if serverAnswers == nil {
                if let reason = await diagnosis.run(timeout: max(deadline - ContinuousClock.now, .milliseconds(100))) { throw reason }
                serverAnswers = true
            }
            if refused {
                let fresh = pools.replace(pool)
                if fresh === pool { try? await Task.sleep(for: .milliseconds(50)) }
                pool = fresh
            }
            checkpoint = deadline
        }
    }

    /// One wait for a lease from `pool`, until `checkpoint`.
    private func attempt<T: Sendable>(
        on pool: ConnectionPool, until checkpoint: ContinuousClock.Instant,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> LeaseAttempt<T> {
        let gate = LeaseGate()
        return try await withThrowingTaskGroup(of: LeaseAttempt<T>?.self) { group in
            group.addTask {
                do {
                    await pool.waitUntilRunning()
                    return .done(try await pool.client.withConnection { connection in
                        guard gate.claim() else { throw CancellationError() }
                        return try await pool.lending { try await body(connection) }
                    })
                } catch {
                    if gate.isClaimed { throw error }  // the transaction's own outcome
                    return .refused
                }
            }
            group.addTask {
                try? await Task.sleep(until: checkpoint)
                return nil
            }
            while let step = try await group.next() {
                if let step {
                    group.cancelAll()
                    return step
                }
                if gate.abandon() {
                    group.cancelAll()
                    return .waited
                }
                // The lease came in time; wait for the transaction.
            }
            return .waited
        }
    }
}

/// How one wait for a lease ended.
private enum LeaseAttempt<T: Sendable>: Sendable {
    case done(T)
    /// No connection came before the checkpoint.
    case waited
    /// The pool refused the lease at once (its circuit breaker is open, or it was shut down).
    case refused
}

/// Decides, once, whether a lease that arrives is used or the wait for it was given up.
private final class LeaseGate: Sendable {
    private let state = Atomic<Int>(0)  // 0 waiting, 1 claimed by the transaction, 2 abandoned

    func claim() -> Bool { state.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged }
    func abandon() -> Bool { state.compareExchange(expected: 0, desired: 2, ordering: .acquiringAndReleasing).exchanged }
    var isClaimed: Bool { state.load(ordering: .acquiring) == 1 }
}

/// The PostgreSQL driver: opens `postgres://` and `postgresql://` URLs with
/// ``PostgresDatabase/init(url:logger:)``.
public struct PostgresDriver: DatabaseDriver {
    /// The driver.
    public init() {}
    /// `PostgreSQL`.
    public var engine: String { "PostgreSQL" }
    /// Whether `location` starts with `postgres://` or `postgresql://`.
    public func accepts(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }
    /// Opens `location` as ``PostgresDatabase/init(url:logger:)`` does.
    public func open(_ location: String, logger: Logger) throws -> any Database {
        try PostgresDatabase(url: location, logger: logger)
    }
}

extension DatabaseDriver where Self == PostgresDriver {
    /// The PostgreSQL driver.
    public static var postgres: PostgresDriver { PostgresDriver() }
}
