import Foundation
import SuiteCore
import Logging
import ServiceLifecycle
import SuitePostgres
import SuiteStorage
import SuiteTestSupport
import Testing

/// `PostgresDatabase` as a ServiceLifecycle service: a `ServiceGroup` runs its pools, graceful
/// shutdown closes it, and a database that nobody runs still works (PostgreSQL only). A whole test
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

    @Test func aDatabaseNobodyRunsStartsItsPoolsWithTheFirstOperation() async throws {
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
}
