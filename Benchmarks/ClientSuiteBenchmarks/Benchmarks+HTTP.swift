import Foundation

extension Benchmarks {
    // MARK: 13–16. The HTTP API

    /// wrk against the suite served in this process (``ServedSuite``), each figure against a floor
    /// measured in the same run: `POST /v1/licences/verify` against a bare Hummingbird route in an
    /// application with the same settings (13 → 14), and `POST /v1/workflows/provision` against
    /// `workflows.provision(…)` called directly on the same suite by as many tasks as wrk has
    /// connections (15 → 16). On SQLite (a file, synchronous=FULL, the default) and, with a server,
    /// on PostgreSQL (rows 13p–16p).
    mutating func measureHTTP() async throws {
        let (threads, connections, seconds) = (2, 16, options.httpSeconds)
        let warmup = max(1, seconds / 5)
        guard let wrk = Wrk(threads: threads, connections: connections, directory: workspace.url) else {
            print("\nHTTP: SKIPPED — error: wrk not found on the PATH (install Debian's wrk package; scripts/benchmark.sh does)")
            for engine in HTTPEngine.allCases { skipHTTP(engine, connections: connections, "wrk missing") }
            return
        }
        print("\nHTTP: wrk \(threads) threads, \(connections) keep-alive connections, \(seconds) s per run, each after a "
            + "\(warmup) s untimed run; the API served in this process as `dock serve` serves it (request log at info, to a file); "
            + "the in-process provision floor runs \(connections) tasks for \(seconds) s")
        try await measureHTTP(.sqlite, location: workspace.file("http.sqlite"), durability: nil, wrk: wrk, seconds: seconds, warmup: warmup)

        guard let url = options.postgresURL else {
            print("  PostgreSQL: SKIPPED — no server: pass --postgres-url or set CLIENTSUITE_BENCH_POSTGRES_URL (scripts/benchmark.sh does)")
            return skipHTTP(.postgres, connections: connections, "no server")
        }
        var server: PostgresServer
        do { server = try PostgresServer(url: url) } catch {
            print("  PostgreSQL: SKIPPED — \(error)")
            return skipHTTP(.postgres, connections: connections, "unusable")
        }
        do {
            let database = try await server.createDatabase("http")
            let durability = "synchronous_commit=\(try await server.setting("synchronous_commit"))"
            try await measureHTTP(.postgres, location: server.suiteURL(database: database, pool: server.requestedPool),
                                  durability: durability, wrk: wrk, seconds: seconds, warmup: warmup)
        } catch {
            await server.dropDatabases()
            throw error
        }
        await server.dropDatabases()
    }

    /// `durability`: the server's setting on PostgreSQL; nil on SQLite, where it is read back from the suite's connection.
    private mutating func measureHTTP(_ engine: HTTPEngine, location: String, durability: String?, wrk: Wrk, seconds: Int,
                                      warmup: Int) async throws {
        let served = try await ServedSuite.start(location: location, logPath: workspace.file("http-\(engine.rawValue).log"))
        do {
            try await measureHTTP(engine, on: served, durability: durability, wrk: wrk, seconds: seconds, warmup: warmup)
        } catch {
            try? await served.stop()
            throw error
        }
        try await served.stop()
    }

    private mutating func measureHTTP(_ engine: HTTPEngine, on served: ServedSuite, durability: String?, wrk: Wrk, seconds: Int,
                                      warmup: Int) async throws {
        let durability = try await served.sqliteSynchronous().map { "synchronous=\($0), 2 = FULL" } ?? durability ?? "?"
        print("  \(engine.name) (\(durability)); API on port \(served.api.port), bare route on port \(served.bare.port) (load \(loadAverage() ?? "unknown"))")
        let suffix = engine.suffix

        let bare = try await timedWrk("bare route", wrk, served.verify, url: served.url(served.bare, ServedSuite.verifyPath),
                                      seconds: seconds, warmup: warmup)
        let verify = try await timedWrk("verify", wrk, served.verify, url: served.url(served.api, ServedSuite.verifyPath),
                                        seconds: seconds, warmup: warmup)

        let verifyFloor = try await served.verifyInProcess(tasks: wrk.connections, seconds: Double(seconds))
        print("    \("verify in process".padding(toLength: 22, withPad: " ", startingAt: 0)) "
            + "\(httpText(verifyFloor.rate, verifyFloor.percentile(0.5), verifyFloor.percentile(0.99))) (\(grouped(verifyFloor.latencies.count)) calls)")

        // Fresh idempotency keys everywhere: each run's own prefix.
        _ = try await served.provisionInProcess(tasks: wrk.connections, seconds: Double(warmup), run: "warm-in-process")
        sync()
        let before = clientUsage(children: false)
        let inProcess = try await served.provisionInProcess(tasks: wrk.connections, seconds: Double(seconds), run: "in-process")
        let used = clientUsage(children: false) - before
        print("    \("provision in process".padding(toLength: 22, withPad: " ", startingAt: 0)) \(httpText(inProcess.rate, inProcess.percentile(0.5), inProcess.percentile(0.99))) "
            + "(\(grouped(inProcess.latencies.count)) calls; this process \(fixed(used.seconds / Double(max(inProcess.latencies.count, 1)) * 1e6, 0)) µs CPU each; "
            + "load after \(loadAverage()?.split(separator: " ").first ?? "?"))")
        var provisionPost = served.provision
        provisionPost.idempotencyKeyPrefix = "http-warm"
        var timedPost = served.provision
        timedPost.idempotencyKeyPrefix = "http-timed"
        let overHTTP = try await timedWrk("provision over HTTP", wrk, timedPost, url: served.url(served.api, ServedSuite.provisionPath),
                                          seconds: seconds, warmup: warmup, warmupPost: provisionPost)

        report.add(ResultRow(name: "13\(suffix). bare Hummingbird route, \(engine.name) run (floor for 14\(suffix))",
                             result: httpText(bare.requestsPerSecond, bare.p50, bare.p99)))
        report.add(httpRow("14\(suffix). POST /v1/licences/verify, \(engine.name), one key repeated (cached on SQLite)", overHTTP: verify.requestsPerSecond,
                           p50: verify.p50, p99: verify.p99, against: bare.requestsPerSecond, target: 0.50))
        report.add(ResultRow(name: "14\(suffix)f. licences.verify in process, \(engine.name), \(wrk.connections) tasks, one key repeated (cached on SQLite; diagnostic floor for 14\(suffix))",
                             result: httpText(verifyFloor.rate, verifyFloor.percentile(0.5), verifyFloor.percentile(0.99))))
        var diagnostic = httpRow("14\(suffix)d. POST /v1/licences/verify against the in-process call (diagnostic), \(engine.name)",
                                 overHTTP: verify.requestsPerSecond, p50: verify.p50, p99: verify.p99, against: verifyFloor.rate, target: 0)
        (diagnostic.target, diagnostic.verdict) = ("", .info)  // no target: it shows what HTTP adds to the same work
        report.add(diagnostic)
        report.add(ResultRow(name: "15\(suffix). workflows.provision in process, \(engine.name), \(wrk.connections) tasks (floor for 16\(suffix))",
                             result: httpText(inProcess.rate, inProcess.percentile(0.5), inProcess.percentile(0.99))))
        report.add(httpRow("16\(suffix). POST /v1/workflows/provision, \(engine.name)", overHTTP: overHTTP.requestsPerSecond,
                           p50: overHTTP.p50, p99: overHTTP.p99, against: inProcess.rate, target: 0.60))
    }

    /// An untimed wrk run (with `warmupPost`, else `post`), then, after `sync()`, the timed one;
    /// prints its rate, percentiles, and the CPU this process (the server) and wrk spent per request.
    /// Throws when a response was not 2xx or 3xx: the figure would not be the route's.
    private func timedWrk(_ label: String, _ wrk: Wrk, _ post: Wrk.Post, url: String, seconds: Int, warmup: Int,
                          warmupPost: Wrk.Post? = nil) async throws -> WrkResult {
        _ = try await wrk.run(warmupPost ?? post, url: url, seconds: warmup)
        sync()
        let (server, client) = (clientUsage(children: false), clientUsage(children: true))
        let result = try await wrk.run(post, url: url, seconds: seconds)
        let (serverUsed, clientUsed) = (clientUsage(children: false) - server, clientUsage(children: true) - client)
        let count = Double(max(result.requests, 1))
        let errors = result.socketErrors > 0 ? ", \(grouped(result.socketErrors)) socket errors" : ""
        print("    \(label.padding(toLength: 22, withPad: " ", startingAt: 0)) \(httpText(result.requestsPerSecond, result.p50, result.p99)) "
            + "(\(grouped(result.requests)) requests\(errors); server \(fixed(serverUsed.seconds / count * 1e6, 0)) µs CPU, "
            + "wrk \(fixed(clientUsed.seconds / count * 1e6, 0)) µs CPU each; load after \(loadAverage()?.split(separator: " ").first ?? "?"))")
        guard result.failedResponses == 0 else {
            throw BenchmarkError(message: "\(label): \(grouped(result.failedResponses)) of \(grouped(result.requests)) answers were not 2xx/3xx (\(url))")
        }
        return result
    }

    private func httpText(_ rate: Double, _ p50: Double, _ p99: Double) -> String {
        "\(grouped(Int(rate.rounded()))) req/s (p50 \(fixed(p50 * 1000, 2)) ms, p99 \(fixed(p99 * 1000, 2)) ms)"
    }

    private func httpRow(_ name: String, overHTTP rate: Double, p50: Double, p99: Double, against floor: Double, target: Double) -> ResultRow {
        let ratio = rate / floor
        return ResultRow(name: name, result: httpText(rate, p50, p99), baseline: "\(grouped(Int(floor.rounded()))) req/s",
                         ratio: "\(fixed(ratio * 100, 1))%", target: "≥ \(Int(target * 100))%", verdict: verdict(ratio >= target))
    }

    private mutating func skipHTTP(_ engine: HTTPEngine, connections: Int, _ reason: String) {
        let suffix = engine.suffix
        report.add(ResultRow(name: "13\(suffix). bare Hummingbird route, \(engine.name) run (floor for 14\(suffix))", result: reason, verdict: .skipped))
        report.add(ResultRow(name: "14\(suffix). POST /v1/licences/verify, \(engine.name)", result: reason, target: "≥ 50%", verdict: .skipped))
        report.add(ResultRow(name: "15\(suffix). workflows.provision in process, \(engine.name), \(connections) tasks (floor for 16\(suffix))",
                             result: reason, verdict: .skipped))
        report.add(ResultRow(name: "16\(suffix). POST /v1/workflows/provision, \(engine.name)", result: reason, target: "≥ 60%", verdict: .skipped))
    }
}

/// The engines the HTTP figures run on.
enum HTTPEngine: String, CaseIterable {
    case sqlite, postgres

    var name: String { self == .sqlite ? "SQLite FULL" : "PostgreSQL" }
    /// The rows' number suffix: 14 on SQLite, 14p on PostgreSQL.
    var suffix: String { self == .sqlite ? "" : "p" }
}
