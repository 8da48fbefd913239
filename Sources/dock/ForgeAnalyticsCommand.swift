import Suite
import ArgumentParser
import Forge
import Foundation
import SuiteCore

extension ForgeCommand {
    struct Analytics: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Licence analytics: minting stats, expiry forecast, product popularity, minting and activation trends.",
            subcommands: [Stats.self, Forecast.self, Products.self, Trends.self])

        struct Scope: ParsableArguments {
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Option(help: "Only this client's licences (refid).") var client: String?
            @Option(help: "Only licences of this reseller's clients (refid).") var reseller: String?

            func analytics(_ licences: Licences) -> ForgeAnalytics {
                licences.analytics().forClient(client.map(Refid.init(rawValue:))).forReseller(reseller.map(Refid.init(rawValue:)))
            }
        }

        struct Stats: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Licences minted in a range, total and by status now.")
            @OptionGroup var scope: Scope
            @Option(help: "First day, YYYY-MM-DD (UTC).") var from: String?
            @Option(help: "Last day, YYYY-MM-DD (UTC), inclusive.") var to: String?

            func run() async throws {
                let start = try from.map { try parseDate($0, "from") }, end = try to.map { try parseDate($0, "to") }
                try await withSuite(scope.database) { suite in
                    let licences = try suite.licences
                    let stats = try await scope.analytics(licences).mintingStats(from: start, to: end)
                    if scope.output.json {
                        try printJSON(stats)
                    } else {
                        printTable(["STATUS", "LICENCES"], LicenceStatus.allCases.map { [$0.rawValue, String(stats[$0])] }
                            + [["total", String(stats.total)]])
                    }
                }
            }
        }

        struct Forecast: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Active licences ending on each of the next N days.")
            @OptionGroup var scope: Scope
            @Option(help: "How many days ahead, today included.") var days = 30

            func run() async throws {
                try await withSuite(scope.database) { suite in
                    let licences = try suite.licences
                    let points = try await scope.analytics(licences).expirationForecast(days: days)
                    try printTrend(points, header: "EXPIRING", json: scope.output.json)
                }
            }
        }

        struct Products: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Products by licences minted (and activated) in a range.")
            @OptionGroup var scope: Scope
            @Option(help: "First day, YYYY-MM-DD (UTC).") var from: String?
            @Option(help: "Last day, YYYY-MM-DD (UTC), inclusive.") var to: String?

            func run() async throws {
                let start = try from.map { try parseDate($0, "from") }, end = try to.map { try parseDate($0, "to") }
                try await withSuite(scope.database) { suite in
                    let licences = try suite.licences
                    let products = try await scope.analytics(licences).productPopularity(from: start, to: end)
                    if scope.output.json {
                        try printJSON(products)
                    } else {
                        printTable(["PRODUCT", "MINTED", "ACTIVATED"], products.map { [$0.product, String($0.minted), String($0.activated)] })
                    }
                }
            }
        }

        struct Trends: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Licences minted (or activated) per day, month or year.")
            @OptionGroup var scope: Scope
            @Flag(help: "Bucket size.") var interval: Interval = .monthly
            @Flag(help: "Count activations instead of mints.") var activations = false
            @Option(help: "First day, YYYY-MM-DD (UTC).") var from: String
            @Option(help: "Last day, YYYY-MM-DD (UTC), inclusive.") var to: String

            func run() async throws {
                let start = try parseDate(from, "from"), end = try parseDate(to, "to")
                try await withSuite(scope.database) { suite in
                    let licences = try suite.licences
                    let analytics = scope.analytics(licences).interval(interval)
                    let points = activations
                        ? try await analytics.activationTrends(from: start, to: end)
                        : try await analytics.mintingTrends(from: start, to: end)
                    try printTrend(points, header: activations ? "ACTIVATED" : "MINTED", json: scope.output.json)
                }
            }
        }
    }
}

func printTrend(_ points: [TrendPoint], header: String, json: Bool) throws {
    if json {
        try printJSON(points)
    } else {
        let maximum = points.map(\.count).max() ?? 0
        printTable(["BUCKET", header, ""], points.map { [$0.bucket, String($0.count), bar($0.count, of: maximum)] })
    }
}
