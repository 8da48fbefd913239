import Foundation
public import SuiteCore
public import SuiteStorage

/// What a gateway needs to open a checkout session for an invoice.
public struct CheckoutRequest: Hashable, Sendable {
    public var invoice: Refid
    /// The invoice number, for the checkout page (`INV-2026-0001`).
    public var number: String
    public var client: Refid
    /// The amount to collect, in minor units of ``currency``.
    public var amount: Int64
    public var currency: String
    public var description: String

    public init(invoice: Refid, number: String, client: Refid, amount: Int64, currency: String, description: String) {
        self.invoice = invoice
        self.number = number
        self.client = client
        self.amount = amount
        self.currency = currency
        self.description = description
    }
}

/// Where a payment goes when the client's wallet cannot cover an invoice: a hosted checkout page.
///
/// Opening a session moves no money and must never be reported as a payment: the invoice stays
/// open until the gateway *confirms* the payment (a signed webhook, in the next slice). A
/// Stripe-like adapter implements it by creating a Checkout Session with the amount and currency
/// and returning its id and URL, sending `idempotencyKey` as the request's idempotency key.
///
/// ```swift
/// struct StripeCheckout: PaymentGateway {
///     func openCheckout(for invoice: CheckoutRequest, idempotencyKey: String?) async throws -> CheckoutSession {
///         let session = try await stripe.checkout.sessions.create(amount: invoice.amount, currency: invoice.currency, …)
///         return CheckoutSession(id: session.id, invoice: invoice.invoice, amount: invoice.amount,
///                                currency: invoice.currency, url: session.url, status: .open, createdAt: .now)
///     }
/// }
/// ```
public protocol PaymentGateway: Sendable {
    /// Opens a checkout session for `invoice` (or returns the one already open for it).
    /// Throws when the gateway cannot; ``Invoices/attemptPayment(_:idempotencyKey:actor:)`` then
    /// reports a failed payment.
    func openCheckout(for invoice: CheckoutRequest, idempotencyKey: String?) async throws -> CheckoutSession
}

/// A real, lightweight hosted-checkout gateway that keeps its sessions in the suite's database
/// (`wave_checkout_sessions`), for development, demos and self-hosted setups.
///
/// A session's URL is ``baseURL`` followed by its id (`http://localhost/checkout/CS-…`). There is
/// at most one open session per invoice (a unique index): opening again returns it, which makes a
/// retried payment attempt idempotent without a key. Completing a session (and the signed webhook
/// that confirms the payment) comes with the next slice.
///
/// ```swift
/// let gateway = LocalCheckoutGateway(database: database)
/// let invoices = Invoices(database: database, clients: clients, gateway: gateway)
/// ```
public struct LocalCheckoutGateway: PaymentGateway {
    public let database: any Database
    public let baseURL: URL
    public let clock: any WallClock

    public init(database: any Database, baseURL: URL = URL(string: "http://localhost/checkout/")!,
                clock: any WallClock = SystemWallClock()) {
        self.database = database
        self.baseURL = baseURL
        self.clock = clock
    }

    public func openCheckout(for invoice: CheckoutRequest, idempotencyKey: String?) async throws -> CheckoutSession {
        guard invoice.amount > 0 else { throw WaveError(.invalidAmount, message: "Invalid amount: must be greater than zero") }
        let open: @Sendable () async throws -> CheckoutSession = {
            try await database.write { tx in
                if let row = try tx.queryFirst("""
                    SELECT \(raw: Self.columns) FROM wave_checkout_sessions WHERE invoice_refid = \(invoice.invoice) AND status = 'open'
                    """), let session = try? Self.decode(row),
                   session.amount == invoice.amount, session.currency == invoice.currency {
                    return session
                }
                // An open session for other terms (the invoice cannot change, so only by hand) is expired first.
                let now = Timestamp(clock.now())
                try tx.execute("""
                    UPDATE wave_checkout_sessions SET status = 'expired', updated_at = \(now)
                    WHERE invoice_refid = \(invoice.invoice) AND status = 'open'
                    """)
                let id = Refid.generate(prefix: "CS-")
                // Re-parsed from text so that a session read back later compares equal.
                let url = URL(string: baseURL.appendingPathComponent(id.rawValue).absoluteString)!
                try tx.execute("""
                    INSERT INTO wave_checkout_sessions (refid, invoice_refid, amount, currency, status, url, created_at, updated_at)
                    VALUES (\(id), \(invoice.invoice), \(invoice.amount), \(invoice.currency), 'open', \(url.absoluteString), \(now), \(now))
                    """)
                return CheckoutSession(id: id.rawValue, invoice: invoice.invoice, amount: invoice.amount,
                                       currency: invoice.currency, url: url, status: .open, createdAt: now.date)
            }
        }
        do {
            return try await open()
        } catch let error as StorageError where error.code == .uniqueViolation {
            // A concurrent attempt opened the invoice's session first: return it.
            return try await open()
        }
    }

    /// The session with `id`, or nil.
    public func session(_ id: String) async throws -> CheckoutSession? {
        try await database.read { tx in
            try tx.queryFirst("SELECT \(raw: Self.columns) FROM wave_checkout_sessions WHERE refid = \(id)").map(Self.decode)
        }
    }

    /// The invoice's sessions, oldest first (at most 100).
    public func sessions(for invoice: Refid) async throws -> [CheckoutSession] {
        try await database.read { tx in
            try tx.query("""
                SELECT \(raw: Self.columns) FROM wave_checkout_sessions WHERE invoice_refid = \(invoice) ORDER BY id LIMIT 100
                """).map(Self.decode)
        }
    }

    static let columns = "refid, invoice_refid, amount, currency, status, url, created_at"

    static func decode(_ row: Row) throws -> CheckoutSession {
        guard let status = CheckoutSessionStatus(rawValue: try row.string("status")),
              let url = URL(string: try row.string("url"))
        else { throw StorageError(code: .decoding, message: "stored checkout session has an unexpected shape") }
        return CheckoutSession(id: try row.string("refid"), invoice: try row.refid("invoice_refid"), amount: try row.int64("amount"),
                               currency: try row.string("currency"), url: url, status: status,
                               createdAt: try row.timestamp("created_at").date)
    }
}
