import Foundation
import SuiteTestSupport
import Testing

@Suite struct DockAllyTests {
    @Test(arguments: Engine.allCases)
    func aResellerBuysCreditsAndProvisionsFromTheCommandLine(engine: Engine) async throws {
        try await withDock(engine) { dock in
            let created = try dock.json("ally", "create", "--user", "u-1", "--company", "Northwind", "--tier", "gold") as? [String: Any]
            let refid = try #require(created?["refid"] as? String)
            #expect(refid.hasPrefix("RS-") && created?["tier"] as? String == "gold" && created?["id"] == nil)
            #expect(try dock.run("ally", "credit", refid, "1000").status == 0)
            let provision = try dock.json("ally", "provision", refid, "600", "--action", "Pro licence", "--idempotency-key", "K1")
                as? [String: Any]
            #expect(provision?["balance_after"] as? Int == 400 && provision?["is_new"] as? Bool == true)
            let retry = try dock.json("ally", "provision", refid, "600", "--action", "Pro licence", "--idempotency-key", "K1")
                as? [String: Any]
            #expect(retry?["is_new"] as? Bool == false)
            let short = try dock.run("ally", "provision", refid, "500", "--action", "More", "--idempotency-key", "K2")
            #expect(short.status != 0)
            #expect(short.stderr == "error: Insufficient Credits: balance 400, cost 500\n")
            let balance = try dock.json("ally", "balance", refid) as? [String: Any]
            #expect(balance?["balance"] as? Int == 400)
            let history = try dock.json("ally", "history", refid) as? [String: Any]
            #expect((history?["items"] as? [[String: Any]])?.map { $0["amount"] as? Int } == [-600, 1000])
            #expect(history?.keys.contains("next_cursor") == true && history?["next_cursor"] is NSNull)
            let reconcile = try dock.json("ally", "reconcile") as? [String: Any]
            #expect(reconcile?["is_clean"] as? Bool == true)
            // With Ally installed, a client's reseller is checked for real.
            #expect(try dock.run("client", "create", "--name", "Acme", "--email", "a@acme.example", "--reseller", refid).status == 0)
            let unknown = try dock.run("client", "create", "--name", "X", "--email", "x@x.example", "--reseller", "RS-NOBODY")
            #expect(unknown.stderr.hasPrefix("error: Invalid Reseller"))
            #expect(try dock.run("ally", "suspend", refid).status == 0)
            let suspended = try dock.run("ally", "provision", refid, "1", "--action", "x", "--idempotency-key", "K3")
            #expect(suspended.stderr.hasPrefix("error: Reseller Suspended"))
        }
    }

    @Test(arguments: Engine.allCases)
    func resellerAnalyticsFromTheCommandLine(engine: Engine) async throws {
        try await withDock(engine) { dock in
            let north = try #require((try dock.json("ally", "create", "--user", "u-1", "--company", "Northwind", "--tier", "gold")
                as? [String: Any])?["refid"] as? String)
            let contoso = try #require((try dock.json("ally", "create", "--user", "u-2", "--company", "Contoso")
                as? [String: Any])?["refid"] as? String)
            #expect(try dock.run("ally", "credit", north, "1000").status == 0)
            #expect(try dock.run("ally", "credit", contoso, "500").status == 0)
            #expect(try dock.run("ally", "provision", contoso, "450", "--action", "Pro", "--idempotency-key", "K1").status == 0)
            #expect(try dock.run("client", "create", "--name", "Acme", "--email", "a@acme.example", "--reseller", north).status == 0)
            let top = try dock.json("ally", "analytics", "top") as? [[String: Any]]
            #expect(top?.map { $0["reseller"] as? String } == [north, contoso])
            #expect(top?.map { $0["clients_acquired"] as? Int } == [1, 0] && top?.map { $0["credits_spent"] as? Int } == [0, 450])
            let bySpend = try dock.json("ally", "analytics", "top", "--by-spend", "--limit", "1") as? [[String: Any]]
            #expect(bySpend?.map { $0["reseller"] as? String } == [contoso])
            let tiers = (try dock.json("ally", "analytics", "tiers") as? [String: Any])?["tiers"] as? [String: [String: Any]]
            #expect(tiers?["gold"]?["outstanding_credits"] as? Int == 1000 && tiers?["standard"]?["resellers"] as? Int == 1)
            let outstanding = try dock.json("ally", "analytics", "outstanding") as? [String: Any]
            #expect(outstanding?["total_credits_distributed"] as? Int == 1050)
            let stats = try dock.json("ally", "analytics", "stats", contoso) as? [String: Any]
            #expect(stats?["credits_spent"] as? Int == 450 && stats?["provisions"] as? Int == 1 && stats?["balance"] as? Int == 50)
            let today = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
            let credits = try dock.json("ally", "analytics", "credits", "--daily", "--from", today, "--to", today) as? [[String: Any]]
            #expect(credits?.first?["added"] as? Int == 1500 && credits?.first?["spent"] as? Int == 450)
            let unknown = try dock.run("ally", "analytics", "stats", "RS-NOBODY")
            #expect(unknown.status != 0 && unknown.stderr.hasPrefix("error: Reseller Not Found"))
            let backwards = try dock.run("ally", "analytics", "credits", "--from", "2026-02-01", "--to", "2026-01-01")
            #expect(backwards.status != 0 && backwards.stderr.hasPrefix("error: Invalid range"))
        }
    }

    @Test func fourConcurrentDockProcessesOnOneSQLiteFileNeverOverdraw() async throws {
        try await withDock(.sqlite) { dock in
            let created = try dock.json("ally", "create", "--user", "u-1", "--company", "Northwind") as? [String: Any]
            let refid = try #require(created?["refid"] as? String)
            #expect(try dock.run("ally", "credit", refid, "300").status == 0)
            let outcomes = Outcomes()
            DispatchQueue.concurrentPerform(iterations: 4) { worker in
                for attempt in 0..<5 {
                    let result = try? dock.run("ally", "provision", refid, "30", "--action", "licence",
                                               "--idempotency-key", "w\(worker)-\(attempt)")
                    outcomes.record(result)
                }
            }
            let (succeeded, refused, other) = outcomes.counts
            #expect(succeeded == 10)
            #expect(refused == 10)
            #expect(other.isEmpty, "\(other)")
            let balance = try dock.json("ally", "balance", refid) as? [String: Any]
            #expect(balance?["balance"] as? Int == 0)
            let reconcile = try dock.json("ally", "reconcile") as? [String: Any]
            #expect(reconcile?["is_clean"] as? Bool == true)
        }
    }
}

/// Counts the outcomes of concurrent CLI runs (a lock, because the workers are threads).
final class Outcomes: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var succeeded = 0, refused = 0
    private var other: [String] = []

    func record(_ result: Dock.Result?) {
        lock.lock()
        defer { lock.unlock() }
        guard let result else { return other.append("could not run dock") }
        if result.status == 0 {
            succeeded += 1
        } else if result.stderr.hasPrefix("error: Insufficient Credits") {
            refused += 1
        } else {
            other.append(result.stderr)
        }
    }

    var counts: (Int, Int, [String]) {
        lock.lock()
        defer { lock.unlock() }
        return (succeeded, refused, other)
    }
}
