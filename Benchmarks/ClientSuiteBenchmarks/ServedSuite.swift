import Ally
import Client
import Forge
import Foundation
import Hummingbird
import Logging
import Suite
import SuiteCore
import SuiteHTTP
import SuitePostgres
import SuiteSQLite
import SuiteStorage
import Wave

/// The HTTP figures' set-up on one engine: a suite with one product, one reseller with credits for
/// every request, one of its clients and one active licence, served in this process by
/// ``SuiteHTTP/SuiteAPI`` exactly as `dock serve` builds it (`SuiteAPI.application(host:port:)`,
/// request log at info), beside the floor: a bare Hummingbird route returning a constant, in an
/// `Application` with the same settings (host, server name, logger, the event loops of the process).
///
/// In process rather than a spawned `dock serve`: the floor and the figure then share one process,
/// one set of event loops and one binary, and the in-process provision floor calls the very suite
/// the server serves. What `dock serve` adds and this leaves out: the Prometheus metrics middleware
/// (the benchmark target does not link Prometheus).
struct ServedSuite {
    let suite: ClientSuite
    let api: RunningServer
    let bare: RunningServer
    /// `POST /v1/licences/verify` with a verify key and a real active licence's key.
    let verify: Wrk.Post
    /// `POST /v1/workflows/provision` with the reseller's own key (wrk adds an Idempotency-Key per request).
    let provision: Wrk.Post
    let reseller: Refid
    let client: Refid
    let product: String
    /// The active licence's key that the verify requests carry.
    let licenceKey: String
    private let requestLog: RequestLogFile

    static let host = "127.0.0.1"
    static let verifyPath = "/v1/licences/verify"
    static let provisionPath = "/v1/workflows/provision"

    /// Opens `location` (a SQLite file or a `postgres://` URL) with the suite's defaults (SQLite:
    /// synchronous=FULL), sets up the data, and starts both servers on free loopback ports. The
    /// request log goes to `logPath`.
    static func start(location: String, logPath: String) async throws -> ServedSuite {
        let suite = try await ClientSuite.open(location, drivers: [.sqlite, .postgres])
        do {
            return try await start(suite, logPath: logPath)
        } catch {
            try? await suite.close()
            throw error
        }
    }

    private static func start(_ suite: ClientSuite, logPath: String) async throws -> ServedSuite {
        try await HTTPTables.install(on: suite.database)
        let product = "bench-http"
        _ = try await suite.products.create(name: "Benchmark licence", slug: product, price: 1, currency: "USD", licenceDays: 365)
        let reseller = try await suite.allies.make().user("bench-http").company("Benchmark Reseller").create().refid
        try await suite.allies.addCredits(reseller, 1_000_000_000_000, actor: "benchmark")
        let client = try await suite.clients.make().name("Benchmark Client").email("bench@http.example").reseller(reseller).create().refid
        let first = try await suite.workflows.provision(reseller: reseller, client: client, product: product, idempotencyKey: "bench-setup")
        guard let licenceKey = first.licences.first?.key?.rawValue,
              try await suite.licences.verify(licenceKey).code == .valid
        else { throw BenchmarkError(message: "the benchmark's licence does not verify as valid") }

        let requestLog = try RequestLogFile(path: logPath)
        var logger = Logger(label: "clientsuite.http") { label in LineLogHandler(label: label, descriptor: requestLog.descriptor) }
        logger.logLevel = .info  // as `dock serve`: one line per request
        let api = SuiteAPI(suite: suite, logger: logger)
        let verifyKey = try await api.keys.create(.verify, name: "benchmark verify").secret
        let resellerKey = try await api.keys.create(.reseller(reseller), name: "benchmark reseller").secret

        let apiServer = try await RunningServer.start { port, running in
            try api.application(host: host, port: port) { _ in await running() }
        }
        let bareServer: RunningServer
        do {
            bareServer = try await RunningServer.start { port, running in
                let router = Router()
                // The verify route's path and method, so that wrk sends the very same request bytes.
                router.post(RouterPath(verifyPath)) { _, _ in "{\"code\":\"valid\"}" }
                return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "ClientSuite"),
                                   onServerRunning: { _ in await running() }, logger: logger)
            }
        } catch {
            await apiServer.stop()
            throw error
        }
        return ServedSuite(
            suite: suite, api: apiServer, bare: bareServer,
            verify: Wrk.Post(body: "{\"key\": \"\(licenceKey)\"}",
                             headers: [("Content-Type", "application/json"), ("Authorization", "Bearer \(verifyKey)")]),
            provision: Wrk.Post(body: "{\"reseller\": \"\(reseller.rawValue)\", \"clients\": [\"\(client.rawValue)\"], \"product\": \"\(product)\"}",
                                headers: [("Content-Type", "application/json"), ("Authorization", "Bearer \(resellerKey)")]),
            reseller: reseller, client: client, product: product, licenceKey: licenceKey, requestLog: requestLog)
    }

    func url(_ server: RunningServer, _ path: String) -> String { "http://\(Self.host):\(server.port)\(path)" }

    /// `PRAGMA synchronous` on the suite's write connection (2 = FULL), or nil on PostgreSQL.
    func sqliteSynchronous() async throws -> Int? {
        guard suite.database.dialect == .sqlite else { return nil }
        return try await suite.database.write { tx in try tx.queryInt64("PRAGMA synchronous").map(Int.init) }
    }

    /// `tasks` tasks calling `suite.workflows.provision(…)` directly, each as fast as it can for
    /// `seconds`, every call with a fresh idempotency key (`<run>-<task>-<n>`); the rate and each
    /// call's latency.
    func provisionInProcess(tasks: Int, seconds: Double, run: String) async throws -> InProcessRate {
        let workflows = try suite.workflows
        let (reseller, client, product) = (reseller, client, product)
        return try await InProcessRate.measure(tasks: tasks, seconds: seconds) { task, call in
            _ = try await workflows.provision(reseller: reseller, client: client, product: product,
                                              idempotencyKey: "\(run)-\(task)-\(call)")
        }
    }

    /// `tasks` tasks calling `suite.licences.verify(…)` directly with the key the verify requests
    /// carry, each as fast as it can for `seconds`: the in-process floor for 14 (the same work
    /// as the route's, less HTTP, the API key and JSON).
    func verifyInProcess(tasks: Int, seconds: Double) async throws -> InProcessRate {
        let licences = try suite.licences
        let key = licenceKey
        return try await InProcessRate.measure(tasks: tasks, seconds: seconds) { _, _ in
            guard try await licences.verify(key).isValid else { throw BenchmarkError(message: "the benchmark's licence stopped verifying") }
        }
    }

    /// Stops both servers and closes the suite and the request log.
    func stop() async throws {
        await api.stop()
        await bare.stop()
        requestLog.close()
        try await suite.close()
    }
}

/// Calls made by concurrent tasks: each one's latency (seconds) and the wall time they took.
struct InProcessRate {
    var latencies: [Double]
    var seconds: Double
    var rate: Double { Double(latencies.count) / seconds }

    /// `tasks` tasks each calling `call(task, n)` (n counts that task's calls) as fast as it can
    /// for `seconds`; every call's latency and the wall time.
    static func measure(tasks: Int, seconds: Double,
                        _ call: @escaping @Sendable (_ task: Int, _ call: Int) async throws -> Void) async throws -> InProcessRate {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + .milliseconds(Int64(seconds * 1000))
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var latencies: [Double] = []
                    while clock.now < deadline {
                        let began = clock.now
                        try await call(task, latencies.count)
                        latencies.append((clock.now - began).seconds)
                    }
                    return latencies
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        return InProcessRate(latencies: latencies, seconds: (clock.now - start).seconds)
    }

    /// The `fraction` percentile (0.5, 0.99) of the latencies, nearest rank.
    func percentile(_ fraction: Double) -> Double {
        let sorted = latencies.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
    }
}

/// A Hummingbird application running in this process on a free loopback port until ``stop()``.
struct RunningServer {
    let port: Int
    private let task: Task<Void, any Error>

    /// Builds the application with `make(port, running)` (it must call `running` once it
    /// listens), runs it, and returns once it listens.
    static func start<App: ApplicationProtocol>(
        _ make: (Int, @escaping @Sendable () async -> Void) throws -> App
    ) async throws -> RunningServer {
        let port = try freeLoopbackPort()
        let (listening, signal) = AsyncStream.makeStream(of: Void.self)
        let app = try make(port) { signal.yield() }
        // `run()` is the application's own ServiceGroup (no signal handlers); cancelling its task stops it.
        let task = Task {
            defer { signal.finish() }
            try await app.run()
        }
        var events = listening.makeAsyncIterator()
        guard await events.next() != nil else {
            try await task.value
            throw BenchmarkError(message: "the server on port \(port) stopped before it listened")
        }
        return RunningServer(port: port, task: task)
    }

    /// Stops the server; gives up waiting after 10 s, so that a connection left open cannot hang the run.
    func stop() async {
        task.cancel()
        let task = task
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = await task.result }
            group.addTask { try? await Task.sleep(for: .seconds(10)) }
            await group.next()
            group.cancelAll()
        }
    }

    /// A loopback port nothing listens on now: the kernel's pick for port 0, released at once.
    private static func freeLoopbackPort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw BenchmarkError(message: "cannot open a socket to pick a free port") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr(ServedSuite.host)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw BenchmarkError(message: "cannot pick a free port on \(ServedSuite.host)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// The request log's destination: a file that `LineLogHandler` writes with one `write` per line,
/// as it writes `dock serve`'s standard error.
struct RequestLogFile: Sendable {
    let descriptor: Int32

    init(path: String) throws {
        descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard descriptor >= 0 else { throw BenchmarkError(message: "cannot open the request log \(path) (errno \(errno))") }
    }

    func close() { _ = Foundation.close(descriptor) }
}
