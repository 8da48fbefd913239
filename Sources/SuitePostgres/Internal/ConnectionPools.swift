internal import Logging
internal import PostgresNIO
import Synchronization

/// One PostgresNIO pool and the task that runs it, with a count of the connections it has lent out.
final class ConnectionPool: Sendable {
    let client: PostgresClient
    private let runner: Task<Void, Never>
    /// Connections of this pool that a transaction holds now.
    let lent = Atomic<Int>(0)

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
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        // `immediate` enters run() before init returns, so no lease can come first.
        runner = Task.immediate { await client.run() }
    }

    /// Closes the pool: its connections close and its waiting leases fail.
    func shutDown() { runner.cancel() }
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

    init(_ make: @escaping @Sendable () -> ConnectionPool) {
        self.make = make
        current = Mutex(make())
    }

    var pool: ConnectionPool { current.withLock { $0 } }

    /// Replaces `stale` by a new pool, if it is still the current one and lends no connection.
    /// Returns the pool to lease from now.
    func replace(_ stale: ConnectionPool) -> ConnectionPool {
        current.withLock { pool in
            guard pool === stale, stale.lent.load(ordering: .acquiring) == 0 else { return pool }
            stale.shutDown()
            pool = make()
            return pool
        }
    }

    func shutDown() { current.withLock { $0.shutDown() } }
}
