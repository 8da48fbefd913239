import Ally
import Client
import Foundation
import Suite
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing
import Wallet
import Wave

/// One rule for a caller's idempotency key wherever one is taken: 1–200 characters, no control
/// characters. A module that passes the key on scopes it (`workflow:` + `ally:provision:` …), so
/// a 200-character key works through every layer, and a replay answers with the first result.
@Suite struct IdempotencyKeyTests {
    static let longest = String(repeating: "k", count: IdempotencyKey.maximumLength)
    static let tooLong = longest + "k"

    @Test func theRuleAcceptsOneToTwoHundredCharactersWithoutControlCharacters() {
        #expect(IdempotencyKey(Self.longest)?.rawValue == Self.longest)
        #expect(IdempotencyKey(String(repeating: "é", count: 200)) != nil)
        #expect(IdempotencyKey(Self.tooLong) == nil)
        #expect(IdempotencyKey("") == nil)
        #expect(IdempotencyKey("order\n42") == nil)
        #expect(IdempotencyKey("order\u{7F}") == nil)
        let scoped = IdempotencyKey(Self.longest)?.scoped("workflow").scoped("ally:provision")
        #expect(scoped?.rawValue == "ally:provision:workflow:" + Self.longest)
    }

    @Test(arguments: Engine.allCases)
    func aTwoHundredCharacterKeyWorksThroughEveryLayerAndReplays(engine: Engine) async throws {
        try await withSuite(engine) { fixture in
            let suite = fixture.suite
            let (reseller, clients) = try await fixture.reseller(credits: 0, clients: 1)
            let key = Self.longest

            let added = try await suite.allies.addCredits(reseller.refid, 50_000, idempotencyKey: key)
            let addedAgain = try await suite.allies.addCredits(reseller.refid, 50_000, idempotencyKey: key)
            #expect(addedAgain.refid == added.refid && !addedAgain.isNew)

            let spent = try await suite.allies.provision(reseller.refid, cost: 10, action: "Support", idempotencyKey: key)
            let spentAgain = try await suite.allies.provision(reseller.refid, cost: 10, action: "Support", idempotencyKey: key)
            #expect(spentAgain.transfer == spent.transfer && !spentAgain.isNew)

            let provisioned = try await suite.workflows.provision(reseller: reseller.refid, client: clients[0].refid,
                                                                  product: "pro-1y", idempotencyKey: key)
            let provisionedAgain = try await suite.workflows.provision(reseller: reseller.refid, client: clients[0].refid,
                                                                       product: "pro-1y", idempotencyKey: key)
            #expect(provisioned.isNew && !provisionedAgain.isNew && provisionedAgain.transfer == provisioned.transfer)

            let buyer = try await suite.clients.make().name("Buyer").email("buyer@example.com").create()
            let topUp = try await suite.invoices.topUp(buyer.refid, amount: 10_000, currency: "USD", idempotencyKey: key)
            let topUpAgain = try await suite.invoices.topUp(buyer.refid, amount: 10_000, currency: "USD", idempotencyKey: key)
            #expect(topUpAgain.refid == topUp.refid && !topUpAgain.isNew)

            // Provisioning and purchase share the workflows' store: a purchase needs a key of its own.
            let reused = await expectError(.idempotencyConflict, as: WorkflowError.self) {
                try await suite.workflows.purchase(.existing(buyer.refid), product: "pro-1y", idempotencyKey: key)
            }
            #expect(reused?.description == IdempotencyKey.conflictMessage)
            let purchaseKey = String(repeating: "p", count: IdempotencyKey.maximumLength)
            let bought = try await suite.workflows.purchase(.existing(buyer.refid), product: "pro-1y", idempotencyKey: purchaseKey)
            let boughtAgain = try await suite.workflows.purchase(.existing(buyer.refid), product: "pro-1y", idempotencyKey: purchaseKey)
            #expect(bought.outcome.isPaid && bought.isNew && !boughtAgain.isNew)
            #expect(boughtAgain.invoice.refid == bought.invoice.refid)

            // Each module's key lives in its own scope: the same caller key did four things once each.
            #expect(try await suite.allies.balance(reseller.refid) == 50_000 - 10 - provisioned.cost)
            #expect(try await suite.invoices.wallet(of: buyer.refid, currency: "USD").balance == 10_000 - bought.invoice.total)
        }
    }

    @Test(arguments: Engine.allCases)
    func aKeyThatBreaksTheRuleIsRefusedWithOneMessageAndWritesNothing(engine: Engine) async throws {
        try await withSuite(engine) { fixture in
            let suite = fixture.suite
            let (reseller, clients) = try await fixture.reseller(credits: 10_000, clients: 1)
            let buyer = try await suite.clients.make().name("Buyer").email("buyer@example.com").create()
            let before = try await rowCounts(suite.database)
            let message = "Invalid idempotency key: 1–200 characters, no control characters"
            for key in [Self.tooLong, "", "order\n42"] {
                let ally = await expectError(.validation, as: AllyError.self) {
                    try await suite.allies.provision(reseller.refid, cost: 10, action: "Support", idempotencyKey: key)
                }
                let credits = await expectError(.validation, as: AllyError.self) {
                    try await suite.allies.addCredits(reseller.refid, 10, idempotencyKey: key)
                }
                let workflow = await expectError(.validation, as: WorkflowError.self) {
                    try await suite.workflows.provision(reseller: reseller.refid, client: clients[0].refid, product: "pro-1y",
                                                        idempotencyKey: key)
                }
                let topUp = await expectError(.validation, as: WaveError.self) {
                    try await suite.invoices.topUp(buyer.refid, amount: 10, currency: "USD", idempotencyKey: key)
                }
                let ledger = await expectError(.validation, as: WalletError.self) {
                    try await suite.ledger.issue(10, to: reseller.wallet, description: "Grant", idempotencyKey: key)
                }
                let hold = await expectError(.validation, as: WalletError.self) {
                    try await suite.ledger.reserve(10, from: reseller.wallet, description: "Hold", idempotencyKey: key)
                }
                for error in [ally?.description, credits?.description, workflow?.description, topUp?.description,
                              ledger?.description, hold?.description] {
                    #expect(error == message)
                }
            }
            #expect(try await rowCounts(suite.database) == before)
            #expect(try await suite.database.read { try $0.queryInt64("SELECT count(*) FROM wallet_holds") } == 0)
        }
    }
}
