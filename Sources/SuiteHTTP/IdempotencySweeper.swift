public import Logging
public import ServiceLifecycle
import SuiteStorage

/// Prunes the answers `Idempotency-Key` keeps (``IdempotentRequests``) once they are older than 24
/// hours, as a ServiceLifecycle `Service`, so that no request pays for it. It deletes in batches
/// until none are left, then waits `interval`. A failing batch is logged and retried on the next
/// tick. Any number may run, in any number of processes. `dock serve` runs one.
///
/// ```swift
/// let sweeper = IdempotencySweeper(store: IdempotentRequests(database: database), logger: logger)
/// let group = ServiceGroup(services: [database, app, sweeper], gracefulShutdownSignals: [.sigterm], logger: logger)
/// ```
public struct IdempotencySweeper: Service {
    /// The store it prunes.
    public let store: IdempotentRequests
    /// The pause between sweeps.
    public let interval: Duration
    /// Where failed batches are reported.
    public let logger: Logger

    /// A sweeper every `interval` (five minutes by default).
    public init(store: IdempotentRequests, interval: Duration = .seconds(300), logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    /// Sweeps, then waits ``interval``, until cancelled or the service group shuts down gracefully.
    public func run() async throws {
        await runPeriodically(every: interval) { await sweepOnce() }
    }

    /// Deletes the expired answers until none are left; returns how many.
    @discardableResult
    public func sweepOnce() async -> Int {
        let (deleted, failure) = await drainInBatches(limit: 1_000) { try await store.prune(limit: $0) }
        if let failure { logger.error("idempotency key sweep failed; retrying next tick", metadata: ["error": "\(failure)"]) }
        return deleted
    }
}
