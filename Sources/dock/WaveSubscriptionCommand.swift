import Suite
import ArgumentParser
import Foundation
import SuiteCore
import SuiteStorage
import Wave

extension BillingInterval: ExpressibleByArgument {}

extension WaveCommand {
    // MARK: Plans

    struct PlanCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "plan", abstract: "Subscription plans: create, list, show, deactivate.",
            subcommands: [Create.self, List.self, Show.self, Deactivate.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a plan: a price billed every interval.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Option(help: "Display name.") var name: String
            @Option(help: "Stable code: a-z, 0-9 and -.") var slug: String
            @Option(help: "Price of one period in minor units (1900 = 19.00).") var price: Int64
            @Option(help: "ISO 4217 currency code.") var currency: String
            @Option(help: "daily, weekly, monthly or yearly.") var interval: BillingInterval

            func run() async throws {
                try await withSuite(database) { suite in
                    let plan = try await suite.subscriptions.plans.create(name: name, slug: slug, price: price, currency: currency,
                                                                          interval: interval, actor: "cli")
                    try printPlan(plan, json: output.json)
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List plans, one page at a time.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @OptionGroup var page: PageOptions

            func run() async throws {
                try await withSuite(database) { suite in
                    let plans = try await suite.subscriptions.plans.list(limit: page.limit, after: page.after)
                    try output.showPage(plans, header: ["REFID", "SLUG", "NAME", "PRICE", "CURRENCY", "INTERVAL", "ACTIVE"]) {
                        [$0.refid.rawValue, $0.slug, $0.name, String($0.price), $0.currency, $0.interval.rawValue,
                         $0.isActive ? "yes" : "no"]
                    }
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show a plan by refid (PL-…) or slug.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "Refid or slug.") var plan: String

            func run() async throws {
                try await withSuite(database) { suite in
                    try printPlan(try await suite.subscriptions.plans.find(refidOrSlug: plan), json: output.json)
                }
            }
        }

        struct Deactivate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Stop new subscriptions to a plan, for good.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "Refid or slug.") var plan: String

            func run() async throws {
                try await withSuite(database) { suite in
                    let subscriptions = try suite.subscriptions
                    let found = try await subscriptions.plans.find(refidOrSlug: plan)
                    try printPlan(try await subscriptions.plans.deactivate(found.refid, actor: "cli"), json: output.json)
                }
            }
        }
    }

    // MARK: Subscriptions

    struct SubscriptionCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "subscription", abstract: "Subscriptions: start, show, list, cancel, history.",
            subcommands: [Start.self, Show.self, List.self, Cancel.self, History.self])

        struct Start: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Subscribe a client to a plan (trialing, or invoiced and paid now).",
                discussion: "Exit status: 0 trialing or paid; 2 requires action (open the printed URL); 1 failed or error.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Option(help: "The client (refid).") var client: Refid
            @Option(help: "The plan (refid or slug).") var plan: String
            @Option(help: "Trial length in days (0: invoice now).") var trialDays = 0

            func run() async throws {
                try await withSuite(database) { suite in
                    let subscriptions = try suite.subscriptions
                    let found = try await subscriptions.plans.find(refidOrSlug: plan)
                    let started = try await subscriptions.start(client: client, plan: found.refid,
                                                                trialDays: trialDays, actor: "cli")
                    var line = "\(started.subscription.refid): \(started.subscription.status)"
                    switch started.payment {
                    case nil:
                        line += " until \(isoString(started.subscription.currentPeriodEnd))"
                    case .paid?:
                        line += ", \(started.invoice?.number ?? "invoice") paid"
                    case .requiresAction(let session)?:
                        line += ": the client must pay \(started.invoice?.number ?? "the invoice") at \(session.url.absoluteString)"
                    case .failed(let failure)?:
                        line += ": payment failed: \(failure.message)"
                    }
                    try output.show(started) { print(line) }
                    if let exit = started.payment?.exitCode { throw exit }
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show a subscription (SB-…).")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "Refid.") var subscription: Refid

            func run() async throws {
                try await withSuite(database) { suite in
                    try printSubscription(try await suite.subscriptions.find(subscription), json: output.json)
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List subscriptions (of one client with --client), oldest first.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Option(help: "Only this client's subscriptions (refid).") var client: Refid?
            @OptionGroup var page: PageOptions

            func run() async throws {
                try await withSuite(database) { suite in
                    let subscriptions = try suite.subscriptions
                    let listed = if let client {
                        try await subscriptions.getByClient(client, limit: page.limit, after: page.after)
                    } else {
                        try await subscriptions.list(limit: page.limit, after: page.after)
                    }
                    try output.showPage(listed, header: ["REFID", "CLIENT", "PLAN", "STATUS", "PERIOD END", "CANCEL AT END"]) {
                        [$0.refid.rawValue, $0.client.rawValue, $0.planSlug, $0.status.rawValue, isoString($0.currentPeriodEnd),
                         $0.cancelAtPeriodEnd ? "yes" : "no"]
                    }
                }
            }
        }

        struct Cancel: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Cancel at the period end (default), or now with --now.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "Refid.") var subscription: Refid
            @Flag(help: "Cancel immediately instead of at the period end.") var now = false
            @Option(help: "Why, for the audit trail.") var reason: String?

            func run() async throws {
                try await withSuite(database) { suite in
                    let canceled = try await suite.subscriptions.cancel(subscription, atPeriodEnd: !now, actor: "cli",
                                                                        reason: reason)
                    try printSubscription(canceled, json: output.json)
                }
            }
        }

        struct History: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "A subscription's audit trail, oldest first.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "Refid.") var subscription: Refid

            func run() async throws {
                try await withSuite(database) { suite in
                    let trail = try await suite.subscriptions.auditTrail(of: subscription)
                    try printAuditTrail(trail, json: output.json)
                }
            }
        }
    }

    // MARK: Renewal

    struct Renew: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Invoice due subscriptions and attempt payment (what the renewal service does each tick).",
            discussion: "Runs batches until one is not full or --limit subscriptions were renewed; progress goes to stderr. Exit status 1 when a renewal failed (it is retried next run).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "The most subscriptions to renew, 1…1000000.") var limit = 10_000
        @Option(help: "Subscriptions per transaction batch, 1…10000.") var batch = 500

        func validate() throws {
            guard (1...1_000_000).contains(limit) else { throw ValidationError("--limit must be 1…1000000") }
            guard (1...10_000).contains(batch) else { throw ValidationError("--batch must be 1…10000") }
        }

        func run() async throws {
            try await withSuite(database) { suite in
                let subscriptions = try suite.subscriptions
                var total = RenewalReport()
                while total.renewed + total.canceled < limit {
                    let size = min(batch, limit - total.renewed - total.canceled)
                    let before = total
                    let report = try await subscriptions.renewDue(limit: size, actor: "cli") { partial in
                        let examined = before.examined + partial.examined
                        if examined % 100 == 0 {
                            FileHandle.standardError.write(Data("renewing: \(examined) examined, \(before.renewed + partial.renewed) renewed\n".utf8))
                        }
                    }
                    total.add(report)
                    if report.renewed + report.canceled < size { break }
                }
                try output.show(total) {
                    print("renewed \(total.renewed), paid \(total.paid), past due \(total.pastDue), activated \(total.activated), "
                          + "canceled \(total.canceled), failed \(total.failed)")
                }
                if total.failed > 0 { throw ExitCode.failure }
            }
        }
    }
}

func printPlan(_ plan: Plan, json: Bool) throws {
    if json { return try printJSON(plan) }
    printTable(["FIELD", "VALUE"], [
        ["refid", plan.refid.rawValue], ["slug", plan.slug], ["name", plan.name], ["price", String(plan.price)],
        ["currency", plan.currency], ["interval", plan.interval.rawValue], ["active", plan.isActive ? "yes" : "no"],
    ])
}

func printSubscription(_ subscription: Subscription, json: Bool) throws {
    if json { return try printJSON(subscription) }
    printTable(["FIELD", "VALUE"], [
        ["refid", subscription.refid.rawValue], ["client", subscription.client.rawValue], ["plan", subscription.planSlug],
        ["price", "\(subscription.price) \(subscription.currency) \(subscription.interval)"],
        ["status", subscription.status.rawValue], ["trial ends", subscription.trialEndsAt.map(isoString) ?? "-"],
        ["period", "\(isoString(subscription.currentPeriodStart)) – \(isoString(subscription.currentPeriodEnd))"],
        ["cancel at period end", subscription.cancelAtPeriodEnd ? "yes" : "no"],
        ["canceled", subscription.canceledAt.map(isoString) ?? "-"],
        ["latest invoice", subscription.latestInvoice?.rawValue ?? "-"],
    ])
}
