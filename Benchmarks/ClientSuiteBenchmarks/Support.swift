import Foundation
import GRDB
import SuiteSQLite

/// Command-line options. Kept to plain flags so the benchmark needs no argument parser.
struct Options: Sendable {
    /// The groups of figures a run can measure (all by default; `--only` picks some).
    enum Group: String, CaseIterable, Sendable {
        case writes, analytics, seedMemory = "seed-memory", provision, forge, http, phases, concurrency
    }

    /// Transactions per write measurement (baseline, create, activate, debit, provision on SQLite).
    var writeIterations = 20_000
    /// Untimed transactions before each write measurement.
    var warmupIterations = 2_000
    /// Clients in the database for the first and second analytics measurement.
    var analyticsSizes = (small: 100_000, large: 1_000_000)
    /// Timed `signupTrends` calls per size (the median is reported).
    var analyticsCalls = 100
    /// Clients the `dock client seed` child process creates.
    var seedMemoryCount = 1_000_000
    var skipSeedMemory = false
    var groups = Set(Group.allCases)
    /// The PostgreSQL server for the provision figures (`--postgres-url`, else `CLIENTSUITE_BENCH_POSTGRES_URL`).
    var postgresURL = ProcessInfo.processInfo.environment["CLIENTSUITE_BENCH_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    /// Length of each timed PostgreSQL run (pgbench and ClientSuite alike).
    var postgresSeconds = 30
    /// Length of each timed HTTP run (wrk and the in-process provision floor alike).
    var httpSeconds = 10
    /// Operations per phase in each round of the phases beside the PHP package (17–18); figure 19
    /// verifies five times as many keys.
    var phaseOperations = 10_000

    static let usage = """
        usage: ClientSuiteBenchmarks [--quick] [--skip-seed-memory] [--only GROUP,…] [--postgres-url URL] [--postgres-seconds N]
                                     [--http-seconds N]
          --quick                2,000 write transactions, 10k/100k analytics sizes, a 100k seed, 5 s PostgreSQL runs, 3 s HTTP runs,
                                 2,000 operations per phase
                                 (a smoke run, not figures to quote)
          --skip-seed-memory     do not run `dock client seed` in a child process
          --only GROUP,…         measure only these groups: writes, analytics, seed-memory, provision, forge, http, phases,
                                 concurrency
          --postgres-url URL     the PostgreSQL server for the provision figures (default: $CLIENTSUITE_BENCH_POSTGRES_URL;
                                 without either, those rows are SKIPPED). scripts/benchmark.sh starts a throwaway one.
          --postgres-seconds N   length of each timed PostgreSQL run (default 30)
          --http-seconds N       length of each timed HTTP run, wrk's and the in-process provision floor's (default 10);
                                 the http group needs wrk on the PATH (scripts/benchmark.sh installs it)
        """

    init(arguments: [String]) throws {
        var remaining = arguments[...]
        func value(for flag: String) throws -> String {
            guard let value = remaining.popFirst() else { throw BenchmarkError(message: "\(flag) needs a value\n\(Options.usage)") }
            return value
        }
        var quick = false, seconds: Int?, httpSeconds: Int?
        while let argument = remaining.popFirst() {
            switch argument {
            case "--quick":
                quick = true
                writeIterations = 2_000
                warmupIterations = 200
                analyticsSizes = (10_000, 100_000)
                analyticsCalls = 20
                seedMemoryCount = 100_000
                phaseOperations = 2_000
            case "--skip-seed-memory":
                skipSeedMemory = true
            case "--only":
                groups = Set(try value(for: argument).split(separator: ",").map { name in
                    guard let group = Group(rawValue: String(name)) else {
                        throw BenchmarkError(message: "unknown group \(name)\n\(Options.usage)")
                    }
                    return group
                })
            case "--postgres-url":
                postgresURL = try value(for: argument)
            case "--postgres-seconds":
                guard let number = Int(try value(for: argument)), number > 0 else {
                    throw BenchmarkError(message: "--postgres-seconds needs a positive whole number")
                }
                seconds = number
            case "--http-seconds":
                guard let number = Int(try value(for: argument)), number > 0 else {
                    throw BenchmarkError(message: "--http-seconds needs a positive whole number")
                }
                httpSeconds = number
            case "--help", "-h":
                print(Options.usage)
                exit(0)
            default:
                throw BenchmarkError(message: "unknown argument \(argument)\n\(Options.usage)")
            }
        }
        postgresSeconds = seconds ?? (quick ? 5 : 30)
        self.httpSeconds = httpSeconds ?? (quick ? 3 : 10)
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// `count` operations of `body` per second, after `sync()` so that write-back left over from
/// earlier work does not land in the timed run.
func flushedRate(_ count: Int, _ body: () async throws -> Void) async rethrows -> Double {
    sync()
    return Double(count) / (try await measure(body))
}

/// Wall time of `body` in seconds, on the monotonic clock.
func measure(_ body: () async throws -> Void) async rethrows -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    try await body()
    return (clock.now - start).seconds
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}

/// A raw GRDB pool whose writer commits with `durability` (GRDB's pool sets NORMAL when it enables
/// WAL; the setting is made on the writer afterwards and read back), so a floor matches what it is
/// compared with.
func rawPool(path: String, durability: SQLiteDatabase.Durability) throws -> DatabasePool {
    let pool = try DatabasePool(path: path)
    let inForce = try pool.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA synchronous = \(durability.pragmaName)")
        return try Int.fetchOne(db, sql: "PRAGMA synchronous")
    }
    guard inForce == durability.pragmaValue else {
        throw BenchmarkError(message: "synchronous=\(durability.rawValue) is not in force on the raw pool at \(path)")
    }
    return pool
}

func median(_ values: [Double]) -> Double {
    precondition(!values.isEmpty, "median of nothing")
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count.isMultiple(of: 2) ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[middle]
}

/// Progress and notes go to stderr, so stdout holds only the report.
func note(_ text: String) {
    FileHandle.standardError.write(Data("\(text)\n".utf8))
}

/// A progress line on stderr: redrawn in place on a terminal, one line every 10% otherwise.
struct Progress {
    let label: String
    let total: Int
    /// Where this run started (work already done before it does not count towards the rate).
    let start: Int
    private let started = ContinuousClock.now
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private var lastDecile: Int

    init(_ label: String, total: Int, from start: Int = 0) {
        self.label = label
        self.total = total
        self.start = start
        lastDecile = start * 10 / max(total, 1)
    }

    mutating func update(_ done: Int) {
        let fraction = Double(done) / Double(max(total, 1))
        let rate = Double(done - start) / max((ContinuousClock.now - started).seconds, 0.001)
        let text = "\(label): \(Int(fraction * 100))% \(grouped(done))/\(grouped(total)) (\(grouped(Int(rate)))/s)"
        if isTerminal {
            FileHandle.standardError.write(Data("\r\(text)".utf8))
            if done >= total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else if Int(fraction * 10) > lastDecile {
            lastDecile = Int(fraction * 10)
            note(text)
        }
    }
}

/// `1234567` → `1,234,567`.
func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var result = ""
    for (index, digit) in digits.enumerated() {
        if index > 0, (digits.count - index).isMultiple(of: 3) { result.append(",") }
        result.append(digit)
    }
    return value < 0 ? "-" + result : result
}

func fixed(_ value: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) }

/// A private directory for the benchmark's database files, removed at the end.
struct Workspace {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("ClientSuiteBenchmarks-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// A path for a new SQLite file (its -wal and -shm companions land next to it).
    func file(_ name: String) -> String { url.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}
