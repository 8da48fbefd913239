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
            @Option(help: "Only clients of this reseller (refid).") var reseller: String?

            func analytics(_ clients: Clients) -> ClientAnalytics {
                clients.analytics().forReseller(reseller.map(Refid.init(rawValue:)))
            }
        }

        struct Signups: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Signups per day, month or year, with a bar chart.")
            @OptionGroup var scope: Scope
            @Flag(help: "Bucket size.") var interval: Interval = .monthly
            @Option(help: "First day, YYYY-MM-DD (UTC).") var from: String
            @Option(help: "Last day, YYYY-MM-DD (UTC), inclusive.") var to: String

            func run() async throws {
                let start = try parseDate(from, "from"), end = try parseDate(to, "to")
                try await withSuite(scope.database) { suite in
                    let clients = try suite.clients
                    let points = try await scope.analytics(clients).interval(interval).signupTrends(from: start, to: end)
                    if scope.output.json {
                        try printJSON(points)
                    } else {
                        let maximum = points.map(\.count).max() ?? 0
                        printTable(["BUCKET", "SIGNUPS", ""], points.map { [$0.bucket, String($0.count), bar($0.count, of: maximum)] })
                    }
                }
            }
        }

        struct Status: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Clients by current status.")
            @OptionGroup var scope: Scope
            @Option(help: "Only clients created from this day (YYYY-MM-DD).") var from: String?
            @Option(help: "Only clients created up to this day (YYYY-MM-DD).") var to: String?

            func run() async throws {
                let start = try from.map { try parseDate($0, "from") }, end = try to.map { try parseDate($0, "to") }
                try await withSuite(scope.database) { suite in
                    let clients = try suite.clients
                    let breakdown = try await scope.analytics(clients).statusBreakdown(from: start, to: end)
                    if scope.output.json {
                        try printJSON(breakdown)
                    } else {
                        printTable(["STATUS", "CLIENTS"], ClientStatus.allCases.map { [$0.rawValue, String(breakdown[$0])] })
                    }
                }
            }
        }

        struct Growth: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "New clients in a period, against the period before it.")
            @OptionGroup var scope: Scope
            @Option(help: "First day, YYYY-MM-DD.") var from: String
            @Option(help: "Last day, YYYY-MM-DD, inclusive.") var to: String

            func run() async throws {
                let start = try parseDate(from, "from"), end = try parseDate(to, "to")
                try await withSuite(scope.database) { suite in
                    let clients = try suite.clients
                    let growth = try await scope.analytics(clients).growth(from: start, to: end)
                    let change = growth.changePercentage.map { String(format: "%.2f", $0) }
                    if scope.output.json {
                        try printJSON(growth)
                    } else {
                        printTable(["NEW CLIENTS", "PREVIOUS PERIOD", "CHANGE %"],
                                   [[String(growth.newClients), String(growth.previousPeriod), change ?? "-"]])
                    }
                }
            }
        }

        struct Segmentation: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Standalone versus resold clients.")
            @OptionGroup var scope: Scope
            @Option(help: "Only clients created from this day (YYYY-MM-DD).") var from: String?
            @Option(help: "Only clients created up to this day (YYYY-MM-DD).") var to: String?

            func run() async throws {
                let start = try from.map { try parseDate($0, "from") }, end = try to.map { try parseDate($0, "to") }
                try await withSuite(scope.database) { suite in
                    let clients = try suite.clients
                    let result = try await scope.analytics(clients).segmentation(from: start, to: end)
                    if scope.output.json {
                        try printJSON(result)
                    } else {
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

extension Interval: EnumerableFlag {}

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
