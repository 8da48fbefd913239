import SuiteCore
import Foundation
import SuitePostgres
import SuiteStorage
import SuiteTestSupport
import Testing

/// The PostgreSQL driver's own options and its transaction batches (PostgreSQL only: SQLite has
/// neither a connection pool nor batches).
@Suite struct PostgresPoolTests {
    @Test func badPoolOptionsAreRefusedWithAClearMessage() throws {
        let base = "postgres://app@127.0.0.1:1/app?sslmode=disable"
        let cases: [(query: String, mentions: String)] = [
            ("pool=abc", "pool must be between 1 and 256"),
            ("pool=0", "pool must be between 1 and 256"),
            ("pool=4&min=5", "min must be between 0 and pool (4)"),
            ("min=-1", "min must be between 0 and pool (8)"),
            ("min=x", "min must be between 0 and pool (8)"),
            ("keepalive=-5", "keepalive must be between 0 (off) and 86400 seconds"),
            ("keepalive=soon", "keepalive must be between 0 (off) and 86400 seconds"),
        ]
        for (query, mentions) in cases {
            do {
                let database = try PostgresDatabase(url: base + "&" + query)
                Issue.record("\(query) was accepted")
                Task { try? await database.close() }
            } catch let error as StorageError {
                #expect(error.code == .invalidLocation, "\(query)")
                #expect(error.description.contains(mentions), "\(query): \(error.description)")
            }
        }
    }

    /// A pool whose connections are all opened up front and never pinged serves concurrent
    /// transactions like the default one.
    @Test func aPoolOfMinimumConnectionsWithoutKeepAliveServesConcurrentWrites() async throws {
        try await Engine.postgres.withDatabase(inMemory: false, postgresOptions: [("min", "4"), ("keepalive", "0")]) { database in
            try await database.write { tx in try tx.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)") }
            try await database.write { tx in try tx.execute("INSERT INTO counter (id, n) VALUES (1, 0)") }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        for _ in 0..<25 {
                            try await database.write { tx in try tx.execute("UPDATE counter SET n = n + 1 WHERE id = 1") }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await database.read { tx in try tx.queryInt64("SELECT n FROM counter WHERE id = 1") } == 200)
        }
    }

    /// With one connection, every transaction reuses it. One that runs no statement, one that throws
    /// before sending anything (a held-back statement is dropped, not sent) and one that throws after
    /// a statement reached the server (rolled back) all leave it outside any transaction: otherwise
    /// the next write's `COMMIT` would keep their rows too.
    @Test func transactionsThatSendNothingLeaveTheConnectionClean() async throws {
        struct Abandon: Error {}
        try await Engine.postgres.withDatabase(inMemory: false, postgresOptions: [("pool", "1")]) { database in
            try await database.write { tx in try tx.execute("CREATE TABLE notes (body TEXT NOT NULL)") }
            try await database.write { _ in }
            await #expect(throws: Abandon.self) { try await database.write { _ in throw Abandon() } }
            await #expect(throws: Abandon.self) {
                try await database.write { tx in
                    try tx.executeDeferred("INSERT INTO notes (body) VALUES ('held back')")
                    throw Abandon()
                }
            }
            await #expect(throws: Abandon.self) {
                try await database.write { tx in
                    try tx.execute("INSERT INTO notes (body) VALUES ('sent, then rolled back')")
                    throw Abandon()
                }
            }
            // Outside a transaction, so this write's BEGIN starts a fresh one and its COMMIT keeps the row.
            try await database.write { tx in try tx.execute("INSERT INTO notes (body) VALUES ('kept')") }
            let bodies = try await database.read { tx in try tx.query("SELECT body FROM notes ORDER BY body").map { try $0.string("body") } }
            #expect(bodies == ["kept"])
        }
    }
}
