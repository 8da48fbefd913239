import Suite
import ArgumentParser
import Foundation
import SuiteCore
import Wave

extension WaveCommand {
    struct Analytics: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revenue analytics: revenue per day, month or year; totals; monthly recurring revenue.",
            subcommands: [Revenue.self, Totals.self, MRR.self])

        struct Common: ParsableArguments {
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Option(help: "Only this client (refid).") var client: Refid?

            /// Runs `body` with the revenue analytics of all clients, or of the one client.
            func withAnalytics(_ body: (WaveAnalytics) async throws -> Void) async throws {
                try await withSuite(database) { suite in
                    try await body(try suite.invoices.analytics().forClient(client))
                }
            }
        }

        struct Revenue: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Money received per day, month or year, in one currency.")
            @OptionGroup var common: Common
            @Flag(help: "Bucket size.") var interval: Interval = .monthly
            @OptionGroup var range: DayRange
            @Option(help: "ISO 4217 currency code.") var currency: String

            func run() async throws {
                let (start, end) = try range.days()
                try await common.withAnalytics { analytics in
                    let points = try await analytics.interval(interval).revenueTrends(from: start, to: end, currency: currency)
                    try common.output.show(points) {
                        let maximum = points.map(\.amount).max() ?? 0
                        printTable(["BUCKET", "REVENUE", "PAYMENTS", ""], points.map {
                            [$0.bucket, String($0.amount), String($0.payments), bar($0.amount, of: maximum)]
                        })
                    }
                }
            }
        }

        struct Totals: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Revenue per currency, invoices paid, and invoices still open (all time, or in a range).")
            @OptionGroup var common: Common
            @OptionGroup var range: OptionalDayRange

            func run() async throws {
                let (start, end) = try range.days()
                try await common.withAnalytics { analytics in
                    let totals = try await analytics.totals(from: start, to: end)
                    try common.output.show(totals) {
                        let currencies = Set(totals.revenue.keys).union(totals.outstanding.keys).sorted()
                        printTable(["CURRENCY", "REVENUE", "OUTSTANDING"], currencies.map {
                            [$0, String(totals.revenue[$0] ?? 0), String(totals.outstanding[$0] ?? 0)]
                        })
                        print("paid invoices \(totals.paidInvoices), open invoices \(totals.openInvoices)")
                    }
                }
            }
        }

        struct MRR: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "mrr",
                abstract: "Monthly recurring revenue per currency (active and past-due subscriptions; yearly ÷12, weekly ×52/12, daily ×365/12).")
            @OptionGroup var common: Common

            func run() async throws {
                try await common.withAnalytics { analytics in
                    let mrr = try await analytics.mrr()
                    try common.output.show(mrr) {
                        printTable(["CURRENCY", "MRR", "PAST DUE SHARE", "ACTIVE", "PAST DUE"], mrr.map {
                            [$0.currency, String($0.amount), String($0.pastDueAmount), String($0.activeSubscriptions),
                             String($0.pastDueSubscriptions)]
                        })
                    }
                }
            }
        }
    }
}
