import SuiteCore
import SuiteStorage

/// A failure of a ledger operation. `description` is safe to show a user; `debugDescription`
/// adds detail for logs.
public struct WalletError: CodedError {
    /// What went wrong. A struct so that codes can be added without breaking callers.
    public struct Code: ErrorCode {
        /// The code's snake_case text, e.g. `insufficient_funds`.
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }

        /// The debit or reservation exceeds what a non-system account has available (its balance
        /// minus its held funds). ``WalletError/balance`` (the available amount), ``WalletError/held``
        /// and ``WalletError/amount`` say by how much.
        public static let insufficientFunds = Code("insufficient_funds")
        /// The idempotency key was used before with different parameters.
        public static let idempotencyConflict = Code("idempotency_conflict")
        /// The amount is zero, negative, or would overflow a balance.
        public static let invalidAmount = Code("invalid_amount")
        /// The two accounts hold different units.
        public static let unitMismatch = Code("unit_mismatch")
        /// No account with that refid.
        public static let accountNotFound = Code("account_not_found")
        /// A field failed validation (owner, unit, description, key, limit, cursor, actor, duration).
        public static let validation = Code("validation")
        /// No hold with that refid.
        public static let holdNotFound = Code("hold_not_found")
        /// The hold was already captured, voided or expired; ``WalletError/holdStatus`` says which.
        public static let holdNotPending = Code("hold_not_pending")
        /// The hold is past its expiry and can no longer be captured (it is released instead).
        public static let holdExpired = Code("hold_expired")
        /// A ``HoldPolicy`` (or other setting) is out of range.
        public static let invalidConfiguration = Code("invalid_configuration")
        /// The account is frozen (``AccountStanding/frozen``): nothing may be spent from it.
        public static let accountFrozen = Code("account_frozen")
        /// A freeze of a frozen account, or an unfreeze of an open one.
        public static let statusTransitionDenied = Code("status_transition_denied")
    }

    /// What went wrong.
    public var code: Code
    /// Safe to show a user.
    public var message: String
    /// For insufficient funds: the *available* balance at the time of the attempt (balance minus held).
    public var balance: Int64?
    /// For insufficient funds: the amount that was asked for.
    public var amount: Int64?
    /// For insufficient funds: the part of the balance reserved by pending holds.
    public var held: Int64?
    /// For `.holdNotPending` and `.holdExpired`: the hold's status after the attempt.
    public var holdStatus: HoldStatus?

    /// An error with `code` and a user-safe `message`; amounts are in minor units.
    public init(_ code: Code, message: String, balance: Int64? = nil, amount: Int64? = nil, held: Int64? = nil,
                holdStatus: HoldStatus? = nil) {
        self.code = code
        self.message = message
        self.balance = balance
        self.amount = amount
        self.held = held
        self.holdStatus = holdStatus
    }


    static func accountNotFound(_ refid: Refid) -> WalletError {
        WalletError(.accountNotFound, message: "Account Not Found: no account with refid \(refid.rawValue.prefix(64))")
    }

    static let accountFrozen = WalletError(.accountFrozen, message: "Account Frozen: nothing can be spent from this account")

    /// `available` is what could be spent (balance − held); the message names the held part only when there is one.
    static func insufficientFunds(available: Int64, held: Int64, amount: Int64) -> WalletError {
        let message = held == 0
            ? "Insufficient Funds: balance \(available), cost \(amount)"
            : "Insufficient Funds: available \(available) (\(held) held), cost \(amount)"
        return WalletError(.insufficientFunds, message: message, balance: available, amount: amount, held: held)
    }

    static func holdNotFound(_ refid: Refid) -> WalletError {
        WalletError(.holdNotFound, message: "Hold Not Found: no hold with refid \(refid.rawValue.prefix(64))")
    }

    static func holdNotPending(_ status: HoldStatus) -> WalletError {
        WalletError(.holdNotPending, message: "Hold Not Pending: the hold is already \(status)", holdStatus: status)
    }

    static func holdExpired() -> WalletError {
        WalletError(.holdExpired, message: "Hold Expired: the hold passed its expiry and its funds were released",
                    holdStatus: .expired)
    }

    static let idempotencyConflict = WalletError(.idempotencyConflict, message: IdempotencyKey.conflictMessage)

    static func invalid(_ field: String, _ reason: String) -> WalletError {
        WalletError(.validation, message: "Invalid \(field): \(reason)")
    }
}
