import SuiteCore
import Foundation
import SuitePostgres
import SuiteStorage
import SuiteTestSupport
import Synchronization
import Testing

/// What a caller learns when a connection breaks inside a transaction (PostgreSQL only: SQLite has
/// no connection to lose).
@Suite struct PostgresRecoveryFaultTests {
    /// COMMIT goes out, the server starts committing (a deferred trigger makes that take a while),
    /// and the backend is terminated before it answers: the caller hears that the outcome is
    /// unknown, not that the write failed; the same database keeps working.
    @Test func aConnectionLostAfterCommitWasSentIsReportedAsCommitOutcomeUnknown() async throws {
        try await Engine.postgres.withDatabase(inMemory: false) { database in
            try await database.write { tx in
                try tx.execute("CREATE TABLE slow_commit (id INTEGER PRIMARY KEY)")
                try tx.execute("""
                    CREATE FUNCTION slow_commit_wait() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN PERFORM pg_sleep(3); RETURN NULL; END $$
                    """)
                try tx.execute("""
                    CREATE CONSTRAINT TRIGGER slow_commit_wait AFTER INSERT ON slow_commit
                    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit_wait()
                    """)
            }
            let admin = try PostgresDatabase(url: try #require(Engine.postgresURL).withQueryItem("pool", "1"))
            let terminated = Atomic<Int>(0)
            let killer = Task {
                for _ in 0..<200 where terminated.load(ordering: .relaxed) == 0 {
                    let count = try await admin.write { tx in
                        try tx.queryInt64("""
                            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                            WHERE query = 'COMMIT' AND state = 'active' AND wait_event = 'PgSleep'
                            """) ?? 0
                    }
                    terminated.store(Int(count), ordering: .relaxed)
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            let error = await #expect(throws: StorageError.self) {
                try await database.write { tx in try tx.execute("INSERT INTO slow_commit (id) VALUES (1)") }
            }
            try await killer.value
            try await admin.close()
            #expect(terminated.load(ordering: .relaxed) == 1)
            #expect(error?.code == .commitOutcomeUnknown)
            #expect(error?.description.contains("may or may not have been applied") == true, "\(String(describing: error))")
            #expect(error?.description.contains("same idempotency key") == true)
            // The next operation runs on a fresh connection; the terminated COMMIT did not commit.
            #expect(try await database.read { tx in try tx.queryInt64("SELECT count(*) FROM slow_commit") } == 0)
        }
    }

    /// A connection that dies before COMMIT took nothing with it: the transaction runs again, once,
    /// on a fresh connection, and the caller sees one success.
    @Test func aTransactionWhoseConnectionDiesBeforeCommitRunsAgainOnAFreshConnection() async throws {
        try await Engine.postgres.withDatabase(inMemory: false) { database in
            try await database.write { tx in try tx.execute("CREATE TABLE once (id INTEGER PRIMARY KEY, attempt BIGINT NOT NULL)") }
            let runs = Atomic<Int>(0)
            let backends = try await database.write { tx -> [Int64] in
                let run = runs.add(1, ordering: .relaxed).newValue
                let pid = try tx.queryInt64("SELECT pg_backend_pid()") ?? 0
                try tx.execute("INSERT INTO once (id, attempt) VALUES (1, \(run))")
                if run == 1 {
                    // This backend ends itself: the connection is gone mid-transaction.
                    _ = try tx.queryInt64("SELECT CASE WHEN pg_terminate_backend(pg_backend_pid()) THEN 1 ELSE 0 END")
                }
                return [pid]
            }
            #expect(runs.load(ordering: .relaxed) == 2)
            #expect(backends.count == 1)
            let rows = try await database.read { tx in try tx.query("SELECT attempt FROM once") }
            #expect(try rows.map { try $0.int64("attempt") } == [2])
            // A second loss in a row is reported, not retried forever.
            let error = await #expect(throws: StorageError.self) {
                try await database.write { tx in
                    _ = try tx.queryInt64("SELECT CASE WHEN pg_terminate_backend(pg_backend_pid()) THEN 1 ELSE 0 END")
                }
            }
            #expect(error?.code == .unavailable)
            #expect(error?.description.contains("lost the connection to PostgreSQL at") == true, "\(String(describing: error))")
            #expect(error?.description.contains("nothing was committed") == true)
        }
    }
}
