import Foundation
import Logging
import PostgresNIO

/// Diagnostics 9i and 9j: the *driver's floor*. The smallest debit there is — a conditional
/// `UPDATE … RETURNING` on a wallet row plus one ledger `INSERT`, in `BEGIN … COMMIT`, on tables
/// with no secondary index — run by `clients` concurrent clients on distinct wallets, once from
/// pgbench (a C client, 9j) and once through PostgresNIO in its leanest use (9i): each task owns
/// one `PostgresConnection` (no pool, so none of the pool's timers; no suite code, no thread pool)
/// and runs `connection.withTransaction { try await connection.query(…) }`. This is the "debit
/// transaction" row of ARCHITECTURE.md's storage table. A provision does strictly more than this
/// debit, through the same driver, so 9i bounds what figure 9 can reach.
struct DriverFloorRuns {
    private let server: PostgresServer
    private let database: String
    private let directory: URL
    private let configuration: PostgresConnection.Configuration
    private let clients: Int

    /// Creates the two tables in the (fresh) `database` and one wallet per client.
    init(server: PostgresServer, database: String, clients: Int, directory: URL) async throws {
        self.server = server
        self.database = database
        self.directory = directory
        self.clients = clients
        _ = try await server.psqlCommand("""
            CREATE TABLE floor_wallet (id INTEGER PRIMARY KEY, balance BIGINT NOT NULL);
            CREATE TABLE floor_ledger (id BIGSERIAL PRIMARY KEY, wallet_id INTEGER NOT NULL, amount BIGINT NOT NULL,
                                       created_at BIGINT NOT NULL);
            INSERT INTO floor_wallet (id, balance) SELECT n, 1000000000000 FROM generate_series(1, \(clients)) AS n;
            """, database: database)
        let url = server.url
        configuration = PostgresConnection.Configuration(
            host: url.host ?? "127.0.0.1", port: url.port ?? 5432, username: url.user ?? "postgres",
            password: url.password, database: database, tls: .disable)
    }

    /// pgbench `-M simple` running the debit as a custom script (9j).
    func pgbench(threads: Int, seconds: Int) async throws -> PgbenchResult {
        let script = directory.appendingPathComponent("floor-debit.sql")
        try """
            \\set w :client_id + 1
            BEGIN;
            UPDATE floor_wallet SET balance = balance - 1 WHERE id = :w AND balance >= 1 RETURNING balance;
            INSERT INTO floor_ledger (wallet_id, amount, created_at) VALUES (:w, -1, 0);
            END;

            """.write(to: script, atomically: true, encoding: .utf8)
        let output = try await server.runPgbench(
            ["-n", "-M", "simple", "-c", String(clients), "-j", String(threads), "-T", String(seconds), "-f", script.path],
            database: database, label: "floor debit", timeLimit: .seconds(seconds + 120))
        return try PgbenchResult(output: output)
    }

    /// `clients` tasks, each running the debit on its own connection for `seconds` (9i). Connecting,
    /// and one untimed debit per connection, happen before the clock starts.
    func driver(seconds: Double) async throws -> TaskRate {
        let configuration = configuration
        let logger = Logger(label: "clientsuite.benchmarks.floor")
        @Sendable func debit(_ wallet: Int, on connection: PostgresConnection) async throws {
            try await connection.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    "UPDATE floor_wallet SET balance = balance - 1 WHERE id = \(wallet) AND balance >= 1 RETURNING balance",
                    logger: logger)
                var changed = 0
                for try await _ in rows { changed += 1 }
                guard changed == 1 else { throw BenchmarkError(message: "the floor debit found no wallet \(wallet)") }
                try await connection.query(
                    "INSERT INTO floor_ledger (wallet_id, amount, created_at) VALUES (\(wallet), -1, 0)", logger: logger)
            }
        }
        var connections: [PostgresConnection] = []
        for wallet in 1...clients {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: wallet, logger: logger)
            connections.append(connection)
            try await debit(wallet, on: connection)
        }
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + .milliseconds(Int64(seconds * 1000))
        let opened = connections
        let total: Int
        do {
            total = try await withThrowingTaskGroup(of: Int.self) { group in
                for (index, connection) in opened.enumerated() {
                    group.addTask {
                        var done = 0
                        while clock.now < deadline {
                            try await debit(index + 1, on: connection)
                            done += 1
                        }
                        return done
                    }
                }
                return try await group.reduce(0, +)
            }
        } catch {
            for connection in opened { try? await connection.close() }
            throw error
        }
        let elapsed = (clock.now - start).seconds
        for connection in opened { try await connection.close() }
        return TaskRate(transactions: total, seconds: elapsed)
    }
}
