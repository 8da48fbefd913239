public import Logging
public import ServiceLifecycle
import SuiteStorage

/// The subscription renewal job as a ServiceLifecycle `Service`: every `interval` it runs
/// ``Subscriptions/renewDue(now:limit:actor:progress:)`` batch after batch while batches come back
/// full, then waits. A failing batch is logged and retried on the next tick; the service never
/// throws because of one. It stops promptly on graceful shutdown (finishing the batch in flight)
/// or cancellation. Any number of instances may run, in any number of processes: each period is
/// claimed by one of them.
///
/// ```swift
/// let renewals = SubscriptionRenewalService(subscriptions: subscriptions, interval: .seconds(300), logger: logger)
/// let group = ServiceGroup(services: [renewals], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
public struct SubscriptionRenewalService: Service {
    /// The subscriptions it renews.
    public let subscriptions: Subscriptions
    /// The pause between the end of one tick and the start of the next.
    public let interval: Duration
    /// Subscriptions per ``Subscriptions/renewDue(now:limit:actor:progress:)`` call (1…10000).
    public let batchSize: Int
    /// Where the service reports each run and failed batches.
    public let logger: Logger

    /// A service every `interval` (60 seconds if not positive); `batchSize` is clamped to 1…10000.
    public init(subscriptions: Subscriptions, interval: Duration = .seconds(60), batchSize: Int = 500, logger: Logger) {
        self.subscriptions = subscriptions
        self.interval = interval > .zero ? interval : .seconds(60)
        self.batchSize = min(max(batchSize, 1), 10_000)
        self.logger = logger
    }

    /// Renews, then waits ``interval``, until cancelled or the service group shuts down gracefully.
    public func run() async throws {
        await runPeriodically(every: interval) { await renewOnce() }
    }

    /// Renews due subscriptions until a batch comes back less than full; returns the sum of the reports.
    @discardableResult
    public func renewOnce() async -> RenewalReport {
        var total = RenewalReport()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let report = try await subscriptions.renewDue(limit: batchSize)
                total.add(report)
                // Only claims and cancellations make progress; failures are retried next tick.
                if report.renewed + report.canceled < batchSize { break }
            } catch {
                logger.error("subscription renewal failed; retrying next tick", metadata: ["error": "\(error)"])
                break
            }
        }
        if total.renewed + total.canceled + total.activated + total.pastDue > 0 {
            logger.info("subscriptions renewed", metadata: [
                "renewed": "\(total.renewed)", "paid": "\(total.paid)", "past_due": "\(total.pastDue)",
                "activated": "\(total.activated)", "canceled": "\(total.canceled)", "failed": "\(total.failed)",
            ])
        }
        return total
    }
}

extension RenewalReport {
    /// Adds another run's counts to this one.
    public mutating func add(_ other: RenewalReport) {
        examined += other.examined
        renewed += other.renewed
        paid += other.paid
        pastDue += other.pastDue
        activated += other.activated
        canceled += other.canceled
        failed += other.failed
    }
}
