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
                let allies = try suite.allies
                let reseller = try await allies.make().user(user).company(company).tier(ResellerTier(rawValue: tier.lowercased())!)
                    .metadata(try parseMetadata(metadata)).create(actor: "cli")
                try printReseller(reseller, balance: 0, json: output.json)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a reseller and its balance.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The reseller's refid (RS-…).") var refid: String

        func run() async throws {
            try await withSuite(database) { suite in
                let allies = try suite.allies
                guard let reseller = try await allies.findByRefid(Refid(rawValue: refid)) else {
                    throw AllyError(.notFound, message: "Reseller Not Found: no reseller with refid \(refid.prefix(64))")
                }
                try printReseller(reseller, balance: try await allies.balance(reseller.refid), json: output.json)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List resellers, one page at a time.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Page size, 1…500.") var limit = 50
        @Option(help: "Cursor printed by the previous page.") var after: Cursor?

        func run() async throws {
            try await withSuite(database) { suite in
                let allies = try suite.allies
                let page = try await allies.list(limit: limit, after: after)
                if output.json {
                    try printJSON(page)
                } else {
                    printTable(["REFID", "COMPANY", "TIER", "STATUS", "USER"], page.items.map {
                        [$0.refid.rawValue, $0.company, $0.tier.rawValue, $0.status.rawValue, $0.userID]
                    })
                    if let next = page.nextCursor { print("more: --after \(next)") }
                }
            }
        }
    }

    struct Credit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add credits to a reseller's wallet (administrative).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The reseller's refid.") var refid: String
        @Argument(help: "Credits to add (a positive integer).") var amount: Int64
        @Option(help: "Who is acting.") var actor = "cli"
        @Option(help: "Makes a retried top-up apply once.") var idempotencyKey: String?

        func run() async throws {
            try await withSuite(database) { suite in
                let allies = try suite.allies
                let transfer = try await allies.addCredits(Refid(rawValue: refid), amount, actor: actor, idempotencyKey: idempotencyKey)
                if output.json {
                    try printJSON(transfer)
                } else {
                    print("\(refid): +\(amount) credits, balance \(transfer.creditBalanceAfter)")
                }
            }
        }
    }

    struct Provision: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Spend credits for an action; refused if the balance is short.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The reseller's refid.") var refid: String
        @Argument(help: "Cost in credits (a positive integer).") var cost: Int64
        @Option(help: "What the credits pay for.") var action: String
        @Option(help: "Makes a retried provision spend once (required).") var idempotencyKey: String

        func run() async throws {
            try await withSuite(database) { suite in
                let allies = try suite.allies
                let provision = try await allies.provision(Refid(rawValue: refid), cost: cost, action: action,
                                                           idempotencyKey: idempotencyKey)
                if output.json {
                    try printJSON(provision)
                } else {
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
        @Argument(help: "The reseller's refid.") var refid: String

        func run() async throws {
            try await withSuite(database) { suite in
                let allies = try suite.allies
                let balance = try await allies.balance(Refid(rawValue: refid))
                if output.json { try printJSON(ResellerBalance(reseller: Refid(rawValue: refid), balance: balance)) } else { print(balance) }
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A reseller's credit movements, newest first.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The reseller's refid.") var refid: String
        @Option(help: "Page size, 1…500.") var limit = 50
        @Option(help: "Cursor printed by the previous page.") var after: Cursor?

        func run() async throws {
            try await withSuite(database) { suite in
                let allies = try suite.allies
                guard let reseller = try await allies.findByRefid(Refid(rawValue: refid)) else {
                    throw AllyError(.notFound, message: "Reseller Not Found: no reseller with refid \(refid.prefix(64))")
                }
                let page = try await allies.ledger.history(of: reseller.wallet, limit: limit, after: after)
                if output.json {
                    try printJSON(page)
                } else {
                    printTable(["AT", "AMOUNT", "BALANCE", "DESCRIPTION"], page.items.map {
                        [isoString($0.createdAt), String($0.amount), String($0.balanceAfter), $0.description]
                    })
                    if let next = page.nextCursor { print("more: --after \(next)") }
                }
            }
        }
    }

    struct StatusOptions: ParsableArguments {
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The reseller's refid.") var refid: String
        @Option(help: "Why, for the audit trail.") var reason: String?

        func apply(_ change: @escaping @Sendable (Allies, Refid, String?) async throws -> Reseller) async throws {
            try await withSuite(database) { suite in
                let allies = try suite.allies
                let reseller = try await change(allies, Refid(rawValue: refid), reason)
                print("\(reseller.refid): \(reseller.status)")
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
                let allies = try suite.allies
                let report = try await allies.ledger.reconcile()
                if output.json {
                    try printJSON(report)
                } else {
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

/// A reseller's credit balance, as `dock ally balance --json` prints it.
struct ResellerBalance: Encodable {
    var reseller: Refid
    var balance: Int64
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
