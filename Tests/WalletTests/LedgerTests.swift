import Foundation
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing
import Wallet

extension Engine {
    func withLedger<T: Sendable>(inMemory: Bool = true, _ body: @Sendable (Ledger) async throws -> T) async throws -> T {
        try await withDatabase(inMemory: inMemory) { database in
            try await Ledger.install(on: database)
            return try await body(Ledger(database: database))
        }
    }
}

func expectWalletError<T>(_ code: WalletError.Code, _ body: () async throws -> T,
                   sourceLocation: SourceLocation = #_sourceLocation) async -> WalletError? {
    await expectError(code, body, sourceLocation: sourceLocation)
}

@Suite struct LedgerTests {
    @Test(arguments: Engine.allCases)
    func issuingAndSpendingMovesBalancesAndTheBooksSumToZero(engine: Engine) async throws {
        try await engine.withLedger { ledger in
            let wallet = try await ledger.account(owner: "RS-ALPHA", unit: .credits)
            #expect(wallet.balance == 0 && !wallet.isSystem)
            #expect(try await ledger.account(owner: "RS-ALPHA", unit: .credits).refid == wallet.refid)
            let topUp = try await ledger.issue(1_000, to: wallet.refid, description: "Top-up")
            #expect(topUp.creditBalanceAfter == 1_000 && topUp.debitBalanceAfter == -1_000)
            let revenue = try await ledger.system(.revenue, unit: .credits)
            let spend = try await ledger.transfer(from: wallet.refid, to: revenue.refid, amount: 300, description: "Pro licence",
                                                  metadata: ["client": "CL-1"])
            #expect(spend.debitBalanceAfter == 700 && spend.creditBalanceAfter == 300)
            #expect(try await ledger.account(wallet.refid).balance == 700)
            let history = try await ledger.history(of: wallet.refid)
            #expect(history.items.map(\.amount) == [-300, 1_000])
            #expect(history.items.map(\.balanceAfter) == [700, 1_000])
            let report = try await ledger.reconcile()
            #expect(report.isClean)
            #expect(report.accountsChecked == 3)
            #expect(report.totalsByUnit["credits"] == 0)
        }
    }

    @Test(arguments: Engine.allCases)
    func anOverdraftIsRefusedWithBalanceAndCostAndWritesNothing(engine: Engine) async throws {
        try await engine.withLedger { ledger in
            let wallet = try await ledger.account(owner: "RS-ALPHA", unit: .credits)
            try await ledger.issue(400, to: wallet.refid, description: "Top-up")
            let revenue = try await ledger.system(.revenue, unit: .credits)
            let error = await expectWalletError(.insufficientFunds) {
                try await ledger.transfer(from: wallet.refid, to: revenue.refid, amount: 500, description: "Too much")
            }
            #expect(error?.balance == 400 && error?.amount == 500)
            #expect(error?.description == "Insufficient Funds: balance 400, cost 500")
            #expect(try await ledger.account(wallet.refid).balance == 400)
            #expect(try await ledger.history(of: wallet.refid).items.count == 1)
            #expect(try await ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func eightConcurrentSpendersNeverOverdrawAndTheFinalBalanceIsExact(engine: Engine) async throws {
        try await engine.withLedger(inMemory: false) { ledger in
            let wallet = try await ledger.account(owner: "RS-ALPHA", unit: .credits)
            try await ledger.issue(1_000, to: wallet.refid, description: "Top-up")
            let revenue = try await ledger.system(.revenue, unit: .credits)
            let outcomes = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for task in 0..<8 {
                    group.addTask {
                        var (spent, refused) = (0, 0)
                        for attempt in 0..<20 {
                            do {
                                try await ledger.transfer(from: wallet.refid, to: revenue.refid, amount: 30,
                                                          description: "spend \(task)-\(attempt)")
                                spent += 1
                            } catch let error as WalletError where error.code == .insufficientFunds {
                                refused += 1
                            }
                        }
                        return (spent, refused)
                    }
                }
                return try await group.reduce(into: (0, 0)) { $0.0 += $1.0; $0.1 += $1.1 }
            }
            #expect(outcomes.0 == 33)            // 1,000 / 30, rounded down
            #expect(outcomes.0 + outcomes.1 == 160)
            #expect(try await ledger.account(wallet.refid).balance == 10)
            #expect(try await ledger.account(revenue.refid).balance == 990)
            #expect(try await ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func aTransferRetriedWithOneKeyMovesMoneyOnceAndAReusedKeyWithOtherParametersIsRefused(engine: Engine) async throws {
        try await engine.withLedger(inMemory: false) { ledger in
            let wallet = try await ledger.account(owner: "RS-ALPHA", unit: .credits)
            try await ledger.issue(10_000, to: wallet.refid, description: "Top-up")
            let revenue = try await ledger.system(.revenue, unit: .credits)
            let transfers = try await withThrowingTaskGroup(of: Transfer.self) { group in
                for _ in 0..<100 {
                    group.addTask {
                        try await ledger.transfer(from: wallet.refid, to: revenue.refid, amount: 500, description: "Pro licence",
                                                  idempotencyKey: "order-42")
                    }
                }
                return try await group.reduce(into: [Transfer]()) { $0.append($1) }
            }
            #expect(Set(transfers.map(\.refid)).count == 1)
            #expect(transfers.filter(\.isNew).count == 1)
            #expect(try await ledger.account(wallet.refid).balance == 9_500)
            await _ = expectWalletError(.idempotencyConflict) {
                try await ledger.transfer(from: wallet.refid, to: revenue.refid, amount: 600, description: "Pro licence",
                                          idempotencyKey: "order-42")
            }
            #expect(try await ledger.account(wallet.refid).balance == 9_500)
            #expect(try await ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func transfersBothWaysBetweenTwoAccountsAtOnceNeitherDeadlockNorLoseAnEntry(engine: Engine) async throws {
        try await engine.withLedger(inMemory: false) { ledger in
            let alpha = try await ledger.account(owner: "RS-ALPHA", unit: .credits)
            let beta = try await ledger.account(owner: "RS-BETA", unit: .credits)
            try await ledger.issue(10_000, to: alpha.refid, description: "Top-up")
            try await ledger.issue(10_000, to: beta.refid, description: "Top-up")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<8 {
                    let (from, to) = task.isMultiple(of: 2) ? (alpha.refid, beta.refid) : (beta.refid, alpha.refid)
                    group.addTask {
                        for attempt in 0..<25 {
                            try await ledger.transfer(from: from, to: to, amount: Int64(1 + task), description: "move \(attempt)")
                        }
                    }
                }
                try await group.waitForAll()
            }
            // Even tasks (0, 2, 4, 6) move 1+task from alpha to beta 25 times; odd ones the other way.
            let alphaToBeta: Int64 = 25 * (1 + 3 + 5 + 7), betaToAlpha: Int64 = 25 * (2 + 4 + 6 + 8)
            #expect(try await ledger.account(alpha.refid).balance == 10_000 - alphaToBeta + betaToAlpha)
            #expect(try await ledger.account(beta.refid).balance == 10_000 + alphaToBeta - betaToAlpha)
            #expect(try await ledger.history(of: alpha.refid, limit: 500).items.count == 201)
            #expect(try await ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func aRetryReturnsTheFirstTransferWhicheverAccountIsLockedFirstAndWhenTheFundsAreGone(engine: Engine) async throws {
        try await engine.withLedger { ledger in
            // Revenue first, so its row id is lower than the wallet's: the credit is locked first.
            let revenue = try await ledger.system(.revenue, unit: .credits)
            let wallet = try await ledger.account(owner: "RS-ALPHA", unit: .credits)
            try await ledger.issue(1_000, to: wallet.refid, description: "Top-up")
            let first = try await ledger.transfer(from: wallet.refid, to: revenue.refid, amount: 400, description: "Pro",
                                                  idempotencyKey: "order-1")
            for _ in 0..<3 {
                let again = try await ledger.transfer(from: wallet.refid, to: revenue.refid, amount: 400, description: "Pro",
                                                      idempotencyKey: "order-1")
                #expect(again.refid == first.refid && !again.isNew)
                #expect(again.debitBalanceAfter == 600 && again.creditBalanceAfter == 400)
            }
            #expect(try await ledger.account(wallet.refid).balance == 600)
            #expect(try await ledger.account(revenue.refid).balance == 400)
            // Spend the rest; the retry must still find the first transfer, not report a shortfall.
            try await ledger.transfer(from: wallet.refid, to: revenue.refid, amount: 600, description: "Everything else")
            let late = try await ledger.transfer(from: wallet.refid, to: revenue.refid, amount: 400, description: "Pro",
                                                 idempotencyKey: "order-1")
            #expect(late.refid == first.refid && !late.isNew)
            await _ = expectWalletError(.idempotencyConflict) {
                try await ledger.transfer(from: wallet.refid, to: revenue.refid, amount: 1, description: "Pro", idempotencyKey: "order-1")
            }
            #expect(try await ledger.account(wallet.refid).balance == 0)
            #expect(try await ledger.account(revenue.refid).balance == 1_000)
            #expect(try await ledger.history(of: wallet.refid).items.count == 3)
            #expect(try await ledger.reconcile().isClean)
        }
    }

    /// A transfer whose second balance update is refused (here the credit, which would overflow)
    /// takes back the first, whichever account's row is updated first: it writes nothing when it
    /// fails, and a retry that finds its first transfer commits nothing but that answer.
    @Test(arguments: Engine.allCases, [true, false])
    func aTransferWhoseCreditWouldOverflowTakesBackItsDebitWhicheverRowIsUpdatedFirst(engine: Engine, debitFirst: Bool) async throws {
        try await engine.withLedger { ledger in
            // Accounts get row ids in the order they are opened, and the lower id is updated first.
            // The payer is a system account, which may go below zero, so that it can pay more than
            // the full account has room for.
            let payer: Account, full: Account
            if debitFirst {
                payer = try await ledger.system(.revenue, unit: .credits)
                full = try await ledger.account(owner: "RS-FULL", unit: .credits)
            } else {
                full = try await ledger.account(owner: "RS-FULL", unit: .credits)
                payer = try await ledger.system(.revenue, unit: .credits)
            }
            try await ledger.issue(Int64.max - 10, to: full.refid, description: "Nearly full")
            let error = await expectWalletError(.invalidAmount) {
                try await ledger.transfer(from: payer.refid, to: full.refid, amount: 100, description: "Too much", idempotencyKey: "overflow-1")
            }
            #expect(error?.description == "Invalid amount: the credited balance would overflow")
            #expect(try await ledger.account(payer.refid).balance == 0)
            #expect(try await ledger.account(full.refid).balance == Int64.max - 10)
            #expect(try await ledger.history(of: payer.refid).items.isEmpty)
            #expect(try await ledger.reconcile().isClean)
            // The key was not spent: a transfer that fits goes through with it.
            let fits = try await ledger.transfer(from: payer.refid, to: full.refid, amount: 10, description: "Fits", idempotencyKey: "overflow-1")
            #expect(fits.isNew && fits.debitBalanceAfter == -10 && fits.creditBalanceAfter == Int64.max)
            // Its retry commits: the debit it made before the full account refused the credit is
            // taken back, and the first transfer is returned.
            let retry = try await ledger.transfer(from: payer.refid, to: full.refid, amount: 10, description: "Fits", idempotencyKey: "overflow-1")
            #expect(retry.refid == fits.refid && !retry.isNew)
            #expect(try await ledger.account(payer.refid).balance == -10)
            #expect(try await ledger.account(full.refid).balance == Int64.max)
            #expect(try await ledger.history(of: payer.refid).items.count == 1)
            #expect(try await ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func aFrozenAccountIsRefusedBeforeItsKeyIsLookedAtAndWritesNothing(engine: Engine) async throws {
        try await engine.withLedger { ledger in
            let wallet = try await ledger.account(owner: "RS-ALPHA", unit: .credits)
            let revenue = try await ledger.system(.revenue, unit: .credits)
            try await ledger.issue(100, to: wallet.refid, description: "Top-up")
            let first = try await ledger.transfer(from: wallet.refid, to: revenue.refid, amount: 10, description: "x", idempotencyKey: "k")
            #expect(first.isNew && first.debitBalanceAfter == 90)
            let frozen = try await ledger.freeze(wallet.refid, actor: "ops", reason: "chargeback")
            #expect(frozen.standing == .frozen)
            #expect(try await ledger.account(wallet.refid).standing == .frozen)
            for key in ["k", "other"] {
                let refused = await expectWalletError(.accountFrozen) {
                    try await ledger.transfer(from: wallet.refid, to: revenue.refid, amount: 10, description: "x", idempotencyKey: key)
                }
                #expect(refused?.description == "Account Frozen: nothing can be spent from this account")
            }
            await _ = expectWalletError(.accountFrozen) {
                try await ledger.reserve(10, from: wallet.refid, description: "Hold")
            }
            await _ = expectWalletError(.statusTransitionDenied) { try await ledger.freeze(wallet.refid) }
            #expect(try await ledger.account(wallet.refid).balance == 90)
            #expect(try await ledger.history(of: wallet.refid).items.count == 2)
            // Credits still arrive; spending resumes once unfrozen.
            try await ledger.issue(5, to: wallet.refid, description: "Refund")
            try await ledger.unfreeze(wallet.refid, actor: "ops")
            await _ = expectWalletError(.statusTransitionDenied) { try await ledger.unfreeze(wallet.refid) }
            let after = try await ledger.transfer(from: wallet.refid, to: revenue.refid, amount: 10, description: "x", idempotencyKey: "other")
            #expect(after.isNew && after.debitBalanceAfter == 85)
            let trail = try await ledger.auditTrail(ofAccount: wallet.refid)
            #expect(trail.map(\.event) == ["freeze", "unfreeze"])
            #expect(trail.map(\.toStatus) == [.frozen, .open])
            #expect(trail.first?.actor == "ops" && trail.first?.reason == "chargeback")
            #expect(try await ledger.reconcile().isClean)
        }
    }

    /// A freeze and spends race: each spend either commits whole or is refused as frozen (no other
    /// error, nothing half-written), the books balance, and once the freeze is in nothing is spent.
    @Test(arguments: Engine.allCases)
    func spendsRacingAFreezeEitherCommitWholeOrAreRefused(engine: Engine) async throws {
        try await engine.withLedger(inMemory: false) { ledger in
            let wallet = try await ledger.account(owner: "RS-RACE", unit: .credits)
            let revenue = try await ledger.system(.revenue, unit: .credits)
            try await ledger.issue(1_000, to: wallet.refid, description: "Top-up")
            let spent = try await withThrowingTaskGroup(of: Int64.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        if index == 10 { try await ledger.freeze(wallet.refid); return 0 }
                        do {
                            try await ledger.transfer(from: wallet.refid, to: revenue.refid, amount: 7, description: "spend \(index)")
                            return 7
                        } catch let error as WalletError where error.code == .accountFrozen {
                            return 0
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            await _ = expectWalletError(.accountFrozen) {
                try await ledger.transfer(from: wallet.refid, to: revenue.refid, amount: 7, description: "late")
            }
            #expect(try await ledger.account(wallet.refid).balance == 1_000 - spent)
            #expect(try await ledger.history(of: wallet.refid).items.count == 1 + Int(spent / 7))
            #expect(try await ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func badInputIsATypedErrorAndWritesNothing(engine: Engine) async throws {
        try await engine.withLedger { ledger in
            let wallet = try await ledger.account(owner: "RS-ALPHA", unit: .credits)
            let dollars = try await ledger.account(owner: "CL-ONE", unit: try Unit("USD"))
            let revenue = try await ledger.system(.revenue, unit: .credits)
            try await ledger.issue(100, to: wallet.refid, description: "Top-up")
            for amount: Int64 in [0, -1, .min] {
                await _ = expectWalletError(.invalidAmount) {
                    try await ledger.transfer(from: wallet.refid, to: revenue.refid, amount: amount, description: "x")
                }
            }
            await _ = expectWalletError(.unitMismatch) {
                try await ledger.transfer(from: wallet.refid, to: dollars.refid, amount: 1, description: "x")
            }
            await _ = expectWalletError(.accountNotFound) {
                try await ledger.transfer(from: Refid(rawValue: "WA-NONE"), to: revenue.refid, amount: 1, description: "x")
            }
            await _ = expectWalletError(.validation) {
                try await ledger.transfer(from: wallet.refid, to: revenue.refid, amount: 1, description: "  ")
            }
            await _ = expectWalletError(.validation) {
                try await ledger.transfer(from: wallet.refid, to: wallet.refid, amount: 1, description: "x")
            }
            await _ = expectWalletError(.validation) { try await ledger.account(owner: "system:revenue", unit: .credits) }
            #expect(throws: WalletError.self) { try Unit("dollars") }
            // Issuance may go negative, but not past Int64.min; a credit may not pass Int64.max.
            try await ledger.issue(Int64.max - 100, to: wallet.refid, description: "Huge")
            await _ = expectWalletError(.invalidAmount) { try await ledger.issue(1, to: wallet.refid, description: "Overflow") }
            #expect(try await ledger.account(wallet.refid).balance == Int64.max)
            #expect(try await ledger.history(of: wallet.refid).items.count == 2)
            #expect(try await ledger.reconcile().mismatches.isEmpty)
        }
    }

    @Test(arguments: Engine.allCases)
    func reconcileReportsACachedBalanceThatDisagreesWithItsEntries(engine: Engine) async throws {
        try await engine.withLedger { ledger in
            let wallet = try await ledger.account(owner: "RS-ALPHA", unit: .credits)
            try await ledger.issue(250, to: wallet.refid, description: "Top-up")
            try await ledger.database.write { tx in
                try tx.execute("UPDATE wallet_accounts SET balance = 999 WHERE refid = \(wallet.refid)")
            }
            let report = try await ledger.reconcile(batchSize: 1)
            #expect(report.accountsChecked == 2)
            #expect(report.mismatches.map(\.account) == [wallet.refid])
            #expect(report.mismatches.first?.cachedBalance == 999 && report.mismatches.first?.sumOfEntries == 250)
            #expect(!report.isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func historyPagesNewestFirstWithoutGapsOrRepeats(engine: Engine) async throws {
        try await engine.withLedger { ledger in
            let wallet = try await ledger.account(owner: "RS-ALPHA", unit: .credits)
            for index in 1...7 { try await ledger.issue(Int64(index), to: wallet.refid, description: "t\(index)") }
            var amounts: [Int64] = []
            var cursor: Cursor?
            repeat {
                let page = try await ledger.history(of: wallet.refid, limit: 3, after: cursor)
                amounts += page.items.map(\.amount)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(amounts == [7, 6, 5, 4, 3, 2, 1])
            await _ = expectWalletError(.validation) { try await ledger.history(of: wallet.refid, limit: 0) }
        }
    }

    @Test(arguments: Engine.allCases)
    func aTransferPreparedBeforeItsTransactionRunsAsItsArgumentsWouldAndARefusedOneWritesNothing(engine: Engine) async throws {
        try await engine.withLedger { ledger in
            let wallet = try await ledger.account(owner: "RS-ALPHA", unit: .credits)
            try await ledger.issue(1_000, to: wallet.refid, description: "Top-up")
            let revenue = try await ledger.system(.revenue, unit: .credits)
            await _ = expectWalletError(.invalidAmount) {
                try ledger.prepareTransfer(from: wallet.refid, to: revenue.refid, amount: 0, description: "Seat", key: nil)
            }
            await _ = expectWalletError(.validation) {
                try ledger.prepareTransfer(from: wallet.refid, to: revenue.refid, amount: 5, description: "  ", key: nil)
            }
            await _ = expectWalletError(.validation) {
                try ledger.prepareTransfer(from: wallet.refid, to: wallet.refid, amount: 5, description: "Seat", key: nil)
            }

            let key = try #require(IdempotencyKey("seat-1"))
            let prepared = try ledger.prepareTransfer(from: wallet.refid, to: revenue.refid, amount: 300,
                                                      description: "  Pro licence ", metadata: ["client": "CL-1"], key: key)
            let first = try await ledger.database.write { tx in try ledger.transfer(prepared, in: tx) }
            #expect(first.isNew && first.debitBalanceAfter == 700 && first.description == "Pro licence")
            #expect(first.metadata == ["client": "CL-1"])
            // Run again, or called with the same arguments, it is the same transfer: the key replays it.
            let again = try await ledger.database.write { tx in try ledger.transfer(prepared, in: tx) }
            let called = try await ledger.transfer(from: wallet.refid, to: revenue.refid, amount: 300, description: "Pro licence",
                                                   metadata: ["client": "CL-1"], idempotencyKey: "seat-1")
            #expect(!again.isNew && again.refid == first.refid && called.refid == first.refid && !called.isNew)
            // The same key with other arguments is a conflict, prepared or not.
            let other = try ledger.prepareTransfer(from: wallet.refid, to: revenue.refid, amount: 301,
                                                   description: "Pro licence", metadata: ["client": "CL-1"], key: key)
            await _ = expectWalletError(.idempotencyConflict) {
                try await ledger.database.write { tx in try ledger.transfer(other, in: tx) }
            }
            #expect(try await ledger.account(wallet.refid).balance == 700)
            #expect(try await ledger.history(of: wallet.refid).items.map(\.amount) == [-300, 1_000])
            #expect(try await ledger.reconcile().isClean)
        }
    }
}
