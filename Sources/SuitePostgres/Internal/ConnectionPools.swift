internal import Logging
internal import PostgresNIO
import Synchronization

/// One PostgresNIO pool, with a count of the connections it has lent out. It makes no connection
/// until ``run()`` runs, in the task that runs the database (see ``PoolRunner``).
final class ConnectionPool: Sendable {
    let client: PostgresClient
    /// Connections of this pool that a transaction holds now.
    let lent = Atomic<Int>(0)
    private let stop: AsyncStream<Void>
    private let stopping: AsyncStream<Void>.Continuation
    /// Opens once `client.run()` has started (or the pool has stopped): a lease waits for it, so it
    /// never reaches a client that is not running.
    let running = Gate()

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
        (stop, stopping) = AsyncStream.makeStream()
    }

    /// Runs the pool until ``shutDown()`` or until the calling task is cancelled; its connections
    /// then close and its waiting leases fail.
    func run() async {
        await withDiscardingTaskGroup { group in
            // An immediate task is inside run() when this call returns.
            group.addImmediateTask { await self.client.run() }
            running.open()
            for await _ in stop {}  // ends at shutDown(), or when this task is cancelled
            group.cancelAll()
        }
    }

    /// Stops the pool (see ``run()``).
    func shutDown() {
        stopping.finish()
        running.open()
    }
}

/// Runs every pool the database makes, each for as long as it is in use: in the task that runs the
/// database as a service (``PostgresDatabase/run()``), or, when nothing does, in tasks of the
/// database's own that the first operation starts. Whichever comes first runs them.
///
/// Those tasks are immediate: the pool is entered on the thread of the operation that needs it,
/// before that operation leases. A task that waited for a free thread of the cooperative pool
/// could wait forever when a caller blocks those threads (a semaphore in a test, two cores), and
/// the operation waiting for that pool with them.
final class PoolRunner: Sendable {
    private enum State {
        /// Nothing runs the pools yet; these wait.
        case idle([ConnectionPool])
        /// ``runHere()`` runs them; new pools go through the stream it reads.
        case service(AsyncStream<ConnectionPool>.Continuation)
        /// Each pool runs in an unstructured task of its own.
        case background
        /// No pool runs any more.
        case finished
    }

    private let state = Mutex<State>(.idle([]))
    /// Whether the state has left `idle`: every transaction asks, so it is answered without the lock.
    private let started = Atomic<Bool>(false)

    /// Has `pool` run by whatever runs the pools.
    func submit(_ pool: ConnectionPool) {
        let start = state.withLock { state -> Bool in
            switch state {
            case .idle(let waiting):
                state = .idle(waiting + [pool])
                return false
            case .service(let continuation):
                continuation.yield(pool)
                return false
            case .background: return true
            case .finished:
                pool.shutDown()
                return false
            }
        }
        if start { Task.immediate { await pool.run() } }
    }

    /// Runs the pools in the calling task until ``finish()`` or cancellation. Returns false at once
    /// if they already run elsewhere.
    func runHere() async -> Bool {
        let (stream, continuation) = AsyncStream<ConnectionPool>.makeStream()
        let waiting = state.withLock { state -> [ConnectionPool]? in
            guard case .idle(let waiting) = state else { return nil }
            state = .service(continuation)
            started.store(true, ordering: .releasing)
            return waiting
        }
        guard let waiting else { return false }
        await withDiscardingTaskGroup { group in
            for pool in waiting { group.addImmediateTask { await pool.run() } }
            for await pool in stream { group.addImmediateTask { await pool.run() } }
        }
        return true
    }

    /// Runs the pools in tasks of their own, unless they already run.
    func runInBackgroundIfIdle() {
        guard !started.load(ordering: .acquiring) else { return }
        let waiting = state.withLock { state -> [ConnectionPool] in
            guard case .idle(let waiting) = state else { return [] }
            state = .background
            started.store(true, ordering: .releasing)
            return waiting
        }
        for pool in waiting { Task.immediate { await pool.run() } }
    }

    /// No pool runs from now on: a running ``runHere()`` returns once its pools have stopped.
    func finish() {
        let continuation = state.withLock { state -> AsyncStream<ConnectionPool>.Continuation? in
            defer {
                state = .finished
                started.store(true, ordering: .releasing)
            }
            if case .service(let continuation) = state { return continuation }
            return nil
        }
        continuation?.finish()
    }
}

/// The pool a database leases from, replaced by a fresh one when it stops making connections.
///
/// After an outage PostgresNIO's pool retries with a back-off that grows to a minute, and once its
/// circuit breaker has tripped it fails every lease at once until a retry succeeds. When a direct
/// connection shows the server is back but the pool still lends nothing and holds nothing, a new
/// pool takes its place, so the next operation succeeds on a fresh connection.
final class ConnectionPools: Sendable {
    private let current: Mutex<ConnectionPool>
    private let make: @Sendable () -> ConnectionPool
    let runner = PoolRunner()

    init(_ make: @escaping @Sendable () -> ConnectionPool) {
        self.make = make
        let first = make()
        current = Mutex(first)
        runner.submit(first)
    }

    /// The pool to lease from; the pools start in tasks of their own if nothing runs them yet.
    var pool: ConnectionPool {
        runner.runInBackgroundIfIdle()
        return current.withLock { $0 }
    }

    /// Replaces `stale` by a new pool, if it is still the current one and lends no connection.
    /// Returns the pool to lease from now.
    func replace(_ stale: ConnectionPool) -> ConnectionPool {
        let (pool, isNew) = current.withLock { pool -> (ConnectionPool, Bool) in
            guard pool === stale, stale.lent.load(ordering: .acquiring) == 0 else { return (pool, false) }
            stale.shutDown()
            pool = make()
            return (pool, true)
        }
        if isNew { runner.submit(pool) }  // outside the lock: an immediate task runs the pool here
        return pool
    }

    /// Stops the current pool and submits no other: the runner returns.
    func shutDown() {
        current.withLock { $0.shutDown() }
        runner.finish()
    }
}

/// A one-way gate: closed until ``open()``, then open for good. Waiting on an open gate costs an
/// atomic load.
final class Gate: Sendable {
    private let isOpen = Atomic<Bool>(false)
    private let waiters = Mutex<[CheckedContinuation<Void, Never>]?>([])

    /// Opens the gate and lets every waiter through.
    func open() {
        let waiting = waiters.withLock { waiters -> [CheckedContinuation<Void, Never>] in
            defer { waiters = nil }
            return waiters ?? []
        }
        isOpen.store(true, ordering: .releasing)
        for waiter in waiting { waiter.resume() }
    }

    /// Returns once the gate is open.
    func wait() async {
        guard !isOpen.load(ordering: .acquiring) else { return }
        await withCheckedContinuation { continuation in
            let parked = waiters.withLock { waiters -> Bool in
                guard waiters != nil else { return false }
                waiters!.append(continuation)
                return true
            }
            if !parked { continuation.resume() }
        }
    }
}
