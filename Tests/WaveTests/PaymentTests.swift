import Client
import Foundation
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing
import Wallet
import Wave

@Suite struct PaymentTests {
    @Test(arguments: Engine.allCases)
    func theWalletPaysAnInvoiceWithOneDebitInOneTransaction(engine: Engine) async throws {
        try await engine.withWave { wave in
            let acme = try await wave.client("Acme")
            let topUp = try await wave.invoices.topUp(acme.refid, amount: 10_000, currency: "USD", idempotencyKey: "deposit-1")
            #expect(topUp.creditBalanceAfter == 10_000)
            let invoice = try await wave.invoices.make().for(acme.refid).currency("USD").line("Pro", amount: 4_900).create()
            let outcome = try await wave.invoices.attemptPayment(invoice.refid, actor: "checkout")
            guard case .paid(let payment) = outcome else { Issue.record("expected paid, got \(outcome)"); return }
            #expect(payment.method == "wallet" && payment.amount == 4_900 && payment.isNew)
            #expect(Refid.isWellFormed(payment.refid.rawValue, prefix: "PY-") && payment.reference == payment.transfer?.rawValue)
            let paid = try await wave.invoices.find(invoice.refid)
            #expect(paid.status == .paid && paid.paidAt == waveStart && paid.paymentMethod == "wallet")
            #expect(paid.paymentReference == payment.transfer?.rawValue)
            #expect(try await wave.balance(acme.refid) == 5_100)
            let trail = try await wave.invoices.auditTrail(of: invoice.refid)
            #expect(trail.map(\.event) == ["created", "pay"] && trail[1].fromStatus == .open && trail[1].actor == "checkout")
            // Paying again reports the one payment; no second debit.
            guard case .paid(let again) = try await wave.invoices.attemptPayment(invoice.refid) else {
                Issue.record("expected paid"); return
            }
            var replayed = payment
            replayed.isNew = false
            #expect(again == replayed)
            #expect(try await wave.invoices.payment(of: invoice.refid)?.refid == payment.refid)
            let wallet = try await wave.invoices.wallet(of: acme.refid, currency: "USD")
            let history = try await wave.invoices.ledger.history(of: wallet.refid)
            #expect(history.items.map(\.amount) == [-4_900, 10_000] && history.items[0].description == "Invoice INV-2026-0001")
            #expect(try await wave.invoices.ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func aShortWalletWithoutAGatewayFailsAndWritesNothing(engine: Engine) async throws {
        try await engine.withWave { wave in
            let acme = try await wave.client("Acme"), broke = try await wave.client("Broke")
            try await wave.invoices.topUp(acme.refid, amount: 1_000, currency: "USD")
            let invoice = try await wave.invoices.make().for(acme.refid).currency("USD").amount(4_900).create()
            let unfunded = try await wave.invoices.make().for(broke.refid).currency("USD").amount(100).create()
            let before = try await wave.rowCounts()
            let outcome = try await wave.invoices.attemptPayment(invoice.refid)
            #expect(outcome == .failed(PaymentFailure(code: .insufficientFunds, message: "Insufficient Funds: wallet balance 1000, invoice total 4900",
                                                      available: 1_000, amount: 4_900)))
            #expect(!outcome.isPaid)
            // A client who never had a wallet: refused, and no empty wallet is left behind.
            let none = try await wave.invoices.attemptPayment(unfunded.refid)
            guard case .failed(let failure) = none else { Issue.record("expected failed, got \(none)"); return }
            #expect(failure.code == .insufficientFunds && failure.available == 0)
            #expect(try await wave.rowCounts() == before)
            #expect(try await wave.invoices.find(invoice.refid).status == .open)
            #expect(try await wave.invoices.payment(of: invoice.refid) == nil)
        }
    }

    @Test(arguments: Engine.allCases)
    func aShortWalletWithAGatewayOpensOneCheckoutSessionAndLeavesTheInvoiceOpen(engine: Engine) async throws {
        try await engine.withWave(gateway: true) { wave in
            let acme = try await wave.client("Acme")
            try await wave.invoices.topUp(acme.refid, amount: 1_000, currency: "USD")
            let invoice = try await wave.invoices.make().for(acme.refid).currency("USD").amount(4_900).create()
            let outcome = try await wave.invoices.attemptPayment(invoice.refid, idempotencyKey: "attempt-1")
            guard case .requiresAction(let session) = outcome else { Issue.record("expected requires action, got \(outcome)"); return }
            #expect(Refid.isWellFormed(session.id, prefix: "CS-"))
            #expect(session.url.absoluteString == "http://localhost/checkout/\(session.id)")
            #expect(session.invoice == invoice.refid && session.amount == 4_900 && session.currency == "USD" && session.status == .open)
            #expect(try await wave.gateway.session(session.id) == session)
            // Retrying reuses the open session; nothing is paid, nothing is debited.
            let retry = try await wave.invoices.attemptPayment(invoice.refid)
            #expect(retry == .requiresAction(session))
            #expect(try await wave.gateway.sessions(for: invoice.refid).count == 1)
            #expect(try await wave.invoices.find(invoice.refid).status == .open)
            #expect(try await wave.invoices.payment(of: invoice.refid) == nil)
            #expect(try await wave.balance(acme.refid) == 1_000)
            // Once the wallet covers it, the same invoice is paid by the wallet.
            try await wave.invoices.topUp(acme.refid, amount: 4_000, currency: "USD")
            #expect(try await wave.invoices.attemptPayment(invoice.refid).isPaid)
            #expect(try await wave.balance(acme.refid) == 100)
        }
    }

    /// Concurrent attempts on one unpaid invoice share one checkout session. (On PostgreSQL a late
    /// attempt used to see the first one's committed session as "other terms" and expire it.)
    @Test(arguments: Engine.allCases)
    func concurrentAttemptsOnOneInvoiceOpenOneCheckoutSession(engine: Engine) async throws {
        try await engine.withWave(inMemory: false, gateway: true) { wave in
            let acme = try await wave.client("Acme")
            let invoice = try await wave.invoices.make().for(acme.refid).currency("USD").amount(4_900).create()
            for round in 0..<10 {
                let invoices = wave.invoices
                let outcomes = try await withThrowingTaskGroup(of: PaymentOutcome.self) { group in
                    for _ in 0..<8 { group.addTask { try await invoices.attemptPayment(invoice.refid) } }
                    return try await group.reduce(into: [PaymentOutcome]()) { $0.append($1) }
                }
                let sessions = Set(outcomes.compactMap { outcome -> String? in
                    if case .requiresAction(let session) = outcome { return session.id } else { return nil }
                })
                #expect(outcomes.count == 8 && sessions.count == 1, "round \(round)")
                let stored = try await wave.gateway.sessions(for: invoice.refid)
                #expect(stored.count == 1 && stored.first?.status == .open && stored.first?.id == sessions.first, "round \(round)")
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func eightConcurrentPaymentsFromOneWalletNeverOverdraw(engine: Engine) async throws {
        try await engine.withWave(inMemory: false) { wave in
            let acme = try await wave.client("Acme")
            try await wave.invoices.topUp(acme.refid, amount: 20_000, currency: "USD")
            var created: [Invoice] = []
            for index in 0..<8 {
                created.append(try await wave.invoices.make().for(acme.refid).currency("USD").line("Seat \(index)", amount: 4_900).create())
            }
            let invoices = wave.invoices, all = created
            let outcomes = try await withThrowingTaskGroup(of: (Refid, PaymentOutcome).self) { group in
                for invoice in all {
                    group.addTask { (invoice.refid, try await invoices.attemptPayment(invoice.refid)) }
                }
                return try await group.reduce(into: [Refid: PaymentOutcome]()) { $0[$1.0] = $1.1 }
            }
            let paid = Set(outcomes.filter { $0.value.isPaid }.keys)
            #expect(paid.count == 4)   // 20,000 / 4,900
            #expect(try await wave.balance(acme.refid) == 20_000 - 4 * 4_900)
            let wallet = try await invoices.wallet(of: acme.refid, currency: "USD")
            let debits = try await invoices.ledger.history(of: wallet.refid, limit: 500).items.filter { $0.amount < 0 }
            #expect(debits.count == 4 && debits.allSatisfy { $0.amount == -4_900 })
            for invoice in all {
                let stored = try await invoices.find(invoice.refid)
                let payment = try await invoices.payment(of: invoice.refid)
                let debitsForIt = debits.filter { $0.description == "Invoice \(invoice.number)" }.count
                if paid.contains(invoice.refid) {
                    #expect(stored.status == .paid && payment != nil && debitsForIt == 1)
                } else {
                    #expect(stored.status == .open && payment == nil && debitsForIt == 0)
                    guard case .failed(let failure)? = outcomes[invoice.refid] else { Issue.record("expected failed"); continue }
                    #expect(failure.code == .insufficientFunds)
                }
            }
            #expect(try await invoices.ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func oneInvoicePaidConcurrentlyTwentyTimesIsPaidOnceWithOneDebit(engine: Engine) async throws {
        try await engine.withWave(inMemory: false) { wave in
            let acme = try await wave.client("Acme")
            try await wave.invoices.topUp(acme.refid, amount: 10_000, currency: "USD")
            let invoice = try await wave.invoices.make().for(acme.refid).currency("USD").amount(4_900).create()
            let invoices = wave.invoices
            let payments = try await withThrowingTaskGroup(of: PaymentOutcome.self) { group in
                for _ in 0..<20 { group.addTask { try await invoices.attemptPayment(invoice.refid) } }
                return try await group.reduce(into: [Payment]()) { all, outcome in
                    if case .paid(let payment) = outcome { all.append(payment) }
                }
            }
            #expect(payments.count == 20)
            #expect(Set(payments.map(\.refid)).count == 1 && payments.filter(\.isNew).count == 1)
            #expect(try await wave.balance(acme.refid) == 5_100)
            let wallet = try await invoices.wallet(of: acme.refid, currency: "USD")
            #expect(try await invoices.ledger.history(of: wallet.refid).items.filter { $0.amount < 0 }.count == 1)
            #expect(try await invoices.auditTrail(of: invoice.refid).map(\.event) == ["created", "pay"])
            #expect(try await invoices.ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func aManualPaymentIsRecordedOnceWithoutMovingMoney(engine: Engine) async throws {
        try await engine.withWave { wave in
            let acme = try await wave.client("Acme")
            let invoice = try await wave.invoices.make().for(acme.refid).currency("USD").amount(4_900).create()
            await expectWaveError(.validation) { try await wave.invoices.markAsPaid(invoice.refid, driver: "wallet", transactionId: "T-1") }
            await expectWaveError(.validation) { try await wave.invoices.markAsPaid(invoice.refid, driver: "", transactionId: "T-1") }
            await expectWaveError(.validation) { try await wave.invoices.markAsPaid(invoice.refid, driver: "wire", transactionId: " ") }
            let payment = try await wave.invoices.markAsPaid(invoice.refid, driver: "Wire", transactionId: "T-1", actor: "finance")
            #expect(payment.method == "wire" && payment.reference == "T-1" && payment.transfer == nil && payment.isNew)
            let paid = try await wave.invoices.find(invoice.refid)
            #expect(paid.status == .paid && paid.paymentMethod == "wire" && paid.paymentReference == "T-1")
            let retry = try await wave.invoices.markAsPaid(invoice.refid, driver: "wire", transactionId: "T-1")
            #expect(retry.refid == payment.refid && !retry.isNew)
            await expectWaveError(.statusTransitionDenied) {
                try await wave.invoices.markAsPaid(invoice.refid, driver: "wire", transactionId: "T-2")
            }
            // A wallet attempt on a manually paid invoice reports that payment and debits nothing.
            guard case .paid(let existing) = try await wave.invoices.attemptPayment(invoice.refid) else {
                Issue.record("expected paid"); return
            }
            #expect(existing.refid == payment.refid && !existing.isNew)
            let counts = try await wave.rowCounts()
            #expect(counts["wallet_transfers"] == 0 && counts["wave_payments"] == 1)
            let trail = try await wave.invoices.auditTrail(of: invoice.refid)
            #expect(trail.map(\.event) == ["created", "pay"] && trail[1].detail == "wire T-1" && trail[1].actor == "finance")
        }
    }

    @Test(arguments: Engine.allCases)
    func topUpsAreValidatedAndIdempotent(engine: Engine) async throws {
        try await engine.withWave { wave in
            let acme = try await wave.client("Acme")
            let gone = try await wave.client("Gone")
            try await wave.clients.deactivate(gone.refid)
            let before = try await wave.rowCounts()
            await expectWaveError(.invalidAmount) { try await wave.invoices.topUp(acme.refid, amount: 0, currency: "USD") }
            await expectWaveError(.invalidAmount) { try await wave.invoices.topUp(acme.refid, amount: -1, currency: "USD") }
            await expectWaveError(.invalidCurrency) { try await wave.invoices.topUp(acme.refid, amount: 1, currency: "credits") }
            await expectWaveError(.invalidClient) { try await wave.invoices.topUp(Refid(rawValue: "CL-NONE"), amount: 1, currency: "USD") }
            await expectWaveError(.invalidClient) { try await wave.invoices.topUp(gone.refid, amount: 1, currency: "USD") }
            #expect(try await wave.rowCounts() == before)
            let first = try await wave.invoices.topUp(acme.refid, amount: 500, currency: "EUR", idempotencyKey: "k1")
            let again = try await wave.invoices.topUp(acme.refid, amount: 500, currency: "EUR", idempotencyKey: "k1")
            #expect(first.refid == again.refid && first.isNew && !again.isNew)
            await expectWaveError(.idempotencyConflict) {
                try await wave.invoices.topUp(acme.refid, amount: 600, currency: "EUR", idempotencyKey: "k1")
            }
            #expect(try await wave.balance(acme.refid, "EUR") == 500)
            #expect(try await wave.balance(acme.refid, "USD") == 0)
        }
    }
}
