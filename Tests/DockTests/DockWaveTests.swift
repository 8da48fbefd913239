import Foundation
import SuiteTestSupport
import Testing

@Suite struct DockWaveTests {
    @Test(arguments: Engine.allCases)
    func productsInvoicesWalletsAndPaymentFromTheCommandLine(engine: Engine) async throws {
        try await withDock(engine) { dock in
            let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date()).year!
            let product = try dock.json("wave", "product", "create", "--name", "Pro", "--slug", "pro-1y", "--price", "4900",
                                        "--currency", "USD", "--licence-days", "365") as? [String: Any]
            let productRefid = try #require(product?["refid"] as? String)
            #expect(productRefid.hasPrefix("PR-") && product?["licence_days"] as? Int == 365 && product?["id"] == nil)
            let shown = try dock.json("wave", "product", "show", "pro-1y") as? [String: Any]
            #expect(shown?["refid"] as? String == productRefid)
            let products = try dock.json("wave", "product", "list") as? [String: Any]
            #expect((products?["items"] as? [[String: Any]])?.map { $0["slug"] as? String } == ["pro-1y"])
            let badSlug = try dock.run("wave", "product", "create", "--name", "X", "--slug", "Bad Slug", "--price", "1", "--currency", "USD")
            #expect(badSlug.status != 0 && badSlug.stderr.hasPrefix("error: Invalid slug"))

            let client = try dock.json("client", "create", "--name", "Acme", "--email", "billing@acme.example") as? [String: Any]
            let acme = try #require(client?["refid"] as? String)
            let invoice = try dock.json("wave", "invoice", "create", "--client", acme, "--currency", "USD",
                                        "--line", "Pro licence:4900:2", "--line", "Setup: remote:1000", "--due-days", "14",
                                        "--description", "Order 42") as? [String: Any]
            let refid = try #require(invoice?["refid"] as? String)
            #expect(refid.hasPrefix("IN-") && invoice?["number"] as? String == "INV-\(year)-0001" && invoice?["id"] == nil)
            #expect(invoice?["total"] as? Int == 10_800 && invoice?["status"] as? String == "open")
            #expect((invoice?["lines"] as? [[String: Any]])?.map { $0["description"] as? String } == ["Pro licence", "Setup: remote"])
            let byNumber = try dock.json("wave", "invoice", "show", "INV-\(year)-0001") as? [String: Any]
            #expect(byNumber?["refid"] as? String == refid)

            // Wallet short: a local checkout session, exit 2, invoice still open.
            let short = try dock.run("wave", "pay", refid, "--json")
            #expect(short.status == 2, "\(short.stderr)")
            let action = try JSONSerialization.jsonObject(with: Data(short.stdout.utf8)) as? [String: Any]
            let checkout = action?["checkout_session"] as? [String: Any]
            let session = try #require(checkout?["id"] as? String)
            #expect(action?["outcome"] as? String == "requires_action" && action?["invoice"] as? String == refid)
            #expect(checkout?["url"] as? String == "http://localhost/checkout/\(session)")
            let failed = try dock.run("wave", "pay", refid, "--wallet-only")
            #expect(failed.status == 1 && failed.stdout.contains("failed: Insufficient Funds: wallet balance 0, invoice total 10800"))

            let topUp = try dock.json("wave", "wallet", "topup", acme, "20000", "--currency", "USD") as? [String: Any]
            #expect(topUp?["credit_balance_after"] as? Int == 20_000 && topUp?["is_new"] as? Bool == true)
            let paid = try dock.json("wave", "pay", "INV-\(year)-0001") as? [String: Any]
            #expect(paid?["outcome"] as? String == "paid")
            #expect((paid?["payment"] as? [String: Any])?["method"] as? String == "wallet")
            let balance = try dock.json("wave", "wallet", "balance", acme, "--currency", "USD") as? [String: Any]
            #expect(balance?["balance"] as? Int == 9_200)
            let voidPaid = try dock.run("wave", "invoice", "void", refid)
            #expect(voidPaid.status != 0 && voidPaid.stderr == "error: Status Transition Denied: a paid invoice cannot be voided\n")

            let second = try #require((try dock.json("wave", "invoice", "create", "--client", acme, "--currency", "USD",
                                                     "--line", "Support:500") as? [String: Any])?["refid"] as? String)
            let voided = try dock.json("wave", "invoice", "void", second, "--reason", "duplicate") as? [String: Any]
            #expect(voided?["status"] as? String == "void")
            let third = try #require((try dock.json("wave", "invoice", "create", "--client", acme, "--currency", "USD",
                                                    "--line", "Consulting:90000") as? [String: Any])?["refid"] as? String)
            let manual = try dock.json("wave", "invoice", "mark-paid", third, "--driver", "wire", "--transaction-id", "T-77")
                as? [String: Any]
            #expect((manual?["payment"] as? [String: Any])?["reference"] as? String == "T-77")
            let list = try dock.json("wave", "invoice", "list", "--client", acme) as? [String: Any]
            #expect((list?["items"] as? [[String: Any]])?.map { $0["status"] as? String } == ["paid", "void", "paid"])
            let history = try dock.json("wave", "invoice", "history", third) as? [[String: Any]]
            #expect(history?.map { $0["event"] as? String } == ["created", "pay"])
            let reconcile = try dock.json("ally", "reconcile") as? [String: Any]
            #expect(reconcile?["is_clean"] as? Bool == true)
        }
    }

    @Test(arguments: Engine.allCases)
    func badInvoiceInputIsOneLineAndWritesNothing(engine: Engine) async throws {
        try await withDock(engine) { dock in
            let client = try dock.json("client", "create", "--name", "Acme", "--email", "billing@acme.example") as? [String: Any]
            let acme = try #require(client?["refid"] as? String)
            let zero = try dock.run("wave", "invoice", "create", "--client", acme, "--currency", "USD", "--line", "Free:0")
            #expect(zero.status != 0 && zero.stderr == "error: Invalid amount: a line amount must be greater than zero\n")
            let unknown = try dock.run("wave", "invoice", "create", "--client", "CL-NOBODY", "--currency", "USD", "--line", "X:100")
            #expect(unknown.stderr == "error: Invalid Client: no client with refid CL-NOBODY\n")
            let currency = try dock.run("wave", "invoice", "create", "--client", acme, "--currency", "credits", "--line", "X:100")
            #expect(currency.stderr.hasPrefix("error: Invalid Currency"))
            let malformed = try dock.run("wave", "invoice", "create", "--client", acme, "--currency", "USD", "--line", "no amount")
            #expect(malformed.status != 0 && malformed.stderr.contains("--line expects"))
            let topUp = try dock.run("wave", "wallet", "topup", acme, "-5", "--currency", "USD")
            #expect(topUp.status != 0)
            let missing = try dock.run("wave", "pay", "INV-2026-0001")
            #expect(missing.status == 1 && missing.stderr == "error: Invoice Not Found: no invoice INV-2026-0001\n")
            let list = try dock.json("wave", "invoice", "list") as? [String: Any]
            #expect((list?["items"] as? [Any])?.isEmpty == true)
        }
    }

    @Test(arguments: Engine.allCases)
    func aCheckoutCompletedFromTheCommandLinePaysOnceThroughItsSignedWebhook(engine: Engine) async throws {
        try await withDock(engine) { dock in
            let acme = try #require((try dock.json("client", "create", "--name", "Acme", "--email", "a@acme.example")
                as? [String: Any])?["refid"] as? String)
            let invoice = try #require((try dock.json("wave", "invoice", "create", "--client", acme, "--currency", "USD",
                                                      "--line", "Pro:4900") as? [String: Any])?["refid"] as? String)
            let pay = try dock.run("wave", "pay", invoice, "--json")
            #expect(pay.status == 2)
            let checkout = (try JSONSerialization.jsonObject(with: Data(pay.stdout.utf8)) as? [String: Any])?["checkout_session"]
            let session = try #require((checkout as? [String: Any])?["id"] as? String)
            let listed = try dock.json("wave", "checkout", "list", "--invoice", invoice) as? [[String: Any]]
            #expect(listed?.map { $0["id"] as? String } == [session] && listed?.first?["status"] as? String == "open")

            // The signed webhook, printed rather than delivered; a forged copy is rejected and writes nothing.
            let printed = try dock.run("wave", "checkout", "complete", session, "--print-only")
            let webhook = try #require(try JSONSerialization.jsonObject(with: Data(printed.stdout.utf8)) as? [String: String])
            let bodyFile = FileManager.default.temporaryDirectory.appendingPathComponent("webhook-\(UUID().uuidString).json")
            defer { try? FileManager.default.removeItem(at: bodyFile) }
            try Data(webhook["body"]!.replacingOccurrences(of: "4900", with: "4901").utf8).write(to: bodyFile)
            let forged = try dock.run("wave", "checkout", "receive", "--body", bodyFile.path, "--signature", webhook["signature"]!)
            #expect(forged.status == 1 && forged.stderr == "error: Invalid Signature: the webhook body does not match its signature\n")
            #expect((try dock.json("wave", "invoice", "show", invoice) as? [String: Any])?["status"] as? String == "open")
            try Data(webhook["body"]!.utf8).write(to: bodyFile)
            let received = try dock.json("wave", "checkout", "receive", "--body", bodyFile.path, "--signature", webhook["signature"]!)
                as? [String: Any]
            #expect(received?["outcome"] as? String == "paid")
            #expect((received?["payment"] as? [String: Any])?["method"] as? String == "checkout")
            // Completing again redelivers the same event: a duplicate, still paid once.
            let again = try dock.run("wave", "checkout", "complete", session)
            #expect(again.status == 0 && again.stdout.hasPrefix("duplicate: event EV-"))
            let shown = try dock.json("wave", "invoice", "show", invoice) as? [String: Any]
            #expect(shown?["status"] as? String == "paid" && shown?["payment_reference"] as? String == session)
            let unknown = try dock.run("wave", "checkout", "complete", "CS-NOPE")
            #expect(unknown.status == 1 && unknown.stderr == "error: Checkout Session Not Found: no session with this id\n")
        }
    }
}
