import Ally
import Client
import Foundation
import HTTPTypes
import Suite
import SuiteCore
import SuiteHTTP
import SuiteStorage
import SuiteTestSupport
import Testing
import Wave

/// Billing, the purchase workflow, the checkout page and the gateway's webhook over HTTP, on both
/// engines; every answer checked against openapi.yaml.
@Suite struct BillingRouteTests {
    /// The standalone purchase, as a shop runs it over HTTP: the wallet is short, so the answer is
    /// a checkout page; the customer pays there; the gateway's signed webhook pays the invoice,
    /// which activates the client and issues its licence, once.
    @Test(arguments: Engine.allCases)
    func aNewClientBuysThroughTheCheckoutPageAndTheWebhookPaysOnce(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            let product = try await api.call(.post, "/v1/products",
                                             json: ["name": "Pro", "slug": "pro-1y", "price": 1_900, "currency": "USD", "licence_days": 365])
            #expect(product.status == 201 && product["licence_days"] as? Int == 365)
            let body: [String: Any] = ["name": "Ada", "email": "ada@example.com", "product": "pro-1y"]
            let started = try await api.call(.post, "/v1/workflows/purchase", json: body, headers: keyed("order-1"))
            #expect(started.status == 202 && started["outcome"] as? String == "requires_action")
            #expect((started["client"] as? [String: Any])?["status"] as? String == "pending")
            let session = try #require(started["checkout_session"] as? [String: Any])
            let id = try #require(session["id"] as? String)
            let number = try #require((started["invoice"] as? [String: Any])?["number"] as? String)
            let again = try await api.call(.post, "/v1/workflows/purchase", json: body, headers: keyed("order-1"))
            #expect(again.headers[.idempotentReplayed] == "true" && again.text == started.text)

            let page = try await api.call(.get, "/checkout/\(id)", key: .some(nil))
            #expect(page.status == 200 && page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(page.text.contains(number) && page.text.contains("19.00 USD") && page.text.contains("id=\"pay\""))
            // The harness's public URL has no server behind it: the session completes, the delivery
            // fails, and the page says so and offers to resend.
            let unconfirmed = try await api.call(.post, "/checkout/\(id)/pay", key: .some(nil))
            #expect(unconfirmed.status == 502 && unconfirmed.text.contains("Press Pay again"))
            let invoiceRefid = try #require(session["invoice"] as? String)
            #expect(try await suite.invoices.find(Refid(rawValue: invoiceRefid)).status == .open)

            // The gateway redelivers the completed session's event: the same event id, signed now.
            let delivery = try await suite.gateway.complete(id)
            var signed = HTTPFields()
            signed[HTTPField.Name(WebhookSigner.headerName)!] = delivery.signature
            let text = String(decoding: delivery.body, as: UTF8.self)
            let paid = try await api.call(.post, "/v1/webhooks/checkout", raw: text, headers: signed, key: .some(nil))
            #expect(paid.status == 200 && paid["outcome"] as? String == "paid")
            let duplicate = try await api.call(.post, "/v1/webhooks/checkout", raw: text, headers: signed, key: .some(nil))
            #expect(duplicate.status == 200 && duplicate["outcome"] as? String == "duplicate")

            let invoice = try await api.call(.get, "/v1/invoices/\(number)")
            #expect(invoice["status"] as? String == "paid" && invoice["payment_method"] as? String == "checkout")
            let client = try #require((started["client"] as? [String: Any])?["refid"] as? String)
            #expect(try await api.call(.get, "/v1/clients/\(client)")["status"] as? String == "active")
            let history = try await api.call(.get, "/v1/workflows/history/\(client)?days=7")
            #expect((history["licences"] as? [[String: Any]])?.count == 1 && (history["payments"] as? [[String: Any]])?.count == 1)
            let shown = try await api.call(.get, "/checkout/\(id)", key: .some(nil))
            #expect(shown.text.contains("id=\"status\">Paid<") && !shown.text.contains("id=\"pay\""))
            #expect(try await api.call(.get, "/checkout/CS-NOPE", key: .some(nil)).status == 404)
            #expect(try await api.call(.get, "/v1/workflows/history/CL-NOPE").status == 404)
        }
    }

    /// A webhook is believed only with a good signature over the exact bytes, signed within 300 s.
    @Test(arguments: Engine.allCases)
    func theWebhookRefusesBadSignaturesTamperingAndStaleEvents(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            _ = try await suite.products.create(name: "Pro", slug: "pro", price: 500, currency: "EUR")
            let started = try await suite.workflows.purchase(.new(name: "Bo", email: "bo@example.com"), product: "pro", idempotencyKey: "k")
            guard case .requiresAction(let session) = started.outcome else { Issue.record("expected a checkout"); return }
            let delivery = try await suite.gateway.complete(session.id)
            let body = String(decoding: delivery.body, as: UTF8.self)
            func post(_ text: String, _ signature: String?) async throws -> Answer {
                var headers = HTTPFields()
                if let signature { headers[HTTPField.Name(WebhookSigner.headerName)!] = signature }
                return try await api.call(.post, "/v1/webhooks/checkout", raw: text, headers: headers, key: .some(nil))
            }
            let missing = try await post(body, nil)
            #expect(missing.status == 400 && missing["code"] as? String == "invalid_signature")
            let wrong = try await post(body, "t=\(Int(Date().timeIntervalSince1970)),v1=" + String(repeating: "0", count: 64))
            #expect(wrong.status == 400 && wrong["code"] as? String == "invalid_signature")
            let tampered = try await post(body.replacingOccurrences(of: "\"amount\":500", with: "\"amount\":5"), delivery.signature)
            #expect(tampered.status == 400 && tampered["code"] as? String == "invalid_signature")
            let signer = try await suite.gateway.signer()
            let stale = try await post(body, signer.sign(delivery.body, at: Int64(Date().timeIntervalSince1970) - 301))
            #expect(stale.status == 400 && stale["code"] as? String == "stale_webhook")
            let garbage = try await post("{\"not\":\"an event\"}", signer.sign(Data("{\"not\":\"an event\"}".utf8),
                                                                                at: Int64(Date().timeIntervalSince1970)))
            #expect(garbage.status == 400 && garbage["code"] as? String == "invalid_webhook")
            #expect(try await suite.invoices.find(started.invoice.refid).status == .open)  // nothing written yet
            let paid = try await post(body, delivery.signature)
            #expect(paid["outcome"] as? String == "paid")
            #expect(try await suite.workflows.licencesIssued(for: started.invoice.refid).count == 1)
        }
    }

    /// The wallet pays at once: a top-up (once per Idempotency-Key), then a purchase answered 201
    /// with the licence key; invoices of one amount or of lines, paid, voided, written off or paid
    /// outside, each with its trail.
    @Test(arguments: Engine.allCases)
    func walletsPayInvoicesAndInvoicesMoveThroughTheirStates(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            _ = try await api.call(.post, "/v1/products", json: ["name": "Pro", "slug": "pro", "price": 1_000, "currency": "USD"])
            let client = try await suite.clients.make().name("Cy").email("cy@example.com").create()
            let topUp = try await api.call(.post, "/v1/wallets/\(client.refid)/USD/topup", json: ["amount": 2_500], headers: keyed("t-1"))
            #expect(topUp.status == 201 && topUp["credit_balance_after"] as? Int == 2_500)
            _ = try await api.call(.post, "/v1/wallets/\(client.refid)/USD/topup", json: ["amount": 2_500], headers: keyed("t-1"))
            let longest = String(repeating: "k", count: 200)  // the longest key the rule allows still reaches the ledger
            #expect(try await api.call(.post, "/v1/wallets/\(client.refid)/USD/topup", json: ["amount": 1], headers: keyed(longest)).status == 201)
            let wallet = try await api.call(.get, "/v1/wallets/\(client.refid)/USD")
            #expect(wallet["balance"] as? Int == 2_501 && wallet["available"] as? Int == 2_501 && wallet["owner"] as? String == client.refid.rawValue)

            let bought = try await api.call(.post, "/v1/workflows/purchase", json: ["client": client.refid.rawValue, "product": "pro"],
                                            headers: keyed("buy-1"))
            #expect(bought.status == 201 && bought["outcome"] as? String == "paid")
            #expect(((bought["licences"] as? [[String: Any]])?.first?["key"] as? String)?.isEmpty == false)
            #expect(try await api.call(.get, "/v1/wallets/\(client.refid)/USD")["balance"] as? Int == 1_501)
            let entries = try await api.call(.get, "/v1/wallets/\(client.refid)/USD/history")
            #expect((entries["items"] as? [[String: Any]])?.compactMap { $0["amount"] as? Int }.sorted() == [-1_000, 1, 2_500])

            let lines: [[String: Any]] = [["description": "Seats", "amount": 300, "quantity": 2], ["description": "Setup", "amount": 100]]
            let byLines = try await api.call(.post, "/v1/invoices", json: ["client": client.refid.rawValue, "currency": "USD", "lines": lines])
            #expect(byLines.status == 201 && byLines["total"] as? Int == 700 && (byLines["lines"] as? [Any])?.count == 2)
            let refid = try #require(byLines["refid"] as? String)
            let pay = try await api.call(.post, "/v1/invoices/\(refid)/pay", json: ["wallet_only": true])
            #expect(pay.status == 200 && pay["outcome"] as? String == "paid" && pay["invoice"] as? String == refid)
            let short = try await api.call(.post, "/v1/invoices", json: ["client": client.refid.rawValue, "currency": "USD",
                                                                         "amount": 5_000, "description": "Big"])
            let shortRefid = try #require(short["refid"] as? String)
            let refused = try await api.call(.post, "/v1/invoices/\(shortRefid)/pay", json: ["wallet_only": true])
            #expect(refused.status == 402 && (refused["failure"] as? [String: Any])?["code"] as? String == "insufficient_funds")
            let checkout = try await api.call(.post, "/v1/invoices/\(shortRefid)/pay")
            #expect(checkout.status == 202 && (checkout["checkout_session"] as? [String: Any])?["status"] as? String == "open")
            let sessions = try await api.call(.get, "/v1/invoices/\(shortRefid)/sessions")
            #expect((sessions["items"] as? [Any])?.count == 1)
            #expect(try await api.call(.post, "/v1/invoices/\(shortRefid)/uncollectible", json: ["reason": "gone"])["status"] as? String
                    == "uncollectible")
            let outside = try await api.call(.post, "/v1/invoices/\(shortRefid)/mark-paid", json: ["driver": "wire", "transaction_id": "W-1"])
            #expect(outside["outcome"] as? String == "paid" && (outside["payment"] as? [String: Any])?["reference"] as? String == "W-1")
            #expect(try await api.call(.post, "/v1/invoices/\(shortRefid)/void").status == 409)
            let trail = try await api.call(.get, "/v1/invoices/\(shortRefid)/history")
            #expect((trail["items"] as? [[String: Any]])?.compactMap { $0["to_status"] as? String } == ["open", "uncollectible", "paid"])
            let third = try await api.call(.post, "/v1/invoices", json: ["client": client.refid.rawValue, "currency": "USD", "amount": 10])
            #expect(try await api.call(.post, "/v1/invoices/\(third["refid"] as? String ?? "")/void")["status"] as? String == "void")
            let mine = try await api.call(.get, "/v1/invoices?client=\(client.refid)&limit=2")
            #expect((mine["items"] as? [Any])?.count == 2 && mine["next_cursor"] is String)
        }
    }

    /// Plans and subscriptions: a trial, a paid start, a cancellation at the period end, a renewal
    /// run, and each subscription's trail.
    @Test(arguments: Engine.allCases)
    func plansAndSubscriptionsRunOverHTTP(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            let plan = try await api.call(.post, "/v1/plans", json: ["name": "Team", "slug": "team", "price": 900, "currency": "USD",
                                                                     "interval": "monthly"])
            #expect(plan.status == 201 && plan["interval"] as? String == "monthly")
            #expect(try await api.call(.post, "/v1/plans", json: ["name": "X", "slug": "x", "price": 1, "currency": "USD",
                                                                  "interval": "hourly"]).status == 422)
            let client = try await suite.clients.make().name("Di").email("di@example.com").create()
            let trial = try await api.call(.post, "/v1/subscriptions", json: ["client": client.refid.rawValue, "plan": "team", "trial_days": 14])
            #expect(trial.status == 201 && trial["outcome"] as? String == "trialing")
            #expect((trial["subscription"] as? [String: Any])?["status"] as? String == "trialing")
            #expect(try await api.call(.post, "/v1/subscriptions", json: ["client": client.refid.rawValue, "plan": "team"]).status == 409)
            let other = try await suite.clients.make().name("Ed").email("ed@example.com").create()
            _ = try await suite.invoices.topUp(other.refid, amount: 900, currency: "USD")
            let paid = try await api.call(.post, "/v1/subscriptions", json: ["client": other.refid.rawValue, "plan": "team"])
            #expect(paid.status == 201 && paid["outcome"] as? String == "paid")
            let refid = try #require((paid["subscription"] as? [String: Any])?["refid"] as? String)
            let canceled = try await api.call(.post, "/v1/subscriptions/\(refid)/cancel", json: ["reason": "moving"])
            #expect(canceled["cancel_at_period_end"] as? Bool == true && canceled["status"] as? String == "active")
            let trail = try await api.call(.get, "/v1/subscriptions/\(refid)/history")
            #expect((trail["items"] as? [[String: Any]])?.last?["event"] as? String == "cancel_scheduled")
            let report = try await api.call(.post, "/v1/subscriptions/renew", json: ["limit": 10])
            #expect(report.status == 200 && report["renewed"] as? Int == 0)  // nothing is due yet
            #expect((try await api.call(.get, "/v1/subscriptions?client=\(other.refid)")["items"] as? [Any])?.count == 1)
            #expect(try await api.call(.get, "/v1/subscriptions/\(refid)")["plan_slug"] as? String == "team")
            #expect(try await api.call(.post, "/v1/plans/team/deactivate")["is_active"] as? Bool == false)
            #expect((try await api.call(.get, "/v1/plans")["items"] as? [Any])?.count == 1)
        }
    }

    /// Billing is an operator's: a reseller or verify key finds no such route, and a request with
    /// no key gets 401. Bad input is a 4xx problem that writes nothing.
    @Test(arguments: Engine.allCases)
    func onlyAdminKeysBillAndBadInputWritesNothing(engine: Engine) async throws {
        try await engine.withAPI { api, suite in
            let reseller = try await suite.allies.make().user("u-r").company("R").create()
            let resellerKey = try await api.keys.create(.reseller(reseller.refid)).secret
            let verifyKey = try await api.keys.create(.verify).secret
            let client = try await suite.clients.make().name("Fi").email("fi@example.com").create()
            for (method, path) in [(HTTPRequest.Method.get, "/v1/products"), (.post, "/v1/invoices"), (.get, "/v1/wallets/\(client.refid)/USD"),
                                   (.post, "/v1/subscriptions/renew"), (.post, "/v1/workflows/purchase")] {
                for key in [resellerKey, verifyKey] {
                    let answer = try await api.call(method, path, json: [:], key: .some(key))
                    #expect(answer.status == 404 && answer["code"] as? String == "route_not_found", "\(method) \(path)")
                }
                #expect(try await api.call(method, path, key: .some(nil)).status == 401)
            }
            #expect(try await api.call(.post, "/v1/products", raw: "{\"name\": ").status == 400)
            let wrongType = try await api.call(.post, "/v1/products", json: ["name": "P", "slug": "p", "price": "ten", "currency": "USD"])
            #expect(wrongType.status == 400 && (wrongType["detail"] as? String)?.contains("price") == true)
            let badCurrency = try await api.call(.post, "/v1/products", json: ["name": "P", "slug": "p", "price": 10, "currency": "usd!"])
            #expect(badCurrency.status == 422 && badCurrency["code"] as? String == "invalid_currency")
            let both = try await api.call(.post, "/v1/invoices", json: ["client": client.refid.rawValue, "currency": "USD", "amount": 5,
                                                                        "lines": [["description": "x", "amount": 5]]])
            #expect(both.status == 422)
            let nobody = try await api.call(.post, "/v1/invoices", json: ["client": "CL-NOPE", "currency": "USD", "amount": 5])
            #expect(nobody.status == 422 && nobody["code"] as? String == "invalid_client")
            #expect(try await api.call(.post, "/v1/wallets/\(client.refid)/USD/topup", json: ["amount": 0]).status == 422)
            #expect(try await api.call(.post, "/v1/workflows/purchase", json: ["client": client.refid.rawValue, "product": "none"]).status == 400)
            let unknown = try await api.call(.post, "/v1/workflows/purchase", json: ["client": client.refid.rawValue, "product": "none"],
                                             headers: keyed("p-1"))
            #expect((400..<500).contains(unknown.status))
            #expect(try await api.call(.get, "/v1/invoices/INV-0000-9999").status == 404)
            #expect((try await api.call(.get, "/v1/products")["items"] as? [Any])?.isEmpty == true)
            #expect(try await suite.invoices.list().items.isEmpty)
        }
    }
}
