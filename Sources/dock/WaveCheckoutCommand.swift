import ArgumentParser
import Foundation
import Suite
import SuiteCore
import Wave

extension WaveCommand {
    /// `dock wave checkout …`: the local hosted-checkout gateway's sessions and signed webhooks.
    struct CheckoutCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "checkout",
            abstract: "Checkout sessions: complete (the customer pays), show, list, receive a signed webhook.",
            subcommands: [Complete.self, Show.self, List.self, Receive.self])

        struct Complete: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Stand for the customer paying: complete the session and deliver its signed webhook.",
                discussion: """
                    The gateway signs a checkout.session.completed event (HMAC-SHA256 over timestamp and body) and \
                    Wave receives it: signature and timestamp verified, event de-duplicated, the invoice paid once. \
                    Completing again redelivers the same event, which changes nothing. With --print-only the signed \
                    webhook is printed as JSON instead (for `dock wave checkout receive` or another receiver).
                    """)
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "The checkout session (CS-…).") var session: String
            @Flag(help: "Print the signed webhook (signature and body) instead of delivering it.") var printOnly = false

            func run() async throws {
                try await withSuite(database) { suite in
                    let delivery = try await suite.gateway.complete(session)
                    if printOnly {
                        return try printJSON(WebhookPrint(signature: delivery.signature, body: String(decoding: delivery.body, as: UTF8.self)))
                    }
                    let outcome = try await suite.webhooks().receive(delivery, actor: "cli")
                    try report(outcome, json: output.json, suite: suite)
                }
            }
        }

        struct Receive: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Receive one signed webhook, as an HTTP endpoint would.",
                discussion: "Exit status 0 when accepted (paid, already paid, duplicate or ignored); 1 when rejected (nothing written).")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Option(help: "File holding the body exactly as received (- for standard input).") var body: String
            @Option(help: "The Wave-Signature header: t=…,v1=….") var signature: String
            @Option(help: "Seconds a signature may be from now.") var tolerance: Int64 = 300

            func run() async throws {
                try await withSuite(database) { suite in
                    let data: Data
                    if body == "-" {
                        data = FileHandle.standardInput.readDataToEndOfFile()
                    } else {
                        guard let read = FileManager.default.contents(atPath: body) else {
                            throw ValidationError("cannot read \(body)")
                        }
                        data = read
                    }
                    let outcome = try await suite.webhooks(tolerance: tolerance).receive(body: data, signature: signature, actor: "cli")
                    try report(outcome, json: output.json, suite: suite)
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show a checkout session.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "The checkout session (CS-…).") var session: String

            func run() async throws {
                try await withSuite(database) { suite in
                    guard let found = try await suite.gateway.session(session) else {
                        throw WaveError(.notFound, message: "Checkout Session Not Found: no session with this id")
                    }
                    try output.show(found) {
                        printTable(["FIELD", "VALUE"], [
                            ["session", found.id], ["invoice", found.invoice.rawValue], ["amount", "\(found.amount) \(found.currency)"],
                            ["status", found.status.rawValue], ["url", found.url.absoluteString], ["created", isoString(found.createdAt)],
                        ])
                    }
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List an invoice's checkout sessions, oldest first.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Option(help: "The invoice (refid or number).") var invoice: String

            func run() async throws {
                try await withSuite(database) { suite in
                    let found = try await suite.invoices.find(refidOrNumber: invoice)
                    let sessions = try await suite.gateway.sessions(for: found.refid)
                    try output.show(sessions) {
                        printTable(["SESSION", "STATUS", "AMOUNT", "CREATED"], sessions.map {
                            [$0.id, $0.status.rawValue, "\($0.amount) \($0.currency)", isoString($0.createdAt)]
                        })
                    }
                }
            }
        }
    }
}

/// A signed webhook as `dock wave checkout complete --print-only` shows it.
struct WebhookPrint: Encodable {
    var signature: String
    var body: String
}

/// Prints what receiving a webhook did.
private func report(_ outcome: WebhookOutcome, json: Bool, suite: ClientSuite) throws {
    var issued: [IssuedLicence] = []
    let line: String
    switch outcome {
    case .paid(let payment):
        line = "paid: invoice \(payment.invoice.rawValue) by checkout \(payment.reference ?? "") (payment \(payment.refid.rawValue))"
        issued = (try? suite.fulfilment)?.takeIssued(for: payment.invoice) ?? []
    case .alreadyPaid(let payment):
        line = "already paid: invoice \(payment.invoice.rawValue) was paid by \(payment.method); event recorded, nothing else changed"
    case .duplicate(let eventID):
        line = "duplicate: event \(eventID) was received before; nothing changed"
    case .ignored(let type):
        line = "ignored: event type \(type)"
    }
    if json { try printJSON(Merged(outcome, IssuedLicences(licences: issued))) } else {
        print(line)
        printIssued(issued)
    }
}

/// The licences a payment issued, beside a webhook's outcome in `--json` (keys shown once).
struct IssuedLicences: Encodable {
    var licences: [IssuedLicence]
}
