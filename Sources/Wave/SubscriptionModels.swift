import Foundation
public import SuiteCore
public import SuiteStorage

/// How often a plan bills.
///
/// Periods are UTC calendar arithmetic from the subscription's anchor (the start of its first
/// billed period), never from the previous period's end, so a month end does not drift: anchored on
/// Jan 31, periods end on Feb 28 (Feb 29 in a leap year), Mar 31, Apr 30… A yearly plan anchored on
/// Feb 29 renews on Feb 28 in common years. Days and weeks are exact multiples of 24 hours. The
/// time of day of the anchor is kept.
///
/// ```swift
/// let anchor = Timestamp(milliseconds: 1_706_659_200_000)   // 2024-01-31T00:00:00Z
/// BillingInterval.monthly.advance(anchor, by: 1)             // 2024-02-29T00:00:00Z
/// ```
public enum BillingInterval: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Every day, week, calendar month or calendar year.
    case daily, weekly, monthly, yearly

    /// The interval's name: `daily`, `weekly`, `monthly` or `yearly`.
    public var description: String { rawValue }

    /// `anchor` moved forward by `count` intervals, or nil if the result would leave years 1…9999.
    public func advance(_ anchor: Timestamp, by count: Int64) -> Timestamp? {
        switch self {
        case .daily, .weekly:
            let step: Int64 = self == .daily ? 86_400_000 : 604_800_000
            let (delta, overflow) = step.multipliedReportingOverflow(by: count)
            let (result, sumOverflow) = anchor.milliseconds.addingReportingOverflow(delta)
            guard !overflow, !sumOverflow else { return nil }
            return Timestamp(milliseconds: result)
        case .monthly, .yearly:
            let (months, overflow) = count.multipliedReportingOverflow(by: self == .monthly ? 1 : 12)
            guard !overflow, abs(months) <= 120_000 else { return nil }
            let day = anchor.utcDay
            let timeOfDay = anchor.milliseconds - day * 86_400_000
            let civil = CivilDate(dayNumber: day)
            let index = Int64(civil.year) * 12 + Int64(civil.month - 1) + months
            let year = Int(index >= 0 ? index / 12 : (index - 11) / 12)
            let month = Int(index - Int64(year) * 12) + 1
            guard (1...9999).contains(year) else { return nil }
            let target = CivilDate(year: year, month: month, day: min(civil.day, Self.days(inMonth: month, year: year)))
            return Timestamp(milliseconds: target.dayNumber * 86_400_000 + timeOfDay)
        }
    }

    /// `twelfths` of a month per interval: what one price of this interval is worth in a month, ×12.
    /// Monthly 12/12, yearly 1/12, weekly 52/12, daily 365/12 (see ``WaveAnalytics/mrr()``).
    public var monthlyTwelfths: Int64 {
        switch self {
        case .daily: 365
        case .weekly: 52
        case .monthly: 12
        case .yearly: 1
        }
    }

    static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// A subscription plan: a price billed every interval.
public struct Plan: Hashable, Sendable, Codable {
    /// The public id (`PL-…`).
    public var refid: Refid
    /// The stable code (`[a-z0-9-]`, 1–64 characters).
    public var slug: String
    /// The display name, e.g. `Pro monthly` (at most 255 characters).
    public var name: String
    /// The price of one period, in minor units of ``currency`` (> 0).
    public var price: Int64
    /// An ISO 4217 code such as `USD`.
    public var currency: String
    /// How often the plan bills.
    public var interval: BillingInterval
    /// Whether new subscriptions may start (deactivation is final; live subscriptions keep renewing).
    public var isActive: Bool
    /// When the plan was created.
    public var createdAt: Date
    /// When the plan last changed.
    public var updatedAt: Date
}

/// Where a subscription is in its life.
///
/// | from \ move | activate | mark past due | cancel |
/// |---|---|---|---|
/// | trialing | → active | → past_due | → canceled |
/// | active   | denied (already) | → past_due | → canceled |
/// | past_due | → active | denied (already) | → canceled |
/// | canceled | denied | denied | denied |
///
/// Trialing lasts until the trial end; the renewal job then issues the first invoice. A renewal
/// whose invoice is paid activates; one whose invoice is not paid marks the subscription past due
/// (it becomes active again once that invoice is paid, at the next renewal run). Canceled is final.
/// Access is granted while trialing or active (``Subscriptions/hasActiveSubscription(_:plan:)``).
public enum SubscriptionStatus: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// In its free trial; nothing billed yet.
    case trialing
    /// Paid up for the current period.
    case active
    /// A renewal invoice is unpaid.
    case pastDue = "past_due"
    /// Ended; final.
    case canceled

    /// Whether no move leaves this status.
    public var isFinal: Bool { SubscriptionTransition.table.finalStates.contains(self) }

    /// Whether the client has the plan's benefits (trialing or active).
    public var grantsAccess: Bool { self == .trialing || self == .active }

    /// The status as stored and shown: `trialing`, `active`, `past_due` or `canceled`.
    public var description: String { rawValue }
}

/// A move of a subscription between statuses: the explicit transition table behind ``SubscriptionStatus``.
///
/// ```swift
/// SubscriptionTransition.activate.isAllowed(from: .pastDue)   // true
/// SubscriptionTransition.cancel.isAllowed(from: .canceled)    // false
/// ```
public enum SubscriptionTransition: String, StateTransition {
    /// To ``SubscriptionStatus/active``, from trialing or past due.
    case activate
    /// To ``SubscriptionStatus/pastDue``, from trialing or active.
    case markPastDue = "mark_past_due"
    /// To ``SubscriptionStatus/canceled``, from any status but canceled.
    case cancel

    /// The statuses this machine moves between.
    public typealias State = SubscriptionStatus

    /// The subscription lifecycle; any other start throws `.statusTransitionDenied`.
    public static let table = TransitionTable<SubscriptionTransition>([
        .activate: .init(from: [.trialing, .pastDue], to: .active),
        .markPastDue: .init(from: [.trialing, .active], to: .pastDue),
        .cancel: .init(from: [.trialing, .active, .pastDue], to: .canceled),
    ])

    /// The name recorded in the audit trail.
    public var description: String { rawValue }
}

/// A client's subscription to a plan.
public struct Subscription: Hashable, Sendable, Codable {
    /// The public id (`SB-…`).
    public var refid: Refid
    /// The refid of the subscribed client.
    public var client: Refid
    /// The refid of the plan (`PL-…`).
    public var plan: Refid
    /// The plan's slug.
    public var planSlug: String
    /// The price billed each period (the plan's), in minor units of ``currency``.
    public var price: Int64
    /// An ISO 4217 code such as `USD`.
    public var currency: String
    /// How often it bills (the plan's interval).
    public var interval: BillingInterval
    /// Where the subscription is in its life.
    public var status: SubscriptionStatus
    /// When the trial ends (or ended); nil without a trial.
    @ExplicitNull public var trialEndsAt: Date?
    /// When the current period (or the trial) began.
    public var currentPeriodStart: Date
    /// When the next invoice is due (the trial end while trialing).
    public var currentPeriodEnd: Date
    /// Whether the renewal job cancels instead of invoicing at the period end.
    public var cancelAtPeriodEnd: Bool
    /// When it was canceled; nil until then.
    @ExplicitNull public var canceledAt: Date?
    /// The last invoice issued for the subscription.
    @ExplicitNull public var latestInvoice: Refid?
    /// When the subscription started.
    public var createdAt: Date
    /// When the subscription last changed.
    public var updatedAt: Date
}

/// What ``Subscriptions/start(client:plan:trialDays:actor:)`` did. In JSON the payment outcome's
/// fields sit beside the others (`"outcome": "trialing"` when there is no payment yet):
/// `{"subscription": {…}, "invoice": {…} or null, "outcome": "paid", "payment": {…}}`.
public struct SubscriptionStart: Hashable, Sendable, Encodable {
    /// The subscription as it is after the first payment attempt.
    public var subscription: Subscription
    /// The first invoice; nil while trialing.
    public var invoice: Invoice?
    /// The first payment attempt; nil while trialing. `.requiresAction` carries the checkout URL.
    public var payment: PaymentOutcome?

    private enum CodingKeys: String, CodingKey { case subscription, invoice, outcome }

    /// Encodes the start flat, with the payment outcome's fields beside the others (see the type's description).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(subscription, forKey: .subscription)
        try container.encode(invoice, forKey: .invoice)
        if let payment { try payment.encode(to: encoder) } else { try container.encode("trialing", forKey: .outcome) }
    }
}

/// One entry of a subscription's audit trail: `started`, `renewed`, `activate`, `mark_past_due`,
/// `cancel` or `cancel_scheduled`; for a renewal, ``AuditEntry/detail`` is the invoice number and the new period.
public typealias SubscriptionAuditEntry = AuditEntry<SubscriptionStatus>

/// What one renewal run did (``Subscriptions/renewDue(now:limit:actor:progress:)``).
public struct RenewalReport: Hashable, Sendable, Codable {
    /// Subscriptions examined (due, or awaiting payment).
    public var examined = 0
    /// Periods claimed and invoiced.
    public var renewed = 0
    /// Invoices this run saw paid (by the wallet now, or since the last run).
    public var paid = 0
    /// Subscriptions this run moved to past due.
    public var pastDue = 0
    /// Subscriptions this run moved (back) to active.
    public var activated = 0
    /// Subscriptions canceled at their period end.
    public var canceled = 0
    /// Subscriptions whose renewal failed (logged; retried next run), e.g. the client became inactive.
    public var failed = 0

    /// An empty report: every count zero.
    public init() {}
}

// MARK: Events

/// A subscription started (trialing, or with its first invoice).
public struct SubscriptionStarted: DomainEvent, Hashable {
    /// The event's name, `wave.subscription_started`.
    public var name: String { "wave.subscription_started" }
    /// The new subscription's refid (`SB-…`).
    public var subscription: Refid
    /// The refid of the subscribed client.
    public var client: Refid
    /// The refid of the plan (`PL-…`).
    public var plan: Refid
    /// The status it was created in: trialing, or past due until its first invoice is paid.
    public var status: SubscriptionStatus
}

/// A subscription's period was claimed and invoiced by the renewal job.
public struct SubscriptionRenewed: DomainEvent, Hashable {
    /// The event's name, `wave.subscription_renewed`.
    public var name: String { "wave.subscription_renewed" }
    /// The subscription's refid.
    public var subscription: Refid
    /// The refid of the subscribed client.
    public var client: Refid
    /// The refid of the invoice issued for the new period.
    public var invoice: Refid
    /// When the new period begins.
    public var periodStart: Date
    /// When the new period ends.
    public var periodEnd: Date
}

/// A subscription changed status (activated, past due, canceled).
public struct SubscriptionStatusChanged: DomainEvent, Hashable {
    /// The event's name, `wave.subscription_status_changed`.
    public var name: String { "wave.subscription_status_changed" }
    /// The subscription's refid.
    public var subscription: Refid
    /// The refid of the subscribed client.
    public var client: Refid
    /// The status before the move.
    public var from: SubscriptionStatus
    /// The status after the move.
    public var to: SubscriptionStatus
    /// Who made the move, as recorded in the audit trail.
    public var actor: String
    /// Why, if the caller said; nil otherwise.
    public var reason: String?
}

/// A subscription was set to cancel at its period end.
public struct SubscriptionCancelScheduled: DomainEvent, Hashable {
    /// The event's name, `wave.subscription_cancel_scheduled`.
    public var name: String { "wave.subscription_cancel_scheduled" }
    /// The subscription's refid.
    public var subscription: Refid
    /// The refid of the subscribed client.
    public var client: Refid
    /// When it will cancel: the end of the current period.
    public var at: Date
}
