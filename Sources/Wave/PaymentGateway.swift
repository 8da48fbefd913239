import Crypto
import Foundation
public import SuiteCore
public import SuiteStorage

/// What a gateway needs to open a checkout session for an invoice.
public struct CheckoutRequest: Hashable, Sendable {
    /// The invoice's refid (`IN-…`).
    public var invoice: Refid
    /// The invoice number, for the checkout page (`INV-2026-0001`).
    public var number: String
    /// The refid of the client who pays.
    public var client: Refid
    /// The amount to collect, in minor units of ``currency``.
    public var amount: Int64
    /// An ISO 4217 code such as `USD`.
    public var currency: String
    /// What the payment is for: the invoice's description, or `Invoice INV-…` without one.
    public var description: String

    /// A request to collect `amount` (minor units of `currency`) for `invoice`.
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
/// open until the gateway *confirms* the payment with a signed webhook, which ``CheckoutWebhooks``
/// verifies and applies. A Stripe-like adapter implements `openCheckout` by creating a Checkout
/// Session with the amount and currency, returning its id and URL and sending `idempotencyKey` as
/// the request's idempotency key; it records the session in `wave_checkout_sessions` (so the
/// webhook can be matched to its invoice) and its HTTP handler turns the provider's
/// `checkout.session.completed` event into a ``CheckoutWebhookEvent`` — or verifies the provider's
/// own signature and calls ``Invoices/payFromCheckout(_:session:actor:in:)`` in a transaction.
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
/// retried payment attempt idempotent without a key.
///
/// ``complete(_:)`` stands for the customer paying on the hosted page: the session becomes
/// completed and the gateway returns the webhook that confirms it — a ``CheckoutWebhookEvent``
/// signed with HMAC-SHA256 (``WebhookSigner``) — for ``CheckoutWebhooks`` to receive. Completing
/// a completed session again returns the same event (same id, fresh signature): a redelivery.
///
/// ```swift
/// let gateway = LocalCheckoutGateway(database: database)
/// let invoices = Invoices(database: database, clients: clients, gateway: gateway)
/// let webhooks = CheckoutWebhooks(invoices: invoices, signer: try await gateway.signer())
/// if case .requiresAction(let session) = try await invoices.attemptPayment(invoice.refid) {
///     let delivery = try await gateway.complete(session.id)      // the customer paid
///     try await webhooks.receive(delivery)                         // → .paid(payment), once
/// }
/// ```
public struct LocalCheckoutGateway: PaymentGateway {
    /// Where the sessions (and the webhook secret, unless configured) are kept.
    public let database: any Database
    /// The hosted page's address; a session's URL is this followed by its id.
    public let baseURL: URL
    /// The secret that signs this gateway's webhooks; nil keeps one in the database (`wave_settings`,
    /// created on first use), so every process on the database signs and verifies with the same one.
    public let configuredSecret: Data?
    /// The source of session and webhook timestamps.
    public let clock: any WallClock

    /// A gateway on `database`; `webhookSecret` nil keeps the signing secret in the database.
    public init(database: any Database, baseURL: URL = URL(string: "http://localhost/checkout/")!,
                webhookSecret: Data? = nil, clock: any WallClock = SystemWallClock()) {
        self.database = database
        self.baseURL = baseURL
        self.configuredSecret = webhookSecret
        self.clock = clock
    }

    /// Opens a session for the invoice, or returns its open one with the same amount and currency;
    /// throws `.invalidAmount` unless the amount is positive.
    public func openCheckout(for invoice: CheckoutRequest, idempotencyKey: String?) async throws -> CheckoutSession {
        guard invoice.amount > 0 else { throw WaveError(.invalidAmount, message: "Invalid amount: must be greater than zero") }
        // A concurrent attempt may open the invoice's session first: the second run returns it.
        return try await database.writeResolvingRace { tx in
            if let row = try tx.queryFirst("""
                SELECT \(raw: Self.columns) FROM wave_checkout_sessions WHERE invoice_refid = \(invoice.invoice) AND status = 'open'
                """), let session = try? Self.decode(row),
               session.amount == invoice.amount, session.currency == invoice.currency {
                return session
            }
            // An open session for other terms (the invoice cannot change, so only by hand) is expired first.
            // Only for other terms: on PostgreSQL this statement sees a session a concurrent attempt
            // committed after the SELECT above, which must stay open (the INSERT below then meets
            // the one-open-session index, and the retry returns that session).
            let now = Timestamp(clock.now())
            try tx.execute("""
                UPDATE wave_checkout_sessions SET status = 'expired', updated_at = \(now)
                WHERE invoice_refid = \(invoice.invoice) AND status = 'open'
                  AND (amount <> \(invoice.amount) OR currency <> \(invoice.currency))
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

// MARK: Completion and webhooks

extension LocalCheckoutGateway {
    static let secretSetting = "checkout.webhook_secret"

    /// The webhook signing secret: the configured one, else the database's (created on first use).
    public func webhookSecret() async throws -> Data {
        if let configuredSecret { return configuredSecret }
        let select: SQL = "SELECT value FROM wave_settings WHERE name = \(Self.secretSetting)"
        // Read first: only the first use of a database writes.
        if let existing = try await database.read({ tx in try tx.queryFirst(select)?.string("value") }) {
            return try Self.decodeSecret(existing)
        }
        let fresh = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
        let now = Timestamp(clock.now())
        let stored = try await database.write { tx -> String in
            // ON CONFLICT DO NOTHING: two processes creating it at once keep the first.
            try tx.execute("""
                INSERT INTO wave_settings (name, value, created_at) VALUES (\(Self.secretSetting), \(fresh), \(now))
                ON CONFLICT (name) DO NOTHING
                """)
            guard let value = try tx.queryFirst(select) else {
                throw StorageError(code: .decoding, message: "the webhook secret could not be stored")
            }
            return try value.string("value")
        }
        return try Self.decodeSecret(stored)
    }

    private static func decodeSecret(_ stored: String) throws -> Data {
        guard let secret = Data(base64Encoded: stored) else {
            throw StorageError(code: .decoding, message: "the stored webhook secret is not base64")
        }
        return secret
    }

    /// A signer with this gateway's secret, for ``CheckoutWebhooks``.
    public func signer(tolerance: Int64 = 300) async throws -> WebhookSigner {
        try WebhookSigner(secret: try await webhookSecret(), tolerance: tolerance)
    }

    /// The customer paid: the open session `id` becomes completed, and the signed webhook that
    /// confirms it is returned for delivery. A completed session returns its event again (same
    /// event id, signed now). Throws `.notFound` for an unknown session and
    /// `.statusTransitionDenied` for an expired one; nothing is written then.
    public func complete(_ id: String) async throws -> WebhookDelivery {
        let signer = try await signer()
        let now = Timestamp(clock.now())
        let session = try await database.write { tx -> CheckoutSession in
            guard let row = try tx.queryFirst("SELECT \(raw: Self.columns) FROM wave_checkout_sessions WHERE refid = \(id)") else {
                throw WaveError(.notFound, message: "Checkout Session Not Found: no session with this id")
            }
            var session = try Self.decode(row)
            switch session.status {
            case .expired:
                throw WaveError(.statusTransitionDenied, message: "Checkout session expired: it cannot be paid (start a new payment attempt)")
            case .completed:
                return session
            case .open:
                let changed = try tx.execute("""
                    UPDATE wave_checkout_sessions SET status = 'completed', updated_at = \(now) WHERE refid = \(id) AND status = 'open'
                    """)
                guard changed == 1 else { throw StorageError(code: .conflict, message: "the checkout session changed concurrently") }
                session.status = .completed
                return session
            }
        }
        return try delivery(for: session, signer: signer)
    }

    /// The signed `checkout.session.completed` webhook for a completed `session`.
    func delivery(for session: CheckoutSession, signer: WebhookSigner) throws -> WebhookDelivery {
        let now = Int64(clock.now().timeIntervalSince1970.rounded(.down))
        let event = CheckoutWebhookEvent(
            id: "EV-\(session.id.hasPrefix("CS-") ? String(session.id.dropFirst(3)) : session.id)",
            type: CheckoutWebhookEvent.sessionCompleted,
            created: now,
            data: .init(session: session.id, invoice: session.invoice.rawValue, amount: session.amount, currency: session.currency))
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = try encoder.encode(event)
        return WebhookDelivery(body: body, signature: signer.sign(body, at: now))
    }
}
