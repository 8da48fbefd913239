import Ally
import ArgumentParser
import Client
import Forge
import Foundation
import Suite
import SuiteCore
import SuiteStorage
import Wave

/// `dock workflow …`: the suite's two end-to-end workflows.
struct WorkflowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workflow",
        abstract: "Reseller provisioning and standalone purchase, end to end.",
        subcommands: [Provision.self, Purchase.self, History.self, Soak.self])

    struct Provision: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A reseller provisions a product for its clients: credits debited, licences activated — one transaction.",
            discussion: "Several --client options make a bulk provisioning: all or nothing. Prints each licence key once.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The reseller (RS-…).") var reseller: Refid
        @Option(name: .customLong("client"), help: "A client of the reseller (CL-…); repeat for a batch.") var clients: [Refid] = []
        @Option(help: "The product slug.") var product: String
        @Option(help: "Retrying with the same key returns the first result and spends nothing.") var idempotencyKey: String

        func run() async throws {
            guard !clients.isEmpty else { throw ValidationError("name at least one --client") }
            try await withSuite(database) { suite in
                let result = try await suite.workflows.provision(reseller: reseller, clients: clients,
                                                                 product: product, idempotencyKey: idempotencyKey, actor: "cli")
                if output.json {
                    return try printJSON(result)
                }
                print("\(result.isNew ? "provisioned" : "already provisioned (same key)"): \(result.licences.count) × \(result.product) "
                      + "for \(result.cost) credits; balance now \(result.balanceAfter)")
                printIssued(result.licences)
            }
        }
    }

    struct Purchase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A standalone client buys a product: invoice, then payment (wallet first, else checkout).",
            discussion: """
                The client is activated and the licence issued only when payment is confirmed: at once by the wallet, or \
                when `dock wave checkout complete SESSION` delivers the gateway's signed webhook. Exit status: 0 paid; \
                2 requires action (prints the checkout session); 1 failed or error.
                """)
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "An existing standalone client (CL-…).") var client: Refid?
        @Option(help: "A new client's name (with --email).") var name: String?
        @Option(help: "A new client's email.") var email: String?
        @Option(help: "The product slug.") var product: String
        @Option(help: "Retrying with the same key uses the same client and invoice.") var idempotencyKey: String

        func validate() throws {
            guard (client == nil) != (name == nil && email == nil), (name == nil) == (email == nil) else {
                throw ValidationError("give --client, or --name with --email")
            }
        }

        func run() async throws {
            let customer: Customer = client.map { .existing($0) } ?? .new(name: name ?? "", email: email ?? "")
            try await withSuite(database) { suite in
                let result = try await suite.workflows.purchase(customer, product: product, idempotencyKey: idempotencyKey, actor: "cli")
                try output.show(result) {
                    switch result.outcome {
                    case .paid(let payment):
                        print("\(result.invoice.number): paid by \(payment.method); client \(result.client.refid) is \(result.client.status)")
                        printIssued(result.licences)
                    case .requiresAction(let session):
                        print("\(result.invoice.number): requires action: pay at \(session.url.absoluteString)")
                        print("client \(result.client.refid) stays \(result.client.status) until the payment is confirmed; to stand for the customer paying:")
                        print("  dock wave checkout complete \(session.id)")
                    case .failed(let failure):
                        print("\(result.invoice.number): failed: \(failure.message)")
                    }
                }
                if let exit = result.outcome.exitCode { throw exit }
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A client's activation history and billing history.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The client (CL-…).") var client: Refid
        @Option(help: "Days of activation history.") var days = 30

        func run() async throws {
            try await withSuite(database) { suite in
                let history = try await suite.workflows.history(of: client, days: days)
                if output.json {
                    return try printJSON(history)
                }
                print("\(history.client.name) (\(history.client.refid)), \(history.client.status)")
                print("\nLicences")
                printTable(["LICENCE", "PRODUCT", "STATUS", "ACTIVATED", "EXPIRES"], history.licences.map {
                    [$0.refid.rawValue, $0.product, $0.effectiveStatus(at: Date()).rawValue, $0.activatedAt.map(isoString) ?? "-",
                     $0.expiresAt.map(isoString) ?? "never"]
                })
                print("\nPayments")
                printTable(["PAYMENT", "INVOICE", "METHOD", "AMOUNT", "AT"], history.payments.map {
                    [$0.refid.rawValue, $0.invoice.rawValue, $0.method, "\($0.amount) \($0.currency)", isoString($0.createdAt)]
                })
                print("\nActivations per day")
                printBars(history.activations.filter { $0.count > 0 }, header: ["DAY", "N", ""])
            }
        }
    }

    /// Runs many workflows in a loop, for the crash test (kill it at any moment; nothing partial remains).
    struct Soak: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run N provisioning and purchase workflows in a loop (for crash testing).", shouldDisplay: false)
        @OptionGroup var database: DatabaseOptions
        @Option(help: "How many workflows.") var count = 200
        @Option(help: "Prefix of this run's idempotency keys and names.") var tag: String

        func run() async throws {
            try await withSuite(database) { suite in
                if try await suite.products.findBySlug("soak-pro") == nil {
                    do {
                        try await suite.products.create(name: "Soak Pro", slug: "soak-pro", price: 1_000, currency: "USD", licenceDays: 30)
                    } catch let error as WaveError where error.code == .duplicateSlug {}
                }
                let reseller = try await suite.allies.make().user("soak-\(tag)").company("Soak \(tag)").gold().create()
                try await suite.allies.addCredits(reseller.refid, 1_000_000, idempotencyKey: "soak-\(tag)")
                for index in 0..<count {
                    if index % 2 == 0 {
                        let client = try await suite.clients.make().name("Soak \(tag) \(index)").email("soak-\(tag)-\(index)@example.com")
                            .reseller(reseller.refid).create()
                        _ = try await suite.workflows.provision(reseller: reseller.refid, clients: [client.refid], product: "soak-pro",
                                                                idempotencyKey: "soak-\(tag)-\(index)")
                    } else {
                        let buyer = try await suite.clients.make().name("Buyer \(tag) \(index)").email("buyer-\(tag)-\(index)@example.com").create()
                        if index % 4 == 1 { try await suite.invoices.topUp(buyer.refid, amount: 1_000, currency: "USD") }
                        let result = try await suite.workflows.purchase(.existing(buyer.refid), product: "soak-pro",
                                                                        idempotencyKey: "soak-\(tag)-\(index)")
                        if case .requiresAction(let session) = result.outcome {
                            try await suite.webhooks().receive(try await suite.gateway.complete(session.id))
                        }
                    }
                    print("workflow \(index + 1)/\(count)")
                }
            }
        }
    }
}


func printIssued(_ licences: [IssuedLicence]) {
    guard !licences.isEmpty else { return }
    printTable(["LICENCE", "CLIENT", "PRODUCT", "EXPIRES", "KEY (shown once)"], licences.map {
        [$0.licence.refid.rawValue, $0.licence.client?.rawValue ?? "-", $0.licence.product,
         $0.licence.expiresAt.map(isoString) ?? "never", $0.key?.rawValue ?? "(issued earlier)"]
    })
}
