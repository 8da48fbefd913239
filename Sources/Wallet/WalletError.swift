/// A failure of a ledger operation. `description` is safe to show a user; `debugDescription`
/// adds detail for logs.
public struct WalletError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The debit would take a non-system account below zero. ``WalletError/balance`` and
        /// ``WalletError/amount`` say by how much.
        public static let insufficientFunds = Code("insufficient_funds")
        /// The idempotency key was used before with different parameters.
        public static let idempotencyConflict = Code("idempotency_conflict")
        /// The amount is zero, negative, or would overflow a balance.
        public static let invalidAmount = Code("invalid_amount")
        /// The two accounts hold different units.
        public static let unitMismatch = Code("unit_mismatch")
        /// No account with that refid.
        public static let accountNotFound = Code("account_not_found")
        /// A field failed validation (owner, unit, description, key, limit, cursor).
        public static let validation = Code("validation")
    }

    public var code: Code
    public var message: String
    /// For insufficient funds: the balance at the time of the attempt.
    public var balance: Int64?
    /// For insufficient funds: the amount that was asked for.
    public var amount: Int64?

    public init(_ code: Code, message: String, balance: Int64? = nil, amount: Int64? = nil) {
        self.code = code
        self.message = message
        self.balance = balance
        self.amount = amount
    }

    public var description: String { message }
    public var debugDescription: String { "WalletError(\(code)): \(message)" }

    static func insufficientFunds(balance: Int64, amount: Int64) -> WalletError {
        WalletError(.insufficientFunds, message: "Insufficient Funds: balance \(balance), cost \(amount)",
                    balance: balance, amount: amount)
    }

    static func invalid(_ field: String, _ reason: String) -> WalletError {
        WalletError(.validation, message: "Invalid \(field): \(reason)")
    }
}
