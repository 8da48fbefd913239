public import Logging
public import ServiceLifecycle
import SuiteStorage

/// Releases expired holds in the background: a ServiceLifecycle `Service` that, every `interval`,
/// expires due holds with ``Ledger/voidExpiredHolds(limit:)`` batch after batch until none are left.
///
/// It stops promptly on graceful shutdown (finishing the batch in flight, never starting another)
/// and on cancellation. A failing batch is logged and retried on the next tick; the service never
/// throws because of one. Expiry is judged on the ledger's clock; only the pause between ticks uses
/// `clock`.
///
/// ```swift
/// let ledger = Ledger(database: database)
/// let sweeper = try HoldExpirySweeper(ledger: ledger, interval: .seconds(30), logger: logger)
/// let group = ServiceGroup(services: [sweeper], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
public struct HoldExpirySweeper<SleepClock: Clock>: Service where SleepClock.Duration == Duration {
    /// The ledger whose expired holds are released (expiry is judged on its clock).
    public let ledger: Ledger
    /// The pause between the end of one sweep and the start of the next.
    public let interval: Duration
    /// Holds expired per transaction.
    public let batchSize: Int
    /// The clock the pause between sweeps is measured on.
    public let clock: SleepClock
    /// Where the sweeper reports what it released and what failed.
    public let logger: Logger

    /// A sweeper that pauses on `clock`. Throws `.invalidConfiguration` unless `interval` is positive
    /// and `batchSize` is 1…10000.
    ///
    /// ```swift
    /// let sweeper = try HoldExpirySweeper(ledger: ledger, interval: .seconds(5), clock: SuspendingClock(), logger: logger)
    /// ```
    public init(ledger: Ledger, interval: Duration = .seconds(30), batchSize: Int = 500, clock: SleepClock,
                logger: Logger) throws {
        guard interval > .zero, (1...10_000).contains(batchSize) else {
            throw WalletError(.invalidConfiguration,
                              message: "Invalid configuration: the sweep interval must be positive and the batch size 1…10000")
        }
        self.ledger = ledger
        self.interval = interval
        self.batchSize = batchSize
        self.clock = clock
        self.logger = logger
    }

    /// Runs until graceful shutdown or cancellation: sweep, pause `interval`, repeat.
    ///
    /// ```swift
    /// try await sweeper.run()   // usually run by a ServiceGroup instead
    /// ```
    public func run() async throws {
        logger.info("hold expiry sweeper started", metadata: ["interval": "\(interval)", "batch_size": "\(batchSize)"])
        await runPeriodically(every: interval, on: clock) { await sweepLoggingFailures() }
        logger.info("hold expiry sweeper stopped")
    }

    /// Expires every hold that is due now, one batch per transaction, and returns how many. Stops
    /// early, between batches, on cancellation or graceful shutdown.
    ///
    /// ```swift
    /// let expired = try await sweeper.sweep()   // e.g. from a cron job instead of run()
    /// ```
    @discardableResult
    public func sweep() async throws -> Int {
        var total = 0
        while true {
            let expired = try await ledger.voidExpiredHolds(limit: batchSize)
            total += expired
            if expired < batchSize || Task.isCancelled || Task.isShuttingDownGracefully { return total }
        }
    }

    private func sweepLoggingFailures() async {
        do {
            let expired = try await sweep()
            if expired > 0 {
                logger.info("expired holds released", metadata: ["count": "\(expired)"])
            } else {
                logger.debug("no expired holds")
            }
        } catch {
            // The next tick tries again; the holds stay pending (and uncapturable) meanwhile.
            logger.error("hold expiry sweep failed; retrying on the next tick",
                         metadata: ["error": "\(String(reflecting: error))"])
        }
    }
}

extension HoldExpirySweeper where SleepClock == ContinuousClock {
    /// A sweeper that pauses on the `ContinuousClock`.
    ///
    /// ```swift
    /// let sweeper = try HoldExpirySweeper(ledger: ledger, interval: .seconds(30), batchSize: 500, logger: logger)
    /// ```
    public init(ledger: Ledger, interval: Duration = .seconds(30), batchSize: Int = 500, logger: Logger) throws {
        try self.init(ledger: ledger, interval: interval, batchSize: batchSize, clock: ContinuousClock(), logger: logger)
    }
}
