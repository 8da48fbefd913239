import Foundation

/// The PostgreSQL server the provision figures run on, named by a `postgres://` URL, and the
/// client tools (`pgbench`, `psql`) that drive it. Each figure gets its own database, created here
/// and dropped by ``dropDatabases()``.
struct PostgresServer {
    /// The URL as given (its `pool`, `search_path` and `sslmode` options are ClientSuite's).
    let url: URLComponents
    let pgbench: URL
    let psql: URL
    /// The database the administrative commands connect to (the URL's, or `postgres`).
    private let adminDatabase: String
    private let prefix = "clientsuite_bench_" + UUID().uuidString.prefix(8).lowercased()
    private(set) var created: [String] = []

    /// Fails with a one-line reason when the URL is not usable or the client tools are missing.
    init(url text: String) throws {
        guard let url = URLComponents(string: text), url.scheme == "postgres" || url.scheme == "postgresql",
              let host = url.host, !host.isEmpty
        else { throw BenchmarkError(message: "not a postgres:// URL") }
        guard let pgbench = Self.tool("pgbench"), let psql = Self.tool("psql") else {
            throw BenchmarkError(message: "pgbench and psql not found (PATH, /usr/lib/postgresql/*/bin)")
        }
        self.url = url
        self.pgbench = pgbench
        self.psql = psql
        let path = url.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        adminDatabase = path.isEmpty ? "postgres" : path
    }

    /// A ClientSuite URL for `database` with a pool of `pool` connections.
    func suiteURL(database: String, pool: Int) -> String {
        var components = url
        components.path = "/" + database
        var items = (components.queryItems ?? []).filter { $0.name != "pool" && $0.name != "search_path" }
        items.append(URLQueryItem(name: "pool", value: String(pool)))
        components.queryItems = items
        return components.string ?? ""
    }

    /// The pool size the URL asks for (ClientSuite's default 8 when absent).
    var requestedPool: Int {
        url.queryItems?.first { $0.name == "pool" }.flatMap { $0.value.flatMap(Int.init) } ?? 8
    }

    /// The server's `SHOW name`, through psql.
    func setting(_ name: String) async throws -> String {
        try await psqlCommand("SHOW \(name)", database: adminDatabase, tuplesOnly: true)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Creates a fresh database named after `purpose` and returns its name.
    mutating func createDatabase(_ purpose: String) async throws -> String {
        let name = "\(prefix)_\(purpose)"
        _ = try await psqlCommand("CREATE DATABASE \(name)", database: adminDatabase)
        created.append(name)
        return name
    }

    /// Drops every database this run created (forcing out connections left open).
    func dropDatabases() async {
        for name in created {
            _ = try? await psqlCommand("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", database: adminDatabase)
        }
    }

    /// Runs `pgbench` with `arguments` against `database`; returns its stdout. Throws with its
    /// stderr when it exits with a failure. `label` becomes the sessions' `application_name`, so
    /// `pg_stat_activity` tells the runs apart.
    func runPgbench(_ arguments: [String], database: String, label: String = "pgbench",
                    timeLimit: Duration = .seconds(900)) async throws -> String {
        try await run(pgbench, arguments + [database], applicationName: "ClientSuiteBenchmarks \(label)", timeLimit: timeLimit)
    }

    // MARK: Internals

    func psqlCommand(_ command: String, database: String, tuplesOnly: Bool = false) async throws -> String {
        try await run(psql, ["-X", "-q", "-v", "ON_ERROR_STOP=1"] + (tuplesOnly ? ["-A", "-t"] : [])
            + ["-c", command, "-d", database], timeLimit: .seconds(120))
    }

    /// libpq reads the connection from the environment, so the URL's ClientSuite-only options
    /// (`pool`, `search_path`) never reach it.
    private func environment(applicationName: String) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["PGHOST"] = url.host
        environment["PGPORT"] = String(url.port ?? 5432)
        environment["PGUSER"] = url.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        if let password = url.password.flatMap({ $0.removingPercentEncoding }) { environment["PGPASSWORD"] = password }
        environment["PGSSLMODE"] = url.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        environment["PGAPPNAME"] = applicationName
        return environment
    }

    /// Runs a PostgreSQL client tool to completion (``ChildProcess/run(_:_:environment:timeLimit:)``),
    /// connected through the environment.
    private func run(_ tool: URL, _ arguments: [String], applicationName: String = "ClientSuiteBenchmarks",
                     timeLimit: Duration = .seconds(900)) async throws -> String {
        try await ChildProcess.run(tool, arguments, environment: environment(applicationName: applicationName), timeLimit: timeLimit)
    }

    /// A PostgreSQL client tool on the PATH, else in the newest /usr/lib/postgresql/*/bin.
    private static func tool(_ name: String) -> URL? {
        let fileManager = FileManager.default
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        var candidates = path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
        let versions = ((try? fileManager.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .sorted { $0.compare($1, options: .numeric) == .orderedDescending }
        candidates += versions.map { URL(fileURLWithPath: "/usr/lib/postgresql/\($0)/bin/\(name)") }
        return candidates.first { fileManager.isExecutableFile(atPath: $0.path) }
    }
}

/// What a `pgbench` run printed.
struct PgbenchResult {
    /// Transactions per second without the connection set-up ("without initial connection time"
    /// since PostgreSQL 14, "excluding connections establishing" before).
    var tps: Double
    var transactions: Int
    var failed: Int
    var latencyMilliseconds: Double?

    init(output: String) throws {
        let lines = output.split(separator: "\n").map(String.init)
        func number(after prefix: String, in line: String) -> Double? {
            guard line.hasPrefix(prefix) else { return nil }
            let rest = line.dropFirst(prefix.count).drop { $0 == " " }
            return Double(rest.prefix { $0.isNumber || $0 == "." })
        }
        let tpsLines = lines.filter { $0.hasPrefix("tps = ") }
        let chosen = tpsLines.first { $0.contains("without initial connection time") || $0.contains("excluding connections") }
            ?? tpsLines.last
        guard let chosen, let tps = number(after: "tps = ", in: chosen) else {
            throw BenchmarkError(message: "no tps line in pgbench's output")
        }
        self.tps = tps
        transactions = lines.lazy.compactMap { number(after: "number of transactions actually processed:", in: $0) }
            .first.map { Int($0) } ?? 0
        failed = lines.lazy.compactMap { number(after: "number of failed transactions:", in: $0) }.first.map { Int($0) } ?? 0
        latencyMilliseconds = lines.lazy.compactMap { number(after: "latency average =", in: $0) }.first
    }
}

/// The CPU time of the PostgreSQL server's processes on this machine, from `/proc`: user and system
/// time of every process named `postgres`, with the time of its finished children (a backend that
/// exits — pgbench's, at the end of its run — is counted in the postmaster's children's time).
enum PostgresServerCPU {
    /// Seconds, or nil when no `postgres` process is visible (a server on another machine, or no `/proc`).
    static func seconds() -> Double? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var total = 0.0, found = false
        for entry in entries where entry.first?.isNumber == true {
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")"),
                  stat[stat.index(after: open)..<close] == "postgres"
            else { continue }
            // After the command: state is field 3; utime, stime, cutime, cstime are fields 14–17.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 15 else { continue }
            found = true
            total += [fields[11], fields[12], fields[13], fields[14]].compactMap { Double($0) }.reduce(0, +) / ticks
        }
        return found ? total : nil
    }
}
