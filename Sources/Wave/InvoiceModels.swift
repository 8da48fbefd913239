import Foundation
public import SuiteCore
public import SuiteStorage

/// Where an invoice is in its life.
///
/// | from \ move | pay | void | mark uncollectible |
/// |---|---|---|---|
/// | open          | → paid | → void | → uncollectible |
/// | uncollectible | → paid | → void | denied |
/// | paid          | denied | denied | denied |
/// | void          | denied | denied | denied |
///
/// Paid and void are final. Uncollectible is a write-off, not a cancellation: the client still
/// owes the money, so a late payment may still settle it (as in most billing systems), and an
/// invoice written off by mistake may still be voided.
public enum InvoiceStatus: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Issued and awaiting payment.
    case open
    /// Paid once, by the wallet or a recorded manual payment.
    case paid
    /// Cancelled: nothing is owed.
    case void
    /// Written off as unlikely to be paid; still payable.
    case uncollectible

    /// Whether no move leaves this status.
    public var isFinal: Bool { InvoiceTransition.table.finalStates.contains(self) }

    /// The status as stored and shown: `open`, `paid`, `void` or `uncollectible`.
    public var description: String { rawValue }
}

/// A move of an invoice between statuses: the explicit transition table behind ``InvoiceStatus``.
///
/// ```swift
/// InvoiceTransition.pay.isAllowed(from: .uncollectible)   // true
/// InvoiceTransition.void.isAllowed(from: .paid)           // false
/// ```
public enum InvoiceTransition: String, StateTransition {
    /// Settle the invoice: to ``InvoiceStatus/paid``.
    case pay
    /// Cancel the invoice: to ``InvoiceStatus/void``.
    case void
    /// Write the invoice off: to ``InvoiceStatus/uncollectible``.
    case markUncollectible = "mark_uncollectible"

    /// The statuses this machine moves between.
    public typealias State = InvoiceStatus

    /// The invoice lifecycle; any other start throws `.statusTransitionDenied`.
    public static let table = TransitionTable<InvoiceTransition>([
        .pay: .init(from: [.open, .uncollectible], to: .paid),
        .void: .init(from: [.open, .uncollectible], to: .void),
        .markUncollectible: .init(from: [.open], to: .uncollectible),
    ])

    /// The name recorded in the audit trail.
    public var description: String { rawValue }
}

/// One line of an invoice: `quantity × unitAmount = amount`.
public struct InvoiceLine: Hashable, Sendable, Codable {
    /// What the line is for, as the client reads it.
    public var description: String
    /// The product slug the line sells, if any.
    @ExplicitNull public var product: String?
    /// The price of one unit, in minor units of the invoice's currency.
    public var unitAmount: Int64
    /// How many units the line sells.
    public var quantity: Int64
    /// `unitAmount × quantity`, overflow-checked.
    public var amount: Int64
}

/// An invoice: a numbered request for payment from a client, in one currency.
public struct Invoice: Hashable, Sendable, Codable {
    /// The public id (`IN-…`).
    public var refid: Refid
    /// The human number, `INV-2026-0001`: unique and gap-free per year.
    public var number: String
    /// The refid of the client who owes it.
    public var client: Refid
    /// An ISO 4217 code such as `USD`.
    public var currency: String
    /// The sum of the lines, in minor units.
    public var total: Int64
    /// A free-text note on the whole invoice, or nil.
    @ExplicitNull public var description: String?
    /// Where the invoice is in its life.
    public var status: InvoiceStatus
    /// The invoice's lines, in the order they were added.
    public var lines: [InvoiceLine]
    /// When payment is due.
    public var dueAt: Date
    /// When it was paid; nil until then.
    @ExplicitNull public var paidAt: Date?
    /// How it was paid: `wallet`, `checkout`, or the driver of a manual payment (`wire`, `cash`…).
    @ExplicitNull public var paymentMethod: String?
    /// The ledger transfer (wallet), the checkout session id (checkout) or the external transaction id (manual).
    @ExplicitNull public var paymentReference: String?
    /// When the invoice was issued.
    public var createdAt: Date
    /// When the invoice last changed.
    public var updatedAt: Date
}

/// One entry of an invoice's audit trail: `created`, `pay`, `void` or `mark_uncollectible`;
/// for a payment, ``AuditEntry/detail`` is its method and reference.
public typealias InvoiceAuditEntry = AuditEntry<InvoiceStatus>

/// Money received for an invoice — recorded once per invoice.
public struct Payment: Hashable, Sendable, Codable {
    /// The public id (`PY-…`).
    public var refid: Refid
    /// The refid of the invoice it paid.
    public var invoice: Refid
    /// `wallet`, `checkout`, or the driver of a manual payment.
    public var method: String
    /// The external transaction id of a manual payment, the session id of a checkout payment, or the ledger transfer of a wallet payment.
    @ExplicitNull public var reference: String?
    /// The ledger transfer that moved the money (wallet payments only).
    @ExplicitNull public var transfer: Refid?
    /// The amount received (the invoice total), in minor units.
    public var amount: Int64
    /// The invoice's ISO 4217 currency code.
    public var currency: String
    /// When the payment was recorded.
    public var createdAt: Date
    /// False when the invoice was already paid and this is that earlier payment (nothing was written).
    public var isNew: Bool
}

/// A hosted checkout page a client is sent to when the wallet cannot pay.
public struct CheckoutSession: Hashable, Sendable, Codable {
    /// The gateway's id (`CS-…` for ``LocalCheckoutGateway``).
    public var id: String
    /// The refid of the invoice the session pays.
    public var invoice: Refid
    /// What the client is asked to pay, in minor units.
    public var amount: Int64
    /// The ISO 4217 currency code of the amount.
    public var currency: String
    /// Where to send the client.
    public var url: URL
    /// Whether the session is open, completed or expired.
    public var status: CheckoutSessionStatus
    /// When the gateway opened the session.
    public var createdAt: Date

    /// A session as a ``PaymentGateway`` reports it.
    public init(id: String, invoice: Refid, amount: Int64, currency: String, url: URL, status: CheckoutSessionStatus,
                createdAt: Date) {
        self.id = id
        self.invoice = invoice
        self.amount = amount
        self.currency = currency
        self.url = url
        self.status = status
        self.createdAt = createdAt
    }
}

/// Where a checkout session is. Only an open session can complete or expire.
public enum CheckoutSessionStatus: String, Sendable, Codable, CaseIterable {
    /// `open` awaits the client; `completed` means the gateway took the payment; `expired` means it never will.
    case open, completed, expired
}

/// Why a payment attempt moved no money.
public struct PaymentFailure: Hashable, Sendable, Encodable, CustomStringConvertible {
    /// What kind of failure it was, as a stable snake_case code.
    public struct Code: Hashable, Sendable, Encodable, CustomStringConvertible {
        /// The code's text, e.g. `insufficient_funds`.
        public let rawValue: String
        /// A code from its text.
        public init(_ rawValue: String) { self.rawValue = rawValue }
        /// The code's text.
        public var description: String { rawValue }

        /// The wallet is short and no gateway is configured.
        public static let insufficientFunds = Code("insufficient_funds")
        /// The gateway could not open a checkout session.
        public static let gatewayFailed = Code("gateway_failed")

        /// A code is its text in JSON: `"insufficient_funds"`.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }
    }

    /// Why no money moved.
    public var code: Code
    /// Safe to show a user.
    public var message: String
    /// For insufficient funds: what the wallet could spend.
    @ExplicitNull public var available: Int64?
    /// The invoice total.
    public var amount: Int64

    /// A failure with a user-safe `message`; `available` and `amount` are in minor units.
    public init(code: Code, message: String, available: Int64? = nil, amount: Int64) {
        self.code = code
        self.message = message
        self.available = available
        self.amount = amount
    }

    /// The user-safe ``message``.
    public var description: String { message }
}

/// What a payment attempt did. Only ``paid(_:)`` means money moved.
///
/// ```swift
/// switch try await invoices.attemptPayment(invoice.refid) {
/// case .paid(let payment): print("paid by \(payment.method)")
/// case .requiresAction(let session): redirect(to: session.url)
/// case .failed(let failure): print(failure.message)
/// }
/// ```
///
/// In JSON: `{"outcome": "paid", "payment": {…}}`, `{"outcome": "requires_action",
/// "checkout_session": {…}}` or `{"outcome": "failed", "failure": {…}}`.
public enum PaymentOutcome: Hashable, Sendable, Encodable {
    /// The invoice is paid: the ledger debit and the status change committed together.
    case paid(Payment)
    /// The client must complete a checkout session; the invoice stays open until the gateway confirms.
    case requiresAction(CheckoutSession)
    /// No money moved and nothing was written.
    case failed(PaymentFailure)

    private enum CodingKeys: String, CodingKey { case outcome, payment, checkoutSession, failure }

    /// Encodes the outcome as `{"outcome": …}` plus its payload (see the type's description).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .paid(let payment):
            try container.encode("paid", forKey: .outcome)
            try container.encode(payment, forKey: .payment)
        case .requiresAction(let session):
            try container.encode("requires_action", forKey: .outcome)
            try container.encode(session, forKey: .checkoutSession)
        case .failed(let failure):
            try container.encode("failed", forKey: .outcome)
            try container.encode(failure, forKey: .failure)
        }
    }

    /// Whether money moved.
    public var isPaid: Bool {
        if case .paid = self { return true }
        return false
    }
}

// MARK: Events

/// An invoice was issued.
public struct InvoiceCreated: DomainEvent, Hashable {
    /// The event's name, `wave.invoice_created`.
    public var name: String { "wave.invoice_created" }
    /// The new invoice's refid.
    public var invoice: Refid
    /// Its human number, `INV-2026-0001`.
    public var number: String
    /// The refid of the client who owes it.
    public var client: Refid
    /// The invoice total, in minor units.
    public var total: Int64
    /// The invoice's ISO 4217 currency code.
    public var currency: String
}

/// An invoice was paid (published once, after the commit that moved the money or recorded it).
public struct InvoicePaid: DomainEvent, Hashable {
    /// The event's name, `wave.invoice_paid`.
    public var name: String { "wave.invoice_paid" }
    /// The paid invoice's refid.
    public var invoice: Refid
    /// The refid of the client who paid.
    public var client: Refid
    /// The refid of the recorded ``Payment`` (`PY-…`).
    public var payment: Refid
    /// How it was paid: `wallet`, `checkout`, or the driver of a manual payment.
    public var method: String
    /// The amount paid, in minor units.
    public var amount: Int64
    /// The invoice's ISO 4217 currency code.
    public var currency: String
}

/// An invoice was voided or written off.
public struct InvoiceStatusChanged: DomainEvent, Hashable {
    /// The event's name, `wave.invoice_status_changed`.
    public var name: String { "wave.invoice_status_changed" }
    /// The invoice's refid.
    public var invoice: Refid
    /// The status before the move.
    public var from: InvoiceStatus
    /// The status after the move.
    public var to: InvoiceStatus
    /// Who made the move, as recorded in the audit trail.
    public var actor: String
    /// Why, if the caller said; nil otherwise.
    public var reason: String?
}
