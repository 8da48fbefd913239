import Foundation
import Logging
public import SuiteCore
public import SuiteStorage
public import Wallet

extension Invoices {
    // MARK: Client wallets

    /// The client's wallet in `currency`: a ledger account owned by the client refid, opened
    /// (with a zero balance) on first use — so this is a write.
    public func wallet(of client: Refid, currency: String) async throws -> Account {
        let currency = try WaveValidation.currency(currency)
        return try await database.write { tx in
            try self.usableClient(client, in: tx)
            return try self.ledger.account(owner: client.rawValue, unit: try Unit(currency), in: tx)
        }
    }

    /// Adds `amount` minor units to the client's wallet, issued from the ledger's issuance account
    /// (the ledger records the transfer and its two entries). With an idempotency key, a retry
    /// with the same parameters returns the first transfer and adds nothing.
    @discardableResult
    public func topUp(_ client: Refid, amount: Int64, currency: String, idempotencyKey: String? = nil,
                      actor: String = "system") async throws -> Transfer {
        let actor = try WaveValidation.text(actor, field: "actor", maximum: 255)
        let currency = try WaveValidation.currency(currency)
        guard amount > 0 else { throw WaveError(.invalidAmount, message: "Invalid amount: a top-up must be greater than zero") }
        let key = try idempotencyKey.map(WaveError.key)
        do {
            // A concurrent retry with the same key may commit first: the second run finds its transfer.
            return try await database.writeResolvingRace(onUnique: "idempotency_key") { tx in
                try self.usableClient(client, in: tx)
                let unit = try Unit(currency)
                let wallet = try self.ledger.account(owner: client.rawValue, unit: unit, in: tx)
                let issuance = try self.ledger.system(.issuance, unit: unit, in: tx)
                return try self.ledger.transfer(from: issuance.refid, to: wallet.refid, amount: amount,
                                                description: "Wallet top-up by \(actor)", metadata: ["client": .string(client.rawValue)],
                                                key: key?.scoped("wave:topup"), in: tx)
            }
        } catch let error as WalletError {
            throw Self.map(error)
        }
    }

    // MARK: Payment

    /// Tries to collect an open (or uncollectible) invoice, and says exactly what happened.
    ///
    /// 1. The client's wallet is tried first: in **one** write transaction the invoice row is
    ///    locked, the wallet is debited to revenue (the ledger refuses an overdraft inside the
    ///    write, and the transfer's idempotency key is derived from the invoice refid), the invoice
    ///    becomes paid by a version compare-and-set, the move is audited, a payment row is written
    ///    and ``InvoicePaid`` is published after commit. → ``PaymentOutcome/paid(_:)``.
    /// 2. If the wallet is short, that transaction rolls back (nothing written — not even an empty
    ///    wallet), and the ``gateway`` is asked for a checkout session; the invoice stays open.
    ///    → ``PaymentOutcome/requiresAction(_:)``.
    /// 3. With no gateway, or when the gateway fails → ``PaymentOutcome/failed(_:)``; nothing written.
    ///
    /// An invoice that is already paid returns its one payment (with `isNew == false`): however
    /// many callers race, the invoice is paid once with one debit. A void invoice throws
    /// `.statusTransitionDenied`.
    ///
    /// - Parameter idempotencyKey: passed to the gateway when a checkout session is opened (a remote
    ///   gateway sends it with its request); the wallet debit is keyed by the invoice itself.
    public func attemptPayment(_ refid: Refid, idempotencyKey: String? = nil, actor: String = "system") async throws -> PaymentOutcome {
        try await attemptPayment(refid, key: try idempotencyKey.map(WaveError.key), actor: actor)
    }

    /// The same, with an ``IdempotencyKey`` the caller has checked and scoped (a purchase passes
    /// its caller's key as `purchase:<key>`).
    public func attemptPayment(_ refid: Refid, key: IdempotencyKey?, actor: String = "system") async throws -> PaymentOutcome {
        let actor = try WaveValidation.text(actor, field: "actor", maximum: 255)
        let idempotencyKey = key?.rawValue
        do {
            let payment = try await database.write { tx in try self.payFromWallet(refid, actor: actor, in: tx) }
            return .paid(payment)
        } catch let error as WaveError where error.code == .insufficientFunds {
            let available = error.balance, amount = error.amount ?? 0
            guard let gateway else {
                return .failed(PaymentFailure(code: .insufficientFunds, message: error.message, available: available, amount: amount))
            }
            let invoice = try await find(refid)
            let request = CheckoutRequest(invoice: invoice.refid, number: invoice.number, client: invoice.client,
                                          amount: invoice.total, currency: invoice.currency,
                                          description: invoice.description ?? "Invoice \(invoice.number)")
            do {
                return .requiresAction(try await gateway.openCheckout(for: request, idempotencyKey: idempotencyKey))
            } catch {
                logger.warning("checkout session could not be opened", metadata: [
                    "invoice": .string(refid.rawValue), "error": .string(String(reflecting: error)),
                ])
                return .failed(PaymentFailure(code: .gatewayFailed,
                                              message: "Gateway Failed: the checkout session could not be opened",
                                              available: available, amount: amount))
            }
        }
    }

    /// Pays the invoice from the client's wallet inside an open transaction, so a workflow can
    /// mint a licence in the same commit. Throws `.insufficientFunds` when the wallet is short —
    /// the caller's transaction must then roll back (the wallet may have been opened in it).
    /// Returns the existing payment (`isNew == false`) for an invoice already paid.
    public func payFromWallet(_ refid: Refid, actor: String = "system", in tx: any Transaction) throws -> Payment {
        let (row, invoice) = try locked(refid, in: tx)
        if invoice.status == .paid, let existing = try payment(ofInvoiceID: row.id, invoice: refid, in: tx) {
            return existing
        }
        try InvoiceTransition.pay.target(from: invoice.status, orThrow: WaveError.transitionDenied)
        let unit = try Unit(invoice.currency)
        do {
            let wallet = try ledger.account(owner: invoice.client.rawValue, unit: unit, in: tx)
            guard wallet.available >= invoice.total else {
                throw Self.insufficient(available: wallet.available, amount: invoice.total)
            }
            let revenue = try ledger.system(.revenue, unit: unit, in: tx)
            // The ledger refuses the overdraft inside this write even if the balance moved since the read above.
            let transfer = try ledger.transfer(from: wallet.refid, to: revenue.refid, amount: invoice.total,
                                               description: "Invoice \(invoice.number)",
                                               metadata: ["invoice": .string(refid.rawValue)],
                                               idempotencyKey: "wave:invoice:\(refid.rawValue)", in: tx)
            return try settle(row: row, invoice: invoice, method: "wallet", reference: transfer.refid.rawValue,
                              transfer: transfer.refid, actor: actor, in: tx)
        } catch let error as WalletError {
            throw Self.map(error)
        }
    }

    /// Pays the invoice for a completed checkout session inside an open transaction (used by
    /// ``CheckoutWebhooks``): method `checkout`, reference the session id, no ledger entry (the
    /// money moved at the gateway). Returns the existing payment (`isNew == false`) when the
    /// invoice is already paid, however it was paid.
    public func payFromCheckout(_ refid: Refid, session: String, actor: String = "gateway", in tx: any Transaction) throws -> Payment {
        let (row, invoice) = try locked(refid, in: tx)
        if invoice.status == .paid, let existing = try payment(ofInvoiceID: row.id, invoice: refid, in: tx) {
            return existing
        }
        try InvoiceTransition.pay.target(from: invoice.status, orThrow: WaveError.transitionDenied)
        return try settle(row: row, invoice: invoice, method: "checkout", reference: session, transfer: nil, actor: actor, in: tx)
    }

    /// Records a payment made outside the suite (a wire, a cheque, another processor): the invoice
    /// becomes paid, audited, with a payment row naming `driver` and `transactionId`.
    ///
    /// No ledger entry is written: the money never passed through the client's wallet, and the
    /// ledger records only value it holds — inventing an issuance and a debit would make the books
    /// claim a deposit that never happened. A retry with the same driver and transaction id returns
    /// the first payment; any other payment of a paid invoice throws `.statusTransitionDenied`.
    @discardableResult
    public func markAsPaid(_ refid: Refid, driver: String, transactionId: String, actor: String = "system") async throws -> Payment {
        let actor = try WaveValidation.text(actor, field: "actor", maximum: 255)
        let driver = driver.trimmingCharacters(in: .whitespaces).lowercased()
        let allowed = driver.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "_-".unicodeScalars.contains($0) }
        guard (1...32).contains(driver.count), allowed, driver != "wallet" else {
            throw WaveError.invalid("driver", "1–32 characters of a-z, 0-9, _ and - (wallet is reserved)")
        }
        let transactionId = try WaveValidation.text(transactionId, field: "transaction id", maximum: 200)
        return try await database.write { tx in
            let (row, invoice) = try self.locked(refid, in: tx)
            if invoice.status == .paid, let existing = try self.payment(ofInvoiceID: row.id, invoice: refid, in: tx),
               existing.method == driver, existing.reference == transactionId {
                return existing
            }
            try InvoiceTransition.pay.target(from: invoice.status, orThrow: WaveError.transitionDenied)
            return try self.settle(row: row, invoice: invoice, method: driver, reference: transactionId, transfer: nil,
                                   actor: actor, in: tx)
        }
    }

    /// The invoice's payment, or nil while it is unpaid.
    public func payment(of refid: Refid) async throws -> Payment? {
        try await database.read { tx in
            guard let id = try tx.queryInt64("SELECT id FROM wave_invoices WHERE refid = \(refid)") else {
                throw WaveError.invoiceNotFound("refid")
            }
            return try self.payment(ofInvoiceID: id, invoice: refid, in: tx)
        }
    }

    // MARK: Internals

    /// Open/uncollectible → paid on a locked row: status by version compare-and-set, audit, payment row, event.
    func settle(row: (id: Int64, version: Int64), invoice: Invoice, method: String, reference: String,
                        transfer: Refid?, actor: String, in tx: any Transaction) throws -> Payment {
        let now = Timestamp(clock.now())
        let version = try tx.advanceVersion(of: "wave_invoices", id: row.id, from: row.version, setting: """
            status = 'paid', paid_at = \(now), payment_method = \(method), payment_reference = \(reference), 
            """, updatedAt: now)
        try audit(id: row.id, version: version, event: InvoiceTransition.pay.rawValue, from: invoice.status, to: .paid,
                  actor: actor, reason: nil, detail: "\(method) \(reference)", at: now, in: tx)
        let refid = Refid.generate(prefix: "PY-")
        try tx.execute("""
            INSERT INTO wave_payments (refid, invoice_id, method, reference, transfer_refid, amount, currency, actor, created_at)
            VALUES (\(refid), \(row.id), \(method), \(reference), \(transfer), \(invoice.total), \(invoice.currency), \(actor), \(now))
            """)
        let payment = Payment(refid: refid, invoice: invoice.refid, method: method, reference: reference, transfer: transfer,
                              amount: invoice.total, currency: invoice.currency, createdAt: now.date, isNew: true)
        // The confirmation hook runs in this transaction: what it writes commits with the payment or not at all.
        try fulfilment?.invoicePaid(invoice, payment: payment, in: tx)
        let events = events
        let paid = InvoicePaid(invoice: invoice.refid, client: invoice.client, payment: refid, method: method,
                               amount: invoice.total, currency: invoice.currency)
        tx.afterCommit { events.publish(paid) }
        return payment
    }

    private func payment(ofInvoiceID id: Int64, invoice: Refid, in tx: any Transaction) throws -> Payment? {
        try tx.queryFirst("""
            SELECT refid, method, reference, transfer_refid, amount, currency, created_at FROM wave_payments WHERE invoice_id = \(id)
            """).map { row in
            Payment(refid: try row.refid("refid"), invoice: invoice, method: try row.string("method"),
                    reference: try row.optionalString("reference"), transfer: try row.optionalRefid("transfer_refid"),
                    amount: try row.int64("amount"), currency: try row.string("currency"),
                    createdAt: try row.timestamp("created_at").date, isNew: false)
        }
    }

    static func insufficient(available: Int64, amount: Int64) -> WaveError {
        WaveError(.insufficientFunds, message: "Insufficient Funds: wallet balance \(available), invoice total \(amount)",
                  balance: available, amount: amount)
    }

    static func map(_ error: WalletError) -> WaveError {
        switch error.code {
        case .insufficientFunds:
            insufficient(available: error.balance ?? 0, amount: error.amount ?? 0)
        case .idempotencyConflict:
            WaveError(.idempotencyConflict, message: IdempotencyKey.conflictMessage)
        case .invalidAmount:
            WaveError(.invalidAmount, message: error.message)
        default:
            WaveError(.validation, message: error.message)
        }
    }
}
