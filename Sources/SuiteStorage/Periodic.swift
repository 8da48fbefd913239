public import ServiceLifecycle

/// The loop every background service of the suite runs: do one tick's work, then wait `interval`
/// on `clock`, until the task is cancelled or its service group shuts down gracefully. A tick in
/// progress finishes; the pause is cut short.
///
/// ```swift
/// public func run() async throws {
///     await runPeriodically(every: interval) { await sweepOnce() }
/// }
/// ```
public func runPeriodically<SleepClock: Clock>(every interval: SleepClock.Duration, on clock: SleepClock,
                                               _ tick: () async -> Void) async {
    while !Task.isCancelled && !Task.isShuttingDownGracefully {
        await tick()
        do {
            try await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) }
        } catch {
            return  // cancelled or shutting down
        }
    }
}

/// ``runPeriodically(every:on:_:)`` on the continuous clock.
public func runPeriodically(every interval: Duration, _ tick: () async -> Void) async {
    await runPeriodically(every: interval, on: ContinuousClock(), tick)
}

/// One tick of a sweeper: runs `batch` (one transaction of at most `limit` rows) until a batch
/// does fewer than `limit` or the task is cancelled. Returns how many rows the batches did, and
/// the error that stopped them early, for the caller to log (the next tick tries again).
///
/// ```swift
/// let (marked, failure) = await drainInBatches(limit: 500) { try await licences.markExpired(limit: $0) }
/// ```
public func drainInBatches(limit: Int, _ batch: (Int) async throws -> Int) async -> (total: Int, failure: (any Error)?) {
    var total = 0
    while !Task.isCancelled {
        do {
            let done = try await batch(limit)
            total += done
            if done < limit { break }
        } catch {
            return (total, error)
        }
    }
    return (total, nil)
}
