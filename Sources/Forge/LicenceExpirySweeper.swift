public import Logging
public import ServiceLifecycle
import SuiteStorage

/// Background work that records expired licences, as a ServiceLifecycle `Service`.
///
/// Verification never depends on it — ``Licences/verify(_:)`` compares `expires_at` with the
/// clock — so the sweep exists for reporting (status counts, audit trail). It marks licences in
/// batches until none are left, then waits `interval`. A failing batch is logged and retried on
/// the next tick. It stops promptly on graceful shutdown or cancellation.
///
/// ```swift
/// let group = ServiceGroup(services: [LicenceExpirySweeper(licences: licences, logger: logger)], logger: logger)
/// try await group.run()
/// ```
public struct LicenceExpirySweeper: Service {
    /// The licences it marks expired.
    public let licences: Licences
    /// The pause between sweeps.
    public let interval: Duration
    /// How many licences one batch marks at most (1…10000).
    public let batchSize: Int
    /// Where the sweeper reports failed batches.
    public let logger: Logger

    /// A sweeper every `interval`; `batchSize` is clamped to 1…10000.
    public init(licences: Licences, interval: Duration = .seconds(60), batchSize: Int = 500, logger: Logger) {
        self.licences = licences
        self.interval = interval
        self.batchSize = min(max(batchSize, 1), 10_000)
        self.logger = logger
    }

    /// Sweeps, then waits ``interval``, until cancelled or the service group shuts down gracefully.
    public func run() async throws {
        await runPeriodically(every: interval) { await sweepOnce() }
    }

    /// Marks expired licences until none are left; returns how many.
    @discardableResult
    public func sweepOnce() async -> Int {
        let (total, failure) = await drainInBatches(limit: batchSize) { try await licences.markExpired(limit: $0) }
        if let failure { logger.error("licence expiry sweep failed; retrying next tick", metadata: ["error": "\(failure)"]) }
        if total > 0 { logger.info("licences marked expired", metadata: ["count": "\(total)"]) }
        return total
    }
}
