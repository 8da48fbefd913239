import Foundation

extension Benchmarks {
    // MARK: 6–7. provision on SQLite

    /// Three interleaved rounds of the bare GRDB debit, `provision`, and provision's SQL on raw GRDB
    /// (the statements it ran before its lean path, and the lean shape), best of each — the same method as figures 1–3.
    mutating func measureSQLiteProvisions() async throws {
        let (count, warmup, rounds) = (options.writeIterations, options.warmupIterations, 3)
        print("\nprovision on SQLite at synchronous=NORMAL (the figures' history is at NORMAL; the floor is too): "
            + "\(grouped(count)) per run, sequential awaits, \(grouped(warmup)) untimed first, best of \(rounds) interleaved rounds")
        let baseline = try BaselineDebits(path: workspace.file("debits.sqlite"))
        var suite = try await SQLiteProvisions(path: workspace.file("provisions.sqlite"))
        var floor = try await SQLiteProvisionSQL(path: workspace.file("provision-sql.sqlite"))
        let (baseMode, suiteMode) = (try await baseline.settings(), try await suite.settings())
        print("  settings: GRDB pool journal_mode=\(baseMode.journalMode) synchronous=\(baseMode.synchronous); "
            + "SQLiteDatabase journal_mode=\(suiteMode.journalMode) synchronous=\(suiteMode.synchronous) (1 = NORMAL)")

        _ = try await baseline.run(warmup)
        _ = try await suite.run(warmup)
        _ = try await floor.run(.exact, warmup)
        _ = try await floor.run(.lean, warmup)
        var best = (baseline: 0.0, provision: 0.0, exactSQL: 0.0, leanSQL: 0.0)
        for round in 1...rounds {
            print("  round \(round) (load \(loadAverage() ?? "unknown"))")
            best.baseline = max(best.baseline, try await timedRun("debit baseline") { try await baseline.run(count) })
            best.provision = max(best.provision, try await timedRun("provision") { try await suite.run(count) })
            best.exactSQL = max(best.exactSQL, try await timedRun("provision SQL, raw") { try await floor.run(.exact, count) })
            best.leanSQL = max(best.leanSQL, try await timedRun("lean SQL, raw") { try await floor.run(.lean, count) })
        }
        try baseline.close()
        try floor.close()
        try await suite.close()

        report.add(ResultRow(name: "6. GRDB debit txn: UPDATE + INSERT (baseline)", result: rateText(best.baseline)))
        report.add(writeRow("7. provision(…) on SQLite", best.provision, against: best.baseline, target: 0.50))
        report.add(writeRow("7f. provision's SQL on raw GRDB (diagnostic)", best.exactSQL, against: best.baseline, target: nil))
        report.add(writeRow("7g. lean provision SQL on raw GRDB (diagnostic)", best.leanSQL, against: best.baseline, target: nil))
        print("  best: Swift layers over the raw SQL add \(fixed(1e6 / best.provision - 1e6 / best.exactSQL, 1)) µs per provision; "
            + "the lean SQL saves \(fixed(1e6 / best.exactSQL - 1e6 / best.leanSQL, 1)) µs of SQLite work")
    }

    // MARK: 8–9. provision on PostgreSQL

    /// pgbench's TPC-B at 8 clients against 8 tasks calling `provision` on distinct resellers, on the
    /// same server in the same run, interleaved with diagnostics: the provision's SQL without the
    /// Swift domain code, through pgbench and through the suite's driver.
    mutating func measurePostgresProvisions() async throws {
        let (clients, threads, scale, rounds) = (8, 2, 8, 2)
        let seconds = options.postgresSeconds
        let baselineName = "8. pgbench TPC-B, \(clients) clients (baseline)"
        let suiteName = "9. provision on PostgreSQL, \(clients) tasks"
        func skip(_ short: String, _ reason: String) {
            print("\nprovision on PostgreSQL: SKIPPED — \(reason)")
            report.add(ResultRow(name: baselineName, result: short, verdict: .skipped))
            report.add(ResultRow(name: suiteName, result: short, target: "≥ 80%", verdict: .skipped))
        }
        guard let url = options.postgresURL else {
            return skip("no server", "no server: pass --postgres-url or set CLIENTSUITE_BENCH_POSTGRES_URL (scripts/benchmark.sh does)")
        }
        var server: PostgresServer
        do { server = try PostgresServer(url: url) } catch { return skip("unusable", "\(error)") }

        print("\nprovision on PostgreSQL: \(clients) clients/tasks, \(seconds) s per run, best of \(rounds) interleaved rounds")
        do {
            var settings: [String] = []
            for name in ["server_version", "fsync", "synchronous_commit", "full_page_writes", "max_connections", "shared_buffers"] {
                settings.append("\(name)=\(try await server.setting(name))")
            }
            print("  server: \(settings.joined(separator: " "))")
            try await measurePostgres(on: &server, clients: clients, threads: threads, scale: scale, rounds: rounds,
                                      seconds: seconds, names: (baselineName, suiteName))
        } catch {
            await server.dropDatabases()
            throw error
        }
        await server.dropDatabases()
    }

    private mutating func measurePostgres(on server: inout PostgresServer, clients: Int, threads: Int, scale: Int, rounds: Int,
                                          seconds: Int, names: (baseline: String, suite: String)) async throws {
        let pgbenchDatabase = try await server.createDatabase("pgbench")
        print("  pgbench -i -s \(scale) (\(grouped(scale * 100_000)) accounts, \(scale) branches: one per client)")
        _ = try await server.runPgbench(["-i", "-q", "-s", String(scale)], database: pgbenchDatabase)

        let pool = max(clients, server.requestedPool)
        let suiteDatabase = try await server.createDatabase("suite")
        var suite = try await PostgresProvisions(url: server.suiteURL(database: suiteDatabase, pool: pool), tasks: clients)
        // The same with the pool's timers off: every connection opened up front and kept, no keep-alive checks.
        let tunedDatabase = try await server.createDatabase("tuned")
        var tuned = try await PostgresProvisions(
            url: server.suiteURL(database: tunedDatabase, pool: pool) + "&min=\(pool)&keepalive=0", tasks: clients)
        let sqlDatabase = try await server.createDatabase("sql")
        var sql = try await ProvisionSQLRuns(server: server, database: sqlDatabase,
                                             url: server.suiteURL(database: sqlDatabase, pool: clients),
                                             clients: clients, directory: workspace.url)
        let floor = try await DriverFloorRuns(server: server, database: try await server.createDatabase("floor"),
                                              clients: clients, directory: workspace.url)
        print("  ClientSuite pool=\(pool). Diagnostics: provision's SQL without the Ally/Ledger code — exact (the 9 "
            + "statements provision ran before its lean path), lean (4) or single (the lean 4 as one PostgreSQL-only CTE), crediting the shared system:revenue row or one revenue row per client — "
            + "through pgbench -M simple (C client) and through the suite's driver (PostgresDatabase.write); "
            + "and the driver's floor, a bare debit (UPDATE + INSERT) through PostgresNIO directly and through pgbench")

        // The diagnostics, in report order.
        enum Client: String { case pgbench, driver = "suite driver" }
        typealias Diagnostic = (letter: String, client: Client, shape: ProvisionSQL.Shape, revenue: ProvisionSQLRuns.Revenue)
        let diagnostics: [Diagnostic] = [
            ("a", .pgbench, .exact, .shared), ("b", .pgbench, .exact, .striped),
            ("c", .pgbench, .lean, .shared), ("d", .pgbench, .lean, .striped),
            ("e", .driver, .exact, .shared), ("f", .driver, .lean, .striped),
            ("g", .pgbench, .single, .striped), ("h", .driver, .single, .striped),
        ]
        var best = (baseline: 0.0, suite: 0.0)
        // Per round: the server's CPU per TPC-B transaction and per provision, and this process's per provision.
        var cpu: [(tpcb: Double, provision: Double, client: Double)] = []
        var bestDiagnostics = [String: Double]()
        for round in 1...rounds {
            print("  round \(round) (load \(loadAverage() ?? "unknown"))")
            let tpcbRun = try await timedPgbench("pgbench TPC-B") {
                try PgbenchResult(output: try await server.runPgbench(
                    ["-n", "-c", String(clients), "-j", String(threads), "-T", String(seconds)], database: pgbenchDatabase,
                    label: "TPC-B", timeLimit: .seconds(seconds + 120)))
            }
            best.baseline = max(best.baseline, tpcbRun.tps)
            let provisionRun = try await timedTasks("provision") { try await suite.run(seconds: Double(seconds)) }
            best.suite = max(best.suite, provisionRun.tps)
            if let tpcbServer = tpcbRun.serverCPU, let provisionServer = provisionRun.serverCPU {
                cpu.append((tpcbServer, provisionServer, provisionRun.clientCPU))
            }
            let tunedTPS = try await timedTasks("provision, no timers") { try await tuned.run(seconds: Double(seconds)) }.tps
            bestDiagnostics["t"] = max(bestDiagnostics["t"] ?? 0, tunedTPS)
            for diagnostic in diagnostics {
                let label = "\(diagnostic.client == .pgbench ? "pgbench" : "driver") \(diagnostic.shape.rawValue), "
                    + diagnostic.revenue.rawValue
                let tps: Double
                if diagnostic.client == .pgbench {
                    tps = try await timedPgbench(label) {
                        try await sql.pgbench(diagnostic.shape, diagnostic.revenue, clients: clients, threads: threads, seconds: seconds)
                    }.tps
                } else {
                    tps = try await timedTasks(label) {
                        try await sql.driver(diagnostic.shape, diagnostic.revenue, clients: clients, seconds: Double(seconds))
                    }.tps
                }
                bestDiagnostics[diagnostic.letter] = max(bestDiagnostics[diagnostic.letter] ?? 0, tps)
            }
            let floorDriver = try await timedTasks("PostgresNIO bare debit") { try await floor.driver(seconds: Double(seconds)) }.tps
            bestDiagnostics["i"] = max(bestDiagnostics["i"] ?? 0, floorDriver)
            let floorPgbench = try await timedPgbench("pgbench bare debit") { try await floor.pgbench(threads: threads, seconds: seconds) }.tps
            bestDiagnostics["j"] = max(bestDiagnostics["j"] ?? 0, floorPgbench)
        }
        try await suite.close()
        try await tuned.close()
        try await sql.close()

        report.add(ResultRow(name: names.baseline, result: tpsText(best.baseline)))
        report.add(ratioRow(names.suite, best.suite, against: best.baseline, target: 0.80))
        if cpu.isEmpty {
            report.add(ResultRow(name: "21. PostgreSQL server CPU per provision (8 tasks) against per TPC-B transaction",
                                 result: "the server's processes are not on this machine", target: "≤ 1.25×", verdict: .skipped))
        } else {
            let ratios = cpu.map { $0.provision / $0.tpcb }
            let rounds = cpu.map { "\(fixed($0.provision * 1e6, 0)) against \(fixed($0.tpcb * 1e6, 0)) µs" }.joined(separator: "; ")
            report.add(ResultRow(name: "21. PostgreSQL server CPU per provision (8 tasks) against per TPC-B transaction (the run's pgbench)",
                                 result: "\(fixed(median(cpu.map(\.provision)) * 1e6, 0)) µs (rounds: \(rounds))",
                                 baseline: "\(fixed(median(cpu.map(\.tpcb)) * 1e6, 0)) µs", ratio: "\(fixed(median(ratios), 2))×",
                                 target: "≤ 1.25×", verdict: verdict(median(ratios) <= 1.25)))
            report.add(ResultRow(name: "21c. this process's CPU per provision (the client's; tracked, no target)",
                                 result: "\(fixed(median(cpu.map(\.client)) * 1e6, 0)) µs"))
        }
        report.add(ratioRow("9t. provision, pool with min=\(pool)&keepalive=0 (the pool's timers off)", bestDiagnostics["t"] ?? 0,
                            against: best.baseline, target: nil))
        for diagnostic in diagnostics {
            let (shape, revenue) = (diagnostic.shape.rawValue, diagnostic.revenue.rawValue)
            report.add(ratioRow("9\(diagnostic.letter). \(shape) SQL, \(revenue) revenue, via \(diagnostic.client.rawValue) (diagnostic)",
                                bestDiagnostics[diagnostic.letter] ?? 0, against: best.baseline, target: nil))
        }
        report.add(ratioRow("9i. bare debit (UPDATE + INSERT), one PostgresNIO connection per task: the driver's floor (diagnostic)",
                            bestDiagnostics["i"] ?? 0, against: best.baseline, target: nil))
        report.add(ratioRow("9j. bare debit (UPDATE + INSERT) via pgbench (diagnostic)",
                            bestDiagnostics["j"] ?? 0, against: best.baseline, target: nil))
    }

    /// A timed run: its rate, and CPU seconds per transaction of the PostgreSQL server's processes
    /// (nil when they are not on this machine) and of the client (this process, or pgbench).
    struct TimedRun {
        var tps: Double
        var serverCPU: Double?
        var clientCPU: Double
    }

    /// Flushes dirty pages, runs `clients` Swift tasks; prints their rate and this process's CPU time
    /// per transaction (the client's share of the 2 cores the server also needs), and the server's.
    private func timedTasks(_ label: String, _ run: () async throws -> TaskRate) async throws -> TimedRun {
        sync()
        let before = clientUsage(children: false), serverBefore = PostgresServerCPU.seconds()
        let rate = try await run()
        let used = clientUsage(children: false) - before
        let count = Double(max(rate.transactions, 1))
        let server = PostgresServerCPU.seconds().flatMap { after in serverBefore.map { (after - $0) / count } }
        print("    \(label.padding(toLength: 22, withPad: " ", startingAt: 0)) \(tpsText(rate.tps)) "
            + "(\(grouped(rate.transactions)) transactions, client CPU \(fixed(used.seconds / count * 1e6, 0)) µs and "
            + "\(fixed(Double(used.switches) / count, 1)) thread switches each; "
            + (server.map { "server CPU \(fixed($0 * 1e6, 0)) µs each; " } ?? "")
            + "load after \(loadAverage()?.split(separator: " ").first ?? "?"))")
        return TimedRun(tps: rate.tps, serverCPU: server, clientCPU: used.seconds / count)
    }

    /// Flushes dirty pages, runs pgbench; prints its tps, latency, failures and its CPU time per
    /// transaction, and the server's.
    private func timedPgbench(_ label: String, _ run: () async throws -> PgbenchResult) async throws -> TimedRun {
        sync()
        let before = clientUsage(children: true), serverBefore = PostgresServerCPU.seconds()
        let result = try await run()
        let used = clientUsage(children: true) - before
        let count = Double(max(result.transactions, 1))
        let server = PostgresServerCPU.seconds().flatMap { after in serverBefore.map { (after - $0) / count } }
        let latency = result.latencyMilliseconds.map { ", latency \(fixed($0, 2)) ms" } ?? ""
        let failed = result.failed > 0 ? ", \(grouped(result.failed)) FAILED" : ""
        print("    \(label.padding(toLength: 22, withPad: " ", startingAt: 0)) \(tpsText(result.tps))"
            + " (\(grouped(result.transactions)) transactions\(latency)\(failed), client CPU \(fixed(used.seconds / count * 1e6, 0)) µs and "
            + "\(fixed(Double(used.switches) / count, 1)) thread switches each; "
            + (server.map { "server CPU \(fixed($0 * 1e6, 0)) µs each; " } ?? "")
            + "load after \(loadAverage()?.split(separator: " ").first ?? "?"))")
        return TimedRun(tps: result.tps, serverCPU: server, clientCPU: used.seconds / count)
    }

    private func tpsText(_ tps: Double) -> String { "\(grouped(Int(tps.rounded()))) tps" }

    /// A transactions-per-second row with its ratio to the baseline; `target` nil for a diagnostic row.
    private func ratioRow(_ name: String, _ tps: Double, against baseline: Double, target: Double?) -> ResultRow {
        let ratio = tps / baseline
        var row = ResultRow(name: name, result: tpsText(tps), baseline: tpsText(baseline), ratio: "\(fixed(ratio * 100, 1))%")
        if let target {
            row.target = "≥ \(Int(target * 100))%"
            row.verdict = verdict(ratio >= target)
        }
        return row
    }
}

/// User + system CPU seconds and context switches (voluntary and not: each is a thread put to
/// sleep or preempted) of this process, or of its finished children.
func clientUsage(children: Bool) -> ClientUsage {
    var usage = rusage()
    #if os(Linux)
    let who = __rusage_who_t(children ? RUSAGE_CHILDREN.rawValue : RUSAGE_SELF.rawValue)  // Glibc: an enum
    #else
    let who = children ? RUSAGE_CHILDREN : RUSAGE_SELF
    #endif
    guard getrusage(who, &usage) == 0 else { return ClientUsage(seconds: 0, switches: 0) }
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return ClientUsage(seconds: seconds(usage.ru_utime) + seconds(usage.ru_stime),
                       switches: Int(usage.ru_nvcsw) + Int(usage.ru_nivcsw))
}

/// CPU time and context switches, as `getrusage` counts them.
struct ClientUsage {
    var seconds: Double
    var switches: Int

    static func - (lhs: ClientUsage, rhs: ClientUsage) -> ClientUsage {
        ClientUsage(seconds: lhs.seconds - rhs.seconds, switches: lhs.switches - rhs.switches)
    }
}
