import Foundation
public import SuiteCore

/// What an account counts: `credits` (reseller credits) or an ISO 4217 currency code (`USD`).
/// Amounts are always `Int64` minor units of the unit.
public struct Unit: Hashable, Sendable, CustomStringConvertible {
    public let code: String

    /// Reseller credits.
    public static let credits = Unit(unchecked: "credits")

    /// A unit from its code: `credits`, or three upper-case letters (ISO 4217).
    public init(_ code: String) throws {
        let isCurrency = code.count == 3 && code.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) }
        guard code == "credits" || isCurrency else {
            throw WalletError.invalid("unit", "use credits or an ISO 4217 code such as USD")
        }
        self.code = code
    }

    init(unchecked code: String) { self.code = code }

    public var description: String { code }
}

/// A ledger account: one owner's balance in one unit.
public struct Account: Hashable, Sendable {
    public var refid: Refid
    /// Who holds the account, e.g. a reseller's or client's refid, or `system:issuance`.
    public var owner: String
    public var unit: Unit
    /// The cached balance, equal to the sum of the account's entries (see ``Ledger/reconcile(batchSize:)``).
    public var balance: Int64
    /// System accounts (issuance, revenue) may go negative; every other account never does.
    public var isSystem: Bool
}

/// The system accounts that balance the books: credits are issued from one and spent into the other.
public enum SystemAccount: String, Sendable, CaseIterable {
    /// Where issued credits or deposited funds come from (its balance is minus what was issued).
    case issuance
    /// Where spent credits or funds go.
    case revenue

    public var owner: String { "system:\(rawValue)" }
}

/// A movement of `amount` from one account to another: two immutable entries.
public struct Transfer: Hashable, Sendable {
    public var refid: Refid
    public var debitAccount: Refid
    public var creditAccount: Refid
    public var amount: Int64
    public var unit: Unit
    public var description: String
    public var metadata: Metadata
    public var idempotencyKey: String?
    /// The debited account's balance right after this transfer.
    public var debitBalanceAfter: Int64
    /// The credited account's balance right after this transfer.
    public var creditBalanceAfter: Int64
    public var createdAt: Date
    /// False when an idempotent retry returned this earlier transfer without writing anything.
    public var isNew: Bool
}

/// One entry of an account's history: a signed amount and the balance after it.
public struct LedgerEntry: Hashable, Sendable {
    public var transfer: Refid
    /// Positive for a credit to this account, negative for a debit.
    public var amount: Int64
    public var balanceAfter: Int64
    public var description: String
    public var createdAt: Date
}

/// A page of history, newest first, with the cursor of the next page.
public struct LedgerPage: Sendable {
    public var entries: [LedgerEntry]
    public var nextCursor: String?
}

/// The outcome of ``Ledger/reconcile(batchSize:)``.
public struct ReconcileReport: Sendable {
    public struct Mismatch: Hashable, Sendable {
        public var account: Refid
        public var cachedBalance: Int64
        public var sumOfEntries: Int64
    }

    public var accountsChecked: Int
    public var mismatches: [Mismatch]
    /// The sum of every balance per unit; double entry keeps each at zero.
    public var totalsByUnit: [String: Int64]

    /// Every cached balance equals its entries and every unit sums to zero.
    public var isClean: Bool { mismatches.isEmpty && totalsByUnit.values.allSatisfy { $0 == 0 } }
}
