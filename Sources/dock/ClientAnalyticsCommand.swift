import Suite
import ArgumentParser
import Client
import Foundation
import SuiteCore
import SuiteStorage

extension ClientCommand {
    struct Analytics: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Client analytics: signups, status, growth, segmentation.",
            subcommands: [Signups.self, Status.self, Growth.self, Segmentation.self])

        struct Scope: ParsableArguments {
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Option(help: "Only clients of this reseller (refid).") var reseller: Refid?

            /// Runs `body` with the analytics of the clients in scope: all of them, or the reseller's.
            func withAnalytics(_ body: (ClientAnalytics) async throws -> Void) async throws {
                try await withSuite(database) { suite in
                    try await body(try suite.clients.analytics().forReseller(reseller))
                }
            }
        }

        struct Signups: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Signups per day, month or year, with a bar chart.")
            @OptionGroup var scope: Scope
            @Flag(help: "Bucket size.") var interval: Interval = .monthly
            @OptionGroup var range: DayRange

            func run() async throws {
                let (start, end) = try range.days()
                try await scope.withAnalytics { analytics in
                    let points = try await analytics.interval(interval).signupTrends(from: start, to: end)
                    try printTrend(points, header: "SIGNUPS", json: scope.output.json)
                }
            }
        }

        struct Status: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Clients by current status (of those created from --from to --to, when given).")
            @OptionGroup var scope: Scope
            @OptionGroup var range: OptionalDayRange

            func run() async throws {
                let (start, end) = try range.days()
                try await scope.withAnalytics { analytics in
                    let breakdown = try await analytics.statusBreakdown(from: start, to: end)
                    try scope.output.show(breakdown) {
                        printTable(["STATUS", "CLIENTS"], ClientStatus.allCases.map { [$0.rawValue, String(breakdown[$0])] })
                    }
                }
            }
        }

        struct Growth: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "New clients in a period, against the period before it.")
            @OptionGroup var scope: Scope
            @OptionGroup var range: DayRange

            func run() async throws {
                let (start, end) = try range.days()
                try await scope.withAnalytics { analytics in
                    let growth = try await analytics.growth(from: start, to: end)
                    let change = growth.changePercentage.map { String(format: "%.2f", $0) }
                    try scope.output.show(growth) {
                        printTable(["NEW CLIENTS", "PREVIOUS PERIOD", "CHANGE %"],
                                   [[String(growth.newClients), String(growth.previousPeriod), change ?? "-"]])
                    }
                }
            }
        }

        struct Segmentation: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Standalone versus resold clients (of those created from --from to --to, when given).")
            @OptionGroup var scope: Scope
            @OptionGroup var range: OptionalDayRange

            func run() async throws {
                let (start, end) = try range.days()
                try await scope.withAnalytics { analytics in
                    let result = try await analytics.segmentation(from: start, to: end)
                    try scope.output.show(result) {
                        printTable(["SEGMENT", "CLIENTS", "PERCENT"], [
                            ["standalone", String(result.standalone.count), String(format: "%.2f", result.standalone.percentage)],
                            ["resold", String(result.resold.count), String(format: "%.2f", result.resold.percentage)],
                        ])
                    }
                }
            }
        }
    }

    struct Seed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create many synthetic standalone clients, spread over past days (for demos and benchmarks).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "How many clients.") var count: Int
        @Option(help: "Spread their signups over this many past days.") var days = 365
        @Option(help: "Clients per transaction.") var batch = 1_000

        func validate() throws {
            guard (1...100_000_000).contains(count) else { throw ValidationError("--count must be 1…100000000") }
            guard (1...36_500).contains(days) else { throw ValidationError("--days must be 1…36500") }
            guard (1...10_000).contains(batch) else { throw ValidationError("--batch must be 1…10000") }
        }

        func run() async throws {
            let now = Date()
            let clock = ManualWallClock(now: now)
            let run = Refid.generate(prefix: "").rawValue.prefix(8).lowercased()
            let span = TimeInterval.days(days)
            let count = count, batch = batch
            try await withSuite(database, clock: clock) { suite in
                let clients = try suite.clients
                let progress = ProgressBar(total: count, label: "seeding")
                var created = 0
                while created < count {
                    let first = created, size = min(batch, count - created)
                    try await clients.database.write { tx in
                        for index in first..<(first + size) {
                            clock.set(now.addingTimeInterval(-span + span * Double(index) / Double(count)))
                            _ = try clients.make().name("Seed Client \(index)").email("seed-\(run)-\(index)@example.com")
                                .create(actor: "seed", in: tx)
                        }
                    }
                    created += size
                    progress.update(created)
                }
                progress.finish()
                print("created \(count) clients")
            }
        }
    }
}

/// A progress bar on stderr: redrawn in place on a terminal, a line every 10% otherwise.
final class ProgressBar {
    let total: Int
    let label: String
    let started = Date()
    let isTerminal = isatty(STDERR_FILENO) != 0
    var lastDecile = -1

    init(total: Int, label: String) {
        self.total = total
        self.label = label
    }

    func update(_ done: Int) {
        let fraction = total == 0 ? 1 : Double(done) / Double(total)
        let elapsed = max(Date().timeIntervalSince(started), 0.001)
        let rate = Double(done) / elapsed
        let filled = Int(fraction * 30)
        let text = "\(label) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: 30 - filled))] "
            + "\(Int(fraction * 100))% \(done)/\(total) \(Int(rate))/s"
        if isTerminal {
            FileHandle.standardError.write(Data("\r\(text)".utf8))
        } else if Int(fraction * 10) > lastDecile {
            lastDecile = Int(fraction * 10)
            FileHandle.standardError.write(Data("\(text)\n".utf8))
        }
    }

    func finish() {
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
