import Suite
import Ally
import ArgumentParser
import Foundation
import SuiteCore

extension AllyCommand {
    struct Analytics: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reseller analytics: top resellers, tiers, credit trends, credits outstanding, one reseller's stats.",
            subcommands: [Top.self, Tiers.self, Credits.self, Outstanding.self, Stats.self])

        struct Common: ParsableArguments {
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions

            /// Runs `body` with the reseller analytics.
            func withAnalytics(_ body: (AllyAnalytics) async throws -> Void) async throws {
                try await withSuite(database) { suite in try await body(try suite.allies.analytics()) }
            }
        }

        struct Top: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Resellers ranked by clients acquired and credits spent.")
            @OptionGroup var common: Common
            @Option(help: "How many, 1…500.") var limit = 10
            @OptionGroup var range: OptionalDayRange
            @Flag(help: "Rank by credits spent first (default: clients acquired first).") var bySpend = false

            func run() async throws {
                let (start, end) = try range.days()
                try await common.withAnalytics { analytics in
                    let ranking = try await analytics.topResellers(limit: limit, from: start, to: end,
                                                                   by: bySpend ? .creditsSpent : .clientsAcquired)
                    try common.output.show(ranking) {
                        printTable(["#", "RESELLER", "COMPANY", "TIER", "CLIENTS", "SPENT", "PROVISIONS"], ranking.enumerated().map {
                            [String($0.offset + 1), $0.element.reseller.rawValue, String($0.element.company.prefix(30)),
                             $0.element.tier.rawValue, String($0.element.clientsAcquired), String($0.element.creditsSpent),
                             String($0.element.provisions)]
                        })
                    }
                }
            }
        }

        struct Tiers: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Resellers per tier, with their outstanding credits.")
            @OptionGroup var common: Common

            func run() async throws {
                try await common.withAnalytics { analytics in
                    let snapshot = try await analytics.tierSnapshot()
                    try common.output.show(snapshot) {
                        printTable(["TIER", "RESELLERS", "ACTIVE", "SUSPENDED", "SHARE", "CREDITS", "DISCOUNT"],
                                   ResellerTier.allCases.map { tier in
                            let t = snapshot.tiers[tier]!
                            return [tier.rawValue, String(t.resellers), String(t.active), String(t.suspended),
                                    String(format: "%.2f%%", t.percentage), String(t.outstandingCredits),
                                    String(format: "%.2f%%", Double(t.discountBasisPoints) / 100)]
                        })
                    }
                }
            }
        }

        struct Credits: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Credits added and spent per day, month or year.")
            @OptionGroup var common: Common
            @Flag(help: "Bucket size.") var interval: Interval = .monthly
            @OptionGroup var range: DayRange
            @Option(help: "Only this reseller (refid).") var reseller: Refid?

            func run() async throws {
                let (start, end) = try range.days()
                try await common.withAnalytics { analytics in
                    let points = try await analytics.interval(interval).forReseller(reseller)
                        .creditTrends(from: start, to: end)
                    try common.output.show(points) {
                        let maximum = points.map(\.spent).max() ?? 0
                        printTable(["BUCKET", "ADDED", "SPENT", "PROVISIONS", ""], points.map {
                            [$0.bucket, String($0.added), String($0.spent), String($0.provisions), bar($0.spent, of: maximum)]
                        })
                    }
                }
            }
        }

        struct Outstanding: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Credits resellers hold right now (sum of their balances).")
            @OptionGroup var common: Common

            func run() async throws {
                try await common.withAnalytics { analytics in
                    let total = try await analytics.totalCreditsDistributed()
                    try common.output.show(CreditsDistributed(totalCreditsDistributed: total)) { print(total) }
                }
            }
        }

        struct Stats: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "One reseller's balance, credits, provisions and clients.")
            @OptionGroup var common: Common
            @Argument(help: "The reseller's refid.") var refid: Refid

            func run() async throws {
                try await common.withAnalytics { analytics in
                    let stats = try await analytics.resellerStats(refid)
                    try common.output.show(stats) { try printFields(stats) }
                }
            }
        }
    }
}

/// The credits resellers hold, as `dock ally analytics outstanding --json` prints it.
struct CreditsDistributed: Encodable {
    var totalCreditsDistributed: Int64
}
