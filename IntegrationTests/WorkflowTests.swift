import Ally
import Client
import Forge
import Foundation
import Suite
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Synchronization
import Testing
import Wallet
import Wave

private struct Injected: Error {}
private struct EndOfWorkflowTest: DomainEvent { var name: String { "test.end" } }

/// Every table a workflow could write, to prove a refused or aborted workflow wrote nothing.
let workflowTables = [
    "client_clients", "client_audit", "client_daily_stats", "wallet_accounts", "wallet_transfers", "wallet_entries",
    "ally_resellers", "ally_audit", "wallet_activity", "forge_licences", "forge_audit", "wave_invoices", "wave_invoice_lines",
    "wave_invoice_counters", "wave_invoice_audit", "wave_payments", "wave_checkout_sessions", "wave_webhook_events",
    "workflow_runs", "workflow_licences",
]

func rowCounts(_ database: any Database) async throws -> [String: Int64] {
    try await database.read { tx in
        var counts: [String: Int64] = [:]
        for table in workflowTables { counts[table] = try tx.queryInt64(SQL(raw: "SELECT count(*) FROM \(table)")) ?? -1 }
        return counts
    }
}

/// The suite on a fresh database of `engine`, with a product catalogue and a failpoint the test arms.
/// The step at which the failpoint throws (nil: none).
final class Armed: Sendable {
    private let step = Mutex<WorkflowStep?>(nil)
    func withLock<T: Sendable>(_ body: (inout WorkflowStep?) -> T) -> T { step.withLock { body(&$0) } }
}

struct SuiteFixture: Sendable {
    let suite: ClientSuite
    let armed: Armed

    /// A gold reseller with `credits`, and `count` of its clients.
    func reseller(credits: Int64, clients count: Int) async throws -> (Reseller, [Client]) {
        let tag = UUID().uuidString.prefix(8)
        let reseller = try await suite.allies.make().user("user-\(tag)").company("Northwind \(tag)").gold().create()
        if credits > 0 { try await suite.allies.addCredits(reseller.refid, credits) }
        var clients: [Client] = []
        for index in 0..<count {
            clients.append(try await suite.clients.make().name("Client \(index) \(tag)").email("c\(index)-\(tag)@example.com")
                .reseller(reseller.refid).create())
        }
        return (reseller, clients)
    }
}

func withSuite<T: Sendable>(_ engine: Engine, _ body: @Sendable (SuiteFixture) async throws -> T) async throws -> T {
    let (location, cleanUp) = try await engine.freshLocation()
    let armed = Armed()
    do {
        let opened = try await ClientSuite.open(location, drivers: Engine.drivers)
        let suite = ClientSuite(database: opened.database,
                                configuration: .init(webhookSecret: Data(repeating: 3, count: 32)), failpoint: { step in
            if armed.withLock({ $0 }) == step { throw Injected() }
        })
        try await suite.products.create(name: "Pro (1 year)", slug: "pro-1y", price: 4_900, currency: "USD", licenceDays: 365)
        try await suite.products.create(name: "Lifetime", slug: "life", price: 20_000, currency: "USD")
        let result = try await body(SuiteFixture(suite: suite, armed: armed))
        try await suite.close()
        await cleanUp()
        return result
    } catch {
        await cleanUp()
        throw error
    }
}

@Suite struct WorkflowTests {
    @Test(arguments: Engine.allCases)
    func aResellerProvisionsALicenceForItsClientPaidWithCredits(engine: Engine) async throws {
        try await withSuite(engine) { fixture in
            let suite = fixture.suite
            let (reseller, clients) = try await fixture.reseller(credits: 10_000, clients: 1)
            let result = try await suite.workflows.provision(reseller: reseller.refid, client: clients[0].refid, product: "pro-1y",
                                                             idempotencyKey: "order-1")
            // Gold: 15% off 4,900 = 4,165 credits.
            #expect(result.cost == 4_165 && result.balanceAfter == 5_835 && result.isNew)
            #expect(try await suite.allies.balance(reseller.refid) == 5_835)
            let issued = try #require(result.licences.first)
            #expect(result.licences.count == 1 && issued.licence.status == .active && issued.licence.client == clients[0].refid)
            #expect(issued.licence.reseller == reseller.refid && issued.licence.product == "pro-1y" && issued.licence.durationDays == 365)
            let key = try #require(issued.key)
            #expect(try await suite.licences.verify(key).code == .valid)
            // Retried with the key: the first result without a key, nothing spent or minted again.
            let before = try await rowCounts(suite.database)
            let replay = try await suite.workflows.provision(reseller: reseller.refid, client: clients[0].refid, product: "pro-1y",
                                                             idempotencyKey: "order-1")
            #expect(!replay.isNew && replay.transfer == result.transfer && replay.licences.map(\.licence.refid) == [issued.licence.refid])
            #expect(replay.licences[0].key == nil && replay.cost == 4_165 && replay.balanceAfter == 5_835)
            #expect(try await rowCounts(suite.database) == before)
            // The key with other parameters is refused.
            await #expect(throws: WorkflowError.self) {
                try await suite.workflows.provision(reseller: reseller.refid, client: clients[0].refid, product: "life", idempotencyKey: "order-1")
            }
            #expect(try await suite.ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func refusedProvisioningsWriteNothing(engine: Engine) async throws {
        try await withSuite(engine) { fixture in
            let suite = fixture.suite
            let (reseller, clients) = try await fixture.reseller(credits: 5_000, clients: 2)
            let (other, theirs) = try await fixture.reseller(credits: 50_000, clients: 1)
            let standalone = try await suite.clients.make().name("Solo").email("solo@example.com").create()
            let before = try await rowCounts(suite.database)
            // Another reseller's client, or a standalone one: not in this portfolio.
            for client in [theirs[0].refid, standalone.refid, Refid(rawValue: "CL-NOPE")] {
                do {
                    _ = try await suite.workflows.provision(reseller: reseller.refid, client: client, product: "pro-1y", idempotencyKey: "k-\(client)")
                    Issue.record("provisioned outside the portfolio")
                } catch let error as WorkflowError {
                    #expect(error.code == .clientNotFound)
                }
            }
            // The whole batch is decided inside the transaction: 2 × 4,165 > 5,000.
            do {
                _ = try await suite.workflows.provision(reseller: reseller.refid, clients: clients.map(\.refid), product: "pro-1y",
                                                       idempotencyKey: "batch-1")
                Issue.record("overdrew")
            } catch let error as AllyError {
                #expect(error.code == .insufficientCredits && error.balance == 5_000 && error.cost == 8_330)
            }
            await #expect(throws: WaveError.self) {
                try await suite.workflows.provision(reseller: reseller.refid, client: clients[0].refid, product: "nope", idempotencyKey: "k2")
            }
            await #expect(throws: WorkflowError.self) {
                try await suite.workflows.provision(reseller: reseller.refid, clients: [clients[0].refid, clients[0].refid],
                                                    product: "pro-1y", idempotencyKey: "k3")
            }
            await #expect(throws: WorkflowError.self) {
                try await suite.workflows.provision(reseller: reseller.refid, client: clients[0].refid, product: "pro-1y", idempotencyKey: " ")
            }
            try await suite.allies.suspend(other.refid)
            let afterSuspend = try await rowCounts(suite.database)
            await #expect(throws: AllyError.self) {
                try await suite.workflows.provision(reseller: other.refid, client: theirs[0].refid, product: "pro-1y", idempotencyKey: "k4")
            }
            #expect(try await rowCounts(suite.database) == afterSuspend)
            #expect(afterSuspend["forge_licences"] == before["forge_licences"] && afterSuspend["workflow_runs"] == 0)
            // With enough credits the batch goes through as one debit and two licences.
            try await suite.allies.addCredits(reseller.refid, 3_330)
            let batch = try await suite.workflows.provision(reseller: reseller.refid, clients: clients.map(\.refid), product: "pro-1y",
                                                           idempotencyKey: "batch-1")
            #expect(batch.cost == 8_330 && batch.balanceAfter == 0 && batch.licences.map(\.licence.client) == clients.map(\.refid))
            // A replay returns the first result's licences in the order the clients were asked for.
            let replayed = try await suite.workflows.provision(reseller: reseller.refid, clients: clients.map(\.refid), product: "pro-1y",
                                                              idempotencyKey: "batch-1")
            #expect(!replayed.isNew && replayed.licences.map(\.licence.refid) == batch.licences.map(\.licence.refid))
        }
    }

    @Test(arguments: Engine.allCases)
    func aFailureAtEachProvisioningStepLeavesNothingPartial(engine: Engine) async throws {
        try await withSuite(engine) { fixture in
            let suite = fixture.suite
            let (reseller, clients) = try await fixture.reseller(credits: 100_000, clients: 3)
            let before = try await rowCounts(suite.database)
            for step in [WorkflowStep.validated, .creditsDebited, .licenceMinted, .recorded] {
                fixture.armed.withLock { $0 = step }
                await #expect(throws: Injected.self, "\(step)") {
                    try await suite.workflows.provision(reseller: reseller.refid, clients: clients.map(\.refid), product: "pro-1y",
                                                        idempotencyKey: "bulk-\(step)")
                }
                #expect(try await rowCounts(suite.database) == before, "\(step)")
                #expect(try await suite.allies.balance(reseller.refid) == 100_000)
            }
            fixture.armed.withLock { $0 = nil }
            let done = try await suite.workflows.provision(reseller: reseller.refid, clients: clients.map(\.refid), product: "pro-1y",
                                                          idempotencyKey: "bulk-validated")
            #expect(done.licences.count == 3 && done.balanceAfter == 100_000 - 3 * 4_165)
        }
    }

    @Test(arguments: Engine.allCases)
    func eightConcurrentProvisioningsNeverOverdrawAndNeverSpendWithoutALicence(engine: Engine) async throws {
        try await withSuite(engine) { fixture in
            let suite = fixture.suite
            // Credits for exactly 5 licences; 8 tasks × 2 attempts compete.
            let (reseller, clients) = try await fixture.reseller(credits: 5 * 4_165 + 100, clients: 16)
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for (index, client) in clients.enumerated() {
                    group.addTask {
                        do {
                            _ = try await suite.workflows.provision(reseller: reseller.refid, client: client.refid, product: "pro-1y",
                                                                    idempotencyKey: "race-\(index)")
                            return true
                        } catch let error as AllyError where error.code == .insufficientCredits {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 5)
            #expect(try await suite.allies.balance(reseller.refid) == 100)
            let counts = try await rowCounts(suite.database)
            #expect(counts["forge_licences"] == 5 && counts["workflow_runs"] == 5 && counts["workflow_licences"] == 5)
            #expect(try await suite.ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func aStandaloneClientPaysFromItsWalletAndIsActivatedWithALicence(engine: Engine) async throws {
        try await withSuite(engine) { fixture in
            let suite = fixture.suite
            let buyer = try await suite.clients.make().name("Buyer").email("buyer@example.com").create()
            #expect(buyer.status == .pending)
            try await suite.invoices.topUp(buyer.refid, amount: 10_000, currency: "USD")
            let result = try await suite.workflows.purchase(.existing(buyer.refid), product: "pro-1y", idempotencyKey: "buy-1")
            #expect(result.outcome.isPaid && result.isNew && result.invoice.status == .paid)
            #expect(result.client.status == .active)
            let issued = try #require(result.licences.first)
            #expect(result.licences.count == 1 && issued.licence.client == buyer.refid && issued.licence.status == .active)
            #expect(try await suite.licences.verify(try #require(issued.key)).code == .valid)
            #expect(try await suite.invoices.wallet(of: buyer.refid, currency: "USD").balance == 5_100)
            // Again with the key: the same invoice, paid once, one licence.
            let replay = try await suite.workflows.purchase(.existing(buyer.refid), product: "pro-1y", idempotencyKey: "buy-1")
            #expect(!replay.isNew && replay.invoice.refid == result.invoice.refid && replay.outcome.isPaid)
            #expect(replay.licences.map(\.licence.refid) == [issued.licence.refid] && replay.licences[0].key == nil)
            #expect(try await rowCounts(suite.database)["forge_licences"] == 1)
            // History through the modules' analytics, scoped to the client.
            let history = try await suite.workflows.history(of: buyer.refid, days: 7)
            #expect(history.activations.map(\.count).reduce(0, +) == 1 && history.activations.count == 7)
            #expect(history.licences.map(\.refid) == [issued.licence.refid])
            #expect(history.payments.map(\.amount) == [4_900] && history.invoices.count == 1)
            #expect(history.revenue["USD"]?.count == 7 && history.revenue["USD"]?.last?.amount == 4_900)
            #expect(history.revenue["USD"]?.map(\.amount).reduce(0, +) == 4_900)
            // A reseller's client cannot buy standalone.
            let (_, resold) = try await fixture.reseller(credits: 0, clients: 1)
            await #expect(throws: WorkflowError.self) {
                try await suite.workflows.purchase(.existing(resold[0].refid), product: "pro-1y", idempotencyKey: "buy-2")
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func aCheckoutPurchaseIssuesTheLicenceOnceWhenTheSignedWebhookArrives(engine: Engine) async throws {
        try await withSuite(engine) { fixture in
            let suite = fixture.suite
            let stream = suite.events.subscribe()
            let collector = Task {
                var fulfilled: [PurchaseFulfilled] = []
                for await event in stream {
                    if event is EndOfWorkflowTest { break }
                    if let event = event as? PurchaseFulfilled { fulfilled.append(event) }
                }
                return fulfilled
            }
            let result = try await suite.workflows.purchase(.new(name: "New Co", email: "hello@newco.example"), product: "life",
                                                            idempotencyKey: "web-1")
            guard case .requiresAction(let session) = result.outcome else { Issue.record("expected checkout, got \(result.outcome)"); return }
            #expect(result.client.status == .pending && result.client.reseller == nil && result.licences.isEmpty)
            #expect(try await rowCounts(suite.database)["forge_licences"] == 0)
            let delivery = try await suite.gateway.complete(session.id)
            let webhooks = try await suite.webhooks()
            let outcomes = try await withThrowingTaskGroup(of: WebhookOutcome.self) { group in
                for _ in 0..<10 { group.addTask { try await webhooks.receive(delivery) } }
                return try await group.reduce(into: [WebhookOutcome]()) { $0.append($1) }
            }
            #expect(outcomes.filter { if case .paid = $0 { true } else { false } }.count == 1)
            suite.events.publish(EndOfWorkflowTest())
            let fulfilled = await collector.value
            #expect(fulfilled.count == 1 && fulfilled.first?.licences.count == 1 && fulfilled.first?.licences.first?.key != nil)
            #expect(try await suite.clients.find(result.client.refid).status == .active)
            let issued = try await suite.workflows.licencesIssued(for: result.invoice.refid)
            #expect(issued.count == 1 && issued[0].licence.durationDays == nil && issued[0].licence.status == .active)
            let key = try #require(fulfilled.first?.licences.first?.key)
            #expect(try await suite.licences.verify(key).code == .valid)
            // The same purchase again: the same client and paid invoice, no second licence.
            let again = try await suite.workflows.purchase(.new(name: "New Co", email: "hello@newco.example"), product: "life",
                                                           idempotencyKey: "web-1")
            #expect(!again.isNew && again.outcome.isPaid && again.client.refid == result.client.refid)
            #expect(try await rowCounts(suite.database)["forge_licences"] == 1)
        }
    }

    @Test(arguments: Engine.allCases)
    func aFailureAtEachPurchaseStepLeavesNothingPartial(engine: Engine) async throws {
        try await withSuite(engine) { fixture in
            let suite = fixture.suite
            let buyer = try await suite.clients.make().name("Careful").email("careful@example.com").create()
            try await suite.invoices.topUp(buyer.refid, amount: 4_900, currency: "USD")
            let before = try await rowCounts(suite.database)
            // Before the invoice commits: nothing at all.
            for step in [WorkflowStep.clientResolved, .invoiceCreated, .recorded] {
                fixture.armed.withLock { $0 = step }
                await #expect(throws: Injected.self, "\(step)") {
                    try await suite.workflows.purchase(.existing(buyer.refid), product: "pro-1y", idempotencyKey: "p-\(step)")
                }
                #expect(try await rowCounts(suite.database) == before, "\(step)")
            }
            // Inside the paying transaction: the invoice stays open and unpaid, no debit, no licence,
            // the client still pending — and a retry with the key completes it exactly once.
            var afterInvoice: [String: Int64]?
            for step in [WorkflowStep.paymentCaptured, .clientActivated, .licenceMinted] {
                fixture.armed.withLock { $0 = step }
                await #expect(throws: Injected.self, "\(step)") {
                    try await suite.workflows.purchase(.existing(buyer.refid), product: "pro-1y", idempotencyKey: "pay-once")
                }
                let counts = try await rowCounts(suite.database)
                if let afterInvoice { #expect(counts == afterInvoice, "\(step)") }
                afterInvoice = counts
                #expect(counts["wave_payments"] == 0 && counts["forge_licences"] == 0 && counts["wave_invoices"] == 1, "\(step)")
                #expect(try await suite.invoices.wallet(of: buyer.refid, currency: "USD").balance == 4_900)
                #expect(try await suite.clients.find(buyer.refid).status == .pending)
            }
            fixture.armed.withLock { $0 = nil }
            let done = try await suite.workflows.purchase(.existing(buyer.refid), product: "pro-1y", idempotencyKey: "pay-once")
            #expect(done.outcome.isPaid && done.licences.count == 1 && done.client.status == .active)
            #expect(try await suite.invoices.wallet(of: buyer.refid, currency: "USD").balance == 0)
            #expect(try await suite.ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func concurrentCallsWithOneKeySpendOnceAndIssueOnce(engine: Engine) async throws {
        try await withSuite(engine) { fixture in
            let suite = fixture.suite
            let (reseller, clients) = try await fixture.reseller(credits: 50_000, clients: 2)
            let targets = clients.map(\.refid)
            let provisions = try await withThrowingTaskGroup(of: ProvisionResult.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await suite.workflows.provision(reseller: reseller.refid, clients: targets, product: "pro-1y",
                                                            idempotencyKey: "same-key")
                    }
                }
                return try await group.reduce(into: [ProvisionResult]()) { $0.append($1) }
            }
            #expect(provisions.filter(\.isNew).count == 1)
            #expect(Set(provisions.map(\.transfer)).count == 1 && Set(provisions.flatMap { $0.licences.map(\.licence.refid) }).count == 2)
            #expect(try await suite.allies.balance(reseller.refid) == 50_000 - 2 * 4_165)
            let purchases = try await withThrowingTaskGroup(of: PurchaseResult.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await suite.workflows.purchase(.new(name: "Racer", email: "racer@example.com"), product: "pro-1y",
                                                           idempotencyKey: "same-order")
                    }
                }
                return try await group.reduce(into: [PurchaseResult]()) { $0.append($1) }
            }
            #expect(purchases.filter(\.isNew).count == 1)
            #expect(Set(purchases.map(\.client.refid)).count == 1 && Set(purchases.map(\.invoice.refid)).count == 1)
            let counts = try await rowCounts(suite.database)
            #expect(counts["forge_licences"] == 2 && counts["workflow_runs"] == 2 && counts["wave_invoices"] == 1)
            #expect(counts["wave_checkout_sessions"] == 1)
            #expect(try await suite.ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func provisioningComposesWithTheCallersOwnTransaction(engine: Engine) async throws {
        try await withSuite(engine) { fixture in
            let suite = fixture.suite
            let (reseller, clients) = try await fixture.reseller(credits: 10_000, clients: 1)
            let before = try await rowCounts(suite.database)
            // The caller's transaction fails after the provisioning: nothing of it remains.
            await #expect(throws: Injected.self) {
                try await suite.database.write { tx in
                    _ = try suite.workflows.provision(reseller: reseller.refid, clients: [clients[0].refid], product: "pro-1y",
                                                      idempotencyKey: "tx-1", in: tx)
                    throw Injected()
                }
            }
            #expect(try await rowCounts(suite.database) == before)
            let result = try await suite.database.write { tx in
                try suite.workflows.provision(reseller: reseller.refid, clients: [clients[0].refid], product: "pro-1y",
                                              idempotencyKey: "tx-1", in: tx)
            }
            #expect(result.isNew && result.balanceAfter == 5_835 && result.licences.count == 1)
            let replay = try await suite.workflows.provision(reseller: reseller.refid, client: clients[0].refid, product: "pro-1y",
                                                             idempotencyKey: "tx-1")
            #expect(!replay.isNew && replay.transfer == result.transfer)
        }
    }
}
