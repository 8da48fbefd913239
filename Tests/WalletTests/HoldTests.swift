import Foundation
import Logging
import ServiceLifecycle
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Synchronization
import Testing
import Wallet

extension Engine {
    /// A fresh, installed ledger reading the time from `clock`.
    func withHoldLedger<T: Sendable>(inMemory: Bool = true, clock: any WallClock = SystemWallClock(),
                                     policy: HoldPolicy = .defaults,
                                     _ body: @Sendable (Ledger) async throws -> T) async throws -> T {
        try await withDatabase(inMemory: inMemory) { database in
            try await Ledger.install(on: database)
            return try await body(Ledger(database: database, clock: clock, holdPolicy: policy))
        }
    }
}

/// A wallet topped up with `amount`, and the revenue account holds are captured into.
func fundedWallet(_ ledger: Ledger, _ amount: Int64, owner: String = "CL-ALPHA") async throws -> (wallet: Refid, revenue: Refid) {
    let wallet = try await ledger.account(owner: owner, unit: .credits)
    try await ledger.issue(amount, to: wallet.refid, description: "Top-up")
    return (wallet.refid, try await ledger.system(.revenue, unit: .credits).refid)
}

/// Every row the ledger's writes touch, as text: equal before and after means nothing was written.
func ledgerState(_ ledger: Ledger) async throws -> [String] {
    try await ledger.database.read { tx in
        var lines: [String] = []
        for row in try tx.query("SELECT refid, balance, held FROM wallet_accounts ORDER BY id LIMIT 1000") {
            lines.append("account \(try row.string("refid")) \(try row.int64("balance")) \(try row.int64("held"))")
        }
        for row in try tx.query("""
            SELECT refid, status, resolved_by, captured_amount, capture_transfer_id FROM wallet_holds ORDER BY id LIMIT 1000
            """) {
            lines.append("hold \(try row.string("refid")) \(try row.string("status")) \(try row.optionalString("resolved_by") ?? "-") "
                         + "\(try row.optionalInt64("captured_amount") ?? 0) \(try row.optionalInt64("capture_transfer_id") ?? 0)")
        }
        for table in ["wallet_transfers", "wallet_entries", "wallet_hold_audit"] {
            lines.append("\(table) \(try tx.queryInt64(SQL(raw: "SELECT count(*) FROM \(table)")) ?? -1)")
        }
        return lines
    }
}

let holdTestStart = Date(timeIntervalSince1970: 1_750_000_000)

@Suite struct HoldTests {
    // MARK: Reserve

    @Test(arguments: Engine.allCases)
    func reservingReducesAvailableNotBalanceAndTransfersCannotSpendHeldFunds(engine: Engine) async throws {
        let clock = ManualWallClock(now: holdTestStart)
        try await engine.withHoldLedger(clock: clock) { ledger in
            let (wallet, revenue) = try await fundedWallet(ledger, 1_000)
            let hold = try await ledger.reserve(700, from: wallet, description: "Order 42", metadata: ["order": "42"], actor: "shop")
            #expect(Refid.isWellFormed(hold.refid.rawValue, prefix: "HD-"))
            #expect(hold.status == .pending && hold.isNew && hold.amount == 700 && hold.account == wallet)
            #expect(hold.expiresAt == holdTestStart.addingTimeInterval(15 * 60))
            let stored = try await ledger.hold(hold.refid)
            #expect(stored.refid == hold.refid && stored.account == wallet && stored.unit == .credits && stored.amount == 700)
            #expect(stored.status == .pending && stored.description == "Order 42" && stored.metadata == ["order": "42"])
            #expect(stored.expiresAt == hold.expiresAt && stored.createdAt == holdTestStart && stored.createdBy == "shop")
            #expect(stored.resolvedAt == nil && stored.resolvedBy == nil && stored.capturedAmount == nil && stored.captureTransfer == nil)
            #expect(!stored.isNew)

            let account = try await ledger.account(wallet)
            #expect(account.balance == 1_000 && account.held == 700 && account.available == 300)
            #expect(try await ledger.history(of: wallet).items.count == 1)   // a hold moves no money

            let error = await expectWalletError(.insufficientFunds) {
                try await ledger.transfer(from: wallet, to: revenue, amount: 400, description: "Too much")
            }
            #expect(error?.balance == 300 && error?.held == 700 && error?.amount == 400)
            #expect(error?.description == "Insufficient Funds: available 300 (700 held), cost 400")
            await _ = expectWalletError(.insufficientFunds) { try await ledger.reserve(301, from: wallet, description: "Second") }

            let spend = try await ledger.transfer(from: wallet, to: revenue, amount: 300, description: "All that is free")
            #expect(spend.debitBalanceAfter == 700)
            let after = try await ledger.account(wallet)
            #expect(after.balance == 700 && after.held == 700 && after.available == 0)
            let trail = try await ledger.auditTrail(ofHold: hold.refid)
            #expect(trail.map(\.event) == ["reserve"] && trail.first?.toStatus == .pending && trail.first?.actor == "shop")
            let report = try await ledger.reconcile()
            #expect(report.isClean && report.heldMismatches.isEmpty)
        }
    }

    // MARK: Capture and void

    @Test(arguments: Engine.allCases)
    func capturingAHoldInFullMovesItsFundsAsOneTransfer(engine: Engine) async throws {
        try await engine.withHoldLedger { ledger in
            let (wallet, revenue) = try await fundedWallet(ledger, 1_000)
            let hold = try await ledger.reserve(600, from: wallet, description: "Order 7")
            let capture = try await ledger.capture(hold.refid, to: revenue, actor: "fulfilment")
            #expect(capture.released == 0)
            #expect(capture.transfer.amount == 600 && capture.transfer.debitAccount == wallet && capture.transfer.creditAccount == revenue)
            #expect(capture.transfer.debitBalanceAfter == 400 && capture.transfer.creditBalanceAfter == 600)
            #expect(capture.transfer.description == "Order 7" && capture.transfer.metadata["hold"] == .string(hold.refid.rawValue))
            #expect(capture.hold.status == .captured && capture.hold.capturedAmount == 600)

            let stored = try await ledger.hold(hold.refid)
            #expect(stored.status == .captured && stored.captureTransfer == capture.transfer.refid)
            #expect(stored.capturedAmount == 600 && stored.resolvedBy == "fulfilment" && stored.resolvedAt != nil)
            let account = try await ledger.account(wallet)
            #expect(account.balance == 400 && account.held == 0 && account.available == 400)
            #expect(try await ledger.account(revenue).balance == 600)
            let history = try await ledger.history(of: wallet)
            #expect(history.items.map(\.amount) == [-600, 1_000])
            #expect(history.items.first?.transfer == capture.transfer.refid)
            let trail = try await ledger.auditTrail(ofHold: hold.refid)
            #expect(trail.map(\.event) == ["reserve", "capture"])
            #expect(trail.last?.fromStatus == .pending && trail.last?.toStatus == .captured && trail.last?.actor == "fulfilment")
            #expect(try await ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func capturingPartOfAHoldMovesThatPartAndReleasesTheRest(engine: Engine) async throws {
        try await engine.withHoldLedger { ledger in
            let (wallet, revenue) = try await fundedWallet(ledger, 1_000)
            let hold = try await ledger.reserve(600, from: wallet, description: "Order 8")
            let other = try await ledger.reserve(100, from: wallet, description: "Order 9")
            let capture = try await ledger.capture(hold.refid, amount: 250, to: revenue, description: "Order 8, one item short")
            #expect(capture.released == 350 && capture.transfer.amount == 250)
            #expect(capture.transfer.description == "Order 8, one item short")
            #expect(capture.hold.resolutionReason == "captured 250 of 600")
            let account = try await ledger.account(wallet)
            // The whole 600 left `held`; only 250 left the balance; the other hold is untouched.
            #expect(account.balance == 750 && account.held == 100 && account.available == 650)
            #expect(try await ledger.account(revenue).balance == 250)
            #expect(try await ledger.hold(other.refid).status == .pending)
            #expect(try await ledger.hold(hold.refid).capturedAmount == 250)
            #expect(try await ledger.history(of: wallet).items.map(\.amount) == [-250, 1_000])
            #expect(try await ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func voidingAHoldReleasesItsFundsAndMovesNoMoney(engine: Engine) async throws {
        try await engine.withHoldLedger { ledger in
            let (wallet, _) = try await fundedWallet(ledger, 1_000)
            let hold = try await ledger.reserve(500, from: wallet, description: "Order 10")
            let voided = try await ledger.void(hold.refid, actor: "support", reason: "order cancelled")
            #expect(voided.status == .voided && voided.resolvedBy == "support" && voided.resolutionReason == "order cancelled")
            #expect(try await ledger.hold(hold.refid) == voided)
            let account = try await ledger.account(wallet)
            #expect(account.balance == 1_000 && account.held == 0 && account.available == 1_000)
            #expect(try await ledger.history(of: wallet).items.count == 1)
            let trail = try await ledger.auditTrail(ofHold: hold.refid)
            #expect(trail.map(\.event) == ["reserve", "void"])
            #expect(trail.last?.reason == "order cancelled" && trail.last?.toStatus == .voided)
            #expect(try await ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func aResolvedHoldCannotBeCapturedOrVoidedAgainAndTheRefusalWritesNothing(engine: Engine) async throws {
        try await engine.withHoldLedger { ledger in
            let (wallet, revenue) = try await fundedWallet(ledger, 1_000)
            let captured = try await ledger.reserve(300, from: wallet, description: "Captured")
            try await ledger.capture(captured.refid, to: revenue)
            let voided = try await ledger.reserve(200, from: wallet, description: "Voided")
            try await ledger.void(voided.refid)
            let before = try await ledgerState(ledger)

            let again = await expectWalletError(.holdNotPending) { try await ledger.capture(captured.refid, to: revenue) }
            #expect(again?.holdStatus == .captured && again?.description == "Hold Not Pending: the hold is already captured")
            let voidAfterCapture = await expectWalletError(.holdNotPending) { try await ledger.void(captured.refid) }
            #expect(voidAfterCapture?.holdStatus == .captured)
            let captureAfterVoid = await expectWalletError(.holdNotPending) { try await ledger.capture(voided.refid, to: revenue) }
            #expect(captureAfterVoid?.holdStatus == .voided)
            let voidTwice = await expectWalletError(.holdNotPending) { try await ledger.void(voided.refid) }
            #expect(voidTwice?.holdStatus == .voided)

            let after = try await ledgerState(ledger)
            #expect(after == before)
            #expect(try await ledger.account(wallet).balance == 700)
            #expect(try await ledger.reconcile().isClean)
        }
    }

    // MARK: Bad input

    @Test(arguments: Engine.allCases)
    func badInputIsATypedErrorAndWritesNothing(engine: Engine) async throws {
        try await engine.withHoldLedger { ledger in
            let (wallet, revenue) = try await fundedWallet(ledger, 100)
            let dollars = try await ledger.account(owner: "CL-ALPHA", unit: try Unit("USD"))
            let hold = try await ledger.reserve(60, from: wallet, description: "Open", idempotencyKey: "order-1")
            let before = try await ledgerState(ledger)

            for amount: Int64 in [0, -1, .min] {
                await _ = expectWalletError(.invalidAmount) { try await ledger.reserve(amount, from: wallet, description: "x") }
                await _ = expectWalletError(.invalidAmount) { try await ledger.capture(hold.refid, amount: amount, to: revenue) }
            }
            let huge = await expectWalletError(.insufficientFunds) { try await ledger.reserve(.max, from: wallet, description: "x") }
            #expect(huge?.balance == 40 && huge?.held == 60 && huge?.amount == .max)
            await _ = expectWalletError(.invalidAmount) { try await ledger.capture(hold.refid, amount: 61, to: revenue) }
            await _ = expectWalletError(.invalidAmount) { try await ledger.capture(hold.refid, amount: .max, to: revenue) }
            await _ = expectWalletError(.accountNotFound) {
                try await ledger.reserve(1, from: Refid(rawValue: "WA-NONE"), description: "x")
            }
            await _ = expectWalletError(.validation) {
                try await ledger.reserve(1, from: try await ledger.system(.issuance, unit: .credits).refid, description: "x")
            }
            for description in ["", "   ", String(repeating: "d", count: 501)] {
                await _ = expectWalletError(.validation) { try await ledger.reserve(1, from: wallet, description: description) }
                await _ = expectWalletError(.validation) {
                    try await ledger.capture(hold.refid, to: revenue, description: description)
                }
            }
            await _ = expectWalletError(.validation) {
                try await ledger.reserve(1, from: wallet, description: "x", metadata: ["blob": .string(String(repeating: "m", count: 17_000))])
            }
            for lifetime: Duration in [.zero, .seconds(-5), .nanoseconds(10), .seconds(30 * 86_400 + 1)] {
                await _ = expectWalletError(.validation) {
                    try await ledger.reserve(1, from: wallet, description: "x", expiresIn: lifetime)
                }
            }
            for key in ["", String(repeating: "k", count: 201)] {
                await _ = expectWalletError(.validation) {
                    try await ledger.reserve(1, from: wallet, description: "x", idempotencyKey: key)
                }
            }
            for actor in ["", "  ", "bad\u{07}actor", String(repeating: "a", count: 256)] {
                await _ = expectWalletError(.validation) { try await ledger.reserve(1, from: wallet, description: "x", actor: actor) }
                await _ = expectWalletError(.validation) { try await ledger.capture(hold.refid, to: revenue, actor: actor) }
                await _ = expectWalletError(.validation) { try await ledger.void(hold.refid, actor: actor) }
            }
            await _ = expectWalletError(.validation) { try await ledger.void(hold.refid, reason: "line\nbreak") }
            await _ = expectWalletError(.validation) { try await ledger.void(hold.refid, reason: String(repeating: "r", count: 501)) }
            let reused = await expectWalletError(.idempotencyConflict) {
                try await ledger.reserve(61, from: wallet, description: "Open", idempotencyKey: "order-1")
            }
            #expect(reused?.description == "Idempotency Conflict: this key was already used with different parameters")
            await _ = expectWalletError(.idempotencyConflict) {
                try await ledger.reserve(60, from: wallet, description: "Open", expiresIn: .seconds(60), idempotencyKey: "order-1")
            }
            let missing = await expectWalletError(.holdNotFound) { try await ledger.capture(Refid(rawValue: "HD-NONE"), to: revenue) }
            #expect(missing?.description == "Hold Not Found: no hold with refid HD-NONE")
            await _ = expectWalletError(.holdNotFound) { try await ledger.void(Refid(rawValue: "HD-NONE")) }
            await _ = expectWalletError(.holdNotFound) { try await ledger.hold(Refid(rawValue: "HD-NONE")) }
            await _ = expectWalletError(.holdNotFound) { try await ledger.auditTrail(ofHold: Refid(rawValue: "HD-NONE")) }
            await _ = expectWalletError(.validation) { try await ledger.capture(hold.refid, to: wallet) }
            await _ = expectWalletError(.unitMismatch) { try await ledger.capture(hold.refid, to: dollars.refid) }
            await _ = expectWalletError(.accountNotFound) { try await ledger.capture(hold.refid, to: Refid(rawValue: "WA-NONE")) }
            for limit in [0, 10_001] {
                await _ = expectWalletError(.validation) { try await ledger.voidExpiredHolds(limit: limit) }
            }
            let after = try await ledgerState(ledger)
            #expect(after == before)
            #expect(try await ledger.hold(hold.refid).status == .pending)
            #expect(try await ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func aCaptureThatWouldOverflowTheDestinationIsRefusedAndLeavesTheHoldPending(engine: Engine) async throws {
        try await engine.withHoldLedger { ledger in
            let rich = try await ledger.account(owner: "CL-RICH", unit: .credits)
            try await ledger.issue(Int64.max - 10, to: rich.refid, description: "Almost everything")
            // Funded from revenue (a system account, which may go negative) so issuance stays in range.
            let wallet = try await ledger.account(owner: "CL-ALPHA", unit: .credits)
            let revenue = try await ledger.system(.revenue, unit: .credits)
            try await ledger.transfer(from: revenue.refid, to: wallet.refid, amount: 100, description: "Refund")
            let hold = try await ledger.reserve(50, from: wallet.refid, description: "To the rich")
            let before = try await ledgerState(ledger)

            let error = await expectWalletError(.invalidAmount) { try await ledger.capture(hold.refid, to: rich.refid) }
            #expect(error?.description == "Invalid amount: the credited balance would overflow")
            let after = try await ledgerState(ledger)
            #expect(after == before)
            #expect(try await ledger.hold(hold.refid).status == .pending)
            #expect(try await ledger.account(wallet.refid).held == 50)
            // A capture that fits still goes through.
            let fits = try await ledger.capture(hold.refid, amount: 10, to: rich.refid)
            #expect(fits.transfer.creditBalanceAfter == Int64.max)
            let report = try await ledger.reconcile()
            #expect(report.mismatches.isEmpty && report.heldMismatches.isEmpty)
        }
    }

    // MARK: Idempotency

    @Test(arguments: Engine.allCases)
    func aReservationRetriedWithOneKeyHoldsOnceAndReturnsTheSameHold(engine: Engine) async throws {
        try await engine.withHoldLedger(inMemory: false) { ledger in
            let (wallet, revenue) = try await fundedWallet(ledger, 1_000)
            let holds = try await withThrowingTaskGroup(of: Hold.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await ledger.reserve(250, from: wallet, description: "Order 77", metadata: ["order": 77],
                                                 idempotencyKey: "order-77")
                    }
                }
                return try await group.reduce(into: [Hold]()) { $0.append($1) }
            }
            #expect(Set(holds.map(\.refid)).count == 1)
            #expect(holds.filter(\.isNew).count == 1)
            #expect(try await ledger.account(wallet).held == 250)

            try await ledger.capture(holds[0].refid, to: revenue)
            let retried = try await ledger.reserve(250, from: wallet, description: "Order 77", metadata: ["order": 77],
                                                   idempotencyKey: "order-77")
            // The retry reports the hold as it is now, and holds nothing more.
            #expect(retried.refid == holds[0].refid && !retried.isNew && retried.status == .captured)
            let account = try await ledger.account(wallet)
            #expect(account.held == 0 && account.balance == 750)
            let count = try await ledger.database.read { tx in try tx.queryInt64("SELECT count(*) FROM wallet_holds") }
            #expect(count == 1)

            // With only enough for one hold, every concurrent retry still gets that hold, not "insufficient funds".
            let (scarce, _) = try await fundedWallet(ledger, 300, owner: "CL-SCARCE")
            let scarceHolds = try await withThrowingTaskGroup(of: Hold.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await ledger.reserve(250, from: scarce, description: "Order 78", idempotencyKey: "order-78") }
                }
                return try await group.reduce(into: [Hold]()) { $0.append($1) }
            }
            #expect(Set(scarceHolds.map(\.refid)).count == 1 && scarceHolds.filter(\.isNew).count == 1)
            #expect(try await ledger.account(scarce).held == 250)
            #expect(try await ledger.reconcile().isClean)
        }
    }

    // MARK: Expiry

    @Test(arguments: Engine.allCases)
    func aHoldPastItsExpiryCannotBeCapturedAndIsMarkedExpired(engine: Engine) async throws {
        let clock = ManualWallClock(now: holdTestStart)
        let policy = try HoldPolicy(defaultDuration: .seconds(300), maximumDuration: .seconds(3_600))
        try await engine.withHoldLedger(clock: clock, policy: policy) { ledger in
            let (wallet, revenue) = try await fundedWallet(ledger, 1_000)
            let short = try await ledger.reserve(100, from: wallet, description: "Default lifetime")
            #expect(short.expiresAt == holdTestStart.addingTimeInterval(300))
            let long = try await ledger.reserve(200, from: wallet, description: "An hour", expiresIn: .seconds(3_600))
            await _ = expectWalletError(.validation) {
                try await ledger.reserve(1, from: wallet, description: "Too long", expiresIn: .seconds(3_601))
            }

            clock.advance(by: 299)
            #expect(!(try await ledger.hold(short.refid).isPastExpiry(at: clock.now())))
            clock.advance(by: 1)   // exactly at expiresAt: expired
            #expect(try await ledger.hold(short.refid).isPastExpiry(at: clock.now()))
            let refused = await expectWalletError(.holdExpired) { try await ledger.capture(short.refid, to: revenue) }
            #expect(refused?.holdStatus == .expired)

            let expired = try await ledger.hold(short.refid)
            #expect(expired.status == .expired && expired.resolvedBy == Hold.expiryActor && expired.captureTransfer == nil)
            #expect(try await ledger.auditTrail(ofHold: short.refid).map(\.event) == ["reserve", "expire"])
            let account = try await ledger.account(wallet)
            #expect(account.balance == 1_000 && account.held == 200)
            #expect(try await ledger.history(of: wallet).items.count == 1)
            await _ = expectWalletError(.holdNotPending) { try await ledger.capture(short.refid, to: revenue) }

            let capture = try await ledger.capture(long.refid, to: revenue)
            #expect(capture.transfer.amount == 200)
            #expect(try await ledger.voidExpiredHolds() == 0)
            #expect(try await ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func voidExpiredHoldsExpiresOnlyDueHoldsInBatches(engine: Engine) async throws {
        let clock = ManualWallClock(now: holdTestStart)
        try await engine.withHoldLedger(clock: clock) { ledger in
            let (wallet, revenue) = try await fundedWallet(ledger, 10_000)
            var due: [Hold] = []
            for index in 1...5 {
                due.append(try await ledger.reserve(Int64(index * 10), from: wallet, description: "due \(index)", expiresIn: .seconds(60)))
            }
            var later: [Hold] = []
            for index in 1...3 {
                later.append(try await ledger.reserve(Int64(index * 100), from: wallet, description: "later \(index)",
                                                      expiresIn: .seconds(600)))
            }
            try await ledger.capture(due[0].refid, to: revenue)
            try await ledger.void(due[1].refid)
            #expect(try await ledger.voidExpiredHolds() == 0)   // nothing is due yet

            clock.advance(by: 120)
            #expect(try await ledger.voidExpiredHolds(limit: 2) == 2)
            #expect(try await ledger.voidExpiredHolds(limit: 2) == 1)
            #expect(try await ledger.voidExpiredHolds(limit: 2) == 0)

            #expect(try await ledger.hold(due[0].refid).status == .captured)
            #expect(try await ledger.hold(due[1].refid).status == .voided)
            for hold in due[2...] {
                let swept = try await ledger.hold(hold.refid)
                #expect(swept.status == .expired && swept.resolvedBy == "expiry-sweep")
                let trail = try await ledger.auditTrail(ofHold: hold.refid)
                #expect(trail.map(\.event) == ["reserve", "expire"] && trail.last?.actor == "expiry-sweep")
            }
            for hold in later { #expect(try await ledger.hold(hold.refid).status == .pending) }
            let account = try await ledger.account(wallet)
            #expect(account.held == 600 && account.balance == 9_990 && account.available == 9_390)
            #expect(try await ledger.reconcile().isClean)
        }
    }

    // MARK: Races

    @Test(arguments: Engine.allCases)
    func eightConcurrentReserversAndSpendersNeverExceedTheBalance(engine: Engine) async throws {
        try await engine.withHoldLedger(inMemory: false) { ledger in
            let (wallet, revenue) = try await fundedWallet(ledger, 1_000)
            // Even tasks reserve, odd tasks spend: together they may never take more than the balance.
            let outcomes = try await withThrowingTaskGroup(of: (reserved: Int, spent: Int, refused: Int).self) { group in
                for task in 0..<8 {
                    group.addTask {
                        var (reserved, spent, refused) = (0, 0, 0)
                        for attempt in 0..<20 {
                            do {
                                if task.isMultiple(of: 2) {
                                    try await ledger.reserve(30, from: wallet, description: "hold \(task)-\(attempt)")
                                    reserved += 1
                                } else {
                                    try await ledger.transfer(from: wallet, to: revenue, amount: 30, description: "spend \(task)-\(attempt)")
                                    spent += 1
                                }
                            } catch let error as WalletError where error.code == .insufficientFunds {
                                refused += 1
                            }
                        }
                        return (reserved, spent, refused)
                    }
                }
                return try await group.reduce(into: (reserved: 0, spent: 0, refused: 0)) {
                    $0.reserved += $1.reserved; $0.spent += $1.spent; $0.refused += $1.refused
                }
            }
            #expect(outcomes.reserved + outcomes.spent == 33)   // 1,000 / 30, rounded down
            #expect(outcomes.refused == 160 - 33)
            let account = try await ledger.account(wallet)
            #expect(account.held == Int64(outcomes.reserved) * 30)
            #expect(account.balance == 1_000 - Int64(outcomes.spent) * 30)
            #expect(account.available == 10 && account.held <= account.balance)
            #expect(try await ledger.account(revenue).balance == Int64(outcomes.spent) * 30)
            #expect(try await ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func capturesAndAVoidRacingOnOneHoldResolveItExactlyOnce(engine: Engine) async throws {
        try await engine.withHoldLedger(inMemory: false) { ledger in
            let (wallet, revenue) = try await fundedWallet(ledger, 10_000)
            let rounds = 30
            var captures = 0
            for round in 0..<rounds {
                let hold = try await ledger.reserve(10, from: wallet, description: "round \(round)")
                let outcomes = await withTaskGroup(of: String.self) { group in
                    for racer in ["capture", "capture", "void"] {
                        group.addTask {
                            do {
                                if racer == "capture" {
                                    try await ledger.capture(hold.refid, to: revenue, actor: "racer")
                                } else {
                                    try await ledger.void(hold.refid, actor: "racer")
                                }
                                return racer
                            } catch let error as WalletError where error.code == .holdNotPending {
                                return "refused"
                            } catch {
                                return "unexpected \(String(reflecting: error))"
                            }
                        }
                    }
                    return await group.reduce(into: [String]()) { $0.append($1) }
                }
                #expect(outcomes.filter { $0 == "refused" }.count == 2, "round \(round): \(outcomes)")
                let winner = outcomes.first { $0 != "refused" }
                let status = try await ledger.hold(hold.refid).status
                #expect(status == (winner == "capture" ? .captured : .voided), "round \(round): \(outcomes)")
                if winner == "capture" { captures += 1 }
            }
            let account = try await ledger.account(wallet)
            #expect(account.held == 0 && account.balance == 10_000 - Int64(captures) * 10)
            #expect(try await ledger.account(revenue).balance == Int64(captures) * 10)
            #expect(try await ledger.history(of: wallet, limit: 500).items.count == captures + 1)
            #expect(try await ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func aVoidACaptureAndTheSweepRacingOnAnExpiredHoldResolveItExactlyOnce(engine: Engine) async throws {
        let clock = ManualWallClock(now: holdTestStart)
        try await engine.withHoldLedger(inMemory: false, clock: clock) { ledger in
            let (wallet, revenue) = try await fundedWallet(ledger, 10_000)
            var winners: [String: Int] = [:]
            for round in 0..<30 {
                let hold = try await ledger.reserve(10, from: wallet, description: "round \(round)", expiresIn: .seconds(60))
                clock.advance(by: 61)
                let outcomes = await withTaskGroup(of: String.self) { group in
                    group.addTask {
                        do { try await ledger.void(hold.refid, actor: "racer"); return "void" }
                        catch let error as WalletError where error.code == .holdNotPending { return "refused" }
                        catch { return "unexpected \(String(reflecting: error))" }
                    }
                    group.addTask {
                        // A late capture marks the hold expired itself — or finds it already resolved.
                        do { try await ledger.capture(hold.refid, to: revenue, actor: "racer"); return "captured?!" }
                        catch let error as WalletError where error.code == .holdExpired { return "capture-expired" }
                        catch let error as WalletError where error.code == .holdNotPending { return "refused" }
                        catch { return "unexpected \(String(reflecting: error))" }
                    }
                    group.addTask {
                        do { return try await ledger.voidExpiredHolds() == 1 ? "sweep" : "refused" }
                        catch { return "unexpected \(String(reflecting: error))" }
                    }
                    return await group.reduce(into: [String]()) { $0.append($1) }
                }
                #expect(outcomes.filter { $0 == "refused" }.count == 2, "round \(round): \(outcomes)")
                let winner = outcomes.first { $0 != "refused" } ?? "none"
                winners[winner, default: 0] += 1
                let status = try await ledger.hold(hold.refid).status
                #expect(status == (winner == "void" ? .voided : .expired), "round \(round): \(outcomes)")
                #expect(try await ledger.auditTrail(ofHold: hold.refid).count == 2)
            }
            #expect(winners.values.reduce(0, +) == 30 && Set(winners.keys).isSubset(of: ["void", "capture-expired", "sweep"]))
            let account = try await ledger.account(wallet)
            #expect(account.held == 0 && account.balance == 10_000)
            #expect(try await ledger.account(revenue).balance == 0)
            #expect(try await ledger.reconcile().isClean)
        }
    }

    // MARK: Sweeper

    @Test(arguments: Engine.allCases)
    func theSweeperExpiresDueHoldsInAServiceGroupAndStopsOnGracefulShutdown(engine: Engine) async throws {
        let clock = ManualWallClock(now: holdTestStart)
        try await engine.withHoldLedger(clock: clock) { ledger in
            let (wallet, _) = try await fundedWallet(ledger, 1_000)
            var due: [Refid] = []
            for index in 1...3 {
                due.append(try await ledger.reserve(10, from: wallet, description: "due \(index)", expiresIn: .seconds(60)).refid)
            }
            let later = try await ledger.reserve(100, from: wallet, description: "later", expiresIn: .seconds(600)).refid
            clock.advance(by: 61)

            let logs = LogRecorder()
            // A batch of 2 makes the first sweep take two batches for three due holds. The hour-long
            // pause means the shutdown below must cut it short: an ignored shutdown fails the poll.
            let sweeper = try HoldExpirySweeper(ledger: ledger, interval: .seconds(3_600), batchSize: 2,
                                                logger: logs.logger("sweeper"))
            let group = ServiceGroup(services: [sweeper], gracefulShutdownSignals: [], logger: logs.logger("group"))
            let running = Task { try await group.run() }
            let swept = try await eventually { try await ledger.account(wallet).held == 100 }
            #expect(swept)
            await group.triggerGracefulShutdown()
            let stopped = try await eventually { logs.lines.contains { $0.contains("hold expiry sweeper stopped") } }
            #expect(stopped)
            if !stopped { running.cancel() }
            try await running.value   // the group ends without error once its only service has returned

            for refid in due { #expect(try await ledger.hold(refid).status == .expired) }
            #expect(try await ledger.hold(later).status == .pending)
            #expect(logs.lines.contains { $0.contains("expired holds released") && $0.contains("count=3") })
            #expect(!logs.lines.contains { $0.hasPrefix("error") })
            #expect(try await ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func theSweeperStopsWhenItsTaskIsCancelled(engine: Engine) async throws {
        try await engine.withHoldLedger { ledger in
            let logs = LogRecorder()
            let sweeper = try HoldExpirySweeper(ledger: ledger, interval: .seconds(3_600), logger: logs.logger("sweeper"))
            let running = Task { try await sweeper.run() }
            let swept = try await eventually { logs.lines.contains { $0.contains("no expired holds") } }
            #expect(swept)
            running.cancel()
            let stopped = try await eventually { logs.lines.contains { $0.contains("hold expiry sweeper stopped") } }
            #expect(stopped)
            if stopped { try await running.value }   // returns, without throwing, once cancelled
        }
    }

    @Test(arguments: Engine.allCases)
    func theSweeperLogsAFailingBatchAndRetriesOnTheNextTick(engine: Engine) async throws {
        let clock = ManualWallClock(now: holdTestStart)
        try await engine.withDatabase { database in
            // Not installed yet: every sweep fails until the tables exist.
            let ledger = Ledger(database: database, clock: clock)
            let logs = LogRecorder()
            let sweeper = try HoldExpirySweeper(ledger: ledger, interval: .milliseconds(10), logger: logs.logger("sweeper"))
            let group = ServiceGroup(services: [sweeper], gracefulShutdownSignals: [], logger: logs.logger("group"))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let failedTwice = try await eventually { logs.lines.filter { $0.hasPrefix("error") }.count >= 2 }
                #expect(failedTwice)

                try await Ledger.install(on: database)
                let (wallet, _) = try await fundedWallet(ledger, 100)
                let hold = try await ledger.reserve(40, from: wallet, description: "due", expiresIn: .seconds(1))
                clock.advance(by: 2)
                let recovered = try await eventually { try await ledger.hold(hold.refid).status == .expired }
                #expect(recovered)
                #expect(try await ledger.account(wallet).held == 0)
                await group.triggerGracefulShutdown()
                _ = try await tasks.next()
            }
            let failure = logs.lines.first { $0.hasPrefix("error") }
            #expect(failure?.contains("hold expiry sweep failed; retrying on the next tick") == true)
            #expect(logs.lines.contains { $0.contains("expired holds released") && $0.contains("count=1") })
        }
    }

    // MARK: Schema and settings

    @Test(arguments: Engine.allCases)
    func aVersionOneLedgerUpgradesToHoldsAndKeepsItsBalances(engine: Engine) async throws {
        try await engine.withDatabase { database in
            let versionOne = ModuleSchema(module: "wallet", migrations: Ledger.schema.migrations.filter { $0.version == 1 })
            _ = try await SchemaInstaller.install([versionOne], on: database)
            // A v1 ledger with one top-up, written as v1 code wrote it.
            try await database.write { tx in
                try tx.execute("""
                    INSERT INTO wallet_accounts (refid, owner, unit, balance, is_system, created_at)
                    VALUES ('WA-ISSUANCE', 'system:issuance', 'credits', -500, 1, 0), ('WA-OLD', 'CL-OLD', 'credits', 500, 0, 0)
                    """)
                try tx.execute("""
                    INSERT INTO wallet_transfers (refid, fingerprint, debit_account, credit_account, amount, description, metadata, created_at)
                    VALUES ('TX-OLD', 'f', 1, 2, 500, 'Top-up', '{}', 0)
                    """)
                try tx.execute("""
                    INSERT INTO wallet_entries (account_id, transfer_id, amount, balance_after, created_at)
                    VALUES (1, 1, -500, -500, 0), (2, 1, 500, 500, 0)
                    """)
            }
            let report = try await Ledger.install(on: database)
            #expect(report.appliedVersions == [2, 3, 4] && report.version == 4)
            #expect(try await Ledger.install(on: database).appliedVersions.isEmpty)

            let ledger = Ledger(database: database)
            // Version 4 backfilled the daily activity from the old transfer and marked it folded.
            #expect(try await ledger.foldActivity() == 0)
            let activity = try await database.read { tx in try ledger.activityByAccount(unit: .credits, in: tx) }
            #expect(activity.map(\.totals) == [ActivityTotals(credited: 500, debited: 0, debits: 0)])
            #expect(activity.map(\.firstDay.description) == ["1970-01-01"])
            let old = try await ledger.account(Refid(rawValue: "WA-OLD"))
            #expect(old.balance == 500 && old.held == 0 && old.available == 500)
            let hold = try await ledger.reserve(200, from: old.refid, description: "After the upgrade")
            let revenue = try await ledger.system(.revenue, unit: .credits)
            try await ledger.capture(hold.refid, amount: 150, to: revenue.refid)
            let after = try await ledger.account(old.refid)
            #expect(after.balance == 350 && after.held == 0)
            #expect(try await ledger.history(of: old.refid).items.map(\.amount) == [-150, 500])
            #expect(try await ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func theSchemaRefusesAHeldAmountAboveTheBalance(engine: Engine) async throws {
        try await engine.withHoldLedger { ledger in
            let (wallet, _) = try await fundedWallet(ledger, 100)
            // The last line of defence, should a future code path forget the conditional UPDATE.
            await #expect(throws: StorageError.self) {
                try await ledger.database.write { tx in try tx.execute("UPDATE wallet_accounts SET held = 101 WHERE refid = \(wallet)") }
            }
            #expect(try await ledger.account(wallet).held == 0)
        }
    }

    @Test(arguments: Engine.allCases)
    func holdPolicyAndSweeperRefuseOutOfRangeSettings(engine: Engine) async throws {
        #expect(HoldPolicy.defaults.defaultDuration == .seconds(900) && HoldPolicy.defaults.maximumDuration == .seconds(2_592_000))
        for (value, maximum) in [(Duration.zero, Duration.seconds(60)), (.seconds(120), .seconds(60)), (.seconds(1), .seconds(367 * 86_400))] {
            let error = #expect(throws: WalletError.self) { try HoldPolicy(defaultDuration: value, maximumDuration: maximum) }
            #expect(error?.code == .invalidConfiguration)
        }
        let policy = try HoldPolicy(defaultDuration: .seconds(60), maximumDuration: .seconds(60))
        #expect(policy.defaultDuration == policy.maximumDuration)
        try await engine.withHoldLedger(policy: policy) { ledger in
            for (interval, batch) in [(Duration.zero, 10), (.seconds(1), 0), (.seconds(1), 10_001)] {
                let error = #expect(throws: WalletError.self) {
                    try HoldExpirySweeper(ledger: ledger, interval: interval, batchSize: batch, logger: Logger(label: "test"))
                }
                #expect(error?.code == .invalidConfiguration)
            }
            let (wallet, _) = try await fundedWallet(ledger, 10)
            let hold = try await ledger.reserve(5, from: wallet, description: "Policy default")
            #expect(hold.expiresAt.timeIntervalSince(hold.createdAt) == 60)
        }
    }
}
