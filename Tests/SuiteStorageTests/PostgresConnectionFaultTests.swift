import SuiteCore
import Foundation
import SuitePostgres
import SuiteStorage
import SuiteTestSupport
import Testing

/// Opens `url`, runs one read, and returns the error it failed with and how long that took.
private func failure(of url: String) async throws -> (error: StorageError, seconds: Double) {
    let database = try PostgresDatabase(url: url)
    let started = ContinuousClock.now
    do {
        _ = try await database.read { tx in try tx.queryInt64("SELECT 1") }
        try await database.close()
        throw FaultSetupError(what: url, output: "the read succeeded")
    } catch let error as StorageError {
        let elapsed = ContinuousClock.now - started
        try await database.close()
        return (error, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}

/// A TCP port that accepts connections and never answers: a server that hangs.
private final class SilentServer: Sendable {
    let port: Int
    private let socket: Int32

    init() throws {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) }
        }
        guard bound == 0, listen(socket, 16) == 0 else { throw FaultSetupError(what: "listen", output: String(errno)) }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.socket = socket
    }

    deinit { close(socket) }
}

/// A closed port: bound for a moment to learn a free number, then released.
private func closedPort() throws -> Int {
    let server = try SilentServer()
    return server.port
}

/// Timed: run after the rest of the tests (scripts/test.sh runs suites named …FaultTests alone), so
/// that the bounds measure the driver rather than a machine saturated by a hundred other tests.
@Suite struct PostgresConnectionFaultTests {
    @Test func eachConnectionFailureIsFastTypedAndOneLineThatNamesTheServer() async throws {
        let password = "s3cret-never-shown"
        let closed = try closedPort()
        let cases: [(name: String, url: String, code: StorageError.Code, mentions: String)] = [
            ("closed port", try Engine.postgresURL(port: closed), .unavailable, "connection refused"),
            ("unresolvable host", try Engine.postgresURL(host: "no-such-host.invalid"), .unavailable, "cannot resolve the host \"no-such-host.invalid\""),
            ("unknown role", try Engine.postgresURL(user: "nobody_here", password: password), .authentication, "refused user \"nobody_here\""),
            ("unknown database", try Engine.postgresURL(database: "no_such_db"), .invalidLocation, "database \"no_such_db\" does not exist"),
            ("TLS required, refused", try Engine.postgresURL(options: [("sslmode", "require")]), .unavailable, "does not accept TLS"),
        ]
        for (name, url, code, mentions) in cases {
            let (error, seconds) = try await failure(of: url)
            let line = error.description
            #expect(error.code == code, "\(name): \(error.debugDescription)")
            #expect(line.contains(mentions), "\(name): \(line)")
            #expect(seconds < 10, "\(name) took \(seconds) s")
            #expect(!line.contains("\n") && !line.contains(password), "\(name): \(line)")
            #expect(!line.contains("Error(") && !line.contains("PSQL") && !line.contains("Pool"), "\(name): \(line)")
            let host = try #require(URLComponents(string: url)?.host)
            #expect(line.contains(host), "\(name): \(line)")
        }
    }

    @Test func aWrongPasswordIsAnAuthenticationErrorThatNeverShowsThePassword() async throws {
        guard let right = ProcessInfo.processInfo.environment["CLIENTSUITE_TEST_POSTGRES_PASSWORD_URL"] else {
            throw FaultSetupError(what: "CLIENTSUITE_TEST_POSTGRES_PASSWORD_URL is not set", output: "run scripts/test.sh")
        }
        // The right password works: the role really checks passwords.
        let database = try PostgresDatabase(url: right)
        #expect(try await database.read { tx in try tx.queryInt64("SELECT 1") } == 1)
        try await database.close()
        var components = try #require(URLComponents(string: right))
        components.password = "wrong-horse-battery"
        let (error, seconds) = try await failure(of: try #require(components.string))
        #expect(error.code == .authentication)
        #expect(error.description.contains("refused the password for user \"clientsuite_pw\""), "\(error)")
        #expect(!error.description.contains("wrong-horse-battery") && !error.description.contains("right-password"))
        #expect(seconds < 10)
    }

    @Test func aServerThatNeverAnswersTimesOutAfterConnectTimeout() async throws {
        let silent = try SilentServer()
        let (error, seconds) = try await failure(of: try Engine.postgresURL(port: silent.port, options: [("connect_timeout", "1")]))
        #expect(error.code == .unavailable)
        #expect(error.description.contains("127.0.0.1:\(silent.port)") && error.description.contains("within 1 s"), "\(error)")
        #expect(seconds >= 0.9 && seconds < 10, "took \(seconds) s")
        let bad = #expect(throws: StorageError.self) { try PostgresDatabase(url: try Engine.postgresURL(options: [("connect_timeout", "0")])) }
        #expect(bad?.description.contains("connect_timeout must be more than 0") == true)
        let typo = #expect(throws: StorageError.self) { try PostgresDatabase(url: try Engine.postgresURL(options: [("connect_timout", "1")])) }
        #expect(typo?.description.contains("unknown PostgreSQL URL option \"connect_timout\"") == true)
    }

    @Test func aPoolWhoseConnectionsAreAllHeldFailsAsBusyAfterConnectTimeout() async throws {
        try await Engine.postgres.withDatabase(inMemory: false, postgresOptions: [("pool", "1"), ("connect_timeout", "0.5")]) { database in
            let held = await HeldTransaction(on: database, writing: false, "SELECT 1")
            let error = await #expect(throws: StorageError.self) {
                try await database.read { tx in try tx.queryInt64("SELECT 2") }
            }
            #expect(error?.code == .busy)
            #expect(error?.description.contains("all 1 in use") == true, "\(String(describing: error))")
            try await held.finish()
            #expect(try await database.read { tx in try tx.queryInt64("SELECT 3") } == 3)
        }
    }

    @Test func theDurabilityInForceIsReadFromTheServer() async throws {
        try await Engine.postgres.withDatabase { database in
            let durability = try await database.commitDurability()
            #expect(durability.setting.hasPrefix("synchronous_commit="))
            #expect(durability.setting.contains("fsync="))
        }
    }
}
