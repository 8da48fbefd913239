internal import Logging
internal import Metrics
internal import PostgresNIO
import Synchronization

/// One PostgresNIO pool, with a count of the connections it has lent out. It runs only inside
/// ``run()``, in whichever task runs the database's pools (see ``ConnectionPools``).
final class ConnectionPool: Sendable {
    let client: PostgresClient
    /// Connections of this pool that a transaction holds now.
    let lent = Atomic<Int>(0)
    /// `clientsuite_db_connections_in_use`, per server: what ``lent`` says, for a metrics backend.
    private let inUse: Gauge
    /// Set once the pool is replaced: it stops as soon as it lends nothing.
    private let retired = Atomic<Bool>(false)
    private let stopped: AsyncStream<Never>
    private let stop: AsyncStream<Never>.Continuation
    private let running: AsyncStream<Never>
    private let started: AsyncStream<Never>.Continuation
    private let isRunning = Atomic<Bool>(false)

    init(location: PostgresLocation, logger: Logger) {
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.user,
            password: location.password, database: location.database, tls: location.clientTLS)
        configuration.options.maximumConnections = location.poolSize
        configuration.options.minimumConnections = location.minimumConnections
        configuration.options.connectTimeout = location.connectTimeout
        configuration.options.keepAliveBehavior = location.keepAliveSeconds.map {
            PostgresClient.Configuration.Options.KeepAliveBehavior(frequency: .seconds($0))
        }
        if let schema = location.searchPath {
            configuration.options.additionalStartupParameters = [("search_path", schema)]
        }
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        inUse = Gauge(label: "clientsuite_db_connections_in_use", dimensions: [("server", location.server)])
        (stopped, stop) = AsyncStream.makeStream()
        (running, started) = AsyncStream.makeStream()
    }

    /// Returns once the pool runs (at once after that): a lease made before would only wait
    /// with a warning from PostgresNIO.
    func waitUntilRunning() async {
        guard !isRunning.load(ordering: .acquiring) else { return }
        for await _ in running {}
    }

    /// Runs the pool in the calling task until ``shutDown()`` or the task's cancellation; the
    /// PostgresNIO pool also ends itself at the calling service's graceful shutdown.
    func run() async {
        await withDiscardingTaskGroup { group in
            group.addImmediateTask { await self.client.run() }
            isRunning.store(true, ordering: .releasing)
            started.finish()  // the client has entered its run loop
            for await _ in stopped {}  // ends at shutDown(), or when this task is cancelled
            group.cancelAll()
        }
    }

    /// Stops the pool: its connections close and its waiting leases fail. Idempotent.
    func shutDown() { stop.finish() }

    /// Stops the pool once it lends nothing: now, or when its last lease ends.
    func retire() {
        retired.store(true, ordering: .sequentiallyConsistent)
        if lent.load(ordering: .sequentiallyConsistent) == 0 { shutDown() }
    }

    /// Counts a lease out, runs `body`, and counts it back in (stopping a retired pool it left idle).
    func lending<T>(_ body: () async throws -> T) async rethrows -> T {
        inUse.record(lent.add(1, ordering: .sequentiallyConsistent).newValue)
        defer {
            let now = lent.subtract(1, ordering: .sequentiallyConsistent).newValue
            inUse.record(now)
            if now == 0 && retired.load(ordering: .sequentiallyConsistent) { shutDown() }
        }
        return try await body()
    }
}

/// The pool a database leases from, replaced by a fresh one when it stops making connections, and
/// who runs it.
///
/// Nothing runs when the database is made. The pools run in one loop, ``runAll(_:)``, in one of
/// two places:
/// - in the database's own `run()`, when a `ServiceGroup` runs it: structured, and ended by the
///   group's graceful shutdown or cancellation;
/// - otherwise, from the first operation on, in a task of the database's own that inherits nothing
///   from the operation's task (no cancellation, no service's graceful shutdown: a pool that ended
///   with some caller's service would fail every later lease). ``shutDown()`` ends it.
///
/// When a `ServiceGroup` starts a database that has already been used (to install a schema
/// before the group starts, say), its `run()` takes over: a fresh pool runs in it, and the pool
/// that ran on its own stops as soon as it lends nothing.
///
/// After an outage PostgresNIO's pool retries with a back-off that grows to a minute, and once its
/// circuit breaker has tripped it fails every lease at once until a retry succeeds. When a direct
/// connection shows the server is back but the pool still lends nothing and holds nothing, a new
/// pool takes its place, so the next operation succeeds on a fresh connection.
final class ConnectionPools: Sendable {
    /// Who runs the pools: the pools to run are announced on `pools`.
    private struct Runner {
        let pools: AsyncStream<ConnectionPool>.Continuation
        let isService: Bool
    }

    private struct State {
        var pool: ConnectionPool
        var runner: Runner?
        var isShutDown = false
    }

    private let state: Mutex<State>
    private let make: @Sendable () -> ConnectionPool

    init(_ make: @escaping @Sendable () -> ConnectionPool) {
        self.make = make
        state = Mutex(State(pool: make()))
    }

    /// The pool to lease from now, run from here on by the database's own task if nobody runs it yet.
    var pool: ConnectionPool {
        let (pool, started) = state.withLock { state -> (ConnectionPool, AsyncStream<ConnectionPool>?) in
            guard state.runner == nil, !state.isShutDown else { return (state.pool, nil) }
            let (pools, continuation) = AsyncStream<ConnectionPool>.makeStream()
            continuation.yield(state.pool)
            state.runner = Runner(pools: continuation, isService: false)
            return (state.pool, pools)
        }
        if let started {
            // Detached: the loop inherits no task-local value (no service's graceful shutdown) and
            // no cancellation from the operation that happens to come first.
            Task.detached { await Self.runAll(started) }
        }
        return pool
    }

    /// Runs the pools in the calling task (the database's `run()`) until ``shutDown()``, taking
    /// over from the database's own task if the database has been used already.
    func runAsService() async {
        let pools = state.withLock { state -> AsyncStream<ConnectionPool>? in
            guard !state.isShutDown, state.runner?.isService != true else { return nil }
            let (pools, continuation) = AsyncStream<ConnectionPool>.makeStream()
            if let own = state.runner {
                // Running on its own: a fresh pool runs here, the old one stops once idle.
                own.pools.finish()
                state.pool.retire()
                state.pool = make()
            }
            continuation.yield(state.pool)
            state.runner = Runner(pools: continuation, isService: true)
            return pools
        }
        guard let pools else { return }
        await Self.runAll(pools)
    }

    /// Runs each pool announced on `pools` until it stops; returns when the announcements end and
    /// every pool has stopped.
    private static func runAll(_ pools: AsyncStream<ConnectionPool>) async {
        await withDiscardingTaskGroup { group in
            for await pool in pools {
                group.addImmediateTask { await pool.run() }
            }
        }
    }

    /// Replaces `stale` by a new pool, if it is still the current one and lends no connection.
    /// Returns the pool to lease from now.
    func replace(_ stale: ConnectionPool) -> ConnectionPool {
        state.withLock { state in
            guard state.pool === stale, !state.isShutDown, stale.lent.load(ordering: .acquiring) == 0 else { return state.pool }
            stale.shutDown()
            state.pool = make()
            state.runner?.pools.yield(state.pool)
            return state.pool
        }
    }

    /// Stops the current pool and whoever runs it. Idempotent.
    func shutDown() {
        state.withLock { state in
            state.isShutDown = true
            state.pool.shutDown()
            state.runner?.pools.finish()
        }
    }
}
