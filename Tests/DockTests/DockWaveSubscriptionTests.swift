import Foundation
import SuiteTestSupport
import Testing

@Suite struct DockWaveSubscriptionTests {
    @Test(arguments: Engine.allCases)
    func plansSubscriptionsRenewalAndRevenueFromTheCommandLine(engine: Engine) async throws {
        try await withDock(engine) { dock in
            let plan = try dock.json("wave", "plan", "create", "--name", "Pro", "--slug", "pro-monthly", "--price", "1900",
                                     "--currency", "USD", "--interval", "monthly") as? [String: Any]
            let planRefid = try #require(plan?["refid"] as? String)
            #expect(planRefid.hasPrefix("PL-") && plan?["interval"] as? String == "monthly" && plan?["id"] == nil)
            _ = try dock.json("wave", "plan", "create", "--name", "Pro yearly", "--slug", "pro-yearly", "--price", "19000",
                              "--currency", "USD", "--interval", "yearly")
            let plans = try dock.json("wave", "plan", "list") as? [String: Any]
            #expect((plans?["items"] as? [[String: Any]])?.map { $0["slug"] as? String } == ["pro-monthly", "pro-yearly"])
            #expect((try dock.json("wave", "plan", "show", planRefid) as? [String: Any])?["slug"] as? String == "pro-monthly")

            let client = try dock.json("client", "create", "--name", "Acme", "--email", "billing@acme.example") as? [String: Any]
            let acme = try #require(client?["refid"] as? String)

            // No trial and an empty wallet: invoiced now, a checkout session, exit 2, past due.
            let start = try dock.run("wave", "subscription", "start", "--client", acme, "--plan", "pro-monthly", "--json")
            #expect(start.status == 2, "\(start.stderr)")
            let started = try JSONSerialization.jsonObject(with: Data(start.stdout.utf8)) as? [String: Any]
            let startedSubscription = started?["subscription"] as? [String: Any]
            let monthly = try #require(startedSubscription?["refid"] as? String)
            let number = try #require((started?["invoice"] as? [String: Any])?["number"] as? String)
            #expect(monthly.hasPrefix("SB-") && startedSubscription?["status"] as? String == "past_due" && startedSubscription?["id"] == nil)
            #expect(started?["outcome"] as? String == "requires_action")
            #expect(((started?["checkout_session"] as? [String: Any])?["url"] as? String)?.hasPrefix("http://localhost/checkout/CS-") == true)

            // The client pays; the renewal run activates the subscription without invoicing again.
            _ = try dock.json("wave", "wallet", "topup", acme, "5000", "--currency", "USD")
            #expect((try dock.json("wave", "pay", number) as? [String: Any])?["outcome"] as? String == "paid")
            let renew = try dock.json("wave", "renew") as? [String: Any]
            #expect(renew?["renewed"] as? Int == 0 && renew?["paid"] as? Int == 1 && renew?["activated"] as? Int == 1)
            #expect(renew?["failed"] as? Int == 0)
            let shown = try dock.json("wave", "subscription", "show", monthly) as? [String: Any]
            #expect(shown?["status"] as? String == "active" && shown?["plan"] as? String == planRefid)
            let mrr = try dock.json("wave", "analytics", "mrr") as? [[String: Any]]
            #expect(mrr?.count == 1 && mrr?.first?["currency"] as? String == "USD" && mrr?.first?["amount"] as? Int == 1_900)

            let trial = try dock.json("wave", "subscription", "start", "--client", acme, "--plan", "pro-yearly", "--trial-days", "14")
                as? [String: Any]
            let trialSubscription = trial?["subscription"] as? [String: Any]
            let yearly = try #require(trialSubscription?["refid"] as? String)
            #expect(trialSubscription?["status"] as? String == "trialing" && trial?["outcome"] as? String == "trialing")
            #expect(trial?["invoice"] is NSNull)
            let list = try dock.json("wave", "subscription", "list", "--client", acme) as? [String: Any]
            #expect((list?["items"] as? [[String: Any]])?.map { $0["refid"] as? String } == [monthly, yearly])

            let scheduled = try dock.json("wave", "subscription", "cancel", yearly) as? [String: Any]
            #expect(scheduled?["status"] as? String == "trialing" && scheduled?["cancel_at_period_end"] as? Bool == true)
            let canceled = try dock.json("wave", "subscription", "cancel", monthly, "--now", "--reason", "moving on") as? [String: Any]
            #expect(canceled?["status"] as? String == "canceled" && !(canceled?["canceled_at"] is NSNull))
            let again = try dock.run("wave", "subscription", "cancel", monthly)
            #expect(again.status == 1 && again.stderr == "error: Status Transition Denied: a canceled subscription cannot be canceled\n")
            let history = try dock.json("wave", "subscription", "history", monthly) as? [[String: Any]]
            #expect(history?.map { $0["event"] as? String } == ["started", "activate", "cancel"])

            let today = String(ISO8601DateFormatter().string(from: Date()).prefix(10))
            let revenue = try dock.json("wave", "analytics", "revenue", "--daily", "--from", today, "--to", today,
                                        "--currency", "USD") as? [[String: Any]]
            #expect(revenue?.count == 1 && revenue?.first?["amount"] as? Int == 1_900 && revenue?.first?["bucket"] as? String == today)
            let scoped = try dock.json("wave", "analytics", "revenue", "--monthly", "--from", today, "--to", today,
                                       "--currency", "USD", "--client", "CL-SOMEONE-ELSE") as? [[String: Any]]
            #expect(scoped?.first?["amount"] as? Int == 0)
            let totals = try dock.json("wave", "analytics", "totals") as? [String: Any]
            #expect((totals?["revenue"] as? [String: Any])?["USD"] as? Int == 1_900 && totals?["paid_invoices"] as? Int == 1)
            #expect(totals?["open_invoices"] as? Int == 0)
        }
    }

    @Test(arguments: Engine.allCases)
    func badSubscriptionInputIsOneLineAndWritesNothing(engine: Engine) async throws {
        try await withDock(engine) { dock in
            let zero = try dock.run("wave", "plan", "create", "--name", "Free", "--slug", "free", "--price", "0", "--currency", "USD",
                                    "--interval", "monthly")
            #expect(zero.status != 0 && zero.stderr == "error: Invalid amount: the price must be greater than zero\n")
            let hourly = try dock.run("wave", "plan", "create", "--name", "H", "--slug", "h", "--price", "1", "--currency", "USD",
                                      "--interval", "hourly")
            #expect(hourly.status != 0 && hourly.stderr.contains("hourly"))
            let client = try dock.json("client", "create", "--name", "Acme", "--email", "billing@acme.example") as? [String: Any]
            let acme = try #require(client?["refid"] as? String)
            let noPlan = try dock.run("wave", "subscription", "start", "--client", acme, "--plan", "nothing")
            #expect(noPlan.status == 1 && noPlan.stderr == "error: Plan Not Found: no plan nothing\n")
            let missing = try dock.run("wave", "subscription", "show", "SB-NOPE")
            #expect(missing.status == 1 && missing.stderr == "error: Subscription Not Found: no subscription SB-NOPE\n")
            let range = try dock.run("wave", "analytics", "revenue", "--daily", "--from", "2026-03-02", "--to", "2026-03-01",
                                     "--currency", "USD")
            #expect(range.status == 1 && range.stderr == "error: Invalid range: the start is after the end\n")
            let renew = try dock.json("wave", "renew") as? [String: Any]
            #expect(renew?["examined"] as? Int == 0 && renew?["renewed"] as? Int == 0)
            #expect(((try dock.json("wave", "plan", "list") as? [String: Any])?["items"] as? [Any])?.isEmpty == true)
            #expect(((try dock.json("wave", "subscription", "list") as? [String: Any])?["items"] as? [Any])?.isEmpty == true)
        }
    }
}
