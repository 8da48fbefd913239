import Foundation
public import SuiteCore

// Domain events of the Ally module, published on ``Allies/events`` after the transaction that
// caused them committed (never for a change that rolled back, never for an idempotent replay).

/// A reseller was registered.
public struct ResellerRegistered: DomainEvent, Hashable {
    /// The event's name, `ally.reseller_registered`.
    public var name: String { "ally.reseller_registered" }
    /// The new reseller's refid (`RS-…`).
    public var reseller: Refid
    /// The tier it was registered in.
    public var tier: ResellerTier
}

/// A reseller was suspended or reinstated.
public struct ResellerStatusChanged: DomainEvent, Hashable {
    /// The event's name, `ally.reseller_status_changed`.
    public var name: String { "ally.reseller_status_changed" }
    /// The reseller's refid (`RS-…`).
    public var reseller: Refid
    /// The status before the move.
    public var from: ResellerStatus
    /// The status after the move.
    public var to: ResellerStatus
    /// Who made the move, as recorded in the audit trail.
    public var actor: String
    /// Why, if the caller said; nil otherwise.
    public var reason: String?
}

/// Credits were added to a reseller's wallet.
public struct CreditsAdded: DomainEvent, Hashable {
    /// The event's name, `ally.credits_added`.
    public var name: String { "ally.credits_added" }
    /// The reseller's refid (`RS-…`).
    public var reseller: Refid
    /// The credits added, in whole credits.
    public var amount: Int64
    /// The wallet's balance right after, in whole credits.
    public var balanceAfter: Int64
    /// The ledger transfer that added them.
    public var transfer: Refid
}

/// A reseller spent credits on a provision.
public struct CreditsProvisioned: DomainEvent, Hashable {
    /// The event's name, `ally.credits_provisioned`.
    public var name: String { "ally.credits_provisioned" }
    /// The reseller's refid (`RS-…`).
    public var reseller: Refid
    /// The credits spent, in whole credits.
    public var cost: Int64
    /// What the credits were spent on (the transfer's description).
    public var action: String
    /// The wallet's balance right after, in whole credits.
    public var balanceAfter: Int64
    /// The ledger transfer that spent them.
    public var transfer: Refid
}

/// A debit took a reseller's balance from above ``Allies/lowCreditThreshold`` to at or below it.
///
/// Published once per crossing: later debits while the balance stays at or below the threshold
/// publish nothing, and a top-up above it arms the next crossing. Whether a debit crosses is
/// decided from the balances before and after that debit, which the ledger's row lock orders, so
/// concurrent provisions cannot both see the crossing.
///
/// ```swift
/// for await event in allies.events.subscribe() {
///     if let low = event as? LowCreditEvent { notify(low.reseller, balance: low.balance) }
/// }
/// ```
public struct LowCreditEvent: DomainEvent, Hashable {
    /// The event's name, `ally.low_credit`.
    public var name: String { "ally.low_credit" }
    /// The reseller's refid (`RS-…`).
    public var reseller: Refid
    /// The balance right after the debit that crossed the threshold.
    public var balance: Int64
    /// The ``Allies/lowCreditThreshold`` it crossed, in whole credits.
    public var threshold: Int64
    /// When the crossing debit was made.
    public var at: Date
}
