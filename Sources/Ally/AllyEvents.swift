import Foundation
public import SuiteCore

// Domain events of the Ally module, published on ``Allies/events`` after the transaction that
// caused them committed (never for a change that rolled back, never for an idempotent replay).

/// A reseller was registered.
public struct ResellerRegistered: DomainEvent, Hashable {
    public var name: String { "ally.reseller_registered" }
    public var reseller: Refid
    public var tier: ResellerTier
}

/// A reseller was suspended or reinstated.
public struct ResellerStatusChanged: DomainEvent, Hashable {
    public var name: String { "ally.reseller_status_changed" }
    public var reseller: Refid
    public var from: ResellerStatus
    public var to: ResellerStatus
    public var actor: String
    public var reason: String?
}

/// Credits were added to a reseller's wallet.
public struct CreditsAdded: DomainEvent, Hashable {
    public var name: String { "ally.credits_added" }
    public var reseller: Refid
    public var amount: Int64
    public var balanceAfter: Int64
    public var transfer: Refid
}

/// A reseller spent credits on a provision.
public struct CreditsProvisioned: DomainEvent, Hashable {
    public var name: String { "ally.credits_provisioned" }
    public var reseller: Refid
    public var cost: Int64
    public var action: String
    public var balanceAfter: Int64
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
    public var name: String { "ally.low_credit" }
    public var reseller: Refid
    /// The balance right after the debit that crossed the threshold.
    public var balance: Int64
    public var threshold: Int64
    public var at: Date
}
