import Foundation
public import Logging
public import SuiteCore
public import SuiteStorage

/// Wave's lightweight subscriptions: a client pays a ``Plan``'s price every period.
///
/// A subscription starts trialing (with trial days) or with its first invoice and payment
/// attempt; the renewal job (``renewDue(now:limit:actor:progress:)``, run by
/// ``SubscriptionRenewalService`` or `dock wave renew`) invoices every period when it ends and
/// attempts payment; ``SubscriptionStatus`` moves by an explicit transition table, every move is
/// audited in the same transaction and published as an event after commit.
///
/// ```swift
/// let subscriptions = Subscriptions(invoices: invoices)
/// let plan = try await subscriptions.plans.create(name: "Pro", slug: "pro-monthly", price: 1_900, currency: "USD", interval: .monthly)
/// let started = try await subscriptions.start(client: client.refid, plan: plan.refid, trialDays: 14)
/// try await subscriptions.hasActiveSubscription(client.refid)   // true (trialing)
/// ```
public struct Subscriptions: Sendable {
    /// Issues and collects the subscription invoices (and checks clients).
    public let invoices: Invoices
    /// The plans subscriptions are made to, on the same database and clock.
    public let plans: Plans
    /// Where the module logs.
    public let logger: Logger

    /// Where subscriptions are stored (the invoices' database).
    public var database: any Database { invoices.database }
    /// The source of every timestamp and period boundary (the invoices' clock).
    public var clock: any WallClock { invoices.clock }
    /// Where subscription events are published after commit (the invoices' bus).
    public var events: DomainEventBus { invoices.events }

    /// The longest trial, in days.
    public static let maximumTrialDays = 730

    /// Subscriptions billed through `invoices`, with their ``Plans`` on the same database.
    public init(invoices: Invoices, logger: Logger = Logger(label: "clientsuite.wave")) {
        self.invoices = invoices
        self.plans = Plans(database: invoices.database, clock: invoices.clock, logger: logger)
        self.logger = logger
    }

    // MARK: Starting

    /// Subscribes `client` to the plan `plan` (refid).
    ///
    /// - With `trialDays > 0`: the subscription is trialing until the trial ends; the renewal job
    ///   then issues the first invoice. No invoice now.
    /// - Without a trial: the first period's invoice is issued in the same transaction, then paid
    ///   like any invoice (``Invoices/attemptPayment(_:idempotencyKey:actor:)``): paid → active;
    ///   otherwise the subscription is past due (it is past due from the start until that first
    ///   invoice is paid, so it never grants access unpaid) and ``SubscriptionStart/payment``
    ///   carries the checkout session or the failure.
    ///
    /// Throws `.invalidPlan`, `.invalidClient`, `.validation` or `.alreadySubscribed` (one live
    /// subscription per client and plan), and then writes nothing.
    public func start(client: Refid, plan: Refid, trialDays: Int = 0, actor: String = "system") async throws -> SubscriptionStart {
        let actor = try WaveValidation.text(actor, field: "actor", maximum: 255)
        guard (0...Self.maximumTrialDays).contains(trialDays) else {
            throw WaveError.invalid("trial days", "use 0…\(Self.maximumTrialDays)")
        }
        let (started, invoice) = try await database.write { tx in
            try self.begin(client: client, plan: plan, trialDays: trialDays, actor: actor, in: tx)
        }
        guard let invoice else { return SubscriptionStart(subscription: started, invoice: nil, payment: nil) }
        let outcome = try await invoices.attemptPayment(invoice.refid, actor: actor)
        _ = try await settle(started.refid, invoice: invoice.refid, paid: outcome.isPaid, actor: actor)
        let subscription = try await findByRefid(started.refid) ?? started
        return SubscriptionStart(subscription: subscription, invoice: try await invoices.findByRefid(invoice.refid) ?? invoice,
                                 payment: outcome)
    }

    private func begin(client: Refid, plan planRefid: Refid, trialDays: Int, actor: String,
                       in tx: any Transaction) throws -> (Subscription, Invoice?) {
        guard let planRow = try tx.queryFirst("SELECT \(raw: Plans.table.columns) FROM wave_plans WHERE refid = \(planRefid)") else {
            throw WaveError(.invalidPlan, message: "Invalid Plan: no plan with refid \(planRefid.rawValue.prefix(64))")
        }
        let plan = try Plans.decode(planRow)
        guard plan.isActive else { throw WaveError(.invalidPlan, message: "Invalid Plan: \(plan.slug) is not for sale") }
        try invoices.usableClient(client, in: tx)
        let planID = try planRow.int64("id")
        if try tx.queryInt64("""
            SELECT count(*) FROM wave_subscriptions WHERE client_refid = \(client) AND plan_id = \(planID) AND status <> 'canceled'
            """) ?? 0 > 0 {
            throw Self.alreadySubscribed(plan)
        }
        let now = Timestamp(clock.now())
        let refid = Refid.generate(prefix: "SB-")
        var subscription: Subscription
        var invoice: Invoice?
        let anchor: Timestamp, periods: Int64, periodEnd: Timestamp, trialEnd: Timestamp?
        if trialDays > 0 {
            let end = Timestamp(milliseconds: now.milliseconds + Int64(trialDays) * 86_400_000)
            (anchor, periods, periodEnd, trialEnd) = (end, 0, end, end)
            subscription = Subscription(refid: refid, client: client, plan: plan.refid, planSlug: plan.slug, price: plan.price,
                                        currency: plan.currency, interval: plan.interval, status: .trialing,
                                        trialEndsAt: end.date, currentPeriodStart: now.date, currentPeriodEnd: end.date,
                                        cancelAtPeriodEnd: false, canceledAt: nil, latestInvoice: nil,
                                        createdAt: now.date, updatedAt: now.date)
        } else {
            guard let end = plan.interval.advance(now, by: 1) else { throw WaveError.invalid("period", "the period end would overflow") }
            (anchor, periods, periodEnd, trialEnd) = (now, 1, end, nil)
            let issued = try issueInvoice(subscription: refid, client: client, plan: plan, start: now, end: end, actor: actor, in: tx)
            invoice = issued
            subscription = Subscription(refid: refid, client: client, plan: plan.refid, planSlug: plan.slug, price: plan.price,
                                        currency: plan.currency, interval: plan.interval, status: .pastDue, trialEndsAt: nil,
                                        currentPeriodStart: now.date, currentPeriodEnd: end.date, cancelAtPeriodEnd: false,
                                        canceledAt: nil, latestInvoice: issued.refid, createdAt: now.date, updatedAt: now.date)
        }
        let id: Int64
        do {
            id = try tx.insertReturningID("""
                INSERT INTO wave_subscriptions (refid, client_refid, plan_id, status, trial_end, anchor_at, periods,
                    current_period_start, current_period_end, cancel_at_period_end, canceled_at, latest_invoice_refid,
                    payment_pending, version, created_at, updated_at)
                VALUES (\(refid), \(client), \(planID), \(subscription.status.rawValue), \(trialEnd),
                    \(anchor), \(periods), \(now), \(periodEnd),
                    0, NULL, \(invoice?.refid), \(invoice != nil), 1, \(now), \(now))
                """)
        } catch let error as StorageError where error.isUniqueViolation(mentioning: "client_refid") {
            throw Self.alreadySubscribed(plan)
        }
        try audit(id: id, version: 1, event: "started", from: nil, to: subscription.status, actor: actor, reason: nil,
                  detail: invoice.map { "\(plan.slug), first invoice \($0.number)" } ?? "\(plan.slug), trial of \(trialDays) days",
                  at: now, in: tx)
        let events = events
        let started = SubscriptionStarted(subscription: refid, client: client, plan: plan.refid, status: subscription.status)
        tx.afterCommit { events.publish(started) }
        return (subscription, invoice)
    }

    // MARK: Cancelling

    /// Cancels a subscription.
    ///
    /// - `atPeriodEnd: true` (the default): the subscription keeps its status and benefits until
    ///   its period (or trial) ends; the renewal job then cancels it instead of invoicing. Asking
    ///   again changes nothing.
    /// - `atPeriodEnd: false`: canceled now; nothing more is invoiced.
    ///
    /// Audited. A canceled subscription throws `.statusTransitionDenied`.
    @discardableResult
    public func cancel(_ refid: Refid, atPeriodEnd: Bool = true, actor: String = "system",
                       reason: String? = nil) async throws -> Subscription {
        let actor = try WaveValidation.text(actor, field: "actor", maximum: 255)
        let reason = try reason.map { try WaveValidation.text($0, field: "reason", maximum: 1_000) }
        return try await database.write { tx in
            let stored = try self.locked(refid, in: tx)
            try SubscriptionTransition.cancel.target(from: stored.subscription.status, orThrow: WaveError.transitionDenied)
            let now = Timestamp(self.clock.now())
            guard atPeriodEnd else {
                return try self.apply(.cancel, to: stored, setting: "canceled_at = \(now), payment_pending = 0, ",
                                      actor: actor, reason: reason, detail: nil, at: now, in: tx)
            }
            var subscription = stored.subscription
            guard !subscription.cancelAtPeriodEnd else { return subscription }
            let version = try tx.advanceVersion(of: "wave_subscriptions", id: stored.id, from: stored.version,
                                                setting: "cancel_at_period_end = 1, ", updatedAt: now)
            try self.audit(id: stored.id, version: version, event: "cancel_scheduled", from: subscription.status,
                           to: subscription.status, actor: actor, reason: reason,
                           detail: "at \(Self.iso(subscription.currentPeriodEnd))", at: now, in: tx)
            let events = self.events
            let scheduled = SubscriptionCancelScheduled(subscription: refid, client: subscription.client,
                                                        at: subscription.currentPeriodEnd)
            tx.afterCommit { events.publish(scheduled) }
            subscription.cancelAtPeriodEnd = true
            subscription.updatedAt = now.date
            return subscription
        }
    }

    // MARK: Lookups

    /// The subscription with `refid`; throws "Subscription Not Found" if there is none.
    public func find(_ refid: Refid) async throws -> Subscription {
        guard let subscription = try await findByRefid(refid) else { throw WaveError.notFound("subscription", refid.rawValue) }
        return subscription
    }

    /// The subscription with `refid`, or nil.
    public func findByRefid(_ refid: Refid) async throws -> Subscription? {
        try await database.read { tx in
            try tx.queryFirst("SELECT \(raw: Self.columns) FROM \(raw: Self.tables) WHERE s.refid = \(refid)").map(Self.decode)?.subscription
        }
    }

    /// One page of a client's subscriptions, oldest first (1…500 per page).
    public func getByClient(_ client: Refid, limit: Int = 50, after cursor: Cursor? = nil) async throws -> Page<Subscription> {
        try await page(client: client, limit: limit, after: cursor)
    }

    /// One page of all subscriptions, oldest first (1…500 per page).
    public func list(limit: Int = 50, after cursor: Cursor? = nil) async throws -> Page<Subscription> {
        try await page(client: nil, limit: limit, after: cursor)
    }

    /// Whether the client has a subscription that grants access — trialing or active — to any
    /// plan, or to `plan` (refid). Past-due and canceled subscriptions do not count; a
    /// subscription set to cancel at its period end counts until the renewal job cancels it.
    public func hasActiveSubscription(_ client: Refid, plan: Refid? = nil) async throws -> Bool {
        try await database.read { tx in
            var scope = SQL(raw: "")
            if let plan { scope = " AND plan_id IN (SELECT id FROM wave_plans WHERE refid = \(plan))" }
            return try tx.queryFirst("""
                SELECT 1 AS found FROM wave_subscriptions
                WHERE client_refid = \(client) AND status IN ('trialing', 'active')\(scope) LIMIT 1
                """) != nil
        }
    }

    /// The subscription's audit trail, oldest first.
    public func auditTrail(of refid: Refid, limit: Int = 100) async throws -> [SubscriptionAuditEntry] {
        guard (1...1000).contains(limit) else { throw WaveError.invalid("limit", "use 1…1000") }
        return try await database.read { tx in
            guard let id = try tx.queryInt64("SELECT id FROM wave_subscriptions WHERE refid = \(refid)") else {
                throw WaveError.subscriptionNotFound("refid")
            }
            return try Self.auditLog.trail(owner: id, limit: limit, in: tx)
        }
    }

    // MARK: Internals

    /// A subscription row with what the library needs and never shows (row id, version, anchor).
    struct Stored {
        var id: Int64
        var version: Int64
        var anchor: Timestamp
        var periods: Int64
        var periodEnd: Timestamp
        var paymentPending: Bool
        var planName: String
        var subscription: Subscription
    }

    static let tables = "wave_subscriptions s JOIN wave_plans p ON p.id = s.plan_id"

    static let columns = """
        s.id, s.version, s.refid, s.client_refid, s.status, s.trial_end, s.anchor_at, s.periods, s.current_period_start, \
        s.current_period_end, s.cancel_at_period_end, s.canceled_at, s.latest_invoice_refid, s.payment_pending, s.created_at, \
        s.updated_at, p.refid AS plan_refid, p.slug AS plan_slug, p.name AS plan_name, p.price, p.currency, p.billing_interval
        """

    static func decode(_ row: Row) throws -> Stored {
        guard let status = SubscriptionStatus(rawValue: try row.string("status")),
              let interval = BillingInterval(rawValue: try row.string("billing_interval"))
        else { throw StorageError(code: .decoding, message: "stored subscription data has an unexpected shape") }
        let subscription = Subscription(
            refid: try row.refid("refid"), client: try row.refid("client_refid"), plan: try row.refid("plan_refid"),
            planSlug: try row.string("plan_slug"), price: try row.int64("price"), currency: try row.string("currency"),
            interval: interval, status: status, trialEndsAt: try row.optionalTimestamp("trial_end")?.date,
            currentPeriodStart: try row.timestamp("current_period_start").date,
            currentPeriodEnd: try row.timestamp("current_period_end").date,
            cancelAtPeriodEnd: try row.bool("cancel_at_period_end"), canceledAt: try row.optionalTimestamp("canceled_at")?.date,
            latestInvoice: try row.optionalRefid("latest_invoice_refid"), createdAt: try row.timestamp("created_at").date,
            updatedAt: try row.timestamp("updated_at").date)
        return Stored(id: try row.int64("id"), version: try row.int64("version"), anchor: try row.timestamp("anchor_at"),
                      periods: try row.int64("periods"),
                      periodEnd: try row.timestamp("current_period_end"), paymentPending: try row.bool("payment_pending"),
                      planName: try row.string("plan_name"), subscription: subscription)
    }

    private func page(client: Refid?, limit: Int, after cursor: Cursor?) async throws -> Page<Subscription> {
        try WaveError.checkLimit(limit)
        return try await database.read { tx in
            try Keyset(table: "wave_subscriptions", source: Self.tables, key: "s.id").page(
                select: Self.columns, where: client.map { ["s.client_refid = \($0)"] } ?? [], after: cursor, limit: limit,
                in: tx, invalidCursor: WaveError.invalidCursor,
                fetch: { try tx.query($0).map { try Self.decode($0).subscription } }, refid: \.refid)
        }
    }

    /// The subscription, locked until commit (PostgreSQL `FOR UPDATE` on the subscription row only,
    /// so renewals of one plan never queue on the plan; SQLite's write transaction is exclusive).
    func locked(_ refid: Refid, in tx: any Transaction) throws -> Stored {
        guard let id = try tx.queryInt64("SELECT id FROM wave_subscriptions WHERE refid = \(refid)\(raw: tx.dialect.forUpdate)"),
              let row = try tx.queryFirst("SELECT \(raw: Self.columns) FROM \(raw: Self.tables) WHERE s.id = \(id)")
        else { throw WaveError.subscriptionNotFound("refid") }
        return try Self.decode(row)
    }

    /// Moves a locked subscription by `transition` with a version compare-and-set, audits it and
    /// publishes ``SubscriptionStatusChanged`` after commit.
    func apply(_ transition: SubscriptionTransition, to stored: Stored, setting extra: SQL, actor: String, reason: String?,
               detail: String?, at now: Timestamp, in tx: any Transaction) throws -> Subscription {
        let from = stored.subscription.status
        let target = try transition.target(from: from, orThrow: WaveError.transitionDenied)
        let version = try tx.advanceVersion(of: "wave_subscriptions", id: stored.id, from: stored.version,
                                            setting: "status = \(target.rawValue), " + extra, updatedAt: now)
        try audit(id: stored.id, version: version, event: transition.rawValue, from: from, to: target,
                  actor: actor, reason: reason, detail: detail, at: now, in: tx)
        let events = events
        let changed = SubscriptionStatusChanged(subscription: stored.subscription.refid, client: stored.subscription.client,
                                                from: from, to: target, actor: actor, reason: reason)
        tx.afterCommit { events.publish(changed) }
        var subscription = stored.subscription
        subscription.status = target
        subscription.updatedAt = now.date
        if transition == .cancel { subscription.canceledAt = now.date }
        return subscription
    }

    /// The invoice of one period: one line at the plan's price, due now.
    func issueInvoice(subscription: Refid, client: Refid, plan: Plan, start: Timestamp, end: Timestamp, actor: String,
                      in tx: any Transaction) throws -> Invoice {
        let period = "\(CivilDate(start.date)) – \(CivilDate(end.date))"
        return try invoices.make().for(client).currency(plan.currency)
            .line("\(plan.name) (\(period))", amount: plan.price)
            .description("Subscription \(subscription.rawValue), \(plan.interval) period \(period)")
            .dueNow().create(actor: actor, in: tx)
    }

    static let auditLog = AuditLog<SubscriptionStatus>(table: "wave_subscription_audit", owner: "subscription_id", hasDetail: true)

    func audit(id: Int64, version: Int64, event: String, from: SubscriptionStatus?, to: SubscriptionStatus?, actor: String,
               reason: String?, detail: String?, at: Timestamp, in tx: any Transaction) throws {
        try Self.auditLog.record(owner: id, version: version, event: event, from: from, to: to, actor: actor, reason: reason,
                                 detail: detail, at: at, in: tx)
    }

    static func alreadySubscribed(_ plan: Plan) -> WaveError {
        WaveError(.alreadySubscribed, message: "Already Subscribed: the client already has a live subscription to \(plan.slug)")
    }

    static func iso(_ date: Date) -> String { date.formatted(.iso8601) }
}
