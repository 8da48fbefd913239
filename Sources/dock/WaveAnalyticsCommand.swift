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
            @Option(help: "Only this client (refid).") var client: String?
        }

        struct Revenue: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Money received per day, month or year, in one currency.")
            @OptionGroup var common: Common
            @Flag(help: "Bucket size.") var interval: Interval = .monthly
            @Option(help: "First day, YYYY-MM-DD (UTC).") var from: String
            @Option(help: "Last day, YYYY-MM-DD (UTC), inclusive.") var to: String
            @Option(help: "ISO 4217 currency code.") var currency: String

            func run() async throws {
                let start = try parseDate(from, "from"), end = try parseDate(to, "to")
                try await withSuite(common.database) { suite in
                    let points = try await suite.invoices.analytics().interval(interval)
                        .forClient(common.client.map(Refid.init(rawValue:))).revenueTrends(from: start, to: end, currency: currency)
                    if common.output.json {
                        try printJSON(points)
                    } else {
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
            @Option(help: "First day, YYYY-MM-DD (UTC).") var from: String?
            @Option(help: "Last day, YYYY-MM-DD (UTC), inclusive.") var to: String?

            func run() async throws {
                let start = try from.map { try parseDate($0, "from") }, end = try to.map { try parseDate($0, "to") }
                try await withSuite(common.database) { suite in
                    let totals = try await suite.invoices.analytics().forClient(common.client.map(Refid.init(rawValue:)))
                        .totals(from: start, to: end)
                    if common.output.json {
                        try printJSON(totals)
                    } else {
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
                try await withSuite(common.database) { suite in
                    let mrr = try await suite.invoices.analytics().forClient(common.client.map(Refid.init(rawValue:))).mrr()
                    if common.output.json {
                        try printJSON(mrr)
                    } else {
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
