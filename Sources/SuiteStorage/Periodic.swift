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
