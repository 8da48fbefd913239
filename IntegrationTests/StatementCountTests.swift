import Ally
import Client
import Foundation
import Suite
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing
import Wave

/// What the two workflows cost in statements, on both engines: each module is handed what the
/// workflow already resolved, so no boundary is asked the same question twice in a transaction.
/// Measured in the steady state (a second call, the reseller already seen by Ally's cache).
@Suite struct StatementCountTests {
    @Test(arguments: Engine.allCases)
    func aSingleClientProvisioningAndAWalletPurchaseSendAKnownNumberOfStatements(engine: Engine) async throws {
        let (location, cleanUp) = try await engine.freshLocation()
        let counting = StatementCountingDatabase(try SuiteDatabase.open(location, drivers: Engine.drivers))
        try await SuiteDatabase.install([], on: counting)
        let suite = ClientSuite(database: counting)
        try await suite.products.create(name: "Pro", slug: "pro", price: 1_000, currency: "USD", licenceDays: 365)
        let reseller = try await suite.allies.make().user("u-1").company("Northwind").create()
        try await suite.allies.addCredits(reseller.refid, 10_000)
        var clients: [Refid] = []
        for index in 0..<2 {
            clients.append(try await suite.clients.make().name("C\(index)").email("c\(index)@example.com")
                .reseller(reseller.refid).create().refid)
        }
        _ = try await suite.workflows.provision(reseller: reseller.refid, client: clients[0], product: "pro", idempotencyKey: "p-0")
        counting.reset()
        let provisioned = try await suite.workflows.provision(reseller: reseller.refid, client: clients[1], product: "pro",
                                                              idempotencyKey: "p-1")
        let provision = counting.statements
        let provisionSent = counting.sent

        var buyers: [Refid] = []
        for index in 0..<2 {
            let buyer = try await suite.clients.make().name("B\(index)").email("b\(index)@example.com").create()
            try await suite.invoices.topUp(buyer.refid, amount: 5_000, currency: "USD")
            buyers.append(buyer.refid)
        }
        _ = try await suite.workflows.purchase(.existing(buyers[0]), product: "pro", idempotencyKey: "b-0")
        counting.reset()
        let bought = try await suite.workflows.purchase(.existing(buyers[1]), product: "pro", idempotencyKey: "b-1")
        let purchase = counting.statements
        let purchaseSent = counting.sent
        try await suite.close()
        await cleanUp()

        print("statements on \(engine): single-client provisioning \(provision), wallet purchase \(purchase)")
        #expect(provisioned.isNew && provisioned.licences.count == 1)
        #expect(bought.outcome.isPaid && bought.licences.count == 1)
        // Before the workflows handed on what they had read: 14 and 38 (2026-12-02). A ledger
        // transfer is five statements on SQLite (two balance updates, the transfer, one read of
        // both balances, the entries: cheaper there than three with RETURNING) and one on PostgreSQL.
        #expect(provision == (engine == .sqlite ? 13 : 9), "\(provisionSent.joined(separator: "\n"))")
        #expect(purchase == (engine == .sqlite ? 33 : 29), "\(purchaseSent.joined(separator: "\n"))")
        // Each party is read once: the product and the client once per provisioning.
        #expect(provisionSent.filter { $0.contains("FROM wave_products") }.count == 1)
        #expect(provisionSent.filter { $0.contains("FROM client_clients") }.count == 1)
    }
}
