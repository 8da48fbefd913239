import Foundation
import Logging
public import SuiteCore
public import SuiteStorage

extension Subscriptions {
    /// The renewal job: invoices every subscription whose period (or trial) has ended and attempts
    /// payment; settles invoices paid since the last run. Safe to run concurrently, in any number
    /// of processes.
    ///
    /// 1. **Awaiting payment** (at most `limit`): a subscription whose latest invoice is now paid
    ///    (by a checkout, a webhook, `markAsPaid`…) becomes active; a trialing or active one whose
    ///    invoice is still open (a run interrupted between invoicing and paying) gets its payment
    ///    attempt now. A past-due subscription with an open invoice waits for that payment.
    /// 2. **Due** (at most `limit`, oldest period end first): each in its own transaction, the
    ///    subscription row is locked and re-read, and the period is claimed by a version
    ///    compare-and-set — a concurrent run that lost the race finds it no longer due and skips it,
    ///    so a period is invoiced once. Set to cancel at period end → canceled, no invoice.
    ///    Otherwise the next period's invoice is issued (the plan's price), the period advances and
    ///    the renewal is audited, in that same transaction. Then the invoice is paid like any other
    ///    (``Invoices/attemptPayment(_:idempotencyKey:actor:)``): paid → active; requires action or
    ///    failed → past due.
    ///
    /// A subscription the job missed for several periods is invoiced one period per run (each
    /// period is billed; the service runs again at once while batches are full). A renewal that
    /// fails (e.g. the client became inactive) is logged, counted in ``RenewalReport/failed`` and
    /// retried next run; it writes nothing.
    ///
    /// - Parameters:
    ///   - now: the instant periods are judged against (default: the clock).
    ///   - limit: the most subscriptions each phase handles, 1…10000.
    ///   - progress: called after each subscription with the report so far (e.g. for a CLI).
    public func renewDue(now: Date? = nil, limit: Int = 500, actor: String = "renewal",
                         progress: (@Sendable (RenewalReport) -> Void)? = nil) async throws -> RenewalReport {
        let actor = try WaveValidation.text(actor, field: "actor", maximum: 255)
        guard (1...10_000).contains(limit) else { throw WaveError.invalid("limit", "use 1…10000") }
        let now = Timestamp(now ?? clock.now())
        var report = RenewalReport()

        let pending = try await database.read { tx in
            try tx.query("""
                SELECT s.refid, s.status, i.refid AS invoice, i.status AS invoice_status
                FROM wave_subscriptions s JOIN wave_invoices i ON i.refid = s.latest_invoice_refid
                WHERE s.payment_pending = 1 AND s.status <> 'canceled'
                  AND (i.status IN ('paid', 'void') OR s.status IN ('trialing', 'active'))
                ORDER BY s.id LIMIT \(limit)
                """).map { (refid: try $0.refid("refid"), invoice: try $0.refid("invoice"), invoiceStatus: try $0.string("invoice_status")) }
        }
        for entry in pending {
            report.examined += 1
            do {
                switch entry.invoiceStatus {
                case InvoiceStatus.paid.rawValue:
                    report.record(try await settle(entry.refid, invoice: entry.invoice, paid: true, actor: actor))
                case InvoiceStatus.void.rawValue:
                    try await forgetVoidInvoice(entry.refid, invoice: entry.invoice)
                default:
                    let outcome = try await invoices.attemptPayment(entry.invoice, actor: actor)
                    report.record(try await settle(entry.refid, invoice: entry.invoice, paid: outcome.isPaid, actor: actor))
                }
            } catch {
                report.failed += 1
                logger.warning("settling a subscription payment failed; retrying next run", metadata: [
                    "subscription": .string(entry.refid.rawValue), "error": .string(String(reflecting: error)),
                ])
            }
            progress?(report)
        }

        let due = try await database.read { tx in
            try tx.query("""
                SELECT refid FROM wave_subscriptions WHERE status <> 'canceled' AND current_period_end <= \(now)
                ORDER BY current_period_end, id LIMIT \(limit)
                """).map { try $0.refid("refid") }
        }
        for refid in due {
            report.examined += 1
            do {
                let claim = try await database.write { tx in try self.claimRenewal(refid, now: now, actor: actor, in: tx) }
                switch claim {
                case nil:
                    break  // another run claimed this period first
                case .canceled:
                    report.canceled += 1
                case .invoiced(let invoice):
                    report.renewed += 1
                    let outcome = try await invoices.attemptPayment(invoice, actor: actor)
                    report.record(try await settle(refid, invoice: invoice, paid: outcome.isPaid, actor: actor))
                }
            } catch let error as StorageError where error.code == .conflict {
                // Another run changed the row between our read and our compare-and-set: it owns this period.
                logger.debug("subscription renewal claimed elsewhere", metadata: ["subscription": .string(refid.rawValue)])
            } catch {
                report.failed += 1
                logger.warning("subscription renewal failed; retrying next run", metadata: [
                    "subscription": .string(refid.rawValue), "error": .string(String(reflecting: error)),
                ])
            }
            progress?(report)
        }
        return report
    }

    // MARK: Internals

    enum Claim: Sendable {
        case canceled
        case invoiced(Refid)
    }

    /// What settling a payment changed.
    struct Settlement: Sendable {
        /// The pending invoice was found paid and the subscription no longer awaits it.
        var collected = false
        var movedTo: SubscriptionStatus?
    }

    /// Claims the subscription's next period on a locked, re-read row: nil when it is no longer
    /// due (another run claimed it) or canceled.
    private func claimRenewal(_ refid: Refid, now: Timestamp, actor: String, in tx: any Transaction) throws -> Claim? {
        let stored = try locked(refid, in: tx)
        let subscription = stored.subscription
        guard subscription.status != .canceled, stored.periodEnd <= now else { return nil }
        if subscription.cancelAtPeriodEnd {
            _ = try apply(.cancel, to: stored, setting: "canceled_at = \(now), payment_pending = 0, ", actor: actor,
                          reason: "canceled at period end", detail: nil, at: now, in: tx)
            return .canceled
        }
        let plan = Plan(refid: subscription.plan, slug: subscription.planSlug, name: stored.planName, price: subscription.price,
                        currency: subscription.currency, interval: subscription.interval, isActive: true,
                        createdAt: subscription.createdAt, updatedAt: subscription.updatedAt)
        let periods = stored.periods + 1
        guard let start = subscription.interval.advance(stored.anchor, by: stored.periods),
              let end = subscription.interval.advance(stored.anchor, by: periods)
        else { throw WaveError.invalid("period", "the next period end would overflow") }
        let invoice = try issueInvoice(subscription: refid, client: subscription.client, plan: plan, start: start, end: end,
                                       actor: actor, in: tx)
        let version = try tx.advanceVersion(of: "wave_subscriptions", id: stored.id, from: stored.version, setting: """
            periods = \(periods), current_period_start = \(start), current_period_end = \(end), \
            latest_invoice_refid = \(invoice.refid), payment_pending = 1, 
            """, updatedAt: now)
        try audit(id: stored.id, version: version, event: "renewed", from: subscription.status, to: subscription.status,
                  actor: actor, reason: nil, detail: "\(invoice.number) for \(CivilDate(start.date)) – \(CivilDate(end.date))",
                  at: now, in: tx)
        let events = events
        let renewed = SubscriptionRenewed(subscription: refid, client: subscription.client, invoice: invoice.refid,
                                          periodStart: start.date, periodEnd: end.date)
        tx.afterCommit { events.publish(renewed) }
        return .invoiced(invoice.refid)
    }

    /// Applies a payment attempt's result to the subscription whose latest invoice is `invoice`:
    /// paid → no longer awaiting payment, and active; not paid → past due. Changes nothing when the
    /// subscription has moved on (canceled, another invoice, already settled by a concurrent run).
    func settle(_ refid: Refid, invoice: Refid, paid: Bool, actor: String) async throws -> Settlement {
        try await database.write { tx in
            let stored = try self.locked(refid, in: tx)
            let status = stored.subscription.status
            guard status != .canceled, stored.paymentPending, stored.subscription.latestInvoice == invoice else {
                return Settlement()
            }
            let now = Timestamp(self.clock.now())
            if paid {
                if status == .active {
                    // No status change: only the pending mark goes (no version, nothing to audit).
                    try tx.execute("UPDATE wave_subscriptions SET payment_pending = 0 WHERE id = \(stored.id) AND version = \(stored.version)")
                    return Settlement(collected: true, movedTo: nil)
                }
                _ = try self.apply(.activate, to: stored, setting: "payment_pending = 0, ", actor: actor, reason: nil,
                                   detail: "paid \(invoice.rawValue)", at: now, in: tx)
                return Settlement(collected: true, movedTo: .active)
            }
            guard status != .pastDue else { return Settlement() }
            _ = try self.apply(.markPastDue, to: stored, setting: SQL(raw: ""), actor: actor, reason: "payment not received",
                               detail: "unpaid \(invoice.rawValue)", at: now, in: tx)
            return Settlement(collected: false, movedTo: .pastDue)
        }
    }

    /// A void latest invoice will never be paid: stop waiting for it (the status stays).
    private func forgetVoidInvoice(_ refid: Refid, invoice: Refid) async throws {
        try await database.write { tx in
            _ = try tx.execute("""
                UPDATE wave_subscriptions SET payment_pending = 0 WHERE refid = \(refid) AND latest_invoice_refid = \(invoice)
                """)
        }
    }
}

extension RenewalReport {
    mutating func record(_ settlement: Subscriptions.Settlement) {
        if settlement.collected { paid += 1 }
        switch settlement.movedTo {
        case .active?: activated += 1
        case .pastDue?: pastDue += 1
        default: break
        }
    }
}
