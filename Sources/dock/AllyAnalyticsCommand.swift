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
        }

        struct Top: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Resellers ranked by clients acquired and credits spent.")
            @OptionGroup var common: Common
            @Option(help: "How many, 1…500.") var limit = 10
            @Option(help: "First day, YYYY-MM-DD (UTC).") var from: String?
            @Option(help: "Last day, YYYY-MM-DD (UTC), inclusive.") var to: String?
            @Flag(help: "Rank by credits spent first (default: clients acquired first).") var bySpend = false

            func run() async throws {
                let start = try from.map { try parseDate($0, "from") }, end = try to.map { try parseDate($0, "to") }
                try await withSuite(common.database) { suite in
                    let allies = try suite.allies
                    let ranking = try await allies.analytics().topResellers(limit: limit, from: start, to: end,
                                                                             by: bySpend ? .creditsSpent : .clientsAcquired)
                    if common.output.json {
                        try printJSON(ranking)
                    } else {
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
                try await withSuite(common.database) { suite in
                    let allies = try suite.allies
                    let snapshot = try await allies.analytics().tierSnapshot()
                    if common.output.json {
                        try printJSON(snapshot)
                    } else {
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
            @Option(help: "First day, YYYY-MM-DD (UTC).") var from: String
            @Option(help: "Last day, YYYY-MM-DD (UTC), inclusive.") var to: String
            @Option(help: "Only this reseller (refid).") var reseller: String?

            func run() async throws {
                let start = try parseDate(from, "from"), end = try parseDate(to, "to")
                try await withSuite(common.database) { suite in
                    let allies = try suite.allies
                    let points = try await allies.analytics().interval(interval).forReseller(reseller.map(Refid.init(rawValue:)))
                        .creditTrends(from: start, to: end)
                    if common.output.json {
                        try printJSON(points)
                    } else {
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
                try await withSuite(common.database) { suite in
                    let allies = try suite.allies
                    let total = try await allies.analytics().totalCreditsDistributed()
                    if common.output.json { try printJSON(CreditsDistributed(totalCreditsDistributed: total)) } else { print(total) }
                }
            }
        }

        struct Stats: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "One reseller's balance, credits, provisions and clients.")
            @OptionGroup var common: Common
            @Argument(help: "The reseller's refid.") var refid: String

            func run() async throws {
                try await withSuite(common.database) { suite in
                    let allies = try suite.allies
                    let stats = try await allies.analytics().resellerStats(Refid(rawValue: refid))
                    if common.output.json { try printJSON(stats) } else { try printFields(stats) }
                }
            }
        }
    }
}

/// The credits resellers hold, as `dock ally analytics outstanding --json` prints it.
struct CreditsDistributed: Encodable {
    var totalCreditsDistributed: Int64
}

extension JSONValue {
    /// The value as a table cell: strings bare, null as "-".
    var plainText: String {
        switch self {
        case .string(let text): text
        case .null: "-"
        case .int(let n): String(n)
        default: (try? String(decoding: JSONEncoder().encode(self), as: UTF8.self)) ?? "-"
        }
    }
}
