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
            @Option(help: "Only this client's licences (refid).") var client: Refid?
            @Option(help: "Only licences of this reseller's clients (refid).") var reseller: Refid?

            /// Runs `body` with the analytics of the licences in scope: all, the client's or the reseller's clients'.
            func withAnalytics(_ body: (ForgeAnalytics) async throws -> Void) async throws {
                try await withSuite(database) { suite in
                    try await body(try suite.licences.analytics().forClient(client).forReseller(reseller))
                }
            }
        }

        struct Stats: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Licences minted in a range, total and by status now.")
            @OptionGroup var scope: Scope
            @OptionGroup var range: OptionalDayRange

            func run() async throws {
                let (start, end) = try range.days()
                try await scope.withAnalytics { analytics in
                    let stats = try await analytics.mintingStats(from: start, to: end)
                    try scope.output.show(stats) {
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
                try await scope.withAnalytics { analytics in
                    try printTrend(try await analytics.expirationForecast(days: days), header: "EXPIRING", json: scope.output.json)
                }
            }
        }

        struct Products: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Products by licences minted (and activated) in a range.")
            @OptionGroup var scope: Scope
            @OptionGroup var range: OptionalDayRange

            func run() async throws {
                let (start, end) = try range.days()
                try await scope.withAnalytics { analytics in
                    let products = try await analytics.productPopularity(from: start, to: end)
                    try scope.output.show(products) {
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
            @OptionGroup var range: DayRange

            func run() async throws {
                let (start, end) = try range.days()
                try await scope.withAnalytics { analytics in
                    let bucketed = analytics.interval(interval)
                    let points = activations
                        ? try await bucketed.activationTrends(from: start, to: end)
                        : try await bucketed.mintingTrends(from: start, to: end)
                    try printTrend(points, header: activations ? "ACTIVATED" : "MINTED", json: scope.output.json)
                }
            }
        }
    }
}
