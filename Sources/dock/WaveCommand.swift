import ArgumentParser
import Client
import Foundation
import Suite
import SuiteCore
import SuiteStorage
import Wallet
import Wave

struct WaveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wave",
        abstract: "Billing: products, invoices, client wallets and payment.",
        subcommands: [ProductCommand.self, InvoiceCommand.self, WalletCommand.self, Pay.self, CheckoutCommand.self, PlanCommand.self,
                      SubscriptionCommand.self, Renew.self, Analytics.self])

    // MARK: Products

    struct ProductCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "product", abstract: "One-time products: create, list, show, deactivate.",
            subcommands: [Create.self, List.self, Show.self, Deactivate.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a product (its slug is Forge's product code).")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Option(help: "Display name.") var name: String
            @Option(help: "Stable code: a-z, 0-9 and -.") var slug: String
            @Option(help: "Price in minor units (4900 = 49.00).") var price: Int64
            @Option(help: "ISO 4217 currency code.") var currency: String
            @Option(help: "Licence term in days (none: lifetime).") var licenceDays: Int?

            func run() async throws {
                try await withSuite(database) { suite in
                    let product = try await suite.products.create(name: name, slug: slug, price: price, currency: currency,
                                                                 licenceDays: licenceDays, actor: "cli")
                    try printProduct(product, json: output.json)
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List products, one page at a time.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @OptionGroup var page: PageOptions

            func run() async throws {
                try await withSuite(database) { suite in
                    let products = try await suite.products.list(limit: page.limit, after: page.after)
                    try output.showPage(products, header: ["REFID", "SLUG", "NAME", "PRICE", "CURRENCY", "ACTIVE"]) {
                        [$0.refid.rawValue, $0.slug, $0.name, String($0.price), $0.currency, $0.isActive ? "yes" : "no"]
                    }
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show a product by refid (PR-…) or slug.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "Refid or slug.") var product: String

            func run() async throws {
                try await withSuite(database) { suite in
                    try printProduct(try await suite.products.find(refidOrSlug: product), json: output.json)
                }
            }
        }

        struct Deactivate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Take a product off sale, for good.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "Refid or slug.") var product: String

            func run() async throws {
                try await withSuite(database) { suite in
                    let found = try await suite.products.find(refidOrSlug: product)
                    try printProduct(try await suite.products.deactivate(found.refid, actor: "cli"), json: output.json)
                }
            }
        }
    }

    // MARK: Invoices

    struct InvoiceCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "invoice", abstract: "Invoices: create, show, list, void, uncollectible, mark-paid.",
            subcommands: [Create.self, Show.self, List.self, VoidInvoice.self, Uncollectible.self, MarkPaid.self, History.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Issue an invoice to a client.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Option(help: "The client (refid).") var client: Refid
            @Option(help: "ISO 4217 currency code.") var currency: String
            @Option(help: "A line as \"Text:AMOUNT[:QUANTITY]\", amount in minor units (repeatable).") var line: [String] = []
            @Option(help: "A single-line invoice of this many minor units, described by --description (instead of --line).")
            var amount: Int64?
            @Option(help: "What the invoice is for.") var description: String?
            @Option(help: "Days until due (default 0: due now).") var dueDays = 0

            func validate() throws {
                if line.isEmpty && amount == nil {
                    throw ValidationError("give --amount N, or at least one --line \"Text:AMOUNT[:QUANTITY]\"")
                }
                if !line.isEmpty && amount != nil { throw ValidationError("give --amount or --line, not both") }
                for text in line { _ = try parseLine(text) }
            }

            func run() async throws {
                try await withSuite(database) { suite in
                    var builder = try suite.invoices.make().for(client).currency(currency).due(inDays: dueDays)
                    if let description { builder = builder.description(description) }
                    if let amount { builder = builder.amount(amount) }
                    for text in line {
                        let parsed = try parseLine(text)
                        builder = builder.line(parsed.text, amount: parsed.amount, quantity: parsed.quantity)
                    }
                    try printInvoice(try await builder.create(actor: "cli"), json: output.json)
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show an invoice by refid (IN-…) or number (INV-…).")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "Refid or number.") var invoice: String

            func run() async throws {
                try await withSuite(database) { suite in try printInvoice(try await suite.invoices.find(refidOrNumber: invoice), json: output.json) }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List invoices (of one client with --client), oldest first.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Option(help: "Only this client's invoices (refid).") var client: Refid?
            @OptionGroup var page: PageOptions

            func run() async throws {
                try await withSuite(database) { suite in
                    let invoices = if let client {
                        try await suite.invoices.getByClient(client, limit: page.limit, after: page.after)
                    } else {
                        try await suite.invoices.list(limit: page.limit, after: page.after)
                    }
                    try output.showPage(invoices, header: ["NUMBER", "REFID", "CLIENT", "TOTAL", "CURRENCY", "STATUS", "DUE"]) {
                        [$0.number, $0.refid.rawValue, $0.client.rawValue, String($0.total), $0.currency, $0.status.rawValue,
                         isoString($0.dueAt)]
                    }
                }
            }
        }

        struct StatusOptions: ParsableArguments {
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "Refid or number.") var invoice: String
            @Option(help: "Why, for the audit trail.") var reason: String?

            func apply(_ change: @escaping @Sendable (Invoices, Refid, String?) async throws -> Invoice) async throws {
                try await withSuite(database) { suite in
                    let found = try await suite.invoices.find(refidOrNumber: invoice)
                    try printInvoice(try await change(suite.invoices, found.refid, reason), json: output.json)
                }
            }
        }

        struct VoidInvoice: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "void", abstract: "Void an open or uncollectible invoice.")
            @OptionGroup var options: StatusOptions
            func run() async throws { try await options.apply { try await $0.void($1, actor: "cli", reason: $2) } }
        }

        struct Uncollectible: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Write off an open invoice (it stays payable).")
            @OptionGroup var options: StatusOptions
            func run() async throws { try await options.apply { try await $0.markUncollectible($1, actor: "cli", reason: $2) } }
        }

        struct MarkPaid: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "mark-paid", abstract: "Record a payment made outside the suite (no ledger movement).")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "Refid or number.") var invoice: String
            @Option(help: "How it was paid: wire, cash, cheque…") var driver: String
            @Option(help: "The external transaction id.") var transactionId: String

            func run() async throws {
                try await withSuite(database) { suite in
                    let found = try await suite.invoices.find(refidOrNumber: invoice)
                    let payment = try await suite.invoices.markAsPaid(found.refid, driver: driver, transactionId: transactionId, actor: "cli")
                    try output.show(Merged(PaymentOutcome.paid(payment), PaidInvoice(found))) {
                        print("\(found.number): paid by \(payment.method) \(payment.reference ?? "")"
                              + (payment.isNew ? "" : " (recorded before)"))
                    }
                }
            }
        }

        struct History: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "An invoice's audit trail, oldest first.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "Refid or number.") var invoice: String

            func run() async throws {
                try await withSuite(database) { suite in
                    let found = try await suite.invoices.find(refidOrNumber: invoice)
                    try printAuditTrail(try await suite.invoices.auditTrail(of: found.refid), json: output.json)
                }
            }
        }
    }

    // MARK: Wallets

    struct WalletCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "wallet", abstract: "Client wallets: topup, balance.", subcommands: [TopUp.self, Balance.self])

        struct TopUp: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "topup", abstract: "Add funds to a client's wallet.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "The client (refid).") var client: Refid
            @Argument(help: "Amount in minor units.") var amount: Int64
            @Option(help: "ISO 4217 currency code.") var currency: String
            @Option(help: "Makes a retried top-up apply once.") var idempotencyKey: String?

            func run() async throws {
                try await withSuite(database) { suite in
                    let transfer = try await suite.invoices.topUp(client, amount: amount, currency: currency,
                                                                 idempotencyKey: idempotencyKey, actor: "cli")
                    try output.show(transfer) { print("\(client): +\(amount) \(transfer.unit), balance \(transfer.creditBalanceAfter)") }
                }
            }
        }

        struct Balance: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "A client's wallet balance in one currency.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "The client (refid).") var client: Refid
            @Option(help: "ISO 4217 currency code.") var currency: String

            func run() async throws {
                try await withSuite(database) { suite in
                    let wallet = try await suite.invoices.wallet(of: client, currency: currency)
                    try output.show(Merged(wallet, AvailableFunds(wallet))) { print("\(wallet.balance) \(wallet.unit)") }
                }
            }
        }
    }

    // MARK: Payment

    struct Pay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Attempt payment: the client's wallet first, else a local checkout session.",
            discussion: "Exit status: 0 paid; 2 requires action (open the printed URL); 1 failed or error.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "Refid or number.") var invoice: String
        @Flag(help: "Do not open a checkout session when the wallet is short: report a failure.") var walletOnly = false
        @Option(help: "Passed to the gateway with a checkout request.") var idempotencyKey: String?

        func run() async throws {
            try await withSuite(database) { suite in
                let found = try await suite.invoices.find(refidOrNumber: invoice)
                let outcome = try await (walletOnly ? suite.invoices.walletOnly() : suite.invoices).attemptPayment(found.refid, idempotencyKey: idempotencyKey, actor: "cli")
                let issued = outcome.isPaid ? (try? suite.fulfilment)?.takeIssued(for: found.refid) ?? [] : []
                try output.show(Merged(outcome, PaidInvoice(found, licences: issued))) {
                    switch outcome {
                    case .paid(let payment):
                        print("\(found.number): paid by \(payment.method)" + (payment.isNew ? "" : " (paid before)"))
                        printIssued(issued)
                    case .requiresAction(let session):
                        print("\(found.number): requires action: the client must pay at \(session.url.absoluteString)")
                    case .failed(let failure):
                        print("\(found.number): failed: \(failure.message)")
                    }
                }
                if let exit = outcome.exitCode { throw exit }
            }
        }
    }
}

extension PaymentOutcome {
    /// The exit status of the commands that pay (`pay`, `subscription start`, `workflow purchase`):
    /// none (0) when paid, 2 when the client must act, 1 when the payment failed.
    var exitCode: ExitCode? {
        switch self {
        case .paid: nil
        case .requiresAction: ExitCode(2)
        case .failed: .failure
        }
    }
}

/// `"Text:AMOUNT[:QUANTITY]"`: the text may itself contain colons; amount and quantity are the last fields.
func parseLine(_ text: String) throws -> (text: String, amount: Int64, quantity: Int64) {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    if parts.count >= 3, let amount = Int64(parts[parts.count - 2]), let quantity = Int64(parts[parts.count - 1]) {
        return (parts.dropLast(2).joined(separator: ":"), amount, quantity)
    }
    if parts.count >= 2, let amount = Int64(parts[parts.count - 1]) {
        return (parts.dropLast().joined(separator: ":"), amount, 1)
    }
    throw ValidationError("--line expects \"Text:AMOUNT[:QUANTITY]\", got \"\(text.prefix(40))\"")
}

func printProduct(_ product: Product, json: Bool) throws {
    if json { return try printJSON(product) }
    printTable(["FIELD", "VALUE"], [
        ["refid", product.refid.rawValue], ["slug", product.slug], ["name", product.name], ["price", String(product.price)],
        ["currency", product.currency], ["licence", product.licenceDays.map { "\($0) days" } ?? "lifetime"],
        ["active", product.isActive ? "yes" : "no"],
    ])
}

func printInvoice(_ invoice: Invoice, json: Bool) throws {
    if json { return try printJSON(invoice) }
    printTable(["FIELD", "VALUE"], [
        ["number", invoice.number], ["refid", invoice.refid.rawValue], ["client", invoice.client.rawValue],
        ["total", "\(invoice.total) \(invoice.currency)"], ["status", invoice.status.rawValue],
        ["description", invoice.description ?? "-"], ["due", isoString(invoice.dueAt)],
        ["paid", invoice.paidAt.map(isoString) ?? "-"],
        ["payment", invoice.paymentMethod.map { "\($0) \(invoice.paymentReference ?? "")" } ?? "-"],
    ])
    printTable(["LINE", "QTY", "UNIT", "AMOUNT"], invoice.lines.map {
        [$0.description, String($0.quantity), String($0.unitAmount), String($0.amount)]
    })
}
