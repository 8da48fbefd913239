import SuiteCore
import SuiteStorage

/// A failure of a Wave operation. `description` is safe to show a user (no SQL, no personal
/// data); `debugDescription` adds the code for logs. Bad input always throws before anything is
/// written.
///
/// ```swift
/// do { try await invoices.void(refid) } catch let error as WaveError where error.code == .statusTransitionDenied { … }
/// ```
public struct WaveError: CodedError {
    /// What kind of failure. A struct rather than an enum so that new codes are not breaking.
    public struct Code: ErrorCode {
        /// The code's snake_case text, e.g. `invalid_currency`.
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }

        /// A field failed validation (name, slug, description, lines, days, limit, cursor…).
        public static let validation = Code("validation")
        /// An amount is zero, negative, or a total would overflow `Int64`.
        public static let invalidAmount = Code("invalid_amount")
        /// The currency is not an ISO 4217 code such as `USD`.
        public static let invalidCurrency = Code("invalid_currency")
        /// A product's currency differs from the invoice's.
        public static let currencyMismatch = Code("currency_mismatch")
        /// The client does not exist, or is inactive.
        public static let invalidClient = Code("invalid_client")
        /// The product does not exist, or is no longer for sale.
        public static let invalidProduct = Code("invalid_product")
        /// Another product already has this slug.
        public static let duplicateSlug = Code("duplicate_slug")
        /// No product or invoice with that refid, slug or number.
        public static let notFound = Code("not_found")
        /// The invoice's status does not allow the move (see ``InvoiceTransition``).
        public static let statusTransitionDenied = Code("status_transition_denied")
        /// An idempotency key was reused with different parameters.
        public static let idempotencyConflict = Code("idempotency_conflict")
        /// The client's wallet holds less than the invoice total; ``WaveError/balance`` and
        /// ``WaveError/amount`` say by how much. Only the in-transaction wallet payment throws it:
        /// ``Invoices/attemptPayment(_:idempotencyKey:actor:)`` turns it into an outcome.
        public static let insufficientFunds = Code("insufficient_funds")
        /// A webhook's signature is missing or does not match its body (see ``WebhookSigner``).
        public static let invalidSignature = Code("invalid_signature")
        /// A webhook was signed further from now than the tolerance window allows.
        public static let staleWebhook = Code("stale_webhook")
        /// A verified webhook whose body is not a usable checkout event.
        public static let invalidWebhook = Code("invalid_webhook")
        /// The subscription plan does not exist, or is no longer for sale.
        public static let invalidPlan = Code("invalid_plan")
        /// The client already has a live (not canceled) subscription to this plan.
        public static let alreadySubscribed = Code("already_subscribed")
    }

    /// What went wrong.
    public var code: Code
    /// Safe to show a user.
    public var message: String
    /// For insufficient funds: what the wallet could spend.
    public var balance: Int64?
    /// For insufficient funds: the amount asked for.
    public var amount: Int64?

    /// An error with `code` and a user-safe `message`; `balance` and `amount` are in minor units.
    public init(_ code: Code, message: String, balance: Int64? = nil, amount: Int64? = nil) {
        self.code = code
        self.message = message
        self.balance = balance
        self.amount = amount
    }


    /// A caller's idempotency key, checked by the suite's one rule.
    static func key(_ key: String) throws -> IdempotencyKey {
        guard let checked = IdempotencyKey(key) else { throw invalid("idempotency key", IdempotencyKey.rule) }
        return checked
    }

    static func invalid(_ field: String, _ reason: String) -> WaveError {
        WaveError(.validation, message: "Invalid \(field): \(reason)")
    }

    /// A page size outside 1…500.
    static func checkLimit(_ limit: Int) throws {
        guard (1...500).contains(limit) else { throw WaveError.invalid("limit", "use 1…500") }
    }

    static let invalidCursor = WaveError.invalid("cursor", "it does not name a page of this list")

    /// "Plan Not Found: no plan PL-…": `record` named by what the caller gave (a refid, slug or number).
    static func notFound(_ record: String, _ name: String) -> WaveError {
        WaveError(.notFound, message: "\(record.prefix(1).uppercased() + record.dropFirst()) Not Found: no \(record) \(name.prefix(64))")
    }

    static func invoiceNotFound(_ what: String) -> WaveError {
        WaveError(.notFound, message: "Invoice Not Found: no invoice with this \(what)")
    }

    /// "Status Transition Denied: a void invoice cannot be paid".
    static func transitionDenied<Move: DeniableMove>(_ move: Move, from status: Move.State) -> WaveError {
        WaveError(.statusTransitionDenied, message: "Status Transition Denied: a \(status) \(Move.record) cannot \(move.passive)")
    }

    static func subscriptionNotFound(_ what: String) -> WaveError {
        WaveError(.notFound, message: "Subscription Not Found: no subscription with this \(what)")
    }
}

/// A Wave move whose denial names the record and the move in words.
protocol DeniableMove: StateTransition {
    /// The record's name: `invoice`, `subscription`.
    static var record: String { get }
    /// The move in the passive: `be paid`, `be canceled`.
    var passive: String { get }
}

extension InvoiceTransition: DeniableMove {
    static var record: String { "invoice" }
    var passive: String {
        switch self {
        case .pay: "be paid"
        case .void: "be voided"
        case .markUncollectible: "be marked uncollectible"
        }
    }
}

extension SubscriptionTransition: DeniableMove {
    static var record: String { "subscription" }
    var passive: String {
        switch self {
        case .activate: "be activated"
        case .markPastDue: "be marked past due"
        case .cancel: "be canceled"
        }
    }
}
