import Foundation
import SuiteTestSupport
import Testing

@Suite struct DockWorkflowTests {
    @Test(arguments: Engine.allCases)
    func bothWorkflowsFromTheCommandLine(engine: Engine) async throws {
        try await withDock(engine) { dock in
            _ = try dock.json("wave", "product", "create", "--name", "Pro", "--slug", "pro-1y", "--price", "4900", "--currency", "USD",
                              "--licence-days", "365")
            let reseller = try #require((try dock.json("ally", "create", "--user", "u-1", "--company", "Northwind", "--tier", "gold")
                as? [String: Any])?["refid"] as? String)
            _ = try dock.run("ally", "credit", reseller, "5000")
            let client = try #require((try dock.json("client", "create", "--name", "Acme", "--email", "a@acme.example", "--reseller", reseller)
                as? [String: Any])?["refid"] as? String)

            // Reseller provisioning: one debit, one activated licence whose key verifies.
            let provisioned = try dock.json("workflow", "provision", reseller, "--client", client, "--product", "pro-1y",
                                            "--idempotency-key", "order-1") as? [String: Any]
            #expect(provisioned?["cost"] as? Int == 4_165 && provisioned?["balance_after"] as? Int == 835 && provisioned?["is_new"] as? Bool == true)
            let issued = try #require((provisioned?["licences"] as? [[String: Any]])?.first)
            let licence = try #require(issued["licence"] as? [String: Any])
            #expect(licence["status"] as? String == "active" && licence["client"] as? String == client && licence["id"] == nil)
            let key = try #require(issued["key"] as? String)
            let verified = try dock.run("forge", "verify", key)
            #expect(verified.status == 0 && verified.stdout.hasPrefix("valid"))
            let replay = try dock.json("workflow", "provision", reseller, "--client", client, "--product", "pro-1y",
                                       "--idempotency-key", "order-1") as? [String: Any]
            #expect(replay?["is_new"] as? Bool == false && (replay?["licences"] as? [[String: Any]])?.first?["key"] is NSNull)
            let short = try dock.run("workflow", "provision", reseller, "--client", client, "--product", "pro-1y", "--idempotency-key", "order-2")
            #expect(short.status == 1 && short.stderr == "error: Insufficient Credits: balance 835, cost 4165\n")

            // Standalone purchase through checkout: exit 2, pending; the webhook activates and issues the licence.
            let pending = try dock.run("workflow", "purchase", "--name", "Solo", "--email", "solo@example.com", "--product", "pro-1y",
                                       "--idempotency-key", "buy-1", "--json")
            #expect(pending.status == 2, "\(pending.stderr)")
            let opened = try #require(try JSONSerialization.jsonObject(with: Data(pending.stdout.utf8)) as? [String: Any])
            #expect((opened["client"] as? [String: Any])?["status"] as? String == "pending" && (opened["licences"] as? [Any])?.isEmpty == true)
            let session = try #require((opened["checkout_session"] as? [String: Any])?["id"] as? String)
            let completed = try dock.json("wave", "checkout", "complete", session) as? [String: Any]
            #expect(completed?["outcome"] as? String == "paid")
            let bought = try #require((completed?["licences"] as? [[String: Any]])?.first?["key"] as? String)
            #expect(try dock.run("forge", "verify", bought).status == 0)
            let again = try dock.json("workflow", "purchase", "--name", "Solo", "--email", "solo@example.com", "--product", "pro-1y",
                                      "--idempotency-key", "buy-1") as? [String: Any]
            let againClient = again?["client"] as? [String: Any]
            #expect(again?["outcome"] as? String == "paid" && againClient?["status"] as? String == "active" && again?["is_new"] as? Bool == false)
            let buyer = try #require(againClient?["refid"] as? String)

            // History of that client: one activation, one payment by checkout.
            let history = try dock.json("workflow", "history", buyer, "--days", "3") as? [String: Any]
            #expect((history?["activations"] as? [[String: Any]])?.compactMap { $0["count"] as? Int }.reduce(0, +) == 1)
            #expect((history?["payments"] as? [[String: Any]])?.map { $0["method"] as? String } == ["checkout"])
            let bad = try dock.run("workflow", "purchase", "--client", client, "--product", "pro-1y", "--idempotency-key", "buy-2")
            #expect(bad.status == 1 && bad.stderr == "error: Not Standalone: this client buys through its reseller\n")
        }
    }
}
