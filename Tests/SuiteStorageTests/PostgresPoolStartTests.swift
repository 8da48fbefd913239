import Foundation
import Logging
import ServiceLifecycle
import SuiteCore
import SuitePostgres
import SuiteStorage
import SuiteTestSupport
import Testing

/// Who runs a `PostgresDatabase`'s connection pool: nobody when it is made; its first operation,
/// when no `ServiceGroup` runs it; or its `run()` in a group, before any operation. Seen from the
/// pool's own log: with `min=1` a running pool tries to open a connection at once, and against a
/// closed port it logs each failed attempt. No server is needed.
@Suite struct PostgresPoolStartTests {
    @Test func makingADatabaseStartsNothingAndItsFirstOperationStartsThePool() async throws {
        let log = LogRecorder()
        let url = try Self.closedPortURL()
        let idle = try PostgresDatabase(url: url, logger: log.logger("test.postgres"))
        try await Task.sleep(for: .milliseconds(500))
        #expect(log.lines.count { $0.contains("Connection creation failed") } == 0, "a pool ran although nothing used the database")
        try await idle.close()

        let used = try PostgresDatabase(url: url, logger: log.logger("test.postgres"))
        let error = await #expect(throws: StorageError.self) { try await used.read { tx in try tx.queryInt64("SELECT 1") } }
        #expect(error?.code == .unavailable)
        #expect(log.lines.count { $0.contains("Connection creation failed") } > 0, "the first operation did not start the pool")
        try await used.close()
    }

    @Test func aServiceGroupRunsThePoolBeforeAnyOperation() async throws {
        let log = LogRecorder()
        let database = try PostgresDatabase(url: try Self.closedPortURL(), logger: log.logger("test.postgres"))
        let group = ServiceGroup(configuration: .init(services: [.init(service: database)], logger: Logger(label: "test")))
        let attempted = try await withThrowingTaskGroup(of: Bool.self) { tasks in
            tasks.addTask { try await group.run(); return false }
            var attempted = false
            for _ in 0..<100 where !attempted {
                try await Task.sleep(for: .milliseconds(50))
                attempted = log.lines.count { $0.contains("Connection creation failed") } > 0
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return attempted
        }
        #expect(attempted, "run() did not start the pool")
        let error = await #expect(throws: StorageError.self) { try await database.read { tx in try tx.queryInt64("SELECT 1") } }
        #expect(error?.description == "the PostgreSQL database has been closed")
    }

    /// A URL whose port nothing listens on (bound for a moment to learn a free number, then released).
    static func closedPortURL() throws -> String {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw FaultSetupError(what: "bind", output: String(errno)) }
        let port = UInt16(bigEndian: address.sin_port)
        return "postgres://nobody@127.0.0.1:\(port)/none?sslmode=disable&min=1&connect_timeout=1"
    }
}
