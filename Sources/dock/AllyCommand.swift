import Suite
import Ally
import ArgumentParser
import Foundation
import SuiteCore
import SuiteStorage
import Wallet

struct AllyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ally",
        abstract: "Manage resellers and their credits: create, show, list, credit, provision, balance, history, reconcile, analytics.",
        subcommands: [Create.self, Show.self, List.self, Credit.self, Provision.self, Balance.self, History.self,
                      Suspend.self, Reinstate.self, Reconcile.self, Analytics.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a reseller and open its credit wallet.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "The user account that owns the reseller (one reseller per user).") var user: String
        @Option(help: "Company name.") var company: String
        @Option(help: "Tier: standard, gold or platinum.") var tier = "standard"
        @Option(help: "Metadata as key=value (repeatable).") var metadata: [String] = []

        func validate() throws {
            guard ResellerTier(rawValue: tier.lowercased()) != nil else { throw ValidationError("--tier must be standard, gold or platinum") }
        }

        func run() async throws {
            try await withSuite(database) { suite in
                let reseller = try await suite.allies.make().user(user).company(company).tier(ResellerTier(rawValue: tier.lowercased())!)
                    .metadata(try parseMetadata(metadata)).create(actor: "cli")
                try printReseller(reseller, balance: 0, json: output.json)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a reseller and its balance.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The reseller's refid (RS-…).") var refid: Refid

        func run() async throws {
            try await withSuite(database) { suite in
                let allies = try suite.allies
                let reseller = try await allies.find(refid)
                try printReseller(reseller, balance: try await allies.balance(reseller.refid), json: output.json)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List resellers, one page at a time.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var page: PageOptions

        func run() async throws {
            try await withSuite(database) { suite in
                let resellers = try await suite.allies.list(limit: page.limit, after: page.after)
                try output.showPage(resellers, header: ["REFID", "COMPANY", "TIER", "STATUS", "USER"]) {
                    [$0.refid.rawValue, $0.company, $0.tier.rawValue, $0.status.rawValue, $0.userID]
                }
            }
        }
    }

    struct Credit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add credits to a reseller's wallet (administrative).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The reseller's refid.") var refid: Refid
        @Argument(help: "Credits to add (a positive integer).") var amount: Int64
        @Option(help: "Who is acting.") var actor = "cli"
        @Option(help: "Makes a retried top-up apply once.") var idempotencyKey: String?

        func run() async throws {
            try await withSuite(database) { suite in
                let transfer = try await suite.allies.addCredits(refid, amount, actor: actor,
                                                                 idempotencyKey: idempotencyKey)
                try output.show(transfer) { print("\(refid): +\(amount) credits, balance \(transfer.creditBalanceAfter)") }
            }
        }
    }

    struct Provision: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Spend credits for an action; refused if the balance is short.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The reseller's refid.") var refid: Refid
        @Argument(help: "Cost in credits (a positive integer).") var cost: Int64
        @Option(help: "What the credits pay for.") var action: String
        @Option(help: "Makes a retried provision spend once (required).") var idempotencyKey: String

        func run() async throws {
            try await withSuite(database) { suite in
                let provision = try await suite.allies.provision(refid, cost: cost, action: action,
                                                                 idempotencyKey: idempotencyKey)
                try output.show(provision) {
                    print("\(refid): -\(cost) credits for \(provision.action), balance \(provision.balanceAfter)"
                          + (provision.isNew ? "" : " (already done under this key)"))
                }
            }
        }
    }

    struct Balance: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A reseller's credit balance.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The reseller's refid.") var refid: Refid

        func run() async throws {
            try await withSuite(database) { suite in
                let balance = try await suite.allies.balance(refid)
                try output.show(ResellerBalance(reseller: refid, balance: balance)) { print(balance) }
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A reseller's credit movements, newest first.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The reseller's refid.") var refid: Refid
        @OptionGroup var page: PageOptions

        func run() async throws {
            try await withSuite(database) { suite in
                let allies = try suite.allies
                let reseller = try await allies.find(refid)
                let movements = try await allies.ledger.history(of: reseller.wallet, limit: page.limit, after: page.after)
                try output.showPage(movements, header: ["AT", "AMOUNT", "BALANCE", "DESCRIPTION"]) {
                    [isoString($0.createdAt), String($0.amount), String($0.balanceAfter), $0.description]
                }
            }
        }
    }

    struct StatusOptions: ParsableArguments {
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The reseller's refid.") var refid: Refid
        @Option(help: "Why, for the audit trail.") var reason: String?

        func apply(_ change: @escaping @Sendable (Allies, Refid, String?) async throws -> Reseller) async throws {
            try await withSuite(database) { suite in
                let reseller = try await change(try suite.allies, refid, reason)
                try output.show(reseller) { print("\(reseller.refid): \(reseller.status)") }
            }
        }
    }

    struct Suspend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Suspend a reseller: it can no longer provision or take clients.")
        @OptionGroup var options: StatusOptions
        func run() async throws { try await options.apply { try await $0.suspend($1, actor: "cli", reason: $2) } }
    }

    struct Reinstate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reinstate a suspended reseller.")
        @OptionGroup var options: StatusOptions
        func run() async throws { try await options.apply { try await $0.reinstate($1, actor: "cli", reason: $2) } }
    }

    struct Reconcile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every cached balance against its ledger entries; exits non-zero on a mismatch.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await withSuite(database) { suite in
                let report = try await suite.allies.ledger.reconcile()
                try output.show(report) {
                    print("\(report.accountsChecked) accounts checked: " + (report.isClean ? "clean" : "\(report.mismatches.count) mismatches"))
                    for mismatch in report.mismatches {
                        print("  \(mismatch.account): cached \(mismatch.cachedBalance), entries \(mismatch.sumOfEntries)")
                    }
                }
                if !report.isClean { throw ExitCode.failure }
            }
        }
    }
}

func printReseller(_ reseller: Reseller, balance: Int64, json: Bool) throws {
    if json {
        try printJSON(Merged(reseller, ResellerBalance(reseller: reseller.refid, balance: balance)))
    } else {
        printTable(["FIELD", "VALUE"], [
            ["refid", reseller.refid.rawValue], ["company", reseller.company], ["user", reseller.userID],
            ["tier", reseller.tier.rawValue], ["status", reseller.status.rawValue], ["balance", String(balance)],
            ["metadata", reseller.metadata.isEmpty ? "{}" : reseller.metadata.jsonText()],
            ["created", isoString(reseller.createdAt)],
        ])
    }
}
