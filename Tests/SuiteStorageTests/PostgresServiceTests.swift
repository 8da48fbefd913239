import Foundation
import Synchronization
import SuiteCore
import Logging
import ServiceLifecycle
import SuitePostgres
import SuiteStorage
import SuiteTestSupport
import Testing

/// `PostgresDatabase` as a ServiceLifecycle service: in a `ServiceGroup` it serves until graceful
/// shutdown, which closes it, and a database that nobody runs still works (PostgreSQL only). A whole test
/// run makes connections slowly on a small machine, so these allow 60 s for one, as the others do.
@Suite struct PostgresServiceTests {
    @Test func aServiceGroupRunsTheDatabaseUntilGracefulShutdownClosesIt() async throws {
        guard let url = Engine.postgresURL else { return }
        let database = try PostgresDatabase(url: url.withQueryItem("connect_timeout", "60"))
        let (signal, trigger) = AsyncStream<Void>.makeStream()
        let group = ServiceGroup(configuration: .init(services: [.init(service: database)], logger: Logger(label: "test")))
        let answers = try await withThrowingTaskGroup(of: Int64?.self) { tasks in
            tasks.addTask { try await group.run(); return nil }
            tasks.addTask {
                let answer = try await database.read { tx in try tx.queryInt64("SELECT 41 + 1") }
                trigger.finish()
                return answer
            }
            tasks.addTask {
                for await _ in signal {}
                await group.triggerGracefulShutdown()
                return nil
            }
            var answers: [Int64] = []
            for try await answer in tasks { if let answer { answers.append(answer) } }
            return answers
        }
        #expect(answers == [42])
        // The group returned only after the database closed: a later operation is refused.
        let error = await #expect(throws: StorageError.self) { try await database.read { tx in try tx.queryInt64("SELECT 1") } }
        #expect(error?.code == .unavailable)
        #expect(error?.description == "the PostgreSQL database has been closed")
    }

    @Test func aDatabaseNobodyRunsServesUntilItIsClosed() async throws {
        guard let url = Engine.postgresURL else { return }
        let database = try PostgresDatabase(url: url.withQueryItem("connect_timeout", "60"))
        let answer = try await database.read { tx in try tx.queryInt64("SELECT 6 * 7") }
        try await database.close()
        try await database.close()  // closing twice is harmless
        #expect(answer == 42)
        let error = await #expect(throws: StorageError.self) { try await database.write { tx in try tx.execute("SELECT 1") } }
        #expect(error?.code == .unavailable)
    }

    @Test func runningTheServiceAfterTheFirstOperationWaitsForShutdownAndCloses() async throws {
        guard let url = Engine.postgresURL else { return }
        let database = try PostgresDatabase(url: url.withQueryItem("connect_timeout", "60"))
        #expect(try await database.read { tx in try tx.queryInt64("SELECT 1") } == 1)
        let group = ServiceGroup(configuration: .init(services: [.init(service: database)], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // The pools already run in the database's own task; the service still serves until shutdown.
            #expect(try await database.read { tx in try tx.queryInt64("SELECT 2") } == 2)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let error = await #expect(throws: StorageError.self) { try await database.read { tx in try tx.queryInt64("SELECT 3") } }
        #expect(error?.code == .unavailable)
    }

    /// The first operation may come from another service's task (a sweeper's, say). The database
    /// does not belong to that service's group: after the group's graceful shutdown it still
    /// answers and still makes new connections.
    @Test func poolsStartedInsideAnotherServiceOutliveThatServicesGroup() async throws {
        guard let url = Engine.postgresURL else { return }
        let database = try PostgresDatabase(url: url.withQueryItem("connect_timeout", "60"))
        let worker = FirstQuery(database: database)
        let group = ServiceGroup(configuration: .init(services: [.init(service: worker)], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            await worker.answered.wait()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(worker.answer.withLock { $0 } == 7)
        // The group is gone; the database it first touched still answers, on its pools, and can
        // still make connections: four transactions at once each need one of their own.
        let answers = try await withThrowingTaskGroup(of: Int64?.self) { tasks in
            for value in 1...4 {
                tasks.addTask { try await database.write { tx in try tx.queryInt64("SELECT \(Int64(value)) FROM pg_sleep(0.2)") } }
            }
            return try await tasks.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.compactMap { $0 }.sorted() == [1, 2, 3, 4])
        try await database.close()
    }
}

/// A service whose run() issues a database's first query, then waits for graceful shutdown.
private final class FirstQuery: Service {
    let database: PostgresDatabase
    let answer = Mutex<Int64?>(nil)
    let answered = OneShot()

    init(database: PostgresDatabase) { self.database = database }

    func run() async throws {
        let value = try await database.read { tx in try tx.queryInt64("SELECT 7") }
        answer.withLock { $0 = value }
        answered.fire()
        try? await gracefulShutdown()
    }
}

/// Fires once; waiting after it fired returns at once.
private final class OneShot: Sendable {
    private let (stream, continuation) = AsyncStream<Void>.makeStream()
    func fire() { continuation.finish() }
    func wait() async { for await _ in stream {} }
}

/// A cancelled operation ends at once with `CancellationError` and leaves the pool as it was
/// (PostgreSQL only). Its failed lease must not count as a pool that refuses leases: the database
/// would replace a healthy pool again and again until the connect timeout.
@Suite struct PostgresCancellationTests {
    @Test func aCancelledOperationWaitingForAConnectionEndsAtOnceAndLeavesThePoolServing() async throws {
        guard let url = Engine.postgresURL else { return }
        let database = try PostgresDatabase(url: url.withQueryItem("pool", "1").withQueryItem("connect_timeout", "60"))
        #expect(try await database.read { tx in try tx.queryInt64("SELECT 1") } == 1)
        // The pool's one connection is held until the waiter has ended (blocking a transaction
        // thread of the driver, which is allowed there), so the waiter can only end by its
        // cancellation: answering would need that connection, and spinning until the timeout
        // would end in another error.
        let holding = OneShot(), release = DispatchSemaphore(value: 0)
        let holder = Task {
            try await database.write { tx in
                _ = try tx.queryInt64("SELECT 1")
                holding.fire()
                release.wait()
            }
        }
        await holding.wait()
        let waiter = Task { try await database.read { tx in try tx.queryInt64("SELECT 2") } }
        try await Task.sleep(for: .milliseconds(200))
        waiter.cancel()
        let outcome = await waiter.result
        release.signal()
        try await holder.value
        #expect(throws: CancellationError.self) { try outcome.get() }
        #expect(try await database.read { tx in try tx.queryInt64("SELECT 3") } == 3)
        try await database.close()
    }
}
