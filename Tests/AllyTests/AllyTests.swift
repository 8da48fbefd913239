import Ally
import Client
import Foundation
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing
import Wallet

extension Engine {
    func withAllies<T: Sendable>(inMemory: Bool = true, _ body: @Sendable (Allies) async throws -> T) async throws -> T {
        try await withDatabase(inMemory: inMemory) { database in
            try await Allies.install(on: database)
            return try await body(Allies(database: database))
        }
    }
}

func expectAllyError<T>(_ code: AllyError.Code, _ body: () async throws -> T,
                   sourceLocation: SourceLocation = #_sourceLocation) async -> AllyError? {
    await expectError(code, body, sourceLocation: sourceLocation)
}

@Suite struct AllyTests {
    @Test(arguments: Engine.allCases)
    func registeringAResellerOpensAnEmptyCreditWalletAndOneResellerPerUser(engine: Engine) async throws {
        try await engine.withAllies { allies in
            let ally = try await allies.make().user("u-1").company(" Northwind Partners ").gold().metadata(["region": "eu"]).create()
            #expect(Refid.isWellFormed(ally.refid.rawValue, prefix: "RS-"))
            #expect(ally.company == "Northwind Partners" && ally.tier == .gold && ally.status == .active)
            #expect(try await allies.balance(ally.refid) == 0)
            #expect(try await allies.findByUser("u-1")?.refid == ally.refid)
            #expect(try await allies.findByRefid(ally.refid) == ally)
            await _ = expectAllyError(.duplicateUser) { try await allies.make().user("u-1").company("Other").create() }
            await _ = expectAllyError(.validation) { try await allies.make().user("u-2").company("  ").create() }
            await _ = expectAllyError(.validation) { try await allies.make().company("No user").create() }
            let page = try await allies.list()
            #expect(page.items.map(\.refid) == [ally.refid])
        }
    }

    @Test(arguments: Engine.allCases)
    func provisioningSpendsCreditsOrRefusesWithBalanceAndCostWritingNothing(engine: Engine) async throws {
        try await engine.withAllies { allies in
            let ally = try await allies.make().user("u-1").company("Northwind").create()
            try await allies.addCredits(ally.refid, 1_000, actor: "admin")
            let provision = try await allies.provision(ally.refid, cost: 600, action: "Pro licence for Acme", idempotencyKey: "k1")
            #expect(provision.balanceAfter == 400 && provision.isNew)
            let error = await expectAllyError(.insufficientCredits) {
                try await allies.provision(ally.refid, cost: 500, action: "Another", idempotencyKey: "k2")
            }
            #expect(error?.balance == 400 && error?.cost == 500)
            #expect(error?.description == "Insufficient Credits: balance 400, cost 500")
            #expect(try await allies.balance(ally.refid) == 400)
            await _ = expectAllyError(.invalidAmount) { try await allies.provision(ally.refid, cost: 0, action: "x", idempotencyKey: "k3") }
            await _ = expectAllyError(.invalidAmount) { try await allies.provision(ally.refid, cost: -5, action: "x", idempotencyKey: "k4") }
            await _ = expectAllyError(.invalidAmount) { try await allies.addCredits(ally.refid, 0) }
            await _ = expectAllyError(.notFound) { try await allies.provision(Refid(rawValue: "RS-NONE"), cost: 1, action: "x", idempotencyKey: "k5") }
            await _ = expectAllyError(.idempotencyConflict) {
                try await allies.provision(ally.refid, cost: 1, action: "Pro licence for Acme", idempotencyKey: "k1")
            }
            #expect(try await allies.balance(ally.refid) == 400)
            #expect(try await allies.ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func aSuspendedResellerCannotProvisionUntilReinstated(engine: Engine) async throws {
        try await engine.withAllies { allies in
            let ally = try await allies.make().user("u-1").company("Northwind").create()
            try await allies.addCredits(ally.refid, 100)
            try await allies.suspend(ally.refid, actor: "risk", reason: "chargebacks")
            await _ = expectAllyError(.suspended) { try await allies.provision(ally.refid, cost: 10, action: "x", idempotencyKey: "a") }
            await _ = expectAllyError(.statusTransitionDenied) { try await allies.suspend(ally.refid) }
            #expect(try await allies.balance(ally.refid) == 100)
            try await allies.reinstate(ally.refid, actor: "risk")
            #expect(try await allies.provision(ally.refid, cost: 10, action: "x", idempotencyKey: "a").balanceAfter == 90)
            // Every move is audited, the refused second suspension included as nothing.
            let trail = try await allies.auditTrail(of: ally.refid)
            #expect(trail.map(\.event) == ["created", "suspend", "reinstate"])
            #expect(trail[1].fromStatus == .active && trail[1].toStatus == .suspended && trail[1].reason == "chargebacks")
            #expect(trail[2].actor == "risk" && trail[2].toStatus == .active)
            await _ = expectAllyError(.notFound) { try await allies.auditTrail(of: Refid(rawValue: "RS-NONE")) }
        }
    }

    @Test(arguments: Engine.allCases)
    func aResellerSuspendedAfterProvisioningIsRefusedEvenForARetryAndWritesNothing(engine: Engine) async throws {
        try await engine.withAllies { allies in
            let ally = try await allies.make().user("u-1").company("Northwind").create()
            try await allies.addCredits(ally.refid, 100)
            // The first provision lets the module remember the reseller; the status is still checked.
            #expect(try await allies.provision(ally.refid, cost: 10, action: "x", idempotencyKey: "a").balanceAfter == 90)
            try await allies.suspend(ally.refid, actor: "risk")
            await _ = expectAllyError(.suspended) { try await allies.provision(ally.refid, cost: 10, action: "x", idempotencyKey: "b") }
            await _ = expectAllyError(.suspended) { try await allies.provision(ally.refid, cost: 10, action: "x", idempotencyKey: "a") }
            await _ = expectAllyError(.suspended) { try await allies.provision(ally.refid, cost: 500, action: "x", idempotencyKey: "c") }
            #expect(try await allies.balance(ally.refid) == 90)
            try await allies.reinstate(ally.refid, actor: "risk")
            let retry = try await allies.provision(ally.refid, cost: 10, action: "x", idempotencyKey: "a")
            #expect(!retry.isNew && retry.balanceAfter == 90)
            #expect(try await allies.provision(ally.refid, cost: 10, action: "x", idempotencyKey: "b").balanceAfter == 80)
            #expect(try await allies.balance(ally.refid) == 80)
            #expect(try await allies.ledger.reconcile().isClean)
        }
    }

    /// Ally guards its own row and the ledger its own: a suspension freezes the reseller's wallet
    /// in the same transaction, so of provisions racing it each commits whole before it or is
    /// refused as suspended, never anything else, and none gets through afterwards.
    @Test(arguments: Engine.allCases)
    func provisionsRacingASuspensionCommitBeforeItOrAreRefused(engine: Engine) async throws {
        try await engine.withAllies(inMemory: false) { allies in
            let ally = try await allies.make().user("u-1").company("Northwind").create()
            try await allies.addCredits(ally.refid, 1_000)
            let provisioned = try await withThrowingTaskGroup(of: Int64.self) { group in
                for index in 0..<16 {
                    group.addTask {
                        if index == 8 { try await allies.suspend(ally.refid, actor: "risk", reason: "chargebacks"); return 0 }
                        do {
                            try await allies.provision(ally.refid, cost: 10, action: "licence", idempotencyKey: "p\(index)")
                            return 1
                        } catch let error as AllyError where error.code == .suspended {
                            return 0
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            await _ = expectAllyError(.suspended) { try await allies.provision(ally.refid, cost: 10, action: "x", idempotencyKey: "late") }
            #expect(try await allies.balance(ally.refid) == 1_000 - 10 * provisioned)
            let wallet = try #require(try await allies.findByRefid(ally.refid)).wallet
            #expect(try await allies.ledger.account(wallet).standing == .frozen)
            let freeze = try await allies.ledger.auditTrail(ofAccount: wallet)
            #expect(freeze.map(\.event) == ["freeze"] && freeze.first?.actor == "risk" && freeze.first?.reason == "chargebacks")
            try await allies.reinstate(ally.refid)
            #expect(try await allies.ledger.account(wallet).standing == .open)
            #expect(try await allies.provision(ally.refid, cost: 10, action: "x", idempotencyKey: "late").isNew)
            #expect(try await allies.ledger.reconcile().isClean)
        }
    }

    /// A reseller suspended before wallets could be frozen (Ally version 3, Wallet version 2) has its
    /// wallet frozen by the upgrade, so it still cannot provision.
    @Test(arguments: Engine.allCases)
    func anUpgradeFreezesTheWalletsOfResellersSuspendedBefore(engine: Engine) async throws {
        try await engine.withDatabase { database in
            let wallet = ModuleSchema(module: "wallet", migrations: Ledger.schema.migrations.filter { $0.version <= 2 })
            let ally = ModuleSchema(module: "ally", migrations: Allies.schema.migrations.filter { $0.version <= 3 })
            _ = try await SchemaInstaller.install([wallet, ally], on: database)
            try await database.write { tx in
                try tx.execute("""
                    INSERT INTO wallet_accounts (refid, owner, unit, balance, is_system, created_at)
                    VALUES ('WA-ISSUANCE', 'system:issuance', 'credits', -200, 1, 0), ('WA-OLD', 'RS-OLD', 'credits', 100, 0, 0),
                           ('WA-FINE', 'RS-FINE', 'credits', 100, 0, 0)
                    """)
                try tx.execute("""
                    INSERT INTO ally_resellers (refid, user_id, company, tier, status, metadata, wallet_refid, version, created_at, updated_at)
                    VALUES ('RS-OLD', 'u-old', 'Old Co', 'standard', 'suspended', '{}', 'WA-OLD', 2, 0, 0),
                           ('RS-FINE', 'u-fine', 'Fine Co', 'standard', 'active', '{}', 'WA-FINE', 1, 0, 0)
                    """)
            }
            let reports = try await Allies.install(on: database)
            #expect(reports.map(\.appliedVersions) == [[3, 4], [4, 5]])  // wallet 3 freezes, 4 keeps activity; ally 4 freezes, 5 drops its old rollup
            let allies = Allies(database: database)
            #expect(try await allies.ledger.account(Refid(rawValue: "WA-OLD")).standing == .frozen)
            #expect(try await allies.ledger.account(Refid(rawValue: "WA-FINE")).standing == .open)
            await _ = expectAllyError(.suspended) {
                try await allies.provision(Refid(rawValue: "RS-OLD"), cost: 10, action: "x", idempotencyKey: "a")
            }
            #expect(try await allies.provision(Refid(rawValue: "RS-FINE"), cost: 10, action: "x", idempotencyKey: "b").balanceAfter == 90)
            try await allies.reinstate(Refid(rawValue: "RS-OLD"))
            #expect(try await allies.provision(Refid(rawValue: "RS-OLD"), cost: 10, action: "x", idempotencyKey: "a").balanceAfter == 90)
        }
    }

    @Test(arguments: Engine.allCases)
    func eightConcurrentProvisionersRunTheWalletDryWithoutOverdraft(engine: Engine) async throws {
        try await engine.withAllies(inMemory: false) { allies in
            let ally = try await allies.make().user("u-1").company("Northwind").create()
            try await allies.addCredits(ally.refid, 5_000)
            let (succeeded, refused) = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for task in 0..<8 {
                    group.addTask {
                        var (ok, no) = (0, 0)
                        for attempt in 0..<15 {
                            do {
                                try await allies.provision(ally.refid, cost: 70, action: "licence", idempotencyKey: "t\(task)-\(attempt)")
                                ok += 1
                            } catch let error as AllyError where error.code == .insufficientCredits {
                                no += 1
                            }
                        }
                        return (ok, no)
                    }
                }
                return try await group.reduce(into: (0, 0)) { $0.0 += $1.0; $0.1 += $1.1 }
            }
            #expect(succeeded == 71)   // 5,000 / 70
            #expect(succeeded + refused == 120)
            #expect(try await allies.balance(ally.refid) == 5_000 - 71 * 70)
            #expect(try await allies.ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func aProvisionRetriedAHundredTimesWithOneKeyDebitsOnce(engine: Engine) async throws {
        try await engine.withAllies(inMemory: false) { allies in
            let ally = try await allies.make().user("u-1").company("Northwind").create()
            try await allies.addCredits(ally.refid, 1_000)
            let provisions = try await withThrowingTaskGroup(of: Provision.self) { group in
                for _ in 0..<100 {
                    group.addTask { try await allies.provision(ally.refid, cost: 500, action: "Pro licence", idempotencyKey: "order-42") }
                }
                return try await group.reduce(into: [Provision]()) { $0.append($1) }
            }
            #expect(Set(provisions.map(\.transfer)).count == 1)
            #expect(provisions.filter(\.isNew).count == 1)
            #expect(try await allies.balance(ally.refid) == 500)
        }
    }

    @Test(arguments: Engine.allCases)
    func provisionsCreditRevenueStripedOnPostgreSQLThatStillAddsUpAndReconciles(engine: Engine) async throws {
        try await engine.withAllies { allies in
            var spent: Int64 = 0
            var stripes = Set<Int>()
            for index in 0..<6 {
                let ally = try await allies.make().user("u-\(index)").company("Reseller \(index)").create()
                try await allies.addCredits(ally.refid, 1_000)
                try await allies.provision(ally.refid, cost: Int64(100 + index), action: "Pro", idempotencyKey: "k\(index)")
                spent += Int64(100 + index)
                stripes.insert(Ledger.stripe(for: ally.wallet.rawValue, on: allies.ledger.database.dialect))
            }
            // SQLite writes one transaction at a time, so it credits one revenue account; PostgreSQL
            // spreads concurrent resellers over the stripes.
            #expect(engine == .sqlite ? stripes == [0] : stripes.count > 1)
            #expect(try await allies.ledger.systemBalance(.revenue, unit: .credits) == spent)
            #expect(try await allies.ledger.systemBalance(.issuance, unit: .credits) == -6_000)
            let report = try await allies.ledger.reconcile()
            #expect(report.isClean && report.totalsByUnit["credits"] == 0)
            // One revenue account per stripe used, plus issuance and the six wallets.
            #expect(report.accountsChecked == 1 + 6 + stripes.count)
        }
    }

    @Test func stripesAreStableAndInRange() {
        let picks = (0..<1_000).map { Ledger.stripe(for: "RS-\($0)") }
        #expect(picks.allSatisfy { (0..<Ledger.systemStripes).contains($0) })
        #expect(Set(picks).count == Ledger.systemStripes)
        #expect(Ledger.stripe(for: "WA-ABC") == Ledger.stripe(for: "WA-ABC"))
    }

    @Test func tierCostsRoundHalfUpInIntegerArithmetic() throws {
        let discounts = TierDiscounts.defaults
        #expect(try discounts.cost(of: 500, for: .standard) == 500)
        #expect(try discounts.cost(of: 500, for: .gold) == 425)
        #expect(try discounts.cost(of: 500, for: .platinum) == 350)
        #expect(try discounts.cost(of: 10, for: .gold) == 9)      // 8.5 rounds up
        #expect(try discounts.cost(of: 333, for: .gold) == 283)   // 283.05 rounds down
        #expect(try discounts.cost(of: 0, for: .platinum) == 0)
        #expect(throws: AllyError.self) { try discounts.cost(of: -1, for: .gold) }
        #expect(throws: AllyError.self) { try discounts.cost(of: .max, for: .standard) }
        #expect(throws: AllyError.self) { try TierDiscounts(gold: 10_001) }
        let custom = try TierDiscounts(standard: 500, gold: 2_000, platinum: 4_000)
        #expect(try custom.cost(of: 1_000, for: .standard) == 950)
    }

    @Test(arguments: Engine.allCases)
    func clientsCheckResellersThroughTheAllyDirectory(engine: Engine) async throws {
        try await engine.withDatabase { database in
            try await Allies.install(on: database)
            try await Clients.install(on: database)
            let allies = Allies(database: database)
            let clients = Clients(database: database, resellers: allies)
            let ally = try await allies.make().user("u-1").company("Northwind").create()
            let owned = try await clients.make().name("Acme").email("a@acme.example").reseller(ally.refid).create()
            #expect(owned.reseller == ally.refid)
            try await allies.suspend(ally.refid)
            do {
                _ = try await clients.make().name("Beta").email("b@beta.example").reseller(ally.refid).create()
                Issue.record("expected Invalid Reseller")
            } catch let error as ClientError {
                #expect(error.code == .invalidReseller)
            }
            do {
                _ = try await clients.make().name("Gamma").email("g@gamma.example").reseller("RS-NOBODY").create()
                Issue.record("expected Invalid Reseller")
            } catch let error as ClientError {
                #expect(error.code == .invalidReseller)
            }
        }
    }
}
