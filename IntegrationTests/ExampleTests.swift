import Foundation
import SuiteTestSupport
import Testing

/// The examples are tutorials a newcomer runs with `swift run`: they must run, on both engines.
@Suite struct ExampleTests {
    @Test(arguments: Engine.allCases)
    func resellerProvisioningRuns(engine: Engine) async throws {
        let (location, cleanUp) = try await engine.freshLocation()
        defer { Task { await cleanUp() } }
        let result = try runProduct("ResellerProvisioning", [location])
        #expect(result.status == 0, "\(result.stderr)")
        for line in ["spent 4165 credits (4900 − 15%); balance 5835", "verify → valid", "retried: new? false; same licence? true; balance 5835",
                     "bulk refused, nothing written: Insufficient Credits: balance 5835, cost 8330", "ledger reconciles: true"] {
            #expect(result.stdout.contains(line), "missing: \(line)")
        }
    }

    @Test(arguments: Engine.allCases)
    func standalonePurchaseRuns(engine: Engine) async throws {
        let (location, cleanUp) = try await engine.freshLocation()
        defer { Task { await cleanUp() } }
        let result = try runProduct("StandalonePurchase", [location])
        #expect(result.status == 0, "\(result.stderr)")
        for line in ["is pending", "first delivery: paid", "already received — nothing changes", "forged: Invalid Signature",
                     "same order again: paid? true; client active", "Hooli's key verifies: valid", "1 activation(s)"] {
            #expect(result.stdout.contains(line), "missing: \(line)")
        }
    }

    @Test func theClientQuickstartRuns() throws {
        let result = try runProduct("ClientQuickstart", [])
        #expect(result.status == 0 && result.stdout.contains("created CL-"), "\(result.stderr)")
    }
}
