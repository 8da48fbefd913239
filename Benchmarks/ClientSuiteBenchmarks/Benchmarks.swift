import Foundation
import SuiteSQLite

/// The whole run: write throughput against the raw engine, analytics latency as the data grows,
/// the CLI's seeding memory, `provision` against the raw engine on SQLite and PostgreSQL, and the
/// HTTP API against a bare Hummingbird route and the in-process call.
/// Collects a `Report` and prints it at the end.
struct Benchmarks {
    let options: Options
    let workspace: Workspace
    var report = Report()

    /// Runs every benchmark and prints the report.
    static func run(options: Options, workspace: Workspace) async throws {
        var benchmarks = Benchmarks(options: options, workspace: workspace)
        try await benchmarks.measureAll()
    }

    private init(options: Options, workspace: Workspace) {
        self.options = options
        self.workspace = workspace
    }

    private mutating func measureAll() async throws {
        printMachine()
        if options.groups.contains(.writes) { try await measureWrites() }
        if options.groups.contains(.analytics) { try await measureSignupTrends() }
        if options.groups.contains(.seedMemory) { try await measureSeedMemory() }
        if options.groups.contains(.provision) {
            try await measureSQLiteProvisions()
            try await measurePostgresProvisions()
        }
        if options.groups.contains(.forge) { try await measureForge() }
        if options.groups.contains(.http) { try await measureHTTP() }
        if options.groups.contains(.phases) { try await measurePhases() }
        if options.groups.contains(.concurrency) { try await measureConcurrency() }
        print("\n" + report.render())
        print("\nload average at the end: \(loadAverage() ?? "unknown") (other work on the machine skews every figure)")
    }

    private func printMachine() {
        let info = ProcessInfo.processInfo
        print("ClientSuite benchmarks — \(Date().formatted(.iso8601))")
        print("machine: \(cpuModel() ?? "unknown CPU"), \(info.activeProcessorCount) of \(info.processorCount) cores active, "
            + "\(info.physicalMemory / 1_048_576 / 1024) GiB RAM, \(info.operatingSystemVersionString)")
        print("load average at the start: \(loadAverage() ?? "unknown")")
        #if DEBUG
        print("WARNING: debug build; figures are meaningless. Run `swift run -c release ClientSuiteBenchmarks`.")
        #endif
        if options.writeIterations < 20_000 { print("note: --quick run; a smoke test, not figures to quote") }
    }

    /// The CPU model from /proc/cpuinfo (Linux), or nil.
    private func cpuModel() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let colon = line.firstIndex(of: ":")
        else { return nil }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }

    /// The 1, 5 and 15 minute load averages from /proc/loadavg (Linux), or nil.
    func loadAverage() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }

    // MARK: 1–3. Write transactions

    /// At the default durability (FULL: every commit fsynced) and at NORMAL, each against a raw
    /// GRDB floor at the same durability: three interleaved rounds of baseline, create, create's
    /// SQL, activate, activate's SQL; each figure is the best of its three runs, so a burst of other
    /// work on the machine (or disk write-back) cannot pull one side of a ratio down alone. The
    /// engine-floor runs (the same SQL on raw GRDB) are diagnostics: they show how much of a gap is
    /// SQLite work for this schema.
    private mutating func measureWrites() async throws {
        for durability in [SQLiteDatabase.Durability.full, .normal] {
            try await measureWrites(durability)
        }
    }

    private mutating func measureWrites(_ durability: SQLiteDatabase.Durability) async throws {
        let (count, warmup, rounds) = (options.writeIterations, options.warmupIterations, 3)
        let name = durability.pragmaName, suffix = durability == .full ? "" : "n"
        print("\nwrite transactions at synchronous=\(name): \(grouped(count)) per run, sequential awaits, "
            + "\(grouped(warmup)) untimed first, best of \(rounds) interleaved rounds")
        var baseline = try BaselineInserts(path: workspace.file("baseline-\(name).sqlite"), durability: durability)
        var suite = try await ClientWrites(path: workspace.file("clients-\(name).sqlite"), durability: durability)
        var floor = try await EngineFloor(path: workspace.file("floor-\(name).sqlite"), durability: durability)
        let (baseMode, suiteMode) = (try await baseline.settings(), try await suite.settings())
        print("  settings: GRDB pool journal_mode=\(baseMode.journalMode) synchronous=\(baseMode.synchronous); "
            + "SQLiteDatabase journal_mode=\(suiteMode.journalMode) synchronous=\(suiteMode.synchronous) (2 = FULL, 1 = NORMAL)")

        _ = try await baseline.run(warmup)
        _ = try await suite.create(warmup)
        _ = try await suite.activate(warmup)
        _ = try await floor.create(warmup)
        _ = try await floor.activate(warmup)

        var best = (baseline: 0.0, create: 0.0, createSQL: 0.0, activate: 0.0, activateSQL: 0.0)
        for round in 1...rounds {
            print("  round \(round)")
            best.baseline = max(best.baseline, try await timedRun("baseline") { try await baseline.run(count) })
            best.create = max(best.create, try await timedRun("create") { try await suite.create(count) })
            best.createSQL = max(best.createSQL, try await timedRun("create SQL, raw") { try await floor.create(count) })
            best.activate = max(best.activate, try await timedRun("activate") { try await suite.activate(count) })
            best.activateSQL = max(best.activateSQL, try await timedRun("activate SQL, raw") { try await floor.activate(count) })
        }
        try baseline.close()
        try floor.close()
        try await suite.close()

        report.add(ResultRow(name: "1\(suffix). GRDB single-row INSERT txn (baseline), \(name)", result: rateText(best.baseline)))
        report.add(writeRow("2\(suffix). make()…create(), \(name)", best.create, against: best.baseline))
        report.add(writeRow("2\(suffix)f. create's SQL on raw GRDB, \(name) (diagnostic)", best.createSQL, against: best.baseline, target: nil))
        report.add(writeRow("3\(suffix). activate(refid), \(name)", best.activate, against: best.baseline))
        report.add(writeRow("3\(suffix)f. activate's SQL on raw GRDB, \(name) (diagnostic)", best.activateSQL, against: best.baseline, target: nil))
        print("  best: Swift layers over the raw SQL add \(fixed(1e6 / best.create - 1e6 / best.createSQL, 1)) µs per create, "
            + "\(fixed(1e6 / best.activate - 1e6 / best.activateSQL, 1)) µs per activate")
    }

    /// Flushes the previous run's dirty pages (so their write-back does not land in this run), runs, prints the rate.
    func timedRun(_ label: String, _ run: () async throws -> Double) async rethrows -> Double {
        sync()
        let rate = try await run()
        print("    \(label.padding(toLength: 18, withPad: " ", startingAt: 0)) \(rateText(rate))")
        return rate
    }

    /// A throughput row with its ratio to the baseline; `target` nil for a diagnostic row.
    func writeRow(_ name: String, _ rate: Double, against baseline: Double, target: Double? = 0.70) -> ResultRow {
        let ratio = rate / baseline
        var row = ResultRow(name: name, result: rateText(rate), baseline: rateText(baseline), ratio: "\(fixed(ratio * 100, 1))%")
        if let target {
            row.target = "≥ \(Int(target * 100))%"
            row.verdict = verdict(ratio >= target)
        }
        return row
    }

    func rateText(_ rate: Double) -> String { "\(grouped(Int(rate.rounded()))) ops/s (\(fixed(1e6 / rate, 1)) µs)" }

    // MARK: 4. Analytics as the data grows

    private mutating func measureSignupTrends() async throws {
        let (small, large, calls) = (options.analyticsSizes.small, options.analyticsSizes.large, options.analyticsCalls)
        var trends = try await SignupTrends(path: workspace.file("analytics.sqlite"))
        print("\nsignupTrends (monthly, \(trends.range.from) … \(trends.range.to)): median of \(calls) calls")
        var medians: [Double] = []
        for size in [small, large] {
            let added = size - trends.seeded
            let seeding = try await measure { try await trends.seed(upTo: size) }
            sync()  // let the seeding's write-back finish before timing reads
            let samples = try await trends.latencies(calls: calls)
            medians.append(median(samples))
            print("  \(grouped(size)) clients: median \(fixed(median(samples) * 1000, 3)) ms, "
                + "min \(fixed(samples.min()! * 1000, 3)) ms, max \(fixed(samples.max()! * 1000, 3)) ms "
                + "(seeded \(grouped(added)) more at \(grouped(Int(Double(added) / seeding))) clients/s)")
        }
        try await trends.close()

        let (atSmall, atLarge) = (medians[0], medians[1])
        let growth = atLarge / atSmall
        report.add(ResultRow(name: "4a. signupTrends, \(short(small)) clients", result: "\(fixed(atSmall * 1000, 3)) ms"))
        report.add(ResultRow(name: "4b. signupTrends, \(short(large)) clients", result: "\(fixed(atLarge * 1000, 3)) ms",
                             target: "< 50 ms", verdict: verdict(atLarge < 0.050)))
        report.add(ResultRow(name: "4c. signupTrends growth \(short(large)) / \(short(small))", result: "\(fixed(growth, 2))×",
                             target: "≈ 1 (≤ 1.25)", verdict: verdict(growth <= 1.25)))
    }

    private func short(_ count: Int) -> String {
        count >= 1_000_000 && count.isMultiple(of: 1_000_000) ? "\(count / 1_000_000)M" : "\(count / 1000)k"
    }

    // MARK: 5. CLI seeding memory

    private mutating func measureSeedMemory() async throws {
        let name = "5. dock client seed --count \(short(options.seedMemoryCount)): peak RSS"
        guard !options.skipSeedMemory else {
            report.add(ResultRow(name: name, result: "--skip-seed-memory", target: "< 200 MB", verdict: .skipped))
            return
        }
        guard let dock = SeedMemory.dockExecutable() else {
            print("\nseed memory: no `dock` next to this binary; build it first (swift build -c release --product dock)")
            report.add(ResultRow(name: name, result: "dock not built", target: "< 200 MB", verdict: .skipped))
            return
        }
        print("\nseed memory: \(dock.path) client seed --count \(grouped(options.seedMemoryCount)) (child process)")
        var peak = 0
        let seconds = try await measure {
            peak = try SeedMemory.peakResidentBytes(dock: dock, database: workspace.file("seed.sqlite"),
                                                    count: options.seedMemoryCount)
        }
        let megabytes = Double(peak) / 1_000_000
        print("  peak RSS \(fixed(megabytes, 1)) MB, \(fixed(seconds, 1)) s (\(grouped(Int(Double(options.seedMemoryCount) / seconds))) clients/s)")
        report.add(ResultRow(name: name, result: "\(fixed(megabytes, 1)) MB", target: "< 200 MB", verdict: verdict(megabytes < 200)))
    }
}
