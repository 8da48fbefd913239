import Foundation
public import SuiteCore
public import SuiteStorage

/// What an account counts: `credits` (reseller credits) or an ISO 4217 currency code (`USD`).
/// Amounts are always `Int64` minor units of the unit.
public struct Unit: Hashable, Sendable, Codable, CustomStringConvertible {
    /// `credits`, or an ISO 4217 code such as `USD`.
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

    /// A unit is its code in JSON: `"credits"`, `"USD"`.
    public init(from decoder: any Decoder) throws {
        try self.init(try decoder.singleValueContainer().decode(String.self))
    }

    /// Encodes the unit as its code.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }

    /// The unit's code.
    public var description: String { code }
}

/// A ledger account: one owner's balance in one unit.
public struct Account: Hashable, Sendable, Codable {
    /// The public id (`WA-…`).
    public var refid: Refid
    /// Who holds the account, e.g. a reseller's or client's refid, or `system:issuance`.
    public var owner: String
    /// What the account counts; every amount on it is in this unit's minor units.
    public var unit: Unit
    /// The cached balance, equal to the sum of the account's entries (see ``Ledger/reconcile(batchSize:)``).
    public var balance: Int64
    /// System accounts (issuance, revenue) may go negative; every other account never does.
    public var isSystem: Bool
    /// The part of the balance reserved by pending holds (see ``Ledger/reserve(_:from:description:metadata:expiresIn:actor:idempotencyKey:)``).
    /// Always zero for system accounts; never more than the balance otherwise.
    public var held: Int64 = 0
    /// Whether the account may be spent from (see ``Ledger/freeze(_:actor:reason:)``).
    public var standing: AccountStanding = .open

    /// What can be spent or reserved now: `balance - held`.
    ///
    /// ```swift
    /// let wallet = try await ledger.account(refid)
    /// print("\(wallet.available) of \(wallet.balance) available, \(wallet.held) held")
    /// ```
    public var available: Int64 {
        // The schema keeps 0 ≤ held ≤ balance (held is 0 on system accounts), so this cannot overflow;
        // the clamp only guards against a row edited by hand.
        let (value, overflow) = balance.subtractingReportingOverflow(held)
        return overflow ? Int64.min : value
    }
}

/// What an account can spend now, beside the ``Account`` in JSON (`dock wave wallet balance --json`
/// and `GET /v1/wallets/{client}/{currency}` answer `Merged(account, AvailableFunds(account))`):
/// the account's fields plus `"available"`.
public struct AvailableFunds: Hashable, Sendable, Encodable {
    /// The balance less what holds reserve.
    public var available: Int64

    /// What `account` can spend now.
    public init(_ account: Account) { available = account.available }
}

/// The system accounts that balance the books: credits are issued from one and spent into the other.
public enum SystemAccount: String, Sendable, CaseIterable {
    /// Where issued credits or deposited funds come from (its balance is minus what was issued).
    case issuance
    /// Where spent credits or funds go.
    case revenue

    /// The account's ``Account/owner``: `system:issuance` or `system:revenue`.
    public var owner: String { "system:\(rawValue)" }
}

/// A movement of `amount` from one account to another: two immutable entries.
public struct Transfer: Hashable, Sendable, Codable {
    /// The public id (`TX-…`).
    public var refid: Refid
    /// The account the amount left.
    public var debitAccount: Refid
    /// The account the amount went to.
    public var creditAccount: Refid
    /// The amount moved, in minor units of ``unit`` (> 0).
    public var amount: Int64
    /// The unit both accounts hold.
    public var unit: Unit
    /// What the transfer was for, as the caller described it.
    public var description: String
    /// The caller's JSON metadata.
    public var metadata: Metadata
    /// The key the transfer was made with, if any; a retry with it returns this transfer.
    @ExplicitNull public var idempotencyKey: String?
    /// The debited account's balance right after this transfer.
    public var debitBalanceAfter: Int64
    /// The credited account's balance right after this transfer.
    public var creditBalanceAfter: Int64
    /// When the transfer was written, on the ledger's clock.
    public var createdAt: Date
    /// False when an idempotent retry returned this earlier transfer without writing anything.
    public var isNew: Bool
}

/// One entry of an account's history: a signed amount and the balance after it.
public struct LedgerEntry: Hashable, Sendable, Codable {
    /// The transfer the entry belongs to (`TX-…`).
    public var transfer: Refid
    /// Positive for a credit to this account, negative for a debit.
    public var amount: Int64
    /// The account's balance right after this entry.
    public var balanceAfter: Int64
    /// The transfer's description.
    public var description: String
    /// When the transfer was written.
    public var createdAt: Date
}

/// The outcome of ``Ledger/reconcile(batchSize:)``. Its JSON carries ``isClean`` as `is_clean`.
public struct ReconcileReport: Sendable, Encodable {
    /// An account whose cached ``Account/balance`` differs from the sum of its entries.
    public struct Mismatch: Hashable, Sendable, Codable {
        /// The account's refid.
        public var account: Refid
        /// The account's cached ``Account/balance``.
        public var cachedBalance: Int64
        /// What its entries add up to.
        public var sumOfEntries: Int64
    }

    /// An account whose cached ``Account/held`` differs from the sum of its pending holds.
    public struct HeldMismatch: Hashable, Sendable, Codable {
        /// The account's refid.
        public var account: Refid
        /// The account's cached ``Account/held``.
        public var cachedHeld: Int64
        /// What its pending holds add up to.
        public var sumOfPendingHolds: Int64
    }

    /// How many accounts were checked.
    public var accountsChecked: Int
    /// Accounts whose cached balance disagrees with their entries.
    public var mismatches: [Mismatch]
    /// The sum of every balance per unit; double entry keeps each at zero.
    public var totalsByUnit: [String: Int64]
    /// Accounts whose held amount disagrees with their pending holds.
    public var heldMismatches: [HeldMismatch] = []

    /// Every cached balance equals its entries, every held amount equals its pending holds, and
    /// every unit sums to zero.
    public var isClean: Bool {
        mismatches.isEmpty && heldMismatches.isEmpty && totalsByUnit.values.allSatisfy { $0 == 0 }
    }

    private enum CodingKeys: String, CodingKey {
        case accountsChecked, mismatches, totalsByUnit, heldMismatches, isClean
    }

    /// Encodes the report's fields and ``isClean``.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(accountsChecked, forKey: .accountsChecked)
        try container.encode(mismatches, forKey: .mismatches)
        try container.encode(totalsByUnit, forKey: .totalsByUnit)
        try container.encode(heldMismatches, forKey: .heldMismatches)
        try container.encode(isClean, forKey: .isClean)
    }
}

// MARK: Holds

/// How long a hold lasts when its creator does not say, and the longest it may last.
///
/// ```swift
/// let policy = try HoldPolicy(defaultDuration: .seconds(300), maximumDuration: .seconds(86_400))
/// let ledger = Ledger(database: database, holdPolicy: policy)
/// ```
public struct HoldPolicy: Hashable, Sendable {
    /// The lifetime of a hold reserved without `expiresIn`. Default: 15 minutes.
    public let defaultDuration: Duration
    /// The longest lifetime a hold may ask for. Default: 30 days.
    public let maximumDuration: Duration

    /// The longest ``maximumDuration`` accepted: one year, so expiry instants stay far from overflow.
    public static let longestAllowedDuration: Duration = .seconds(366 * 86_400)

    /// A policy; throws `.invalidConfiguration` unless 1 ms ≤ default ≤ maximum ≤ 366 days.
    public init(defaultDuration: Duration = .seconds(15 * 60), maximumDuration: Duration = .seconds(30 * 86_400)) throws {
        guard defaultDuration >= .milliseconds(1), defaultDuration <= maximumDuration,
              maximumDuration <= Self.longestAllowedDuration
        else {
            throw WalletError(.invalidConfiguration,
                              message: "Invalid configuration: hold durations must satisfy 1 ms ≤ default ≤ maximum ≤ 366 days")
        }
        self.defaultDuration = defaultDuration
        self.maximumDuration = maximumDuration
    }

    private init(checked defaultDuration: Duration, _ maximumDuration: Duration) {
        self.defaultDuration = defaultDuration
        self.maximumDuration = maximumDuration
    }

    /// 15 minutes by default, at most 30 days.
    public static let defaults = HoldPolicy(checked: .seconds(15 * 60), .seconds(30 * 86_400))
}

/// Where a hold is in its life. Only a pending hold can move, and each move is final.
///
/// | from \ action | capture | void | expire |
/// |---|---|---|---|
/// | pending  | → captured | → voided | → expired |
/// | captured | denied | denied | denied |
/// | voided   | denied | denied | denied |
/// | expired  | denied | denied | denied |
///
/// A pending hold whose ``Hold/expiresAt`` has passed is expired in effect: capturing it is refused
/// (and marks it expired), and the next sweep (``Ledger/voidExpiredHolds(limit:)``) marks it.
public enum HoldStatus: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// The amount is reserved: counted in the account's ``Account/held``, not spendable.
    case pending
    /// The hold was captured: (part of) the amount moved to the destination, the rest released.
    case captured
    /// The hold was released by a caller.
    case voided
    /// The hold outlived its expiry and was released.
    case expired

    /// Whether the hold has left `pending` (which it does exactly once).
    public var isResolved: Bool { self != .pending }

    /// The stored name: `pending`, `captured`, `voided` or `expired`.
    public var description: String { rawValue }
}

/// A move of a hold out of `pending`. The explicit transition table behind ``HoldStatus``.
///
/// ```swift
/// HoldTransition.capture.isAllowed(from: .voided)   // false
/// ```
public enum HoldTransition: String, StateTransition {
    /// Move (part of) the held amount to another account and release the rest.
    case capture
    /// Release the whole held amount.
    case void
    /// Release the whole held amount because the hold outlived its expiry.
    case expire

    /// The statuses this machine moves between.
    public typealias State = HoldStatus

    /// The hold lifecycle: every move starts from `pending`; any other start throws `.holdNotPending`.
    public static let table = TransitionTable<HoldTransition>([
        .capture: .init(from: [.pending], to: .captured),
        .void: .init(from: [.pending], to: .voided),
        .expire: .init(from: [.pending], to: .expired),
    ])

    /// The name recorded in the audit trail: `capture`, `void` or `expire`.
    public var description: String { rawValue }
}

/// Funds reserved on an account until they are captured, voided, or expire.
///
/// ```swift
/// let hold = try await ledger.reserve(2_500, from: wallet.refid, description: "Order 42")
/// print(hold.refid, hold.status, hold.expiresAt)   // HD-…, pending, in 15 minutes
/// ```
public struct Hold: Hashable, Sendable, Codable {
    /// The public id (`HD-…`).
    public var refid: Refid
    /// The account whose funds are held.
    public var account: Refid
    /// The unit of the held account.
    public var unit: Unit
    /// The reserved amount (minor units, > 0).
    public var amount: Int64
    /// Where the hold is in its life; see ``HoldStatus`` for the transition table.
    public var status: HoldStatus
    /// What the funds are held for; also the capture transfer's description unless the capture gives one.
    public var description: String
    /// The caller's JSON metadata; copied, with `hold`, onto the capture transfer.
    public var metadata: Metadata
    /// The key the hold was reserved with, if any.
    @ExplicitNull public var idempotencyKey: String?
    /// When the hold stops being capturable.
    public var expiresAt: Date
    /// When it was reserved, on the ledger's clock.
    public var createdAt: Date
    /// Who reserved it (the `actor` given to ``Ledger/reserve(_:from:description:metadata:expiresIn:actor:idempotencyKey:)``).
    public var createdBy: String
    /// When the hold left `pending`; nil while pending.
    @ExplicitNull public var resolvedAt: Date?
    /// Who resolved it: the capturing or voiding actor, or ``Hold/expiryActor``.
    @ExplicitNull public var resolvedBy: String?
    /// The reason given when it was voided, or why it expired.
    @ExplicitNull public var resolutionReason: String?
    /// For a captured hold: the amount moved (the rest of ``amount`` was released).
    @ExplicitNull public var capturedAmount: Int64?
    /// For a captured hold: the ledger transfer that moved the funds.
    @ExplicitNull public var captureTransfer: Refid?
    /// False when an idempotent retry of a reservation returned this earlier hold without writing anything.
    public var isNew: Bool

    /// The actor recorded when a hold expires, whether the sweep or a late capture found it.
    public static let expiryActor = "expiry-sweep"

    /// Whether the hold is still pending but past its expiry at `date` (capture refuses it).
    ///
    /// ```swift
    /// if hold.isPastExpiry(at: clock.now()) { /* reserve again */ }
    /// ```
    public func isPastExpiry(at date: Date) -> Bool { status == .pending && date >= expiresAt }
}

/// The outcome of capturing a hold: the hold, now `captured`, and the transfer that moved its funds.
///
/// ```swift
/// let capture = try await ledger.capture(hold.refid, amount: 2_000, to: revenue.refid)
/// print(capture.transfer.refid, capture.released)   // TX-…, 500
/// ```
public struct HoldCapture: Hashable, Sendable, Codable {
    /// The hold, now `captured`, with ``Hold/capturedAmount`` and ``Hold/captureTransfer`` set.
    public var hold: Hold
    /// The ledger transfer from the held account to the destination (double entry, in history).
    public var transfer: Transfer
    /// The part of the hold that was released without moving (zero for a full capture).
    public var released: Int64
}

/// One entry of a hold's audit trail: `reserve`, `capture`, `void` or `expire` (actor
/// ``Hold/expiryActor``), with who, when, from, to and why.
///
/// ```swift
/// let trail = try await ledger.auditTrail(ofHold: hold.refid)   // [reserve, capture]
/// ```
public typealias HoldAuditEntry = AuditEntry<HoldStatus>
